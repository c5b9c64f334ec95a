//! The life of one Rust future behind an `asyncio.Future`: polled once at the call, spawned
//! on Tokio only when something wakes it, dropped when Python cancels it.
//!
//! The first poll runs on the loop's thread, inside the Tokio runtime's context (timers,
//! sockets and `tokio::spawn` need it), with a waker of our own. If the future is not done,
//! it has registered that waker with whatever it waits for (a timer, a socket, a channel),
//! and it is parked here. The waker fires on the thread that completes the wait, usually
//! a Tokio worker, and spawns the future there: on a worker, `spawn` only pushes it onto
//! that worker's own queue, so no other thread has to wake up. From then on Tokio polls it
//! with Tokio's own wakers, and the future hands its result to the loop's inbox.

use std::any::Any;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use pyo3::IntoPyObjectExt;
use pyo3_async_runtimes::err::RustPanic;
use tokio::runtime::Handle;
use tokio::task::AbortHandle;

use super::inbox::{resolve, Finished, Inbox, LoopBridge};
use super::{count, FirstPollOn, OVER_BUDGET, READY_AT_FIRST_POLL, SPAWNED_AT_CALL};

/// The caller's future, with its output already boxed for the loop (not yet converted).
type Erased = Pin<Box<dyn Future<Output = Finished> + Send>>;

// ANCHOR: start
/// Polls `future` once (`FirstPollOn::Loop`); returns a done `asyncio.Future` if it
/// finished (within the loop's budget), else a pending one that the loop's bridge resolves.
pub fn start<'py, F, T>(
    event_loop: &Bound<'py, PyAny>,
    bridge: Bound<'py, LoopBridge>,
    runtime: &Handle,
    future: F,
    first_poll: FirstPollOn,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let py = event_loop.py();
    let bridged = bridge.get();
    let key = bridged.next_key();
    let task = Task::new(Arc::clone(bridged.inbox()), key, runtime);
    if first_poll == FirstPollOn::Tokio {
        let py_future = wait_in(event_loop, bridged, Arc::clone(&task))?;
        count(&SPAWNED_AT_CALL);
        let spawned = task.spawn(erase(future));
        *task.state() = State::Spawned(spawned);
        return Ok(py_future);
    }
    let future = match task.first_poll(erase(future)) {
        Ok(finished) if LoopBridge::within_budget(&bridge, event_loop)? => {
            count(&READY_AT_FIRST_POLL);
            let py_future = event_loop.call_method0(pyo3::intern!(py, "create_future"))?;
            resolve(&py_future, convert(finished, py))?;
            return Ok(py_future);
        }
        Ok(finished) => {
            // Over budget: the result goes through the inbox, so the caller's `await`
            // yields to the loop once before it gets it.
            count(&OVER_BUDGET);
            let py_future = wait_in(event_loop, bridged, task)?;
            bridged.inbox().send(key, finished);
            return Ok(py_future);
        }
        Err(pending) => pending,
    };
    // Parked only once its Python future exists: if making that fails, `future` is dropped.
    let py_future = wait_in(event_loop, bridged, Arc::clone(&task))?;
    task.park(future);
    Ok(py_future)
}
// ANCHOR_END: start

/// A pending `RustFuture` of `event_loop`, waiting in `bridge` for `task`'s result.
fn wait_in<'py>(
    event_loop: &Bound<'py, PyAny>,
    bridge: &LoopBridge,
    task: Arc<Task>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = event_loop.py();
    let py_future = rust_future_class(py)?.call((), Some(&loop_kwarg(event_loop)?))?;
    py_future.setattr(pyo3::intern!(py, "_rust_key"), task.key)?;
    bridge.wait(task.key, py_future.clone().unbind(), task);
    Ok(py_future)
}

/// Boxes `future`, its output ready to be converted on the loop's thread.
fn erase<F, T>(future: F) -> Erased
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    Box::pin(async move {
        // `future` is consumed (dropped) by this await, before the result goes anywhere.
        let result = future.await;
        Box::new(move |py: Python<'_>| result.and_then(|value| value.into_py_any(py))) as Finished
    })
}

