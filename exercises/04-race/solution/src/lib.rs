//! Exercise 04-race: two simulated calls raced with `tokio::select!`; the loser is dropped.
//!
//! The task is in `README.md`; `just exercise 04-race` checks your work.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_async_runtimes::tokio::future_into_py;

/// The longest simulated latency (one minute).
pub const MAX_LATENCY_MS: i64 = 60_000;

/// How many simulated calls are alive right now (step 04's `active_tasks`, for calls).
static LIVE_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Counts one live call for as long as it exists: created with the call, dropped with it,
/// however the call ends (finished, or dropped half-way).
struct CallGuard(());

impl CallGuard {
    fn new() -> Self {
        // A lone counter that orders no other memory: `Relaxed` is enough.
        LIVE_CALLS.fetch_add(1, Ordering::Relaxed);
        CallGuard(())
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        LIVE_CALLS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The number of simulated calls alive: started, and neither finished nor dropped.
#[pyfunction]
pub fn live_calls() -> usize {
    LIVE_CALLS.load(Ordering::Relaxed)
}

/// One simulated upstream call: `latency` of I/O, then its name. Counted while it lives.
async fn simulated_call(name: &'static str, latency: Duration) -> &'static str {
    let _alive = CallGuard::new();
    // A zero-length Tokio sleep still waits for the timer's next tick (about 1 ms).
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    name
}

/// Resolves to the name of the call that answers first: `"primary"` after `primary_ms`,
/// or `"fallback"` after `fallback_ms`.
#[pyfunction]
pub fn race(py: Python<'_>, primary_ms: i64, fallback_ms: i64) -> PyResult<Bound<'_, PyAny>> {
    let primary = millis_in_range("primary_ms", primary_ms)?;
    let fallback = millis_in_range("fallback_ms", fallback_ms)?;
    future_into_py(py, async move { Ok(first_of(primary, fallback).await) })
}

/// Runs `simulated_call("primary", primary)` and `simulated_call("fallback", fallback)`
/// at the same time; returns the first answer, and drops the other call.
async fn first_of(primary: Duration, fallback: Duration) -> &'static str {
    // `select!` polls both futures, in this task, and takes the first to finish. The other
    // one is dropped when `select!` returns: its timer and its guard go with it, so the
    // loser stops at once instead of running on for nobody.
    tokio::select! {
        name = simulated_call("primary", primary) => name,
        name = simulated_call("fallback", fallback) => name,
    }
}

/// `value` milliseconds as a `Duration` if it lies in `0..=MAX_LATENCY_MS`, else a
/// `ValueError` naming the parameter, the range and the value.
fn millis_in_range(name: &str, value: i64) -> PyResult<Duration> {
    match u64::try_from(value) {
        Ok(ms) if value <= MAX_LATENCY_MS => Ok(Duration::from_millis(ms)),
        _ => Err(PyValueError::new_err(format!(
            "{name} must be between 0 and {MAX_LATENCY_MS} (milliseconds), got {value}"
        ))),
    }
}

/// Exercise 04-race: the first of two calls.
#[pymodule]
mod ex04_race {
    #[pymodule_export]
    use super::{live_calls, race};
    #[pymodule_export]
    const MAX_LATENCY_MS: i64 = super::MAX_LATENCY_MS;
}
