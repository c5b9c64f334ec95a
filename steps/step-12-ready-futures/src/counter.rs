//! `AsyncCounter`: state shared by futures that run on several threads (step 03), kept in
//! Redis when several processes must share it (step 10).
//!
//! Each method call clones an `Arc` to the same count and moves the clone into a Tokio
//! future, so many futures, on many Tokio worker threads, update one value. In this process
//! the count sits behind a `std::sync::Mutex`: every lock is held for one addition and
//! released before the future ends, never across an `.await`, which is the case where
//! Tokio's own documentation recommends the standard mutex over `tokio::sync::Mutex`.
//!
//! That count lives in one process. With several (`uvicorn --workers N`, or several
//! machines) each has its own, so the count can also live in Redis (`redis_counter.rs`),
//! chosen once, when the counter is made, from `FASTAPI_ASYNC_REDIS_URL`: the Python API is
//! the same either way.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;

use crate::bridge::future_into_py;
use crate::redis_counter::{RedisCounter, REDIS_URL_ENV};

// ANCHOR: class
/// A count shared by every awaitable its methods return.
///
/// `frozen`: Python can never get a mutable borrow of the object itself, so PyO3 skips its
/// runtime borrow checks; every change goes through the mutex (or Redis) instead, which is
/// what lets Tokio threads change the count without the GIL.
#[pyclass(frozen, module = "fastapi_async")]
pub struct AsyncCounter {
    /// `Arc`: each future owns a handle to the same count (futures must be `'static`).
    backend: Arc<Backend>,
}

/// Where the count lives, chosen once, at construction.
enum Backend {
    /// In this process. `Mutex`: many Tokio worker threads may touch it at the same moment.
    InProcess(Mutex<u64>),
    /// In Redis, shared by every process that uses the same server.
    Redis(RedisCounter),
}
// ANCHOR_END: class

// ANCHOR: backend
impl Backend {
    /// Redis if `FASTAPI_ASYNC_REDIS_URL` is set (and not empty), else in this process.
    fn from_env() -> PyResult<Self> {
        match std::env::var(REDIS_URL_ENV) {
            Ok(url) if !url.trim().is_empty() => {
                Ok(Self::Redis(RedisCounter::from_url(url.trim())?))
            }
            _ => Ok(Self::InProcess(Mutex::new(0))),
        }
    }

    /// The three operations, once per backend; the in-process arms are step 03's code.
    async fn increment(&self) -> PyResult<u64> {
        match self {
            Self::InProcess(count) => {
                let mut count = locked(count);
                *count = incremented(*count)?;
                Ok(*count)
            }
            Self::Redis(redis) => redis.increment().await,
        }
    }

    async fn get(&self) -> PyResult<u64> {
        match self {
            Self::InProcess(count) => Ok(*locked(count)),
            Self::Redis(redis) => redis.get().await,
        }
    }

    async fn reset(&self) -> PyResult<u64> {
        match self {
            Self::InProcess(count) => {
                *locked(count) = 0;
                Ok(0)
            }
            Self::Redis(redis) => redis.reset().await,
        }
    }
}
// ANCHOR_END: backend

// ANCHOR: methods
#[pymethods]
impl AsyncCounter {
    /// Reads `FASTAPI_ASYNC_REDIS_URL` now: a bad URL is a `ValueError` here, not at the
    /// first request. Connects to Redis later, on the first call that needs it.
    #[new]
    fn new() -> PyResult<Self> {
        Ok(Self {
            backend: Arc::new(Backend::from_env()?),
        })
    }

    /// `"in-process"` or `"redis"`: where this counter keeps its count.
    #[getter]
    fn backend(&self) -> &'static str {
        match *self.backend {
            Backend::InProcess(_) => "in-process",
            Backend::Redis(_) => "redis",
        }
    }

    /// Adds one and resolves to the new count.
    fn increment_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let backend = Arc::clone(&self.backend);
        future_into_py(py, async move { backend.increment().await })
    }

    /// Resolves to the current count.
    fn get_count_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let backend = Arc::clone(&self.backend);
        future_into_py(py, async move { backend.get().await })
    }

    /// Sets the count to zero and resolves to 0.
    fn reset_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let backend = Arc::clone(&self.backend);
        future_into_py(py, async move { backend.reset().await })
    }
}
// ANCHOR_END: methods

// ANCHOR: lock
/// The count, locked until the guard is dropped.
///
/// A mutex is poisoned when a thread panics while holding it. Nothing here can panic with
/// the lock held (`incremented` returns an error instead), and a `u64` has no half-updated
/// state anyway, so a poisoned lock is used as it is.
fn locked(count: &Mutex<u64>) -> MutexGuard<'_, u64> {
    count.lock().unwrap_or_else(PoisonError::into_inner)
}
// ANCHOR_END: lock

// ANCHOR: overflow
/// `count + 1`, or `OverflowError` when the count is already `u64::MAX`.
///
/// Checked, not wrapping: a counter that silently jumps back to 0 is a wrong answer, and
/// an error leaves the count unchanged. At a billion increments a second the limit is
/// 584 years away, so this is about stating the behaviour, not about a likely failure.
fn incremented(count: u64) -> PyResult<u64> {
    count.checked_add(1).ok_or_else(|| {
        PyOverflowError::new_err(format!("the counter is at its maximum ({})", u64::MAX))
    })
}
// ANCHOR_END: overflow

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::testing::describe;

    #[test]
    fn incremented_adds_one() {
        assert_eq!(incremented(0).unwrap(), 1);
        assert_eq!(incremented(u64::MAX - 1).unwrap(), u64::MAX);
    }

    #[test]
    fn incremented_refuses_to_wrap_at_the_maximum() {
        let err = incremented(u64::MAX).unwrap_err();
        let message = format!("the counter is at its maximum ({})", u64::MAX);
        assert_eq!(describe(&err), ("<class 'OverflowError'>".into(), message));
    }

    #[test]
    fn a_poisoned_lock_still_gives_the_count() {
        let count = Arc::new(Mutex::new(7));
        let poisoner = Arc::clone(&count);
        let _ = std::thread::spawn(move || {
            let _guard = poisoner.lock().unwrap();
            panic!("poison the lock");
        })
        .join();
        assert!(count.is_poisoned());
        assert_eq!(*locked(&count), 7);
    }
}
