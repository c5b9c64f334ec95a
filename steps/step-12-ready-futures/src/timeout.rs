//! A deadline inside Rust, and cancellation that reaches Rust from Python (step 04).
//!
//! `api_call_with_timeout` simulates an upstream call that takes `latency_ms` and gives it
//! at most `timeout_ms`, with `tokio::time::timeout`. When the deadline passes first, the
//! call future is dropped (which stops its work) and Python receives a
//! `DeadlineExceededError`, after about `timeout_ms`, not after `latency_ms`.
//!
//! Python can also give up from the outside (`asyncio.wait_for`, `task.cancel()`): then
//! pyo3-async-runtimes drops the whole Rust future. Each future owns a `TaskGuard`, so
//! `active_tasks()` shows that the drop really happens.

use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::bridge::future_into_py;
use crate::limits::{
    millis_in_range, MAX_ENDPOINT_LEN, MAX_LATENCY_MS, MAX_TIMEOUT_MS, MIN_TIMEOUT_MS,
};
use crate::tasks::TaskGuard;

// ANCHOR: exception
pyo3::create_exception!(
    fastapi_async,
    DeadlineExceededError,
    PyTimeoutError,
    "A deadline enforced in Rust passed. Both a TimeoutError and a RuntimeError."
);

/// Makes `DeadlineExceededError` a `RuntimeError` too; called once, at import.
///
/// `TimeoutError` is the right type for a deadline, and `except TimeoutError` catches it.
/// But code written against `pyo3-asyncio`, where a Rust error came back as a
/// `RuntimeError`, catches `RuntimeError`; with both bases, both kinds of handler work.
/// (Before Python 3.11, `asyncio.TimeoutError` is a class of its own: it is a base too.)
/// `create_exception!` takes one base, so the others are added here, before any instance
/// exists: the class keeps `TimeoutError`'s layout, and only its method resolution order changes.
pub fn add_runtime_error_base(py: Python<'_>) -> PyResult<()> {
    let mut bases = vec![py.get_type::<PyTimeoutError>().into_any()];
    let asyncio_timeout = py.import("asyncio")?.getattr("TimeoutError")?;
    if !asyncio_timeout.is(&bases[0]) {
        bases.push(asyncio_timeout);
    }
    bases.push(py.get_type::<PyRuntimeError>().into_any());
    let class = py.get_type::<DeadlineExceededError>();
    class.setattr("__bases__", PyTuple::new(py, bases)?)
}
// ANCHOR_END: exception

/// Checks the endpoint's length (1 to `MAX_ENDPOINT_LEN` characters).
fn check_endpoint(endpoint: &str) -> PyResult<()> {
    let len = endpoint.chars().count();
    if (1..=MAX_ENDPOINT_LEN).contains(&len) {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!(
            "endpoint must be between 1 and {MAX_ENDPOINT_LEN} characters long, got {len}"
        )))
    }
}

// ANCHOR: call
/// The upstream call this step pretends to make: `latency` of I/O, then a response.
async fn simulated_call(endpoint: &str, latency: Duration) -> String {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    format!("Response from {endpoint}")
}

