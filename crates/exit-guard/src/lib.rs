//! pyo3-async-runtimes' Tokio bridge, made safe at interpreter exit.
//!
//! pyo3-async-runtimes hands each finished future's result back to Python from a thread of
//! Tokio's blocking pool, which attaches to the interpreter to do it. If the interpreter is
//! finalizing at that moment (a script that exits right after its last `await`), CPython
//! stops that thread in a way Rust cannot survive, and the whole process aborts with
//! `SIGABRT` (pyo3-async-runtimes issue #40).
//!
//! The fix has two halves. Every delivery is counted while it runs. An `atexit` hook, which
//! CPython runs *before* it starts finalizing, closes the bridge: deliveries that have not
//! started are dropped without touching Python, and the hook waits, with the GIL released,
//! for those already running. After it returns, no Tokio thread attaches again.
//!
//! Everything else is pyo3-async-runtimes' own Tokio runtime and its `generic` API: the same
//! threads, the same cancellation, the same `asyncio.Future`; and one repair on the way: a
//! panic's message reaches Python (`panics_as_errors`). A crate of its own, so that
//! every stage from step 07 on, and the examples, use one copy of it.

use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3_async_runtimes::err::RustPanic;
use pyo3_async_runtimes::generic::{ContextExt, Runtime};
use pyo3_async_runtimes::TaskLocals;

// ANCHOR: future_into_py
/// Turns a Rust future into an `asyncio.Future`, like
/// `pyo3_async_runtimes::tokio::future_into_py`, with results delivered through the
/// exit-safe runtime below, and a panic's message kept in its `RustPanic`.
pub fn future_into_py<F, T>(py: Python<'_>, fut: F) -> PyResult<Bound<'_, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    pyo3_async_runtimes::generic::future_into_py::<ExitSafeTokio, _, T>(py, panics_as_errors(fut))
}
// ANCHOR_END: future_into_py

// ANCHOR: panics
/// `fut`, with a panic turned into `Err(RustPanic("rust future panicked: <message>"))`.
///
/// pyo3-async-runtimes 0.30.0 catches panics too, but reads the message from the payload's
/// `Box` instead of its contents, so every `RustPanic` it raises says "unknown error".
fn panics_as_errors<T>(
    fut: impl Future<Output = PyResult<T>> + Send + 'static,
) -> impl Future<Output = PyResult<T>> + Send + 'static {
    let mut fut = Box::pin(fut);
    poll_fn(move |cx| {
        let payload = match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(polled) => return polled,
            Err(payload) => payload,
        };
        // `panic!("...")` payloads are a `&str` or a `String`.
        let message = (payload.downcast_ref::<&str>().copied())
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("unknown error");
        let panic = format!("rust future panicked: {message}");
        Poll::Ready(Err(RustPanic::new_err(panic)))
    })
}
// ANCHOR_END: panics

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

/// Registers `close_bridge` with `atexit`; call it once, when the module is imported.
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

impl Runtime for ExitSafeTokio {
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
