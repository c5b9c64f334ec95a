//! Bounded concurrency with a Tokio semaphore (step 05).
//!
//! `process_with_concurrency` runs one simulated I/O call per item, at most
//! `max_concurrent` of them at a time. Without a bound, a batch of 100 000 items would open
//! 100 000 connections to whatever sits behind the I/O (an upstream API, a database pool) at
//! once; with one, the upstream sees at most `max_concurrent`, and the batch takes about
//! `len / max_concurrent` rounds of `latency_ms` instead. A `tokio::sync::Semaphore` holds
//! the permits: an item starts only once it holds one, and gives it back when it is dropped,
//! whether it finished or was cancelled.
//!
//! `ConcurrencyStats` is the window the tests look through: pass one as `stats=` and it
//! counts the items in flight and the highest count seen.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::bridge::future_into_py;
use crate::limits::{
    int_in_range, millis_in_range, MAX_BATCH_ITEMS, MAX_CONCURRENT, MAX_LATENCY_MS,
};

/// The checked arguments of one call, or a `ValueError` naming the parameter, its range and
/// the value given. Checked before any future exists, so bad input fails at the call.
fn check_batch(len: usize, max_concurrent: i64, latency_ms: i64) -> PyResult<(usize, Duration)> {
    if len > MAX_BATCH_ITEMS {
        return Err(PyValueError::new_err(format!(
            "items must hold at most {MAX_BATCH_ITEMS} values, got {len}"
        )));
    }
    let permits = int_in_range("max_concurrent", max_concurrent, 1, MAX_CONCURRENT)?;
    let latency = millis_in_range("latency_ms", latency_ms, 0, MAX_LATENCY_MS)?;
    Ok((permits, latency))
}

// ANCHOR: stats
/// Counts the items in flight, for tests and metrics. Pass one to `process_with_concurrency`
/// as `stats=`; every call given the same object adds to the same counters.
#[pyclass(frozen, module = "fastapi_async")]
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

    /// The number of items holding a permit right now.
    #[getter]
    fn in_flight(&self) -> usize {
        self.counters.in_flight.load(Ordering::Relaxed)
    }

    /// The highest number of items that held a permit at the same time.
    #[getter]
    fn peak_in_flight(&self) -> usize {
        self.counters.peak_in_flight.load(Ordering::Relaxed)
    }

    fn __repr__(&self) -> String {
        format!(
            "ConcurrencyStats(in_flight={}, peak_in_flight={})",
            self.in_flight(),
            self.peak_in_flight()
        )
    }
}

/// One item's turn: it owns the item's permit and counts the item as in flight until dropped.
struct InFlight {
    counters: Arc<Counters>,
    // Fields drop after `Drop::drop` has run, so the count goes down before the permit is
    // released, and the next item cannot be counted while this one still is.
    _permit: OwnedSemaphorePermit,
}

impl InFlight {
    fn start(permit: OwnedSemaphorePermit, counters: Arc<Counters>) -> Self {
        // Relaxed is enough: the semaphore already orders one item's release before the
        // next item's acquire, and each counter is a single atomic.
        let now = counters.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        counters.peak_in_flight.fetch_max(now, Ordering::Relaxed);
        Self {
            counters,
            _permit: permit,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
// ANCHOR_END: stats

// ANCHOR: process
/// Doubles every item after `latency_ms` of simulated I/O each, with at most
/// `max_concurrent` items in flight; the results keep the order of `items`.
#[pyfunction]
#[pyo3(signature = (items, max_concurrent = 10, latency_ms = 10, *, stats = None))]
pub fn process_with_concurrency<'py>(
    py: Python<'py>,
    items: Vec<f64>,
    max_concurrent: i64,
    latency_ms: i64,
    stats: Option<&Bound<'py, ConcurrencyStats>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (permits, latency) = check_batch(items.len(), max_concurrent, latency_ms)?;
    // Owned handles only: the future outlives this call (see step 01).
    let counters = stats.map_or_else(Arc::default, |s| Arc::clone(&s.get().counters));
    future_into_py(py, async move {
        let semaphore = Arc::new(Semaphore::new(permits));
        // Dropping a JoinSet aborts its tasks: if Python cancels the batch, this future is
        // dropped, and so are the items still running (their permits with them).
        let mut tasks = JoinSet::new();
        let mut results = vec![0.0; items.len()];
        for (index, item) in items.into_iter().enumerate() {
            // Wait for a permit *before* spawning, so at most `permits` tasks exist at once.
            let permit = Arc::clone(&semaphore)
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let turn = InFlight::start(permit, Arc::clone(&counters));
            tasks.spawn(async move {
                if !latency.is_zero() {
                    tokio::time::sleep(latency).await;
                }
                drop(turn); // The permit goes back here, before the result is collected.
                (index, item * 2.0)
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
    })
}

/// Puts one finished item at its index; a task that panicked becomes a `RuntimeError`.
fn store(results: &mut [f64], done: Result<(usize, f64), tokio::task::JoinError>) -> PyResult<()> {
    let (index, value) =
        done.map_err(|e| PyRuntimeError::new_err(format!("an item's task failed: {e}")))?;
    results[index] = value;
    Ok(())
}
// ANCHOR_END: process

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::testing::value_error_message;

    #[test]
    fn accepts_the_whole_documented_range() {
        assert_eq!(check_batch(0, 1, 0).unwrap(), (1, Duration::ZERO));
        assert_eq!(
            check_batch(MAX_BATCH_ITEMS, MAX_CONCURRENT, MAX_LATENCY_MS).unwrap(),
            (1_000, Duration::from_secs(60))
        );
    }

    #[test]
    fn rejects_max_concurrent_outside_the_range() {
        for bad in [0, -1, MAX_CONCURRENT + 1, i64::MIN, i64::MAX] {
            let message = value_error_message(&check_batch(1, bad, 0).unwrap_err());
            assert!(message.contains("max_concurrent must be between 1 and 1000"));
            assert!(message.contains(&format!("got {bad}")), "{message}");
        }
    }

    #[test]
    fn rejects_latency_outside_the_range() {
        for bad in [-1, MAX_LATENCY_MS + 1, i64::MIN, i64::MAX] {
            let message = value_error_message(&check_batch(1, 1, bad).unwrap_err());
            assert!(message.contains("latency_ms must be between 0 and 60000"));
            assert!(message.contains(&format!("got {bad}")), "{message}");
        }
    }

    #[test]
    fn rejects_too_many_items() {
        let message = value_error_message(&check_batch(MAX_BATCH_ITEMS + 1, 1, 0).unwrap_err());
        assert!(message.contains("items must hold at most 100000 values, got 100001"));
    }

    #[test]
    fn in_flight_counts_up_to_the_peak_and_back_down() {
        let semaphore = Arc::new(Semaphore::new(2));
        let counters = Arc::new(Counters::default());
        let first = InFlight::start(
            Arc::clone(&semaphore).try_acquire_owned().unwrap(),
            Arc::clone(&counters),
        );
        let second = InFlight::start(
            Arc::clone(&semaphore).try_acquire_owned().unwrap(),
            Arc::clone(&counters),
        );
        assert_eq!(counters.in_flight.load(Ordering::Relaxed), 2);
        assert_eq!(semaphore.available_permits(), 0);
        drop(first);
        drop(second);
        assert_eq!(counters.in_flight.load(Ordering::Relaxed), 0);
        assert_eq!(counters.peak_in_flight.load(Ordering::Relaxed), 2);
        assert_eq!(semaphore.available_permits(), 2);
    }
}
