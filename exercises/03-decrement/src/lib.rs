//! Exercise 03-decrement: one more operation on step 03's shared count.
//!
//! The task is in `README.md`; `just exercise 03-decrement` checks your work.

// The starter leaves names unused until you write your part. Delete this line when you are
// done: the compiler then tells you about anything still unused.
#![allow(unused)]

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use pyo3_async_runtimes::tokio::future_into_py;

/// A count shared by every awaitable its methods return (step 03's `AsyncCounter`).
#[pyclass(frozen, module = "ex03_decrement")]
pub struct AsyncCounter {
    /// `Arc`: each future owns a handle to the same count (futures must be `'static`).
    /// `Mutex`: many Tokio worker threads may touch the count at the same moment.
    count: Arc<Mutex<u64>>,
}

#[pymethods]
impl AsyncCounter {
    #[new]
    fn new() -> Self {
        Self {
            count: Arc::new(Mutex::new(0)),
        }
    }

    /// Adds one and resolves to the new count.
    fn increment_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let count = Arc::clone(&self.count);
        future_into_py(py, async move {
            let mut count = locked(&count);
            *count = incremented(*count)?;
            Ok(*count)
        })
    }

    /// Subtracts one and resolves to the new count; at 0, `OverflowError` and no change.
    fn decrement_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        todo!("decrement_async: like increment_async, but subtract one and refuse to go below 0")
    }

    /// Resolves to the current count.
    fn get_count_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let count = Arc::clone(&self.count);
        future_into_py(py, async move { Ok(*locked(&count)) })
    }
}

/// The count, locked until the guard is dropped.
///
/// A mutex is poisoned when a thread panics while holding it. Nothing here can panic with
/// the lock held, and a `u64` has no half-updated state anyway, so a poisoned lock is used
/// as it is (step 03).
fn locked(count: &Mutex<u64>) -> MutexGuard<'_, u64> {
    count.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `count + 1`, or `OverflowError` when the count is already `u64::MAX` (step 03).
fn incremented(count: u64) -> PyResult<u64> {
    count.checked_add(1).ok_or_else(|| {
        PyOverflowError::new_err(format!("the counter is at its maximum ({})", u64::MAX))
    })
}

/// Exercise 03-decrement: a shared count that goes down, never below zero.
#[pymodule]
mod ex03_decrement {
    #[pymodule_export]
    use super::AsyncCounter;
}
