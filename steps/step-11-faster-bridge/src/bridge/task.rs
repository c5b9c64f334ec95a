//! The life of one Rust future behind an `asyncio.Future`: spawned on Tokio at the call,
//! its result sent to the loop's inbox, aborted when Python cancels it.

use std::any::Any;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use pyo3::IntoPyObjectExt;
use pyo3_async_runtimes::err::RustPanic;
use tokio::runtime::Handle;

use super::inbox::{Finished, LoopBridge};

/// The caller's future, with its output already boxed for the loop (not yet converted).
type Erased = Pin<Box<dyn Future<Output = Finished> + Send>>;

// ANCHOR: start
/// Spawns `future` on Tokio; returns the `asyncio.Future` that the loop's bridge resolves
/// with its result.
pub fn start<'py, F, T>(
    event_loop: &Bound<'py, PyAny>,
    bridge: Bound<'py, LoopBridge>,
    runtime: &Handle,
    future: F,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let py = event_loop.py();
    let bridged = bridge.get();
    let key = bridged.next_key();
    // Made before the future is spawned: if making it fails, nothing runs for no one.
    let py_future = rust_future_class(py)?.call((), Some(&loop_kwarg(event_loop)?))?;
    py_future.setattr(pyo3::intern!(py, "_rust_key"), key)?;
    let inbox = Arc::clone(bridged.inbox());
    let mut future = erase(future);
    let task = runtime.spawn(async move {
        let finished = poll_fn(|cx| poll_catching_panics(&mut future, cx)).await;
        drop(future); // released before the result is sent
        inbox.send(key, finished);
    });
    bridged.wait(key, py_future.clone().unbind(), task.abort_handle());
    Ok(py_future)
}
// ANCHOR_END: start

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
            let error = panicked(&*panic);
            Poll::Ready(Box::new(move |_py: Python<'_>| Err(error)))
        }
    }
}

/// Converts a finished future's result to Python; a panic doing so becomes `RustPanic`.
pub fn convert(finished: Finished, py: Python<'_>) -> PyResult<Py<PyAny>> {
    catch_unwind(AssertUnwindSafe(|| finished(py))).unwrap_or_else(|panic| Err(panicked(&*panic)))
}

/// `RustPanic("rust future panicked: {message}")`.
fn panicked(panic: &(dyn Any + Send)) -> PyErr {
    // `panic!("...")` payloads are a `&str` or a `String`.
    let message = if let Some(text) = panic.downcast_ref::<&str>() {
        text
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text
    } else {
        "unknown error"
    };
    RustPanic::new_err(format!("rust future panicked: {message}"))
}
// ANCHOR_END: panic

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

/// Called by `RustFuture.cancel`: aborts the Rust future behind `future`, unless its
/// result has already been delivered. Tokio drops it at its next scheduling point, on a
/// worker, and catches a panic of its `Drop` there.
#[pyfunction]
fn drop_rust_future(future: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = future.py();
    let key: u64 = future.getattr(pyo3::intern!(py, "_rust_key"))?.extract()?;
    let event_loop = future.call_method0(pyo3::intern!(py, "get_loop"))?;
    // The loop's bridge made this future, so it is listed (unless the loop has closed).
    if let Some(Some(bridge)) = LoopBridge::listed(&event_loop) {
        if let Some(task) = bridge.get().forget(key) {
            task.abort();
        }
    }
    Ok(())
}
// ANCHOR_END: cancel

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_rust_panic_with_its_message() {
        let mut panicking = erase(async {
            if true {
                panic!("index out of bounds");
            }
            Ok::<u64, PyErr>(1)
        });
        let waker = std::task::Waker::noop();
        let Poll::Ready(finished) =
            poll_catching_panics(&mut panicking, &mut Context::from_waker(waker))
        else {
            panic!("a panic finishes the future");
        };
        Python::initialize();
        Python::attach(|py| {
            let error = convert(finished, py).unwrap_err();
            assert!(error.is_instance_of::<RustPanic>(py));
            assert_eq!(
                error.value(py).to_string(),
                "rust future panicked: index out of bounds"
            );
        });
    }
}