/// Returns `"Response from {endpoint}"` after `latency_ms`, or raises `DeadlineExceededError` once
/// `timeout_ms` has passed, whichever comes first.
#[pyfunction]
#[pyo3(signature = (endpoint, timeout_ms, latency_ms = 100))]
pub fn api_call_with_timeout<'py>(
    py: Python<'py>,
    endpoint: &str,
    timeout_ms: i64,
    latency_ms: i64,
) -> PyResult<Bound<'py, PyAny>> {
    check_endpoint(endpoint)?;
    let limit = millis_in_range("timeout_ms", timeout_ms, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS)?;
    let latency = millis_in_range("latency_ms", latency_ms, 0, MAX_LATENCY_MS)?;
    // Copied only now that it is known to be short; the future must own it ('static).
    let endpoint = endpoint.to_owned();
    let guard = TaskGuard::new();
    future_into_py(py, async move {
        // Moved in, so it is dropped with this future, however the future ends.
        let _guard = guard;
        // `timeout` polls the call and a timer together. If the timer fires first it
        // drops the call future, so the sleep inside it stops too.
        match tokio::time::timeout(limit, simulated_call(&endpoint, latency)).await {
            Ok(response) => Ok(response),
            Err(_elapsed) => Err(DeadlineExceededError::new_err(format!(
                "call to {endpoint} timed out after {timeout_ms} ms"
            ))),
        }
    })
}
// ANCHOR_END: call

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::limits::testing::value_error_message;

    #[test]
    fn endpoint_length_is_counted_in_characters() {
        assert!(check_endpoint("users").is_ok());
        // 256 two-byte characters: 512 bytes, but within the limit of 256 characters.
        assert!(check_endpoint(&"é".repeat(MAX_ENDPOINT_LEN)).is_ok());
        for (bad, len) in [(String::new(), 0), ("x".repeat(MAX_ENDPOINT_LEN + 1), 257)] {
            let message = value_error_message(&check_endpoint(&bad).unwrap_err());
            assert_eq!(
                message,
                format!("endpoint must be between 1 and 256 characters long, got {len}")
            );
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread runtime with timers builds on any supported OS")
    }

    #[test]
    fn timeout_returns_the_response_when_the_call_is_faster() {
        let outcome = runtime().block_on(async {
            let call = simulated_call("users", Duration::from_millis(1));
            tokio::time::timeout(Duration::from_secs(5), call).await
        });
        assert_eq!(outcome.unwrap(), "Response from users");
    }

    // ANCHOR: ownership
    /// Work that keeps `alive` cloned for as long as it runs.
    async fn work(alive: Arc<()>) {
        let _alive = alive;
        tokio::time::sleep(Duration::from_secs(30)).await;
    }

    #[test]
    fn work_awaited_inside_the_future_stops_when_the_timeout_drops_it() {
        let alive = Arc::new(());
        let outcome = runtime().block_on(async {
            let owned = work(alive.clone());
            tokio::time::timeout(Duration::from_millis(10), owned).await
        });
        assert!(outcome.is_err(), "the timeout fired");
        // The timeout dropped `owned`, and with it the work's clone of `alive`.
        assert_eq!(Arc::strong_count(&alive), 1);
    }

    #[test]
    fn work_spawned_and_detached_keeps_running_after_the_timeout() {
        let alive = Arc::new(());
        let rt = runtime();
        let outcome = rt.block_on(async {
            let detaching = async {
                // Dropping a JoinHandle detaches the task; nothing owns it any more.
                tokio::spawn(work(alive.clone()));
                tokio::time::sleep(Duration::from_secs(30)).await;
            };
            tokio::time::timeout(Duration::from_millis(10), detaching).await
        });
        assert!(outcome.is_err(), "the timeout fired");
        // The caller has its TimeoutError, yet the spawned work still runs on the runtime.
        assert_eq!(Arc::strong_count(&alive), 2);
        // Only shutting the whole runtime down drops it.
        drop(rt);
        assert_eq!(Arc::strong_count(&alive), 1);
    }

    #[test]
    fn work_spawned_into_an_owned_join_set_is_aborted_with_the_future() {
        let alive = Arc::new(());
        runtime().block_on(async {
            let owning = async {
                // A JoinSet aborts all its tasks when it is dropped.
                let mut tasks = tokio::task::JoinSet::new();
                tasks.spawn(work(alive.clone()));
                tasks.join_next().await
            };
            let outcome = tokio::time::timeout(Duration::from_millis(10), owning).await;
            assert!(outcome.is_err(), "the timeout fired");
            // Abort is a request: the task is dropped when the runtime next runs it.
            // Wait for that, bounded, instead of guessing a sleep.
            for _ in 0..1000 {
                if Arc::strong_count(&alive) == 1 {
                    break;
                }
                tokio::task::yield_now().await;
            }
        });
        assert_eq!(Arc::strong_count(&alive), 1);
    }
    // ANCHOR_END: ownership
}
