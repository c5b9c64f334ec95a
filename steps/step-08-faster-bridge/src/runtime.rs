//! The one Tokio runtime of the process: configured once, started on first use, owned here.
//!
//! pyo3-async-runtimes runs every future on a runtime it builds on first use, with Tokio's
//! defaults: one worker thread per CPU and up to 512 blocking threads, in every process.
//! A web worker wants to choose: `FASTAPI_ASYNC_WORKER_THREADS` sets the worker threads
//! (1..=64), read and checked when the module is imported, so a bad value stops the
//! process at start-up instead of failing the first request. The runtime itself starts on
//! the first call that needs it, not at import: a process that imports the module and
//! then forks (gunicorn's pre-fork model) forks before any Tokio thread exists.
//!
//! Step 08's `bridge.rs` delivers results without calling Python from Tokio threads. What
//! still does (`future_into_py` below, the bridge's fallback, and `attach_while_open`) goes
//! through the exit guard of step 01: every delivery is counted, and an `atexit` hook
//! closes the bridge before the interpreter finalizes, so no Tokio thread attaches to a
//! dying interpreter (pyo3-async-runtimes issue #40).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyDict};
use pyo3_async_runtimes::generic::{ContextExt, Runtime as BridgeRuntime};
use pyo3_async_runtimes::TaskLocals;
use tokio::runtime::{Builder, Runtime};

use crate::errors::{Error, Result};
use crate::limits::{DEFAULT_WORKER_THREADS_CAP, MAX_BLOCKING_THREADS, MAX_WORKER_THREADS};

// ANCHOR: config
/// The environment variable that sets the number of Tokio worker threads.
pub const WORKER_THREADS_ENV: &str = "FASTAPI_ASYNC_WORKER_THREADS";

/// The worker threads for a raw value of `FASTAPI_ASYNC_WORKER_THREADS` (`None`: unset).
///
/// Default: the CPUs this process may use, at most `DEFAULT_WORKER_THREADS_CAP` (4). A web
/// server usually runs one worker process per CPU already, and each worker's event loop
/// needs a CPU too; the work on these threads is waiting (timers, sockets), and CPU-heavy
/// work goes to the blocking pool. More threads than CPUs would only add context switches.
pub fn worker_threads_from(raw: Option<&str>, cpus: usize) -> Result<usize> {
    let Some(raw) = raw else {
        return Ok(cpus.clamp(1, DEFAULT_WORKER_THREADS_CAP));
    };
    match raw.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_WORKER_THREADS).contains(&n) => Ok(n),
        _ => Err(Error::Value(format!(
            "{WORKER_THREADS_ENV} must be an integer between 1 and {MAX_WORKER_THREADS}, \
             got {raw:?}"
        ))),
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
pub fn configure() -> Result<usize> {
    let raw = std::env::var(WORKER_THREADS_ENV).ok();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = worker_threads_from(raw.as_deref(), cpus)?;
    Ok(*WORKER_THREADS.get_or_init(|| threads))
}
// ANCHOR_END: config

