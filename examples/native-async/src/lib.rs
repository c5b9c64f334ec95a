//! PyO3's native `async fn` next to pyo3-async-runtimes' `future_into_py`, side by side.
//!
//! The same two operations, both ways: one that is ready at once, and one that sleeps on
//! the Tokio runtime. A native `#[pyfunction] async fn` (PyO3's `experimental-async`
//! feature) becomes a Python coroutine that the *asyncio event loop* polls, on its own
//! thread, attached to the interpreter; Tokio never sees it. `future_into_py` hands the
//! future to Tokio's threads and returns an `asyncio.Future`. So the native coroutine must
//! reach Tokio itself for anything that needs a Tokio runtime (timers, Tokio sockets):
//! it spawns that work onto the runtime and awaits the task.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use pyo3::coroutine::CancelHandle;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use tokio::task::{JoinError, JoinHandle};

// pyo3-async-runtimes' `future_into_py` with step 07's exit guard (the `exit-guard` crate).
use exit_guard as runtime;

// ANCHOR: limits
/// The longest sleep any function here accepts, in milliseconds (one minute).
pub const MAX_SLEEP_MS: u64 = 60_000;

/// Turns `ms` into a `Duration`, or a `ValueError` that names the parameter and the range.
fn sleep_from_ms(ms: u64) -> PyResult<Duration> {
    if ms > MAX_SLEEP_MS {
        return Err(PyValueError::new_err(format!(
            "ms must be between 0 and {MAX_SLEEP_MS} (milliseconds), got {ms}"
        )));
    }
    Ok(Duration::from_millis(ms))
}
// ANCHOR_END: limits

// ANCHOR: work
/// Tokio sleeps alive right now, in either style: how the tests see whether the Tokio work
/// stopped when Python gave up on it.
static LIVE_SLEEPS: AtomicUsize = AtomicUsize::new(0);

/// Counts one live sleep from its creation until it is dropped, however it ends.
struct Alive(());

