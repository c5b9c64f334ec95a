//! Exercise 04-sleep-with-timeout: a deadline inside Rust, with `tokio::time::timeout`.
//!
//! The task is in `README.md`; `just exercise 04-sleep-with-timeout` checks your work.

use std::time::Duration;

use pyo3::exceptions::{PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3_async_runtimes::tokio::future_into_py;

/// The longest `sleep_ms` (one minute).
pub const MAX_SLEEP_MS: i64 = 60_000;
/// The shortest `timeout_ms`: a zero timeout never succeeds.
pub const MIN_TIMEOUT_MS: i64 = 1;
/// The longest `timeout_ms` (one minute).
pub const MAX_TIMEOUT_MS: i64 = 60_000;

/// Resolves to `"slept {sleep_ms} ms"` after `sleep_ms`, or raises `TimeoutError` once
/// `timeout_ms` has passed, whichever comes first.
#[pyfunction]
pub fn sleep_with_timeout(
    py: Python<'_>,
    sleep_ms: i64,
    timeout_ms: i64,
) -> PyResult<Bound<'_, PyAny>> {
    let sleep = millis_in_range("sleep_ms", sleep_ms, 0, MAX_SLEEP_MS)?;
    let limit = millis_in_range("timeout_ms", timeout_ms, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS)?;
    future_into_py(py, sleep_within(sleep, limit))
}

/// Sleeps for `sleep`, but for at most `limit`: `"slept {ms} ms"`, or a `TimeoutError`
/// saying `"the sleep timed out after {limit in ms} ms"`.
async fn sleep_within(sleep: Duration, limit: Duration) -> PyResult<String> {
    // `timeout` polls the sleep and a timer together. If the timer fires first, it drops
    // the sleep (so its work stops too) and the caller hears after `limit`, not `sleep`.
    match tokio::time::timeout(limit, tokio::time::sleep(sleep)).await {
        Ok(()) => Ok(format!("slept {} ms", sleep.as_millis())),
        Err(_elapsed) => Err(PyTimeoutError::new_err(format!(
            "the sleep timed out after {} ms",
            limit.as_millis()
        ))),
    }
}

/// `value` milliseconds as a `Duration` if it lies in `min..=max`, else a `ValueError`
/// naming the parameter, the range and the value (step 04's `limits.rs`).
fn millis_in_range(name: &str, value: i64, min: i64, max: i64) -> PyResult<Duration> {
    match u64::try_from(value) {
        Ok(ms) if (min..=max).contains(&value) => Ok(Duration::from_millis(ms)),
        _ => Err(PyValueError::new_err(format!(
            "{name} must be between {min} and {max} (milliseconds), got {value}"
        ))),
    }
}

/// Exercise 04-sleep-with-timeout: a sleep with a deadline.
#[pymodule]
mod ex04_sleep_with_timeout {
    #[pymodule_export]
    use super::sleep_with_timeout;
    #[pymodule_export]
    const MAX_SLEEP_MS: i64 = super::MAX_SLEEP_MS;
    #[pymodule_export]
    const MIN_TIMEOUT_MS: i64 = super::MIN_TIMEOUT_MS;
    #[pymodule_export]
    const MAX_TIMEOUT_MS: i64 = super::MAX_TIMEOUT_MS;
}
