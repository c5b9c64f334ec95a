//! Exercise 05-map-with-limit: at most `max_concurrent` items in flight, with a semaphore.
//!
//! The task is in `README.md`; `just exercise 05-map-with-limit` checks your work.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3_async_runtimes::tokio::future_into_py;
use tokio::sync::Semaphore;
use tokio::task::{JoinError, JoinSet};

/// The most items one call accepts.
pub const MAX_ITEMS: usize = 100_000;
/// The highest `max_concurrent` (the lowest is 1: a semaphore with no permits never grants
/// one).
pub const MAX_CONCURRENT: i64 = 1_000;
/// The longest simulated `latency_ms` per item (one minute).
pub const MAX_LATENCY_MS: i64 = 60_000;

/// Doubles every item after `latency_ms` of simulated I/O each, with at most
/// `max_concurrent` items in flight; the results keep the order of `items`.
#[pyfunction]
#[pyo3(signature = (items, max_concurrent = 10, latency_ms = 10, *, stats = None))]
pub fn map_with_limit<'py>(
    py: Python<'py>,
    items: Vec<f64>,
    max_concurrent: i64,
    latency_ms: i64,
    stats: Option<&Bound<'py, ConcurrencyStats>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (permits, latency) = check(items.len(), max_concurrent, latency_ms)?;
    // Owned handles only: the future outlives this call (step 01).
    let counters = stats.map_or_else(Arc::default, |s| Arc::clone(&s.get().counters));
    future_into_py(py, map_bounded(items, permits, latency, counters))
}

/// Runs `double_slowly` on every item, at most `permits` of them at a time, and returns
/// the results in the order of `items`.
async fn map_bounded(
    items: Vec<f64>,
    permits: usize,
    latency: Duration,
    counters: Arc<Counters>,
) -> PyResult<Vec<f64>> {
    let semaphore = Arc::new(Semaphore::new(permits));
    // Dropping a JoinSet aborts its tasks: if Python cancels the call, the items stop.
    let mut tasks = JoinSet::new();
    let mut results = vec![0.0; items.len()];
    for (index, item) in items.into_iter().enumerate() {
        // Wait for a permit *before* spawning, so at most `permits` tasks exist at once.
        let permit = Arc::clone(&semaphore)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let counters = Arc::clone(&counters);
        tasks.spawn(async move {
            let doubled = double_slowly(item, latency, counters).await;
            drop(permit); // the next item may start
            (index, doubled)
        });
        // Collect what has finished, so finished tasks do not pile up in the set.
        while let Some(done) = tasks.try_join_next() {
            store(&mut results, done)?;
        }
    }
    while let Some(done) = tasks.join_next().await {
        store(&mut results, done)?;
    }
    Ok(results)
}

/// One item's work: `latency` of simulated I/O, then the item doubled. It counts itself
/// as in flight while it runs, so `ConcurrencyStats` sees how many run at once.
async fn double_slowly(item: f64, latency: Duration, counters: Arc<Counters>) -> f64 {
    let _in_flight = InFlight::start(counters);
    // A zero-length Tokio sleep still waits for the timer's next tick (about 1 ms).
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    item * 2.0
}

/// Puts one finished item at its index; a task that panicked becomes a `RuntimeError`.
fn store(results: &mut [f64], done: Result<(usize, f64), JoinError>) -> PyResult<()> {
    let (index, value) =
        done.map_err(|e| PyRuntimeError::new_err(format!("an item's task failed: {e}")))?;
    results[index] = value;
    Ok(())
}

/// Counts the items in flight, for the tests: pass one to `map_with_limit` as `stats=`
/// (step 05's `ConcurrencyStats`).
#[pyclass(frozen, module = "ex05_map_with_limit")]
pub struct ConcurrencyStats {
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
}

#[pymethods]
impl ConcurrencyStats {
    #[new]
    fn new() -> Self {
        Self {
            counters: Arc::default(),
        }
    }

    /// The number of items running right now.
    #[getter]
    fn in_flight(&self) -> usize {
        self.counters.in_flight.load(Ordering::Relaxed)
    }

    /// The highest number of items that ran at the same time.
    #[getter]
    fn peak_in_flight(&self) -> usize {
        self.counters.peak_in_flight.load(Ordering::Relaxed)
    }
}

/// One item counted as in flight until dropped.
struct InFlight {
    counters: Arc<Counters>,
}

impl InFlight {
    fn start(counters: Arc<Counters>) -> Self {
        let now = counters.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        counters.peak_in_flight.fetch_max(now, Ordering::Relaxed);
        Self { counters }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The checked arguments, or a `ValueError` naming the parameter, its range and the value.
fn check(len: usize, max_concurrent: i64, latency_ms: i64) -> PyResult<(usize, Duration)> {
    if len > MAX_ITEMS {
        return Err(PyValueError::new_err(format!(
            "items must hold at most {MAX_ITEMS} values, got {len}"
        )));
    }
    let permits = match usize::try_from(max_concurrent) {
        Ok(permits) if (1..=MAX_CONCURRENT).contains(&max_concurrent) => permits,
        _ => {
            return Err(PyValueError::new_err(format!(
                "max_concurrent must be between 1 and {MAX_CONCURRENT}, got {max_concurrent}"
            )))
        }
    };
    let latency = match u64::try_from(latency_ms) {
        Ok(ms) if latency_ms <= MAX_LATENCY_MS => Duration::from_millis(ms),
        _ => {
            return Err(PyValueError::new_err(format!(
                "latency_ms must be between 0 and {MAX_LATENCY_MS} (milliseconds), got {latency_ms}"
            )))
        }
    };
    Ok((permits, latency))
}

/// Exercise 05-map-with-limit: a map with bounded concurrency.
#[pymodule]
mod ex05_map_with_limit {
    #[pymodule_export]
    use super::{map_with_limit, ConcurrencyStats};
    #[pymodule_export]
    const MAX_ITEMS: usize = super::MAX_ITEMS;
    #[pymodule_export]
    const MAX_CONCURRENT: i64 = super::MAX_CONCURRENT;
}
