//! Exercise 02-fetch-all: many simulated fetches at once, inside one call, with a `JoinSet`.
//!
//! The task is in `README.md`; `just exercise 02-fetch-all` checks your work.

// The starter leaves names unused until you write your part. Delete this line when you are
// done: the compiler then tells you about anything still unused.
#![allow(unused)]

use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3_async_runtimes::tokio::future_into_py;
use tokio::task::{JoinError, JoinSet};

/// The most fetches one `fetch_all` call may start.
pub const MAX_FETCHES: usize = 1_000;
/// The longest simulated fetch (one minute).
pub const MAX_DELAY_MS: i64 = 60_000;

/// Resolves to one result per entry of `delays_ms`, in the same order; fetch number `i`
/// takes `delays_ms[i]` milliseconds.
#[pyfunction]
pub fn fetch_all(py: Python<'_>, delays_ms: Vec<i64>) -> PyResult<Bound<'_, PyAny>> {
    let delays = check_delays(&delays_ms)?;
    future_into_py(py, async move {
        fetch_concurrently(delays).await.map_err(task_failed)
    })
}

/// Runs `fetch_one` for every delay, all at the same time, and returns the results in the
/// order of `delays`.
async fn fetch_concurrently(delays: Vec<Duration>) -> Result<Vec<String>, JoinError> {
    todo!("fetch_concurrently: one fetch_one task per delay in a JoinSet, results in input order")
}

/// One simulated I/O call: waits `delay`, then returns fetch number `index`'s result.
async fn fetch_one(index: usize, delay: Duration) -> String {
    // A zero-length Tokio sleep still waits for the timer's next tick (about 1 ms).
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    format!("result {index} after {} ms", delay.as_millis())
}

/// The delays as `Duration`s, or a `ValueError` naming the bad one (checked at the call).
fn check_delays(delays_ms: &[i64]) -> PyResult<Vec<Duration>> {
    if delays_ms.len() > MAX_FETCHES {
        return Err(PyValueError::new_err(format!(
            "delays_ms must hold between 0 and {MAX_FETCHES} delays, got {}",
            delays_ms.len()
        )));
    }
    let in_range = |(index, &ms)| millis_in_range(&format!("delays_ms[{index}]"), ms);
    delays_ms.iter().enumerate().map(in_range).collect()
}

/// `value` milliseconds as a `Duration` if it lies in `0..=MAX_DELAY_MS`, else a
/// `ValueError` naming the parameter, the range and the value (as step 02's `limits.rs`).
fn millis_in_range(name: &str, value: i64) -> PyResult<Duration> {
    match u64::try_from(value) {
        Ok(ms) if value <= MAX_DELAY_MS => Ok(Duration::from_millis(ms)),
        _ => Err(PyValueError::new_err(format!(
            "{name} must be between 0 and {MAX_DELAY_MS} (milliseconds), got {value}"
        ))),
    }
}

/// A task that panicked or was aborted becomes a `RuntimeError`, never a panic across FFI.
fn task_failed(err: JoinError) -> PyErr {
    PyRuntimeError::new_err(format!("a Tokio task failed: {err}"))
}

/// Exercise 02-fetch-all: many simulated fetches at once.
#[pymodule]
mod ex02_fetch_all {
    #[pymodule_export]
    use super::fetch_all;
    #[pymodule_export]
    const MAX_FETCHES: usize = super::MAX_FETCHES;
    #[pymodule_export]
    const MAX_DELAY_MS: i64 = super::MAX_DELAY_MS;
}