// ANCHOR: start
/// The runtime, started on first use and handed to pyo3-async-runtimes.
///
/// `pyo3_async_runtimes::tokio::init(builder)` would also configure it, but the library
/// then builds the runtime itself and panics if that fails; building it here turns a
/// failure into a `RuntimeError`, and lets `runtime_info()` say whether it has started.
pub fn get() -> Result<&'static Runtime> {
    let started = match RUNTIME.get() {
        Some(started) => started,
        None => {
            let threads = configure()?;
            let runtime = Builder::new_multi_thread()
                .worker_threads(threads)
                .max_blocking_threads(MAX_BLOCKING_THREADS)
                .thread_name("fastapi-async-tokio")
                .enable_all()
                .build()
                .map_err(|e| Error::Runtime(format!("cannot start the Tokio runtime: {e}")))?;
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
    // `getpid` is a system call, a fifth of a ready future's cost: ask only after a fork.
    if FORKED.load(Ordering::Relaxed) && started.pid != std::process::id() {
        return Err(Error::Runtime(format!(
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

/// Set in a child process by `os.fork()` (see `mark_forked`).
static FORKED: AtomicBool = AtomicBool::new(false);

#[pyfunction]
fn mark_forked() {
    FORKED.store(true, Ordering::Relaxed);
}

/// Registers `mark_forked` to run in every child of `os.fork()` (which `multiprocessing`
/// and pre-fork servers use); called once, when the module is imported.
pub fn mark_forks(py: Python<'_>) -> PyResult<()> {
    let os = py.import("os")?;
    // Absent where there is no fork (Windows).
    if os.hasattr("register_at_fork")? {
        let kwargs = [("after_in_child", wrap_pyfunction!(mark_forked, py)?)].into_py_dict(py)?;
        os.call_method("register_at_fork", (), Some(&kwargs))?;
    }
    Ok(())
}

/// `future_into_py`, after making sure the runtime is ours, configured and usable here,
/// with results delivered through the exit guard below.
///
/// Step 07 made every awaitable here; step 08's `bridge::future_into_py` falls back to it
/// for event loops that cannot watch a socket. Either way the runtime is ours, never one
/// that pyo3-async-runtimes starts with its defaults.
pub fn future_into_py<F, T>(py: Python<'_>, future: F) -> PyResult<Bound<'_, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    get()?;
    pyo3_async_runtimes::generic::future_into_py::<ExitSafeTokio, F, T>(py, future)
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

// ANCHOR: deliveries
/// How long interpreter exit waits for deliveries that are already running.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// Deliveries of results to Python: how many are running, and whether new ones may start.
struct Deliveries {
    closed: bool,
    running: usize,
}

static DELIVERIES: Mutex<Deliveries> = Mutex::new(Deliveries {
    closed: false,
    running: 0,
});
static ALL_DELIVERED: Condvar = Condvar::new();

fn deliveries() -> MutexGuard<'static, Deliveries> {
    // The counts stay consistent even if a holder panicked: nothing panics while holding it.
    DELIVERIES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One delivery in progress; dropping it ends the delivery.
struct Delivery(());

impl Delivery {
    /// Starts a delivery, or returns `None` once the interpreter is exiting.
    fn start() -> Option<Self> {
        let mut state = deliveries();
        if state.closed {
            return None;
        }
        state.running += 1;
        Some(Delivery(()))
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        let mut state = deliveries();
        state.running -= 1;
        if state.running == 0 {
            ALL_DELIVERED.notify_all();
        }
    }
}

/// Closes the bridge: called by `atexit`, before the interpreter starts finalizing.
#[pyfunction]
fn close_bridge(py: Python<'_>) {
    // The GIL is released while waiting: a running delivery may be waiting for it.
    py.detach(|| {
        let mut state = deliveries();
        state.closed = true;
        // A delivery stuck for longer than this would be a bug; exit anyway.
        let _ = ALL_DELIVERED.wait_timeout_while(state, EXIT_GRACE, |s| s.running > 0);
    });
}

/// Registers `close_bridge` with `atexit`; called once, when the module is imported.
pub fn close_bridge_at_exit(py: Python<'_>) -> PyResult<()> {
    let hook = wrap_pyfunction!(close_bridge, py)?;
    py.import("atexit")?.call_method1("register", (hook,))?;
    Ok(())
}
// ANCHOR_END: deliveries

// ANCHOR: attach
/// Runs `f` attached to the interpreter, counted as one more delivery, or returns `None`
/// once the interpreter is exiting. For Rust code that calls Python from a Tokio thread.
pub fn attach_while_open<R>(f: impl FnOnce(Python<'_>) -> R) -> Option<R> {
    let _delivery = Delivery::start()?;
    Some(Python::attach(f))
}
// ANCHOR_END: attach

// ANCHOR: runtime
/// pyo3-async-runtimes' Tokio runtime, with every delivery counted and none after exit.
struct ExitSafeTokio;

impl BridgeRuntime for ExitSafeTokio {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        pyo3_async_runtimes::tokio::get_runtime().spawn(fut)
    }

    /// pyo3-async-runtimes runs each delivery (attach, convert, `call_soon_threadsafe`) here.
    fn spawn_blocking<F>(deliver: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        pyo3_async_runtimes::tokio::get_runtime().spawn_blocking(move || {
            if let Some(_delivery) = Delivery::start() {
                deliver();
            }
            // Otherwise `deliver` is dropped unrun: nobody is left to receive the result,
            // and dropping its Python references without the GIL only queues them.
        })
    }
}

tokio::task_local! {
    /// The event loop and context of the Python code that awaits the current Rust future.
    static TASK_LOCALS: TaskLocals;
}

impl ContextExt for ExitSafeTokio {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        Box::pin(TASK_LOCALS.scope(locals, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS.try_with(Clone::clone).ok()
    }
}
// ANCHOR_END: runtime

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_cpu_count_capped_at_four() {
        assert_eq!(worker_threads_from(None, 1), Ok(1));
        assert_eq!(worker_threads_from(None, 2), Ok(2));
        assert_eq!(
            worker_threads_from(None, 64),
            Ok(DEFAULT_WORKER_THREADS_CAP)
        );
        assert_eq!(worker_threads_from(None, 0), Ok(1));
    }

    #[test]
    fn the_variable_accepts_one_to_sixty_four() {
        assert_eq!(worker_threads_from(Some("1"), 2), Ok(1));
        assert_eq!(worker_threads_from(Some(" 64 "), 2), Ok(64));
    }

    #[test]
    fn other_values_are_an_error_naming_the_variable_and_range() {
        for bad in ["0", "65", "-1", "two", "", "1.5"] {
            let err = worker_threads_from(Some(bad), 2).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "FASTAPI_ASYNC_WORKER_THREADS must be an integer between 1 and 64, \
                     got {bad:?}"
                )
            );
        }
    }
}
