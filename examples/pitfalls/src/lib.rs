//! The Troubleshooting page's pitfalls: each deliberately broken function next to its fix.
//!
//! Nothing here belongs in an application. Every broken function compiles cleanly and
//! does what the page says goes wrong (a panic, a deadlock, a stalled worker), so that
//! `tests/pitfalls/` can reproduce each error for real, in a subprocess with a time limit
//! where it hangs, and then show that the fixed function next to it works.
//!
//! Every future goes through pyo3-async-runtimes' `future_into_py` with step 07's exit
//! guard (the `exit-guard` crate, the same code the steps use): the pitfalls are those of
//! pyo3-async-runtimes itself, whatever stage of the tutorial is installed beside this
//! module. Without the guard (`fetch_unguarded_async`), a script can die with `SIGABRT` at
//! exit; `tests/pitfalls` shows it.
//!
//! The runtime has ONE worker thread (set at import), so that one blocked worker stalls
//! every task on any machine; with N workers, N blocking calls do the same.

use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use exit_guard as runtime;

/// The longest sleep any function here accepts, in milliseconds.
pub const MAX_MS: i64 = 10_000;

/// Parameter `name`'s value `ms` as a `Duration`, or a `ValueError` naming it and the range.
fn millis(name: &str, ms: i64) -> PyResult<Duration> {
    if !(0..=MAX_MS).contains(&ms) {
        return Err(PyValueError::new_err(format!(
            "{name} must be between 0 and {MAX_MS}, got {ms}"
        )));
    }
    // Cannot fail: 0 <= ms <= MAX_MS.
    Ok(Duration::from_millis(ms.unsigned_abs()))
}

/// Returns `"Data for ID {id}"` after `delay_ms` milliseconds: step 01's function, through the
/// exit guard. The loop pitfalls (no running loop, another loop, a closed loop) use it.
#[pyfunction]
fn fetch_data_async(py: Python<'_>, id: i64, delay_ms: i64) -> PyResult<Bound<'_, PyAny>> {
    let delay = millis("delay_ms", delay_ms)?;
    runtime::future_into_py(py, async move {
        tokio::time::sleep(delay).await;
        Ok(format!("Data for ID {id}"))
    })
}

// ANCHOR: exit
/// BROKEN: the same function through pyo3-async-runtimes' plain `future_into_py`, whose
/// Tokio thread attaches to the interpreter to deliver the result even while the
/// interpreter is finalizing: the process can abort at exit (pyo3-async-runtimes #40).
#[pyfunction]
fn fetch_unguarded_async(py: Python<'_>, id: i64, delay_ms: i64) -> PyResult<Bound<'_, PyAny>> {
    let delay = millis("delay_ms", delay_ms)?;
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        tokio::time::sleep(delay).await;
        Ok(format!("Data for ID {id}"))
    })
}
// ANCHOR_END: exit

/// Panics with `message` inside the future, on Tokio: the awaited future raises `RustPanic`.
#[pyfunction]
fn panic_async(py: Python<'_>, message: String) -> PyResult<Bound<'_, PyAny>> {
    runtime::future_into_py(py, async move {
        tokio::task::yield_now().await; // panic on Tokio, not in the first poll
        panic!("{message}");
        #[allow(unreachable_code)]
        Ok(())
    })
}

// ANCHOR: no_reactor
/// BROKEN: builds the Tokio timer here, on the Python thread, outside the runtime.
#[pyfunction]
fn sleep_eager(py: Python<'_>, ms: i64) -> PyResult<Bound<'_, PyAny>> {
    let delay = millis("ms", ms)?;
    // `tokio::time::sleep` registers with the runtime's timer when it is *created*, and
    // this thread is not one of the runtime's: it panics here, before any await.
    let sleep = tokio::time::sleep(delay);
    runtime::future_into_py(py, async move {
        sleep.await;
        Ok(())
    })
}

/// FIXED: everything Tokio-specific is created inside the future, which runs on the runtime.
#[pyfunction]
fn sleep_async(py: Python<'_>, ms: i64) -> PyResult<Bound<'_, PyAny>> {
    let delay = millis("ms", ms)?;
    runtime::future_into_py(py, async move {
        tokio::time::sleep(delay).await;
        Ok(())
    })
}
// ANCHOR_END: no_reactor

// ANCHOR: blocking
/// BROKEN: a blocking call inside a future holds its Tokio worker for the whole call.
#[pyfunction]
fn blocking_sleep_async(py: Python<'_>, ms: i64) -> PyResult<Bound<'_, PyAny>> {
    let delay = millis("ms", ms)?;
    runtime::future_into_py(py, async move {
        std::thread::sleep(delay); // stands for any blocking call: file I/O, a sync client, CPU work
        Ok(())
    })
}

/// FIXED: the blocking call runs on Tokio's blocking pool; the worker stays free.
#[pyfunction]
fn offloaded_sleep_async(py: Python<'_>, ms: i64) -> PyResult<Bound<'_, PyAny>> {
    let delay = millis("ms", ms)?;
    runtime::future_into_py(py, async move {
        tokio::task::spawn_blocking(move || std::thread::sleep(delay))
            .await
            .map_err(|e| PyRuntimeError::new_err(format!("the blocking task failed: {e}")))
    })
}
// ANCHOR_END: blocking

// ANCHOR: deadlock
/// Runs `callback()` on a Tokio worker and waits for its result.
async fn call_on_worker(callback: Py<PyAny>) -> PyResult<Py<PyAny>> {
    // The task needs the GIL (attached to the interpreter) to call Python.
    tokio::spawn(async move { Python::attach(|py| callback.call0(py)) })
        .await
        .map_err(|e| PyRuntimeError::new_err(format!("the task failed: {e}")))?
}

/// BROKEN: blocks on the task while this thread still holds the GIL the task waits for.
#[pyfunction]
fn call_back_holding_gil(callback: Py<PyAny>) -> PyResult<Py<PyAny>> {
    pyo3_async_runtimes::tokio::get_runtime().block_on(call_on_worker(callback))
}

/// FIXED: `py.detach` releases the GIL for as long as this thread waits.
#[pyfunction]
fn call_back_detached(py: Python<'_>, callback: Py<PyAny>) -> PyResult<Py<PyAny>> {
    py.detach(|| pyo3_async_runtimes::tokio::get_runtime().block_on(call_on_worker(callback)))
}
// ANCHOR_END: deadlock

/// The Troubleshooting page's pitfalls, each broken function next to its fix. Not for use.
#[pymodule]
mod pitfalls {
    #[pymodule_export]
    use super::{
        blocking_sleep_async, call_back_detached, call_back_holding_gil, fetch_data_async,
        fetch_unguarded_async, offloaded_sleep_async, panic_async, sleep_async, sleep_eager,
    };

    #[pymodule_export]
    const MAX_MS: i64 = super::MAX_MS;

    /// One Tokio worker thread: see the crate's documentation. The runtime itself is built
    /// on first use, not here, so importing the module starts no thread.
    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(1).enable_all();
        pyo3_async_runtimes::tokio::init(builder);
        super::runtime::close_bridge_at_exit(m.py())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_accepts_zero_to_the_maximum() {
        assert_eq!(millis("ms", 0).ok(), Some(Duration::ZERO));
        assert_eq!(
            millis("ms", MAX_MS).ok(),
            Some(Duration::from_millis(10_000))
        );
    }

    #[test]
    fn millis_refuses_values_outside_the_range() {
        for bad in [-1, MAX_MS + 1, i64::MIN] {
            assert!(millis("ms", bad).is_err());
        }
    }
}
