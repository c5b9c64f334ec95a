//! Futures of known shapes, for `bench/workloads.py` and the tests of steps 11 and 12 only.
//!
//! Attached to the extension module as `_probes`, outside the documented API: not in
//! `__all__`, so `fastapi_async` itself does not re-export it, and not in the stub. Reach
//! it as `importlib.import_module("fastapi_async.fastapi_async")._probes`. The benchmark
//! compares this step's bridge with pyo3-async-runtimes' on the same future, in the same
//! build; the tests need futures that fail, panic, or wait twice, which no public function
//! does on demand.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyModule;

use crate::bridge::future_into_py;

// ANCHOR: handoff
/// A result handed over by another Tokio task: pending at the first poll, then woken from
/// a Tokio worker as soon as that task finishes, with nothing to wait for in between.
async fn handed_over(id: i64) -> PyResult<String> {
    tokio::spawn(async move { format!("Data for ID {id}") })
        .await
        .map_err(|e| PyRuntimeError::new_err(format!("the producing task failed: {e}")))
}
// ANCHOR_END: handoff

/// `handed_over(id)` through this step's bridge.
#[pyfunction]
pub fn handoff(py: Python<'_>, id: i64) -> PyResult<Bound<'_, PyAny>> {
    future_into_py(py, handed_over(id))
}

/// `handed_over(id)` through `runtime::future_into_py` (pyo3-async-runtimes' bridge).
#[pyfunction]
pub fn handoff_future_into_py(py: Python<'_>, id: i64) -> PyResult<Bound<'_, PyAny>> {
    crate::runtime::future_into_py(py, handed_over(id))
}

/// Waits `after_ms` (not at all when 0), then runs `end`.
async fn after<T>(after_ms: u64, end: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    if after_ms > 0 {
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
    }
    end()
}

/// Raises `ValueError(message)`: at the first poll when `after_ms` is 0, else on Tokio.
#[pyfunction]
pub fn fail(py: Python<'_>, message: String, after_ms: u64) -> PyResult<Bound<'_, PyAny>> {
    future_into_py(
        py,
        after(after_ms, move || {
            Err::<(), _>(PyValueError::new_err(message))
        }),
    )
}

/// Panics with `message`: at the first poll when `after_ms` is 0, else on Tokio.
#[pyfunction]
pub fn panic(py: Python<'_>, message: String, after_ms: u64) -> PyResult<Bound<'_, PyAny>> {
    future_into_py(
        py,
        after(after_ms, move || -> PyResult<()> { panic!("{message}") }),
    )
}

/// How many `wait_twice` futures are in their second wait.
static IN_SECOND_WAIT: AtomicUsize = AtomicUsize::new(0);

/// Counted in `IN_SECOND_WAIT` while it lives.
struct SecondWait(());

impl Drop for SecondWait {
    fn drop(&mut self) {
        IN_SECOND_WAIT.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Sleeps `first_ms`, then `second_ms`: during the second sleep the future has been woken
/// once, so it runs on Tokio, not parked in the bridge.
#[pyfunction]
pub fn wait_twice(py: Python<'_>, first_ms: u64, second_ms: u64) -> PyResult<Bound<'_, PyAny>> {
    future_into_py(py, async move {
        tokio::time::sleep(Duration::from_millis(first_ms)).await;
        IN_SECOND_WAIT.fetch_add(1, Ordering::Relaxed);
        let _counted = SecondWait(());
        tokio::time::sleep(Duration::from_millis(second_ms)).await;
        Ok(())
    })
}

/// The number of `wait_twice` futures in their second sleep.
#[pyfunction]
pub fn in_second_wait() -> usize {
    IN_SECOND_WAIT.load(Ordering::Relaxed)
}

/// A result whose conversion to Python panics.
pub struct PanicsWhenConverted;

impl<'py> IntoPyObject<'py> for PanicsWhenConverted {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, _py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        panic!("conversion failed")
    }
}

/// Returns a `PanicsWhenConverted`: at the first poll when `after_ms` is 0, else on Tokio.
#[pyfunction]
pub fn panic_when_delivered(py: Python<'_>, after_ms: u64) -> PyResult<Bound<'_, PyAny>> {
    future_into_py(py, after(after_ms, || Ok(PanicsWhenConverted)))
}

/// Panics when dropped.
struct PanicsWhenDropped;

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("dropped");
    }
}

/// Waits an hour holding a `PanicsWhenDropped`: cancelling it panics in `Drop`.
#[pyfunction]
pub fn panic_when_dropped(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    future_into_py(py, async {
        let _guard = PanicsWhenDropped;
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(())
    })
}

/// Sets `module._probes`: a module of the functions above, not listed in `__all__`.
pub fn attach(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let probes = PyModule::new(module.py(), "_probes")?;
    probes.add_function(wrap_pyfunction!(handoff, &probes)?)?;
    probes.add_function(wrap_pyfunction!(handoff_future_into_py, &probes)?)?;
    probes.add_function(wrap_pyfunction!(fail, &probes)?)?;
    probes.add_function(wrap_pyfunction!(panic, &probes)?)?;
    probes.add_function(wrap_pyfunction!(wait_twice, &probes)?)?;
    probes.add_function(wrap_pyfunction!(in_second_wait, &probes)?)?;
    probes.add_function(wrap_pyfunction!(panic_when_delivered, &probes)?)?;
    probes.add_function(wrap_pyfunction!(panic_when_dropped, &probes)?)?;
    module.setattr("_probes", probes)
}
