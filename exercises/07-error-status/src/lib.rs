//! Exercise 07-error-status: the Rust side of an app whose errors become HTTP statuses.
//!
//! This crate is complete: the exercise is the Python in `error_status.py` (the task is in
//! `README.md`; `just exercise 07-error-status` checks your work). It raises three kinds
//! of errors, as the steps' functions do: its own exception types, a `ValueError` for bad
//! input, and a `RustPanic` when a future panics.

use std::time::Duration;

use pyo3::exceptions::{PyLookupError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3_async_runtimes::tokio::future_into_py;

pyo3::create_exception!(
    ex07_error_status,
    ItemNotFoundError,
    PyLookupError,
    "No item is stored under the key asked for."
);
pyo3::create_exception!(
    ex07_error_status,
    BackendTimeoutError,
    PyTimeoutError,
    "The simulated backend did not answer within the deadline."
);

/// The longest key, in characters.
pub const MAX_KEY_LEN: usize = 64;
/// The longest `latency_ms` and `timeout_ms` (one minute).
pub const MAX_MS: i64 = 60_000;

/// The simulated backend's items.
const ITEMS: [(&str, &str); 3] = [
    ("alpha", "the first item"),
    ("beta", "the second item"),
    ("gamma", "the third item"),
];

/// Resolves to the item stored under `key`, after `latency_ms` of simulated I/O.
///
/// Raises `ValueError` at the call for a bad argument; the awaited future raises
/// `ItemNotFoundError` for an unknown key, and `BackendTimeoutError` when `latency_ms`
/// does not fit in `timeout_ms`.
#[pyfunction]
#[pyo3(signature = (key, latency_ms = 0, timeout_ms = 1_000))]
pub fn lookup_async(
    py: Python<'_>,
    key: String,
    latency_ms: i64,
    timeout_ms: i64,
) -> PyResult<Bound<'_, PyAny>> {
    let len = key.chars().count();
    if !(1..=MAX_KEY_LEN).contains(&len) {
        return Err(PyValueError::new_err(format!(
            "key must be between 1 and {MAX_KEY_LEN} characters long, got {len}"
        )));
    }
    let latency = millis_in_range("latency_ms", latency_ms, 0)?;
    let limit = millis_in_range("timeout_ms", timeout_ms, 1)?;
    future_into_py(py, async move {
        match tokio::time::timeout(limit, find(&key, latency)).await {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(ItemNotFoundError::new_err(format!(
                "no item has the key '{key}'"
            ))),
            Err(_elapsed) => Err(BackendTimeoutError::new_err(format!(
                "the lookup of '{key}' timed out after {timeout_ms} ms"
            ))),
        }
    })
}

/// Resolves to nothing: its future panics, as a bug in Rust code would.
#[pyfunction]
pub fn broken_async(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    future_into_py(py, broken())
}

/// The simulated backend: waits `latency`, then looks `key` up.
async fn find(key: &str, latency: Duration) -> Option<String> {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let found = ITEMS.iter().find(|(name, _)| *name == key);
    found.map(|(_, value)| (*value).to_owned())
}

/// A future that panics. pyo3-async-runtimes catches the panic and raises `RustPanic`.
async fn broken() -> PyResult<()> {
    panic!("index 7 out of range for a cache of 4 entries (an internal detail)")
}

/// `value` milliseconds as a `Duration` if it lies in `min..=MAX_MS`, else a `ValueError`.
fn millis_in_range(name: &str, value: i64, min: i64) -> PyResult<Duration> {
    match u64::try_from(value) {
        Ok(ms) if (min..=MAX_MS).contains(&value) => Ok(Duration::from_millis(ms)),
        _ => Err(PyValueError::new_err(format!(
            "{name} must be between {min} and {MAX_MS} (milliseconds), got {value}"
        ))),
    }
}

/// Exercise 07-error-status: errors for an app to map to HTTP statuses.
#[pymodule]
mod ex07_error_status {
    #[pymodule_export]
    use super::{broken_async, lookup_async, BackendTimeoutError, ItemNotFoundError};
    #[pymodule_export]
    use pyo3_async_runtimes::err::RustPanic;
}
