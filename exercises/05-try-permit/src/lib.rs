//! Exercise 05-try-permit: refuse work at once when no permit is free.
//!
//! The task is in `README.md`; `just exercise 05-try-permit` checks your work.

// The starter leaves names unused until you write your part. Delete this line when you are
// done: the compiler then tells you about anything still unused.
#![allow(unused)]

use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3_async_runtimes::tokio::future_into_py;
use tokio::sync::Semaphore;

/// The most permits a `Limiter` may have.
pub const MAX_CONCURRENT: i64 = 1_000;
/// The longest simulated `latency_ms` of one piece of work (one minute).
pub const MAX_LATENCY_MS: i64 = 60_000;

pyo3::create_exception!(
    ex05_try_permit,
    BusyError,
    PyRuntimeError,
    "Every permit is taken: the work was refused at once, not queued."
);

/// Runs at most `max_concurrent` pieces of work at a time, and refuses the rest at once.
#[pyclass(frozen, module = "ex05_try_permit")]
pub struct Limiter {
    semaphore: Arc<Semaphore>,
    permits: usize,
}

#[pymethods]
impl Limiter {
    #[new]
    fn new(max_concurrent: i64) -> PyResult<Self> {
        let permits = match usize::try_from(max_concurrent) {
            Ok(permits) if (1..=MAX_CONCURRENT).contains(&max_concurrent) => permits,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "max_concurrent must be between 1 and {MAX_CONCURRENT}, got {max_concurrent}"
                )))
            }
        };
        Ok(Self {
            semaphore: Arc::new(Semaphore::new(permits)),
            permits,
        })
    }

    /// The permits free right now.
    #[getter]
    fn available(&self) -> usize {
        self.semaphore.available_permits()
    }

    /// Starts `latency_ms` of simulated work that holds one permit; resolves to `"done"`.
    /// When every permit is taken, raises `BusyError` at once, at the call.
    #[pyo3(signature = (latency_ms = 100))]
    fn run_async<'py>(&self, py: Python<'py>, latency_ms: i64) -> PyResult<Bound<'py, PyAny>> {
        let latency = millis_in_range("latency_ms", latency_ms)?;
        todo!("run_async: take a permit with try_acquire_owned (BusyError if none), keep it in the future")
    }
}

/// `value` milliseconds as a `Duration` if it lies in `0..=MAX_LATENCY_MS`, else a
/// `ValueError` naming the parameter, the range and the value.
fn millis_in_range(name: &str, value: i64) -> PyResult<Duration> {
    match u64::try_from(value) {
        Ok(ms) if value <= MAX_LATENCY_MS => Ok(Duration::from_millis(ms)),
        _ => Err(PyValueError::new_err(format!(
            "{name} must be between 0 and {MAX_LATENCY_MS} (milliseconds), got {value}"
        ))),
    }
}

/// Exercise 05-try-permit: work refused at once when every permit is taken.
#[pymodule]
mod ex05_try_permit {
    #[pymodule_export]
    use super::{BusyError, Limiter};
}
