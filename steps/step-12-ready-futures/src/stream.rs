//! Progress as an async iterator: `async for update in compute_progress_stream(n)` (step 09).
//!
//! `compute_with_progress` reports progress through a callback, called on a Tokio thread.
//! Here the computation sends its progress into a Tokio channel instead, and Python pulls
//! it out with `async for`: each `__anext__` returns an awaitable that resolves to the next
//! `ProgressUpdate`, and the last one carries the sum. Nothing runs Python code on a Tokio
//! thread, and the consumer sets the pace of what it reads.
//!
//! The computation stops when nobody listens any more: when the stream is closed or
//! dropped (an HTTP client that disconnects from an SSE response), the producer sees it
//! at its next report and returns, freeing its blocking-pool thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;

use crate::bridge::future_into_py;
use crate::compute::{n_from_py, sum_with_progress};
use crate::limits::PROGRESS_REPORTS;
use crate::runtime;
use crate::tasks::TaskGuard;

// ANCHOR: update
/// One step of a computation: `done` of `total` items, and `sum` on the last update only.
#[pyclass(frozen, module = "fastapi_async", get_all)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgressUpdate {
    done: u64,
    total: u64,
    sum: Option<u64>,
}

#[pymethods]
impl ProgressUpdate {
    fn __repr__(&self) -> String {
        let sum = self
            .sum
            .map_or_else(|| "None".to_owned(), |s| s.to_string());
        format!(
            "ProgressUpdate(done={}, total={}, sum={sum})",
            self.done, self.total
        )
    }
}
// ANCHOR_END: update

// ANCHOR: stream
/// The consumer's end: a channel of updates, and a flag the producer watches.
#[pyclass(frozen, module = "fastapi_async")]
pub struct ProgressStream {
    /// `Arc<tokio::sync::Mutex<_>>`: each `__anext__` future must own (`'static`) a handle
    /// to the receiver and hold the lock across an `.await`, on any Tokio thread.
    state: Arc<Mutex<Receiving>>,
    stop: Arc<AtomicBool>,
}

struct Receiving {
    updates: mpsc::Receiver<ProgressUpdate>,
    /// The producer's task, awaited once the channel ends, to tell a finish from a panic.
    producer: Option<JoinHandle<()>>,
}

#[pymethods]
impl ProgressStream {
    fn __aiter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// An awaitable that resolves to the next update, or raises `StopAsyncIteration`.
    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let state = Arc::clone(&self.state);
        future_into_py(py, async move {
            let mut state = state.lock().await;
            if let Some(update) = state.updates.recv().await {
                return Ok(update);
            }
            // The producer is gone: finished, stopped, or panicked. Re-raise a panic, so
            // the caller sees a `RustPanic` rather than a stream that ends without its sum.
            if let Some(producer) = state.producer.take() {
                if let Err(e) = producer.await {
                    if e.is_panic() {
                        std::panic::resume_unwind(e.into_panic());
                    }
                }
            }
            Err(PyStopAsyncIteration::new_err(()))
        })
    }

    /// Stops the computation; the updates already sent can still be read.
    fn close(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for ProgressStream {
    fn drop(&mut self) {
        // Dropping the receiver would stop the producer too, at its next send; the flag
        // stops it even while a pending `__anext__` future still holds the receiver.
        self.stop.store(true, Ordering::Relaxed);
    }
}
// ANCHOR_END: stream

// ANCHOR: produce
/// Sums `1..=n` on the blocking pool and streams its progress; see the `.pyi` stub.
#[pyfunction]
pub fn compute_progress_stream(n: i64) -> PyResult<ProgressStream> {
    let n = n_from_py(n)?;
    // Room for every update (at most PROGRESS_REPORTS, then the sum): the computation
    // never waits for a slow reader, and a reader that stops reading costs no thread.
    let (sender, updates) = mpsc::channel(PROGRESS_REPORTS as usize + 1);
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let guard = TaskGuard::new();
    let producer = runtime::get()?.spawn_blocking(move || {
        let _guard = guard; // counted in active_tasks() until the work returns
        let sent = |update: ProgressUpdate| {
            if stopped.load(Ordering::Relaxed) {
                return Err(());
            }
            // Fails only when the receiver is gone: nobody is listening, so stop.
            sender.try_send(update).map_err(drop)
        };
        let total = n;
        let result = sum_with_progress(n, |done| {
            // The last report is the sum itself, sent below.
            if done < total {
                sent(ProgressUpdate {
                    done,
                    total,
                    sum: None,
                })
            } else {
                Ok(())
            }
        });
        if let Ok(sum) = result {
            let _ = sent(ProgressUpdate {
                done: total,
                total,
                sum: Some(sum),
            });
        }
    });
    Ok(ProgressStream {
        state: Arc::new(Mutex::new(Receiving {
            updates,
            producer: Some(producer),
        })),
        stop,
    })
}
// ANCHOR_END: produce
