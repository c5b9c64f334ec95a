//! Step 12's bridge: step 11's, plus futures that are done at the call come back done.
//!
//! Step 11 spawns every future on Tokio and delivers every result through the loop's inbox:
//! each `await` costs a trip through the event loop, even for a future that has nothing to
//! wait for (a cache hit, an uncontended lock, a zero delay). This bridge polls the future
//! once, at the call, on the loop's thread (`task.rs`):
//!
//! - done by then, it comes back as an `asyncio.Future` that is already done, so `await`
//!   returns without a trip through the loop; at most `BUDGET` (128) times in a row per
//!   loop iteration, after which the next one waits for the loop (`inbox.rs`), so a task
//!   that awaits such futures in a loop still lets the loop run its other tasks and timers;
//! - still pending, it is parked, and spawned on Tokio only when something wakes it, from
//!   the Tokio thread that woke it: no thread is woken to start it; cancelled meanwhile, it
//!   is dropped on the spot;
//! - a future whose first poll is long (a large batch) skips that poll: `spawn_into_py`.
//!
//! Results still reach the loop through step 11's inbox. Loops that cannot watch a socket
//! (`add_reader`; Windows' proactor loop) and non-Unix systems keep `runtime::future_into_py`.

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
    bridge(py, future, FirstPollOn::Loop)
}

/// `future_into_py` for futures whose first poll is long (a large batch): Tokio polls them
/// from the start, so that work never runs on the event loop's thread.
pub fn spawn_into_py<F, T>(py: Python<'_>, future: F) -> PyResult<Bound<'_, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    bridge(py, future, FirstPollOn::Tokio)
}

fn bridge<F, T>(py: Python<'_>, future: F, first_poll: FirstPollOn) -> PyResult<Bound<'_, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    let runtime = runtime::get()?;
    // Raises `RuntimeError: no running event loop` when called outside a coroutine.
    let event_loop = running_loop(py)?;
    #[cfg(unix)]
    if let Some(bridge) = inbox::LoopBridge::for_loop(&event_loop)? {
        return task::start(&event_loop, bridge, runtime.handle(), future, first_poll);
    }
    // No socket this loop can watch (no `add_reader`, or not Unix): the slower path.
    let _ = (runtime, event_loop, first_poll);
    runtime::future_into_py(py, future)
}

/// Where a bridged future is polled first.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FirstPollOn {
    /// At the call, on the loop's thread: a future done at once comes back done.
    Loop,
    /// On a Tokio worker, as `runtime::future_into_py` does.
    Tokio,
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
static READY_AT_FIRST_POLL: AtomicU64 = AtomicU64::new(0);
static OVER_BUDGET: AtomicU64 = AtomicU64::new(0);
static SPAWNED_AT_CALL: AtomicU64 = AtomicU64::new(0);
static SENT_TO_LOOP: AtomicU64 = AtomicU64::new(0);
static WAKEUP_BYTES: AtomicU64 = AtomicU64::new(0);
static WAKEUP_WRITE_ERRORS: AtomicU64 = AtomicU64::new(0);

/// What the bridge did since the module was imported (see the stub for each counter).
#[pyfunction]
pub fn bridge_stats(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let stats = PyDict::new(py);
    // Independent counters; `Relaxed` is enough, as in `tasks.rs`.
    for (name, counter) in [
        ("ready_at_first_poll", &READY_AT_FIRST_POLL),
        ("over_budget", &OVER_BUDGET),
        ("spawned_at_call", &SPAWNED_AT_CALL),
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
