//! Step 04: a deadline inside Rust, and cancellation that reaches Rust from Python.
//!
//! `api_call_with_timeout` simulates an upstream call that takes `latency_ms` and gives it
//! at most `timeout_ms`, with `tokio::time::timeout`. When the deadline passes first, the
//! call future is dropped (which stops its work) and Python receives its built-in
//! `TimeoutError`, after about `timeout_ms`, not after `latency_ms`.
//!
//! Python can also give up from the outside (`asyncio.wait_for`, `task.cancel()`): then
//! pyo3-async-runtimes drops the whole Rust future. Each future owns a `TaskGuard`, so
//! `active_tasks()` shows that the drop really happens.

use std::time::Duration;

use pyo3::exceptions::{PyTimeoutError, PyValueError};
use pyo3::prelude::*;

use crate::tasks::TaskGuard;

// ANCHOR: limits
/// The shortest `timeout_ms` accepted: a zero timeout could never let a call succeed.
pub const MIN_TIMEOUT_MS: i64 = 1;
/// The longest `timeout_ms` accepted, in milliseconds (one minute).
pub const MAX_TIMEOUT_MS: i64 = 60_000;
// The longest simulated `latency_ms` accepted: one minute, the bound from step 02.
use crate::concurrency::MAX_LATENCY_MS;
/// The longest `endpoint` accepted, in characters (Unicode code points, as `len()` counts).
pub const MAX_ENDPOINT_LEN: usize = 256;

/// Turns `value` milliseconds into a `Duration` if it lies in `min..=max`, or a
/// `ValueError` naming the parameter, the range and the value given.
fn millis_in_range(name: &str, value: i64, min: i64, max: i64) -> PyResult<Duration> {
    match u64::try_from(value) {
        Ok(ms) if (min..=max).contains(&value) => Ok(Duration::from_millis(ms)),
        _ => Err(PyValueError::new_err(format!(
            "{name} must be between {min} and {max} (milliseconds), got {value}"
        ))),
    }
}

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
// ANCHOR_END: limits

// ANCHOR: call
/// The upstream call this step pretends to make: `latency` of I/O, then a response.
async fn simulated_call(endpoint: &str, latency: Duration) -> String {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    format!("Response from {endpoint}")
}

/// Returns `"Response from {endpoint}"` after `latency_ms`, or raises `TimeoutError` once
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
    crate::runtime::future_into_py(py, async move {
        // Moved in, so it is dropped with this future, however the future ends.
        let _guard = guard;
        // `timeout` polls the call and a timer together. If the timer fires first it
        // drops the call future, so the sleep inside it stops too.
        match tokio::time::timeout(limit, simulated_call(&endpoint, latency)).await {
            Ok(response) => Ok(response),
            Err(_elapsed) => Err(PyTimeoutError::new_err(format!(
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

    #[test]
    fn millis_accepts_both_ends_of_the_range() {
        let ms = |v| millis_in_range("timeout_ms", v, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS);
        assert_eq!(ms(1).unwrap(), Duration::from_millis(1));
        assert_eq!(ms(60_000).unwrap(), Duration::from_secs(60));
        assert_eq!(
            millis_in_range("latency_ms", 0, 0, MAX_LATENCY_MS).unwrap(),
            Duration::ZERO
        );
    }

    #[test]
    fn millis_rejects_values_outside_the_range_naming_parameter_and_range() {
        Python::initialize();
        for bad in [0, -1, MAX_TIMEOUT_MS + 1, i64::MIN, i64::MAX] {
            let err =
                millis_in_range("timeout_ms", bad, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS).unwrap_err();
            Python::attach(|py| {
                assert!(err.is_instance_of::<PyValueError>(py));
                let message = err.value(py).to_string();
                let expected =
                    format!("timeout_ms must be between 1 and 60000 (milliseconds), got {bad}");
                assert_eq!(message, expected);
            });
        }
    }

    #[test]
    fn endpoint_length_is_counted_in_characters() {
        Python::initialize();
        assert!(check_endpoint("users").is_ok());
        // 256 two-byte characters: 512 bytes, but within the limit of 256 characters.
        assert!(check_endpoint(&"é".repeat(MAX_ENDPOINT_LEN)).is_ok());
        for (bad, len) in [(String::new(), 0), ("x".repeat(MAX_ENDPOINT_LEN + 1), 257)] {
            let err = check_endpoint(&bad).unwrap_err();
            Python::attach(|py| {
                assert!(err.is_instance_of::<PyValueError>(py));
                let message = err.value(py).to_string();
                assert!(
                    message.contains("endpoint must be between 1 and 256"),
                    "{message}"
                );
                assert!(message.ends_with(&format!("got {len}")), "{message}");
            });
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