// ANCHOR: panic
/// Polls `future`; a panic becomes a finished future whose result raises `RustPanic`.
fn poll_catching_panics(future: &mut Erased, cx: &mut Context<'_>) -> Poll<Finished> {
    match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
        Ok(polled) => polled,
        Err(panic) => {
            let error = panicked("", &*panic);
            Poll::Ready(Box::new(move |_py: Python<'_>| Err(error)))
        }
    }
}

/// Converts a finished future's result to Python; a panic doing so becomes `RustPanic`.
pub fn convert(finished: Finished, py: Python<'_>) -> PyResult<Py<PyAny>> {
    catch_unwind(AssertUnwindSafe(|| finished(py)))
        .unwrap_or_else(|panic| Err(panicked("", &*panic)))
}

/// `RustPanic("rust future panicked{when}: {message}")`.
pub fn panicked(when: &str, panic: &(dyn Any + Send)) -> PyErr {
    // `panic!("...")` payloads are a `&str` or a `String`.
    let message = if let Some(text) = panic.downcast_ref::<&str>() {
        text
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text
    } else {
        "unknown error"
    };
    RustPanic::new_err(format!("rust future panicked{when}: {message}"))
}
// ANCHOR_END: panic

// ANCHOR: task
/// One Rust future behind an `asyncio.Future`: where it is, and where its result goes.
pub struct Task {
    state: Mutex<State>,
    inbox: Arc<Inbox>,
    key: u64,
    runtime: Handle,
}

enum State {
    /// The first poll is running (on the loop's thread); `woken` if it woke itself.
    FirstPoll { woken: bool },
    /// Pending and not woken yet: the future waits here, not on Tokio.
    Parked(Erased),
    /// Woken: Tokio runs it now.
    Spawned(AbortHandle),
    /// Cancelled from Python: the future is gone.
    Cancelled,
}

impl Task {
    fn new(inbox: Arc<Inbox>, key: u64, runtime: &Handle) -> Arc<Self> {
        Arc::new(Task {
            state: Mutex::new(State::FirstPoll { woken: false }),
            inbox,
            key,
            runtime: runtime.clone(),
        })
    }

    /// Polls `future` once, here, inside the runtime, with this task as its waker: its
    /// result if it is done (the future already dropped), else the future, to `park`.
    fn first_poll(self: &Arc<Self>, mut future: Erased) -> Result<Finished, Erased> {
        let polled = {
            let _in_runtime = self.runtime.enter();
            let waker = Waker::from(Arc::clone(self));
            poll_catching_panics(&mut future, &mut Context::from_waker(&waker))
        };
        match polled {
            // Dropped before the result is set: its guards and permits are released first.
            Poll::Ready(finished) => Ok(finished),
            Poll::Pending => Err(future),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // No code that can panic runs while the lock is held.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// After a first poll that returned `Pending`: park the future, or spawn it at once if
    /// it was woken during that poll (or drop it, if it was cancelled meanwhile).
    fn park(&self, future: Erased) {
        let mut state = self.state();
        match *state {
            State::FirstPoll { woken: false } => *state = State::Parked(future),
            State::FirstPoll { woken: true } => *state = State::Spawned(self.spawn(future)),
            // Cancelled already (a future is parked once): dropped, never spawned.
            State::Parked(_) | State::Spawned(_) | State::Cancelled => {
                drop(state);
                let _ = self.drop_in_runtime(future);
            }
        }
    }

    fn spawn(&self, mut future: Erased) -> AbortHandle {
        let (inbox, key) = (Arc::clone(&self.inbox), self.key);
        let run = async move {
            let finished = poll_fn(|cx| poll_catching_panics(&mut future, cx)).await;
            drop(future); // released before the result is sent, as on the ready path
            inbox.send(key, finished);
        };
        self.runtime.spawn(run).abort_handle()
    }

    /// Python cancelled the future: drop the Rust future, here or on Tokio. `Err`: the
    /// future panicked while dropped here (the panic stops in this function).
    pub fn cancel(&self) -> Result<(), PyErr> {
        let previous = std::mem::replace(&mut *self.state(), State::Cancelled);
        match previous {
            State::Parked(future) => self.drop_in_runtime(future),
            // Tokio drops it at the task's next scheduling point, on a worker.
            State::Spawned(task) => {
                task.abort();
                Ok(())
            }
            State::FirstPoll { .. } | State::Cancelled => Ok(()),
        }
    }

    /// Drops `future` here, inside the runtime (a `Sleep` or a `JoinSet` deregisters itself
    /// from it on drop), catching a panic of its `Drop`.
    fn drop_in_runtime(&self, future: Erased) -> Result<(), PyErr> {
        let _in_runtime = self.runtime.enter();
        catch_unwind(AssertUnwindSafe(|| drop(future)))
            .map_err(|panic| panicked(" while dropped", &*panic))
    }
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    /// Runs on whichever thread completes the wait (usually a Tokio worker).
    fn wake_by_ref(self: &Arc<Self>) {
        let mut state = self.state();
        match std::mem::replace(&mut *state, State::Cancelled) {
            State::FirstPoll { .. } => *state = State::FirstPoll { woken: true },
            State::Parked(future) => *state = State::Spawned(self.spawn(future)),
            // Already running on Tokio (a stale waker from the first poll), or cancelled.
            other => *state = other,
        }
    }
}
// ANCHOR_END: task

// ANCHOR: cancel
/// `RustFuture` (`rust_future.py`), loaded on first use.
fn rust_future_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let class = CLASS.get_or_try_init(py, || {
        let code = pyo3::ffi::c_str!(include_str!("rust_future.py"));
        let module = PyModule::from_code(py, code, c"rust_future.py", c"fastapi_async._bridge")?;
        let class = module.getattr("RustFuture")?;
        class.setattr("_drop_rust_future", wrap_pyfunction!(drop_rust_future, py)?)?;
        Ok::<_, PyErr>(class.cast_into::<PyType>()?.unbind())
    })?;
    Ok(class.bind(py))
}

/// `{"loop": event_loop}`.
fn loop_kwarg<'py>(event_loop: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    let kwargs = PyDict::new(event_loop.py());
    kwargs.set_item(pyo3::intern!(event_loop.py(), "loop"), event_loop)?;
    Ok(kwargs)
}

/// Called by `RustFuture.cancel`: drops the Rust future behind `future`, unless its
/// result has already been delivered.
#[pyfunction]
fn drop_rust_future(future: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = future.py();
    let key: u64 = future.getattr(pyo3::intern!(py, "_rust_key"))?.extract()?;
    let event_loop = future.call_method0(pyo3::intern!(py, "get_loop"))?;
    // The loop's bridge made this future, so it is listed (unless the loop has closed).
    if let Some(Some(bridge)) = LoopBridge::listed(&event_loop) {
        if let Some(Err(panic)) = bridge.get().forget(key).map(|task| task.cancel()) {
            // `cancel()` must still succeed: report the panic as asyncio reports errors
            // in callbacks, without raising.
            panic.write_unraisable(py, Some(future));
        }
    }
    Ok(())
}
// ANCHOR_END: cancel

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use tokio::runtime::{Builder, Runtime};
    use tokio::sync::oneshot;

    use super::*;

    fn runtime() -> Runtime {
        Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    /// Sets its flag when dropped: shows when a future is dropped.
    struct DropFlag(Arc<AtomicBool>);

    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// A future that waits for `receiver`, then returns what it got; owns `flag`.
    fn waiting_for(receiver: oneshot::Receiver<u64>, flag: DropFlag) -> Erased {
        erase(async move {
            let _flag = flag;
            Ok::<u64, PyErr>(receiver.await.unwrap_or(0))
        })
    }

    /// The keys in `inbox`, waiting up to 10 s for at least one.
    fn keys_sent(inbox: &Inbox) -> Vec<u64> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let keys: Vec<u64> = inbox.take().into_iter().map(|(key, _)| key).collect();
            if !keys.is_empty() || Instant::now() > deadline {
                return keys;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_future_done_at_once_is_finished_by_the_first_poll() {
        let runtime = runtime();
        let task = Task::new(Arc::new(Inbox::new().unwrap()), 1, runtime.handle());
        assert!(task
            .first_poll(erase(async { Ok::<u64, PyErr>(5) }))
            .is_ok());
    }

    #[test]
    fn a_parked_future_runs_on_tokio_once_woken_and_sends_its_result() {
        let runtime = runtime();
        let inbox = Arc::new(Inbox::new().unwrap());
        let task = Task::new(Arc::clone(&inbox), 7, runtime.handle());
        let (sender, receiver) = oneshot::channel();
        let dropped = Arc::new(AtomicBool::new(false));
        let pending = task
            .first_poll(waiting_for(receiver, DropFlag(Arc::clone(&dropped))))
            .err()
            .expect("pending: nothing was sent yet");
        task.park(pending);
        assert!(matches!(*task.state(), State::Parked(_)));
        sender.send(42).unwrap(); // wakes the task: it is spawned on Tokio
        assert_eq!(keys_sent(&inbox), [7]);
        assert!(
            dropped.load(Ordering::SeqCst),
            "dropped before its result was sent"
        );
    }

    #[test]
    fn cancelling_a_parked_future_drops_it_at_once() {
        let runtime = runtime();
        let task = Task::new(Arc::new(Inbox::new().unwrap()), 1, runtime.handle());
        let (_sender, receiver) = oneshot::channel();
        let dropped = Arc::new(AtomicBool::new(false));
        let pending = task
            .first_poll(waiting_for(receiver, DropFlag(Arc::clone(&dropped))))
            .err()
            .expect("pending: nothing was sent yet");
        task.park(pending);
        task.cancel().unwrap();
        assert!(dropped.load(Ordering::SeqCst));
        assert!(matches!(*task.state(), State::Cancelled));
    }

    #[test]
    fn a_future_cancelled_before_it_is_parked_is_dropped_not_spawned() {
        let runtime = runtime();
        let task = Task::new(Arc::new(Inbox::new().unwrap()), 1, runtime.handle());
        let (_sender, receiver) = oneshot::channel();
        let dropped = Arc::new(AtomicBool::new(false));
        let pending = task
            .first_poll(waiting_for(receiver, DropFlag(Arc::clone(&dropped))))
            .err()
            .expect("pending: nothing was sent yet");
        task.cancel().unwrap();
        task.park(pending);
        assert!(dropped.load(Ordering::SeqCst));
        assert!(matches!(*task.state(), State::Cancelled));
    }

    #[test]
    fn a_future_that_wakes_itself_in_the_first_poll_is_spawned_at_once() {
        let runtime = runtime();
        let inbox = Arc::new(Inbox::new().unwrap());
        let task = Task::new(Arc::clone(&inbox), 3, runtime.handle());
        let future = erase(async {
            tokio::task::yield_now().await; // wakes its own waker, then returns Pending
            Ok::<u64, PyErr>(1)
        });
        let pending = task
            .first_poll(future)
            .err()
            .expect("yield_now is pending once");
        task.park(pending);
        assert!(matches!(*task.state(), State::Spawned(_)));
        assert_eq!(keys_sent(&inbox), [3]);
    }

    #[test]
    fn a_panic_in_the_first_poll_becomes_rust_panic() {
        let runtime = runtime();
        let task = Task::new(Arc::new(Inbox::new().unwrap()), 1, runtime.handle());
        fn index_out_of_bounds() -> PyResult<u64> {
            panic!("index out of bounds")
        }
        let panicking = erase(async { index_out_of_bounds() });
        let finished = task
            .first_poll(panicking)
            .ok()
            .expect("a panic finishes the future");
        Python::initialize();
        Python::attach(|py| {
            let error = finished(py).unwrap_err();
            assert!(error.is_instance_of::<RustPanic>(py));
            assert_eq!(
                error.value(py).to_string(),
                "rust future panicked: index out of bounds"
            );
        });
    }
}
