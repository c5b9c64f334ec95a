//! Step 06: retry with exponential backoff and jitter, over real HTTP.
//!
//! Steps 01-05 are unchanged. This step adds `fetch_with_retry`, in
//! `retry.rs`: a real HTTP GET through one shared `reqwest::Client`, which retries
//! connection errors, timeouts, `429` and `5xx` answers, waits between attempts as the
//! pure schedule in `backoff.rs` says (or as the server's `Retry-After` says), fails at once
//! on any other status, and is bounded per attempt and overall. As in every step, the checks
//! run in the caller's frame; the waiting and the HTTP run on Tokio without the GIL.

use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

mod backoff;
mod concurrency;
mod counter;
mod progress;
mod retry;
mod runtime;
mod semaphore;
mod tasks;
mod timeout;

// ANCHOR: limits
/// The longest delay `fetch_data_async` accepts, in milliseconds (one minute).
///
/// Every input that makes Rust wait has an upper bound, so no caller can park a task
/// (and the request that awaits it) for an unbounded time.
pub const MAX_DELAY_MS: i64 = 60_000;

/// Turns a delay from Python into a `Duration`, or a `ValueError` that says the range.
///
/// Checked before any future is created: bad input fails in the caller's own frame,
/// with a traceback that points at the call, not inside the runtime.
fn delay_from_ms(delay_ms: i64) -> PyResult<Duration> {
    match u64::try_from(delay_ms) {
        Ok(ms) if delay_ms <= MAX_DELAY_MS => Ok(Duration::from_millis(ms)),
        _ => Err(PyValueError::new_err(format!(
            "delay_ms must be between 0 and {MAX_DELAY_MS} (milliseconds), got {delay_ms}"
        ))),
    }
}
// ANCHOR_END: limits

// ANCHOR: fetch
/// Returns `"Data for ID {id}"` after `delay_ms` milliseconds of (simulated) I/O.
///
/// The return value is an `asyncio.Future`: `await fetch_data_async(42)` yields the string.
/// Must be called while an event loop is running (from `async def` code).
#[pyfunction]
#[pyo3(signature = (id, delay_ms = 100))]
fn fetch_data_async(py: Python<'_>, id: i64, delay_ms: i64) -> PyResult<Bound<'_, PyAny>> {
    let delay = delay_from_ms(delay_ms)?;
    // The async block owns everything it uses (`id`, `delay`): it runs later, on a Tokio
    // thread, after this function has returned, so it may not borrow from this frame.
    runtime::future_into_py(py, async move {
        // A zero-length Tokio sleep still waits for the timer's next tick (about 1 ms).
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok(format!("Data for ID {id}"))
    })
}
// ANCHOR_END: fetch

// ANCHOR: module
/// Async Rust in FastAPI, step 06: retry with backoff over real HTTP.
#[pymodule]
mod fastapi_async {
    #[pymodule_export]
    use super::fetch_data_async;

    /// The largest `delay_ms` that `fetch_data_async` accepts.
    #[pymodule_export]
    const MAX_DELAY_MS: i64 = super::MAX_DELAY_MS;

    #[pymodule_export]
    use super::concurrency::{
        aggregate_async, process_batch_async, process_batch_spawn_per_item_async,
    };

    /// The most strings `process_batch_async` accepts.
    #[pymodule_export]
    const MAX_BATCH_ITEMS: usize = super::concurrency::MAX_BATCH_ITEMS;

    /// The most sources `aggregate_async` accepts.
    #[pymodule_export]
    const MAX_AGGREGATE_SOURCES: usize = super::concurrency::MAX_AGGREGATE_SOURCES;

    /// The largest `latency_ms` that `aggregate_async` accepts.
    #[pymodule_export]
    const MAX_LATENCY_MS: i64 = super::concurrency::MAX_LATENCY_MS;

    #[pymodule_export]
    use super::counter::AsyncCounter;

    #[pymodule_export]
    use super::progress::compute_with_progress;

    /// The largest `n` that `compute_with_progress` accepts.
    #[pymodule_export]
    const MAX_COMPUTE_N: i64 = super::progress::MAX_COMPUTE_N;

    #[pymodule_export]
    use super::tasks::active_tasks;
    #[pymodule_export]
    use super::timeout::api_call_with_timeout;

    /// The smallest `timeout_ms` that `api_call_with_timeout` accepts.
    #[pymodule_export]
    const MIN_TIMEOUT_MS: i64 = super::timeout::MIN_TIMEOUT_MS;
    /// The largest `timeout_ms` that `api_call_with_timeout` accepts.
    #[pymodule_export]
    const MAX_TIMEOUT_MS: i64 = super::timeout::MAX_TIMEOUT_MS;
    /// The longest `endpoint` (in characters) that `api_call_with_timeout` accepts.
    #[pymodule_export]
    const MAX_ENDPOINT_LEN: usize = super::timeout::MAX_ENDPOINT_LEN;

    #[pymodule_export]
    use super::semaphore::{process_with_concurrency, ConcurrencyStats};

    /// The largest `max_concurrent` that `process_with_concurrency` accepts (the least is 1).
    #[pymodule_export]
    const MAX_CONCURRENT: i64 = super::semaphore::MAX_CONCURRENT;

    #[pymodule_export]
    use super::retry::{fetch_with_retry, HttpStatusError, RetryExhaustedError};

    /// The largest `max_retries` that `fetch_with_retry` accepts.
    #[pymodule_export]
    const MAX_RETRIES: u32 = super::retry::MAX_RETRIES;

    /// How long one attempt of `fetch_with_retry` may take, in milliseconds.
    #[pymodule_export]
    const ATTEMPT_TIMEOUT_MS: u64 = super::retry::ATTEMPT_TIMEOUT_MS;

    /// How long one call of `fetch_with_retry` may take in all, in milliseconds.
    #[pymodule_export]
    const OVERALL_TIMEOUT_MS: u64 = super::retry::OVERALL_TIMEOUT_MS;

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
    fn delay_accepts_the_whole_documented_range() {
        assert_eq!(delay_from_ms(0).unwrap(), Duration::ZERO);
        assert_eq!(delay_from_ms(250).unwrap(), Duration::from_millis(250));
        assert_eq!(
            delay_from_ms(MAX_DELAY_MS).unwrap(),
            Duration::from_millis(60_000)
        );
    }

    #[test]
    fn delay_rejects_values_outside_the_range() {
        for bad in [-1, MAX_DELAY_MS + 1, i64::MIN, i64::MAX] {
            Python::initialize();
            let err = delay_from_ms(bad).unwrap_err();
            Python::attach(|py| {
                assert!(err.is_instance_of::<PyValueError>(py));
                let message = err.value(py).to_string();
                assert!(message.contains("between 0 and 60000"), "{message}");
                assert!(message.contains(&bad.to_string()), "{message}");
            });
        }
    }
}
