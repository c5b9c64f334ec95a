//! Step 11's bridge: a Rust future becomes an `asyncio.Future` without the fixed costs of
//! `future_into_py`.
//!
//! `pyo3_async_runtimes`' `future_into_py` pays a fixed cost per awaited future, whatever the
//! future does: a context copy, two Tokio spawns, a hop to the blocking pool, a GIL
//! handover and a `call_soon_threadsafe` (see the book's "How the bridge works"; its
//! Performance chapter measures it). This bridge keeps the same contract (an `asyncio.Future`
//! of the running loop; cancelling it drops the Rust future; errors keep their type; a panic
//! becomes `RustPanic`) and pays far less:
//!
//! - the future is spawned on Tokio once, at the call (`task.rs`);
//! - when it finishes, it hands its *Rust* result to its event loop's inbox and, only if no
//!   wake-up is on its way, writes one byte to a socket the loop watches (`inbox.rs`): one
//!   loop wake-up for every result that arrives meanwhile, and no Tokio thread ever calls
//!   into Python, so none can be caught by the interpreter's exit.
//!
//! Loops that cannot watch a socket (`add_reader`; Windows' proactor loop) and non-Unix
//! systems keep `runtime::future_into_py`.

#[cfg(unix)]
mod inbox;
#[cfg(unix)]
mod task;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::runtime;

// ANCHOR: future_into_py
/// Turns `future` into an `asyncio.Future` of the running event loop; same signature and
/// contract as `runtime::future_into_py`, which steps 07-10 used.
pub fn future_into_py<F, T>(py: Python<'_>, future: F) -> PyResult<Bound<'_, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    let runtime = runtime::get()?;
    // Raises `RuntimeError: no running event loop` when called outside a coroutine.
    let event_loop = running_loop(py)?;
    #[cfg(unix)]
    if let Some(bridge) = inbox::LoopBridge::for_loop(&event_loop)? {
        return task::start(&event_loop, bridge, runtime.handle(), future);
    }
    // No socket this loop can watch (no `add_reader`, or not Unix): the slower path.
    let _ = (runtime, event_loop);
    runtime::future_into_py(py, future)
}
// ANCHOR_END: future_into_py

/// `asyncio.get_running_loop()`.
fn running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    GET_RUNNING_LOOP
        .import(py, "asyncio", "get_running_loop")?
        .call0()
}

// ANCHOR: stats
/// What the bridge did since the module was imported, for tests and metrics.
static SENT_TO_LOOP: AtomicU64 = AtomicU64::new(0);
static WAKEUP_BYTES: AtomicU64 = AtomicU64::new(0);
static WAKEUP_WRITE_ERRORS: AtomicU64 = AtomicU64::new(0);

/// What the bridge did since the module was imported (see the stub for each counter).
#[pyfunction]
pub fn bridge_stats(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let stats = PyDict::new(py);
    // Independent counters; `Relaxed` is enough, as in `tasks.rs`.
    for (name, counter) in [
        ("sent_to_loop", &SENT_TO_LOOP),
        ("wakeup_bytes", &WAKEUP_BYTES),
        ("wakeup_write_errors", &WAKEUP_WRITE_ERRORS),
    ] {
        stats.set_item(name, counter.load(Ordering::Relaxed))?;
    }
    Ok(stats)
}
// ANCHOR_END: stats

/// Adds one to a counter of `bridge_stats`.
fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
