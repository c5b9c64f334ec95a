//! Exercise 01-echo-after: resolve to a text after a delay, from one Tokio future.
//!
//! The task is in `README.md`; `just exercise 01-echo-after` checks your work.

// The starter leaves names unused until you write your part. Delete this line when you are
// done: the compiler then tells you about anything still unused.
#![allow(unused)]

use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_async_runtimes::tokio::future_into_py;

/// The longest `delay_ms` of `echo_after` (one minute), as in step 01.
pub const MAX_DELAY_MS: i64 = 60_000;

/// Returns an `asyncio.Future` that resolves to `text` after `delay_ms` milliseconds.
#[pyfunction]
#[pyo3(signature = (text, delay_ms = 100))]
pub fn echo_after<'py>(py: Python<'py>, text: &str, delay_ms: i64) -> PyResult<Bound<'py, PyAny>> {
    todo!("echo_after: check delay_ms, then return a Tokio future that sleeps and yields text")
}

/// `value` milliseconds as a `Duration` if it lies in `min..=max`, else a `ValueError`
/// naming the parameter, the range and the value (step 01's `limits.rs`).
fn millis_in_range(name: &str, value: i64, min: i64, max: i64) -> PyResult<Duration> {
    match u64::try_from(value) {
        Ok(ms) if (min..=max).contains(&value) => Ok(Duration::from_millis(ms)),
        _ => Err(PyValueError::new_err(format!(
            "{name} must be between {min} and {max} (milliseconds), got {value}"
        ))),
    }
}

/// Exercise 01-echo-after: a text, after a delay.
#[pymodule]
mod ex01_echo_after {
    #[pymodule_export]
    use super::echo_after;
    #[pymodule_export]
    const MAX_DELAY_MS: i64 = super::MAX_DELAY_MS;
}
