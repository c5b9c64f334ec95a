//! Exercise 06-retry-flaky: retry a call that fails now and then, a bounded number of times.
//!
//! The task is in `README.md`; `just exercise 06-retry-flaky` checks your work.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::{PyConnectionError, PyValueError};
use pyo3::prelude::*;
use pyo3_async_runtimes::tokio::future_into_py;

/// The most retries `call_with_retry` may make: 11 attempts in all (step 06's limit).
pub const MAX_RETRIES: i64 = 10;
/// The longest first backoff step, `base_ms`.
pub const MAX_BASE_MS: i64 = 1_000;

pyo3::create_exception!(
    ex06_retry_flaky,
    RetryExhaustedError,
    PyConnectionError,
    "Every attempt failed; the message gives the count and the last error."
);

/// A simulated upstream that fails its first `failures` calls, then answers every call.
#[pyclass(frozen, module = "ex06_retry_flaky")]
pub struct FlakyService {
    state: Arc<Flaky>,
}

/// The service's state, shared with the futures that call it.
struct Flaky {
    failures: u32,
    calls: AtomicU32,
}

impl Flaky {
    /// One call: `Err` while it is among the first `failures` calls, else an answer.
    async fn call(&self) -> Result<String, String> {
        let number = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        // A real call would wait for the network here; let other tasks run meanwhile.
        tokio::task::yield_now().await;
        if number <= self.failures {
            Err(format!("call {number} failed (simulated)"))
        } else {
            Ok(format!("answer from call {number}"))
        }
    }
}

#[pymethods]
impl FlakyService {
    #[new]
    fn new(failures: u32) -> Self {
        let calls = AtomicU32::new(0);
        Self {
            state: Arc::new(Flaky { failures, calls }),
        }
    }

    /// How many calls the service has received.
    #[getter]
    fn calls(&self) -> u32 {
        self.state.calls.load(Ordering::Relaxed)
    }
}

/// Calls `service` until it answers, at most `max_retries + 1` times, waiting
/// `backoff(n, base)` after failure number `n + 1`.
#[pyfunction]
#[pyo3(signature = (service, max_retries = 3, base_ms = 10))]
pub fn call_with_retry<'py>(
    py: Python<'py>,
    service: &Bound<'py, FlakyService>,
    max_retries: i64,
    base_ms: i64,
) -> PyResult<Bound<'py, PyAny>> {
    // Every check happens here, in the caller's frame, before any future exists.
    let max_retries: u32 = int_in_range("max_retries", max_retries, 0, MAX_RETRIES)?;
    let base = Duration::from_millis(int_in_range("base_ms", base_ms, 0, MAX_BASE_MS)?);
    let flaky = Arc::clone(&service.get().state);
    future_into_py(py, retry(flaky, max_retries, base))
}

/// The wait after failure number `failure + 1`: `base * 2^failure`. (Step 06 caps it and
/// waits a random fraction of it; at most 10 retries of at most 1 s, this stays short.)
fn backoff(failure: u32, base: Duration) -> Duration {
    base.saturating_mul(2u32.saturating_pow(failure))
}

/// Calls `flaky` until it answers and returns the answer. After `max_retries` retries
/// (`max_retries + 1` attempts) that all failed, `RetryExhaustedError`: "gave up after 4
/// attempts (max_retries=3); last error: call 4 failed (simulated)". Between two attempts
/// it waits `backoff(0, base)`, then `backoff(1, base)`, and so on; after the last, nothing.
async fn retry(flaky: Arc<Flaky>, max_retries: u32, base: Duration) -> PyResult<String> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let cause = match flaky.call().await {
            Ok(answer) => return Ok(answer),
            Err(cause) => cause,
        };
        // The first attempt is not a retry: `max_retries + 1` attempts in all.
        if attempts > max_retries {
            return Err(RetryExhaustedError::new_err(format!(
                "gave up after {} (max_retries={max_retries}); last error: {cause}",
                plural(attempts, "attempt"),
            )));
        }
        let wait = backoff(attempts - 1, base);
        // A zero-length Tokio sleep still waits for the timer's next tick (about 1 ms).
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// "1 attempt", "3 attempts".
fn plural(count: u32, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// An integer in `min..=max`, converted, else a `ValueError` naming it (step 05's
/// `limits.rs`).
fn int_in_range<T: TryFrom<i64>>(name: &str, value: i64, min: i64, max: i64) -> PyResult<T> {
    match T::try_from(value) {
        Ok(checked) if (min..=max).contains(&value) => Ok(checked),
        _ => Err(PyValueError::new_err(format!(
            "{name} must be between {min} and {max}, got {value}"
        ))),
    }
}

/// Exercise 06-retry-flaky: a bounded retry loop.
#[pymodule]
mod ex06_retry_flaky {
    #[pymodule_export]
    use super::{call_with_retry, FlakyService, RetryExhaustedError};
    #[pymodule_export]
    const MAX_RETRIES: i64 = super::MAX_RETRIES;
}