impl Alive {
    fn new() -> Self {
        LIVE_SLEEPS.fetch_add(1, Ordering::SeqCst);
        Alive(())
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        LIVE_SLEEPS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The Tokio work both styles run: sleep on the Tokio timer, then return `ms`.
///
/// `tokio::time::sleep` needs a Tokio runtime: it must be polled inside one (a Tokio worker
/// thread, or a thread that entered the runtime), or it panics.
async fn tokio_sleep(delay: Duration, ms: u64) -> u64 {
    let _alive = Alive::new();
    // A zero-length Tokio sleep still waits for the timer's next tick (about 1 ms).
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    ms
}

/// The number of Tokio sleeps alive, in either style.
#[pyfunction]
fn live_sleeps() -> usize {
    LIVE_SLEEPS.load(Ordering::SeqCst)
}
// ANCHOR_END: work

// ANCHOR: owned_task
/// A Tokio task owned by the future that awaits it: dropping the future aborts the task.
///
/// A bare `JoinHandle` detaches its task when dropped, so a cancelled coroutine would
/// leave the task running for nobody.
struct OwnedTask<T>(JoinHandle<T>);

impl<T> Future for OwnedTask<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for OwnedTask<T> {
    fn drop(&mut self) {
        // A no-op when the task has finished already.
        self.0.abort();
    }
}

/// Starts `work` on pyo3-async-runtimes' Tokio runtime (the one `future_into_py` uses).
fn spawn_on_tokio<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> JoinHandle<T> {
    pyo3_async_runtimes::tokio::get_runtime().spawn(work)
}

/// A task that panicked (or was aborted) becomes a `RuntimeError`.
fn joined<T>(result: Result<T, JoinError>) -> PyResult<T> {
    result.map_err(|e| PyRuntimeError::new_err(format!("the Tokio task failed: {e}")))
}
// ANCHOR_END: owned_task

// ANCHOR: native
/// Returns `value` at once: a native coroutine that finishes on its first poll.
#[pyfunction]
async fn native_ready(value: i64) -> i64 {
    value
}

/// Returns `ms` after sleeping `ms` milliseconds on the Tokio runtime (native coroutine).
///
/// The coroutine runs on the event loop's thread, so the sleep is spawned onto Tokio and
/// the coroutine awaits the task; Tokio wakes the coroutine when the task finishes.
#[pyfunction]
async fn native_sleep(ms: u64) -> PyResult<u64> {
    let delay = sleep_from_ms(ms)?;
    joined(OwnedTask(spawn_on_tokio(tokio_sleep(delay, ms))).await)
}
// ANCHOR_END: native

// ANCHOR: bridge
/// Returns `value` at once, through `future_into_py` (an `asyncio.Future`).
#[pyfunction]
fn bridge_ready(py: Python<'_>, value: i64) -> PyResult<Bound<'_, PyAny>> {
    runtime::future_into_py(py, async move { Ok(value) })
}

/// Returns `ms` after sleeping `ms` milliseconds on the Tokio runtime, through
/// `future_into_py`: the future itself runs on a Tokio thread.
#[pyfunction]
fn bridge_sleep(py: Python<'_>, ms: u64) -> PyResult<Bound<'_, PyAny>> {
    let delay = sleep_from_ms(ms)?;
    runtime::future_into_py(py, async move { Ok(tokio_sleep(delay, ms).await) })
}
// ANCHOR_END: bridge

// ANCHOR: detached
/// Like `native_sleep`, but awaits the bare `JoinHandle`: cancelling the coroutine drops
/// the handle, which *detaches* the Tokio task; it sleeps on for nobody. Do not copy this;
/// it is here so the tests can show the difference.
#[pyfunction]
async fn native_sleep_detached(ms: u64) -> PyResult<u64> {
    let delay = sleep_from_ms(ms)?;
    joined(spawn_on_tokio(tokio_sleep(delay, ms)).await)
}
// ANCHOR_END: detached

// ANCHOR: wrong
/// Wrong on purpose: polls `tokio::time::sleep` directly in the native coroutine. The event
/// loop's thread is not in a Tokio runtime, so the sleep panics on its first poll, and
/// PyO3 turns the panic into `pyo3_runtime.PanicException`. Here for the tests only.
#[pyfunction]
async fn native_sleep_outside_tokio(ms: u64) -> PyResult<u64> {
    let delay = sleep_from_ms(ms)?;
    tokio::time::sleep(delay).await;
    Ok(ms)
}
// ANCHOR_END: wrong

// ANCHOR: cancel_handle
/// Like `native_sleep`, but it handles its own cancellation with a `CancelHandle`: when the
/// awaiting task is cancelled, it aborts the Tokio task, waits until the task is gone, and
/// only then re-raises the `CancelledError` it was given.
#[pyfunction]
async fn native_sleep_cancellable(
    ms: u64,
    #[pyo3(cancel_handle)] mut cancel: CancelHandle,
) -> PyResult<u64> {
    let delay = sleep_from_ms(ms)?;
    let mut task = pin!(spawn_on_tokio(tokio_sleep(delay, ms)));
    // Whichever comes first: the exception thrown into the coroutine, or the task's end.
    let cancelled = poll_fn(|cx| {
        if let Poll::Ready(exception) = cancel.poll_cancelled(cx) {
            return Poll::Ready(Err(exception));
        }
        task.as_mut().poll(cx).map(Ok)
    })
    .await;
    match cancelled {
        Ok(result) => joined(result),
        Err(exception) => {
            task.abort();
            // An aborted task finishes on a Tokio thread shortly after; its end (with a
            // "cancelled" `JoinError`, or its value if it won the race) is all we wait for.
            let _ = task.await;
            Err(Python::attach(|py| {
                PyErr::from_value(exception.into_bound(py))
            }))
        }
    }
}
// ANCHOR_END: cancel_handle

// ANCHOR: module
/// PyO3's native `async fn` next to `future_into_py`: the same work, both ways.
#[pymodule]
mod native_async {
    #[pymodule_export]
    use super::{
        bridge_ready, bridge_sleep, live_sleeps, native_ready, native_sleep,
        native_sleep_cancellable, native_sleep_detached, native_sleep_outside_tokio,
    };

    /// The longest sleep any function here accepts, in milliseconds.
    #[pymodule_export]
    const MAX_SLEEP_MS: u64 = super::MAX_SLEEP_MS;

    #[pymodule_init]
    fn init(py: pyo3::Python<'_>) -> pyo3::PyResult<()> {
        super::runtime::close_bridge_at_exit(py)
    }
}
// ANCHOR_END: module

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_up_to_the_limit_are_accepted() {
        assert_eq!(sleep_from_ms(0).unwrap(), Duration::ZERO);
        assert_eq!(
            sleep_from_ms(MAX_SLEEP_MS).unwrap(),
            Duration::from_millis(MAX_SLEEP_MS)
        );
    }

    #[test]
    fn dropping_an_owned_task_aborts_it() {
        let runtime = tokio::runtime::Runtime::new().expect("a test runtime starts");
        let handle = runtime.spawn(std::future::pending::<()>());
        let abort = handle.abort_handle();
        drop(OwnedTask(handle));
        // Abort is carried out by the runtime; wait for it, bounded.
        let started = std::time::Instant::now();
        while !abort.is_finished() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "task still running"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
