//! CPU-bound work off the event loop, on Tokio's blocking pool (step 07), with its progress
//! reported to a Python callback (step 09).
//!
//! `compute_with_progress` sums `1..=n` item by item: about a second of CPU for the largest
//! `n`. It runs on the blocking pool that `runtime.rs` bounds, without the GIL, and calls a
//! Python callback every few percent: the other direction of the bridge, Rust calling into
//! Python from a thread that is not the event loop's, attached only for each call.

use std::hint::black_box;

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use tokio::sync::Semaphore;

use crate::bridge::future_into_py;
use crate::limits::{int_in_range, MAX_COMPUTE_N, MAX_CPU_JOBS, PROGRESS_REPORTS};

/// Turns `n` from Python into a `u64`, or a `ValueError` that says the range.
pub fn n_from_py(n: i64) -> PyResult<u64> {
    int_in_range("n", n, 0, MAX_COMPUTE_N)
}

// ANCHOR: work
/// Sums `1..=n` item by item, calling `report(done)` after each chunk; stops at the first
/// error `report` returns and hands that error back unchanged.
///
/// `report` is called with strictly increasing values and last with `n` (with 0, once,
/// when `n` is 0). Plain Rust, no Python: the unit tests drive it with a closure.
pub fn sum_with_progress<E>(
    n: u64,
    mut report: impl FnMut(u64) -> Result<(), E>,
) -> Result<u64, E> {
    if n == 0 {
        report(0)?;
        return Ok(0);
    }
    let chunk = n.div_ceil(PROGRESS_REPORTS);
    let (mut sum, mut done) = (0_u64, 0_u64);
    while done < n {
        // done < n <= 10^9 and chunk <= n, so this addition cannot overflow.
        let end = (done + chunk).min(n);
        for i in done + 1..=end {
            // Without black_box LLVM replaces the loop by n (n + 1) / 2 and the "work"
            // takes nanoseconds; with it, each item is really loaded and added.
            sum += black_box(i);
        }
        done = end;
        report(done)?;
    }
    Ok(sum)
}
// ANCHOR_END: work

// ANCHOR: compute
/// The computations that may run at once: fewer than the blocking pool's threads, which
/// also deliver every result to Python (a burst of sums must not hold up a 0 ms fetch).
static CPU_SLOTS: Semaphore = Semaphore::const_new(MAX_CPU_JOBS);

/// Resolves to the sum of `1..=n`, computed on Tokio's blocking pool; calls
/// `on_progress(done, n)` from that pool's thread while it works.
#[pyfunction]
#[pyo3(signature = (n, on_progress = None))]
pub fn compute_with_progress<'py>(
    py: Python<'py>,
    n: i64,
    on_progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    // Both checks run now, in the caller's frame, before any work is scheduled.
    let n = n_from_py(n)?;
    let on_progress: Option<Py<PyAny>> = match on_progress {
        Some(f) if !f.is_callable() => {
            let type_name = f.get_type().name()?;
            let message = format!("on_progress must be a callable or None, got {type_name}");
            return Err(PyTypeError::new_err(message));
        }
        // `Bound` is tied to this call's GIL token; `Py` can move to another thread.
        f => f.map(Bound::unbind),
    };
    future_into_py(py, async move {
        // Waits on no thread; a cancelled call gives its place up (or its slot back).
        let _slot = CPU_SLOTS
            .acquire()
            .await
            .expect("CPU_SLOTS is never closed");
        // A Tokio worker must never run long CPU work: it would stall every other future
        // scheduled on that worker. `spawn_blocking` moves the loop to the blocking pool.
        let work = tokio::task::spawn_blocking(move || {
            sum_with_progress(n, |done| match &on_progress {
                Some(callback) => call_on_progress(callback, done, n),
                None => Ok(()),
            })
            // `on_progress` is dropped here, on a thread that is not attached: PyO3 queues
            // the reference-count decrement and applies it the next time the GIL is held.
        });
        match work.await {
            // The callback's exception, if any, is this Err: the very same Python object.
            Ok(result) => result,
            // `sum_with_progress` has no panicking path; if one appears, re-raise it so
            // pyo3-async-runtimes reports it as a Python `RustPanic`, like any other panic.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(PyRuntimeError::new_err(format!(
                "compute_with_progress did not finish: {e}"
            ))),
        }
    })
}

/// Calls `on_progress(done, total)` from a Tokio thread: attached (GIL held) only for the call
/// itself, never while summing, and through the bridge, so that no call starts once the
/// interpreter is exiting.
fn call_on_progress(callback: &Py<PyAny>, done: u64, total: u64) -> PyResult<()> {
    exit_guard::attach_while_open(|py| callback.call1(py, (done, total)).map(drop))
        .unwrap_or_else(|| Err(PyRuntimeError::new_err("the interpreter is exiting")))
}
// ANCHOR_END: compute

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::testing::value_error_message;

    /// The sum and every progress value `sum_with_progress` reports for `n`.
    fn run(n: u64) -> (u64, Vec<u64>) {
        let mut reports = Vec::new();
        let sum = sum_with_progress(n, |done| {
            reports.push(done);
            Ok::<(), ()>(())
        })
        .unwrap();
        (sum, reports)
    }

    #[test]
    fn sums_exactly() {
        for n in [0, 1, 2, 19, 20, 21, 1_000, 123_457] {
            assert_eq!(run(n).0, n * (n + 1) / 2, "n = {n}");
        }
    }

    #[test]
    fn zero_reports_once_and_small_n_reports_every_item() {
        assert_eq!(run(0), (0, vec![0]));
        assert_eq!(run(5).1, vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn reports_are_increasing_at_most_ten_percent_apart_and_end_at_n() {
        for n in [1, 9, 10, 11, 19, 20, 21, 39, 100, 101, 999, 123_457] {
            let reports = run(n).1;
            assert_eq!(reports.last(), Some(&n), "n = {n}");
            assert!(reports.len() as u64 <= PROGRESS_REPORTS.max(1), "n = {n}");
            let mut previous = 0;
            for done in reports {
                assert!(done > previous, "n = {n}: {done} after {previous}");
                assert!(
                    done - previous <= (n / 10).max(1),
                    "n = {n}: step to {done}"
                );
                previous = done;
            }
        }
    }

    #[test]
    fn an_error_from_report_stops_the_work_and_is_returned() {
        let mut calls = 0;
        let result = sum_with_progress(1_000, |_| {
            calls += 1;
            if calls == 3 {
                Err("stop")
            } else {
                Ok(())
            }
        });
        assert_eq!(result, Err("stop"));
        assert_eq!(calls, 3);
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
