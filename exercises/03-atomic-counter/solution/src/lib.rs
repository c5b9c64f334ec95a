//! Exercise 03-atomic-counter: a count shared by futures on many threads, without a lock.
//!
//! The task is in `README.md`; `just exercise 03-atomic-counter` checks your work.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use pyo3_async_runtimes::tokio::future_into_py;

/// A count shared by every awaitable its methods return, kept in an `AtomicU64`.
#[pyclass(frozen, module = "ex03_atomic_counter")]
pub struct AtomicCounter {
    /// `Arc`: each future owns a handle to the same count (futures must be `'static`).
    /// `AtomicU64`: Tokio worker threads update it at the same moment, with no lock.
    count: Arc<AtomicU64>,
}

#[pymethods]
impl AtomicCounter {
    /// A new counter at `start`.
    #[new]
    #[pyo3(signature = (start = 0))]
    fn new(start: u64) -> Self {
        Self {
            count: Arc::new(AtomicU64::new(start)),
        }
    }

    /// Adds one and resolves to the new count.
    fn increment_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let count = Arc::clone(&self.count);
        future_into_py(py, async move { incremented(&count) })
    }

    /// Resolves to the current count.
    fn get_count_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let count = Arc::clone(&self.count);
        // A lone counter that orders no other memory: `Relaxed` is enough (see step 04).
        future_into_py(py, async move { Ok(count.load(Ordering::Relaxed)) })
    }
}

/// Adds one to `count` and returns the new value, in one atomic step; at `u64::MAX`, an
/// `OverflowError` ("the counter is at its maximum (18446744073709551615)") and no change.
fn incremented(count: &AtomicU64) -> PyResult<u64> {
    // `fetch_add` would wrap from u64::MAX to 0. `fetch_update` runs the closure on the
    // current value and stores its result only if no other thread changed the count in
    // between (else it retries with the new value): a checked add as one atomic step. The
    // closure's `None` at the maximum leaves the count unchanged.
    match count.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_add(1)) {
        // `previous < u64::MAX`, or `checked_add` would have returned `None`.
        Ok(previous) => Ok(previous + 1),
        Err(_) => Err(PyOverflowError::new_err(format!(
            "the counter is at its maximum ({})",
            u64::MAX
        ))),
    }
}

/// Exercise 03-atomic-counter: a shared count without a lock.
#[pymodule]
mod ex03_atomic_counter {
    #[pymodule_export]
    use super::AtomicCounter;
}
