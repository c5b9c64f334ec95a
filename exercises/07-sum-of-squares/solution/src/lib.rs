//! Exercise 07-sum-of-squares: CPU-bound work on Tokio's blocking pool, off the event loop.
//!
//! The task is in `README.md`; `just exercise 07-sum-of-squares` checks your work.

use std::hint::black_box;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3_async_runtimes::tokio::future_into_py;

/// The largest `n` of `sum_of_squares_async`: about 1.5 s of a debug build's CPU, 0.2 s of
/// a release build's.
pub const MAX_N: i64 = 100_000_000;

// The largest sum, n (n + 1) (2n + 1) / 6 for n = MAX_N, fits in a u128 with room to
// spare, so the summing loop cannot overflow. Checked when the crate compiles.
const _: () = assert!(
    (MAX_N as u128) * (MAX_N as u128 + 1) * (2 * MAX_N as u128 + 1) / 6 <= u128::MAX / 2,
    "MAX_N is too large for a u128 sum"
);

/// `1² + 2² + ... + n²`, item by item: plain Rust, no Python, all CPU.
fn sum_of_squares(n: u64) -> u128 {
    // Without black_box LLVM may replace the loop by a closed formula; with it, each item
    // is really computed.
    (1..=u128::from(n)).map(|i| black_box(i) * i).sum()
}

/// Resolves to `sum_of_squares(n)`, computed on Tokio's blocking pool.
#[pyfunction]
pub fn sum_of_squares_async(py: Python<'_>, n: i64) -> PyResult<Bound<'_, PyAny>> {
    let n = n_in_range(n)?; // checked now, in the caller's frame
    future_into_py(py, async move {
        // A Tokio worker must never run long CPU work: it would stall every other future
        // scheduled on it (and the timers it drives). `spawn_blocking` moves the loop to
        // the blocking pool; this future only waits for it.
        match tokio::task::spawn_blocking(move || sum_of_squares(n)).await {
            Ok(sum) => Ok(sum),
            // Re-raise a panic, so that pyo3-async-runtimes reports it as a `RustPanic`.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(PyRuntimeError::new_err(format!(
                "sum_of_squares_async did not finish: {e}"
            ))),
        }
    })
}

/// Resolves to `None` after `ms` milliseconds of Tokio sleep, for the tests: a sleep waits
/// on the runtime's timer, which only the runtime's worker threads drive.
#[pyfunction]
pub fn sleep_async(py: Python<'_>, ms: u64) -> PyResult<Bound<'_, PyAny>> {
    future_into_py(py, async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(())
    })
}

/// `n` as a `u64` if it lies in `0..=MAX_N`, else a `ValueError` naming it.
fn n_in_range(n: i64) -> PyResult<u64> {
    match u64::try_from(n) {
        Ok(checked) if n <= MAX_N => Ok(checked),
        _ => Err(PyValueError::new_err(format!(
            "n must be between 0 and {MAX_N}, got {n}"
        ))),
    }
}

/// Exercise 07-sum-of-squares: CPU work off the event loop.
#[pymodule]
mod ex07_sum_of_squares {
    #[pymodule_export]
    use super::{sleep_async, sum_of_squares_async};
    #[pymodule_export]
    const MAX_N: i64 = super::MAX_N;
}
