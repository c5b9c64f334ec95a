//! The one Tokio runtime of the process: configured once, started on first use (step 07).
//!
//! Until step 06, pyo3-async-runtimes built its runtime with Tokio's defaults: a worker
//! thread per CPU and up to 512 blocking threads. `FASTAPI_ASYNC_WORKER_THREADS` (1..=64) is
//! read at import, so a bad value stops the process at start-up, not at the first request;
//! the runtime starts at the first call that needs it, so a server that imports the module
//! and then forks (gunicorn's `--preload`) forks before any Tokio thread exists. Step 11's
//! `bridge.rs` delivers results without calling Python from Tokio threads; what still does
//! (`future_into_py` below, the bridge's fallback) goes through the `exit-guard` crate,
//! which no Tokio thread can pass once the interpreter is exiting.

use std::future::Future;
use std::sync::OnceLock;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tokio::runtime::{Builder, Runtime};

use crate::limits::{DEFAULT_WORKER_THREADS_CAP, MAX_BLOCKING_THREADS, MAX_WORKER_THREADS};

// ANCHOR: config
/// The environment variable that sets the number of Tokio worker threads.
pub const WORKER_THREADS_ENV: &str = "FASTAPI_ASYNC_WORKER_THREADS";

/// The worker threads for a raw value of `FASTAPI_ASYNC_WORKER_THREADS` (`None`: unset).
///
/// Default: the CPUs this process may use, at most `DEFAULT_WORKER_THREADS_CAP` (4). These
/// threads mostly wait (timers, sockets); CPU work goes to the blocking pool, and a server
/// often runs a process per CPU already: more threads would only add context switches.
fn worker_threads_from(raw: Option<&str>, cpus: usize) -> Result<usize, String> {
    let Some(raw) = raw else {
        return Ok(cpus.clamp(1, DEFAULT_WORKER_THREADS_CAP));
    };
    match raw.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_WORKER_THREADS).contains(&n) => Ok(n),
        _ => Err(format!(
            "{WORKER_THREADS_ENV} must be an integer between 1 and {MAX_WORKER_THREADS}, \
             got {raw:?}"
        )),
    }
}

/// The configuration read at import; the runtime built from it on first use.
static WORKER_THREADS: OnceLock<usize> = OnceLock::new();
static RUNTIME: OnceLock<Started> = OnceLock::new();

struct Started {
    runtime: Runtime,
    /// The process that started the runtime: a forked child has the runtime's memory
    /// but none of its threads.
    pid: u32,
}

/// Reads and checks the environment; called once, when the module is imported.
pub fn configure() -> PyResult<usize> {
    if let Some(threads) = WORKER_THREADS.get() {
        return Ok(*threads); // read once: a later change of the variable changes nothing
    }
    let raw = std::env::var(WORKER_THREADS_ENV).ok();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = worker_threads_from(raw.as_deref(), cpus).map_err(PyValueError::new_err)?;
    Ok(*WORKER_THREADS.get_or_init(|| threads))
}
// ANCHOR_END: config

// ANCHOR: start
/// The runtime, started on first use and handed to pyo3-async-runtimes.
///
/// `pyo3_async_runtimes::tokio::init(builder)` would also configure it, but the library
/// then builds the runtime itself and panics if that fails; building it here turns a
/// failure into a `RuntimeError`, and lets `runtime_info()` say whether it has started.
pub fn get() -> PyResult<&'static Runtime> {
    let started = match RUNTIME.get() {
        Some(started) => started,
        None => {
            let runtime = Builder::new_multi_thread()
                .worker_threads(configure()?)
                .max_blocking_threads(MAX_BLOCKING_THREADS)
                .thread_name("fastapi-async-tokio")
                .enable_all()
                .build()
                .map_err(|e| {
                    PyRuntimeError::new_err(format!("cannot start the Tokio runtime: {e}"))
                })?;
            let started = RUNTIME.get_or_init(|| Started {
                runtime,
                pid: std::process::id(),
            });
            // Only the first call reaches here with an empty OnceLock; if two raced, both
            // hand the same winner over, and the second `init_with_runtime` is a no-op.
            let _ = pyo3_async_runtimes::tokio::init_with_runtime(&started.runtime);
            started
        }
    };
    if started.pid != std::process::id() {
        return Err(PyRuntimeError::new_err(format!(
            "the Tokio runtime was started in process {} and this process ({}) is a fork of \
             it: a forked child has none of the runtime's threads. Start the runtime only \
             after forking (import the module, call nothing), or use a spawn-based server \
             such as `uvicorn --workers N`",
            started.pid,
            std::process::id()
        )));
    }
    Ok(&started.runtime)
}

/// `future_into_py`, after making sure the runtime is ours, configured and usable here,
/// with results delivered through the exit guard.
///
/// Step 07 made every awaitable here; step 11's `bridge::future_into_py` falls back to it
/// for event loops that cannot watch a socket. Either way the runtime is ours, never one
/// that pyo3-async-runtimes starts with its defaults.
pub fn future_into_py<F, T>(py: Python<'_>, future: F) -> PyResult<Bound<'_, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    get()?;
    exit_guard::future_into_py(py, future)
}
// ANCHOR_END: start

// ANCHOR: info
/// `{"worker_threads": int, "max_blocking_threads": int, "started": bool}`.
#[pyfunction]
pub fn runtime_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let info = PyDict::new(py);
    info.set_item("worker_threads", configure()?)?;
    info.set_item("max_blocking_threads", MAX_BLOCKING_THREADS)?;
    info.set_item("started", RUNTIME.get().is_some())?;
    Ok(info)
}
// ANCHOR_END: info

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_is_the_cpu_count_capped_at_four_and_set_is_one_to_sixty_four() {
        let threads = |raw, cpus| worker_threads_from(raw, cpus).unwrap();
        assert_eq!(
            [threads(None, 0), threads(None, 2), threads(None, 64)],
            [1, 2, 4]
        );
        assert_eq!([threads(Some("1"), 2), threads(Some(" 64 "), 2)], [1, 64]);
    }

    #[test]
    fn other_values_are_an_error_naming_the_variable_and_range() {
        for bad in ["0", "65", "-1", "two", "", "1.5"] {
            let expected = format!(
                "FASTAPI_ASYNC_WORKER_THREADS must be an integer between 1 and 64, got {bad:?}"
            );
            assert_eq!(worker_threads_from(Some(bad), 2), Err(expected));
        }
    }
}
