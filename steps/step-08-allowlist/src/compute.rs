//! CPU-bound work off the event loop, on Tokio's blocking pool (step 07).
//!
//! `compute_with_progress(n)` sums `1..=n` item by item: about a second of CPU for the
//! largest `n`. On the event loop it would stall every request; on a Tokio worker, every
//! future of that worker. It runs on the blocking pool that `runtime.rs` bounds, without
//! the GIL. (The name is the original example's; the progress comes in a later step.)

use std::hint::black_box;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::sync::Semaphore;

use crate::limits::{int_in_range, MAX_COMPUTE_N, MAX_CPU_JOBS};
use crate::runtime::future_into_py;

/// Turns `n` from Python into a `u64`, or a `ValueError` that says the range.
pub fn n_from_py(n: i64) -> PyResult<u64> {
    int_in_range("n", n, 0, MAX_COMPUTE_N)
}

// ANCHOR: work
/// `1 + 2 + ... + n`, added item by item. Plain Rust, no Python.
fn sum_to(n: u64) -> u64 {
    // Without black_box LLVM replaces the loop by n (n + 1) / 2 and the "work" takes
    // nanoseconds; with it, each item is really loaded and added. `limits.rs` checks at
    // compile time that the largest sum fits in a u64.
    (1..=n).map(black_box).sum()
}
// ANCHOR_END: work

// ANCHOR: compute
/// The computations that may run at once: fewer than the blocking pool's threads, which
/// also deliver every result to Python (a burst of sums must not hold up a 0 ms fetch).
static CPU_SLOTS: Semaphore = Semaphore::const_new(MAX_CPU_JOBS);

/// Resolves to the sum of `1..=n`, computed on Tokio's blocking pool.
#[pyfunction]
pub fn compute_with_progress(py: Python<'_>, n: i64) -> PyResult<Bound<'_, PyAny>> {
    let n = n_from_py(n)?; // checked now, in the caller's frame
    future_into_py(py, async move {
        // Waits on no thread; a cancelled call gives its place up (or its slot back).
        let _slot = CPU_SLOTS
            .acquire()
            .await
            .expect("CPU_SLOTS is never closed");
        // A Tokio worker must never run long CPU work: it would stall every other future
        // scheduled on that worker. `spawn_blocking` moves the loop to the blocking pool.
        match tokio::task::spawn_blocking(move || sum_to(n)).await {
            Ok(sum) => Ok(sum),
            // `sum_to` has no panicking path; if one appears, re-raise it so that
            // pyo3-async-runtimes reports it as a Python `RustPanic`, like any other panic.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(PyRuntimeError::new_err(format!(
                "compute_with_progress did not finish: {e}"
            ))),
        }
    })
}
// ANCHOR_END: compute

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::testing::value_error_message;

    #[test]
    fn sums_exactly() {
        for n in [0, 1, 2, 19, 20, 21, 1_000, 123_457] {
            assert_eq!(sum_to(n), n * (n + 1) / 2, "n = {n}");
        }
    }

    #[test]
    fn n_outside_the_range_is_a_value_error_naming_it() {
        assert_eq!(n_from_py(MAX_COMPUTE_N).unwrap(), 1_000_000_000);
        for bad in [-1, MAX_COMPUTE_N + 1, i64::MIN, i64::MAX] {
            let message = value_error_message(&n_from_py(bad).unwrap_err());
            assert_eq!(
                message,
                format!("n must be between 0 and 1000000000, got {bad}")
            );
        }
    }
}
