//! Every limit of the module, and the checks that enforce them.
//!
//! Each input that makes Rust wait, allocate or spawn has an upper bound here, so no caller
//! can park a task (and the request that awaits it) for an unbounded time. The checks run in
//! the caller's frame, before any future exists: bad input fails at the call with a
//! `ValueError` that names the parameter, its range and the value given. The constants are
//! exported to Python (see `lib.rs`), so the app's schema uses the same numbers.

use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::PyResult;

// ANCHOR: limits
/// The longest `delay_ms` of `fetch_data_async` (one minute).
pub const MAX_DELAY_MS: i64 = 60_000;
/// The most strings `process_batch_async` accepts, and the most items
/// `process_with_concurrency` accepts.
pub const MAX_BATCH_ITEMS: usize = 100_000;
/// The most sources `aggregate_async` accepts in one call.
pub const MAX_AGGREGATE_SOURCES: usize = 1_000;
/// The longest simulated `latency_ms` any function accepts (one minute).
pub const MAX_LATENCY_MS: i64 = 60_000;
/// The shortest `timeout_ms` of `api_call_with_timeout`: a zero timeout never succeeds.
pub const MIN_TIMEOUT_MS: i64 = 1;
/// The longest `timeout_ms` of `api_call_with_timeout` (one minute).
pub const MAX_TIMEOUT_MS: i64 = 60_000;
/// The longest `endpoint` of `api_call_with_timeout`, in characters.
pub const MAX_ENDPOINT_LEN: usize = 256;
/// The highest `max_concurrent` of `process_with_concurrency` (the lowest is 1: a semaphore
/// with no permits never grants one).
pub const MAX_CONCURRENT: i64 = 1_000;
/// The most retries `fetch_with_retry` may make: 11 attempts in all.
pub const MAX_RETRIES: u32 = 10;
/// How long one attempt of `fetch_with_retry` (connect, send, read the body) may take.
pub const ATTEMPT_TIMEOUT_MS: u64 = 5_000;
/// How long one `fetch_with_retry` call may take in all, every attempt and wait included.
pub const OVERALL_TIMEOUT_MS: u64 = 30_000;
/// How many redirects one attempt follows before it fails.
pub const MAX_REDIRECTS: usize = 5;
/// The longest `url` `fetch_with_retry` accepts, in bytes (browsers and proxies commonly
/// stop near 2 kB; a longer URL is almost always a mistake or an attack).
pub const MAX_URL_LEN: usize = 2_048;
/// The first backoff step: the wait before a retry is drawn from `0..BASE` after the
/// first failure, `0..2*BASE` after the second, and so on. Short on purpose: a failure
/// that a retry can fix (a dropped connection, a restarting upstream) usually clears fast.
pub const BACKOFF_BASE: Duration = Duration::from_millis(50);
/// The longest backoff wait between two attempts, however many attempts failed.
pub const BACKOFF_CAP: Duration = Duration::from_secs(2);
/// The longest wait a `Retry-After` header can impose; a longer one is cut to this.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(10);
/// The most entries `allowed_hosts` may hold (each request compares against all of them).
pub const MAX_ALLOWED_HOSTS: usize = 100;
/// The largest `n` of `compute_with_progress` and `compute_progress_stream` (about a
/// second of work).
pub const MAX_COMPUTE_N: i64 = 1_000_000_000;
/// How many progress reports a computation makes: one every 5 % of `n`.
pub const PROGRESS_REPORTS: u64 = 20;
/// The most Tokio worker threads `FASTAPI_ASYNC_WORKER_THREADS` may ask for.
pub const MAX_WORKER_THREADS: usize = 64;
/// The default number of worker threads is the number of CPUs, but at most this many.
pub const DEFAULT_WORKER_THREADS_CAP: usize = 4;
/// The most threads of Tokio's blocking pool (the CPU work of `compute_with_progress`);
/// Tokio's own default, 512, would let a burst of requests start 512 busy threads.
pub const MAX_BLOCKING_THREADS: usize = 16;
/// The most computations of `compute_with_progress` that run at once (more wait for a
/// turn): half the blocking pool, whose other threads deliver results to Python.
pub const MAX_CPU_JOBS: usize = MAX_BLOCKING_THREADS / 2;
// ANCHOR_END: limits

// The largest sum, n (n + 1) / 2 for n = MAX_COMPUTE_N, fits in a u64 with room to
// spare, so the summing loop cannot overflow. Checked when the crate compiles.
const _: () = assert!(
    (MAX_COMPUTE_N as u128) * (MAX_COMPUTE_N as u128 + 1) / 2 <= u64::MAX as u128,
    "MAX_COMPUTE_N is too large for a u64 sum"
);

// ANCHOR: checks
/// `value` milliseconds as a `Duration` if it lies in `min..=max`, else a `ValueError`
/// naming the parameter, the range and the value.
pub fn millis_in_range(name: &str, value: i64, min: i64, max: i64) -> PyResult<Duration> {
    match u64::try_from(value) {
        Ok(ms) if (min..=max).contains(&value) => Ok(Duration::from_millis(ms)),
        _ => Err(PyValueError::new_err(format!(
            "{name} must be between {min} and {max} (milliseconds), got {value}"
        ))),
    }
}

/// An integer in `min..=max`, converted, else a `ValueError` naming it.
pub fn int_in_range<T: TryFrom<i64>>(name: &str, value: i64, min: i64, max: i64) -> PyResult<T> {
    match T::try_from(value) {
        Ok(checked) if (min..=max).contains(&value) => Ok(checked),
        _ => Err(PyValueError::new_err(format!(
            "{name} must be between {min} and {max}, got {value}"
        ))),
    }
}

/// A length of at most `max`, else a `ValueError` naming the parameter.
pub fn len_at_most(name: &str, len: usize, max: usize, what: &str) -> PyResult<()> {
    if len <= max {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!(
            "{name} must hold between 0 and {max} {what}, got {len}"
        )))
    }
}
// ANCHOR_END: checks

#[cfg(test)]
mod tests {
    use super::testing::value_error_message;
    use super::*;

    #[test]
    fn millis_accepts_both_ends_of_the_range() {
        assert_eq!(
            millis_in_range("delay_ms", 0, 0, 10).unwrap(),
            Duration::ZERO
        );
        let longest = millis_in_range("delay_ms", MAX_DELAY_MS, 0, MAX_DELAY_MS).unwrap();
        assert_eq!(longest, Duration::from_secs(60));
    }

    #[test]
    fn millis_outside_the_range_is_a_value_error_naming_parameter_range_and_value() {
        for bad in [-1, MAX_DELAY_MS + 1, i64::MIN, i64::MAX] {
            let err = millis_in_range("delay_ms", bad, 0, MAX_DELAY_MS).unwrap_err();
            let message = format!("delay_ms must be between 0 and 60000 (milliseconds), got {bad}");
            assert_eq!(value_error_message(&err), message);
        }
    }

    #[test]
    fn int_in_range_converts_or_names_the_range() {
        assert_eq!(int_in_range::<u32>("max_retries", 10, 0, 10).unwrap(), 10);
        for bad in [-1, 11, i64::MIN, i64::MAX] {
            let err = int_in_range::<u32>("max_retries", bad, 0, 10).unwrap_err();
            let message = format!("max_retries must be between 0 and 10, got {bad}");
            assert_eq!(value_error_message(&err), message);
        }
    }

    #[test]
    fn len_at_most_names_the_limit() {
        assert!(len_at_most("items", 2, 2, "strings").is_ok());
        let err = len_at_most("items", 3, 2, "strings").unwrap_err();
        let message = "items must hold between 0 and 2 strings, got 3";
        assert_eq!(value_error_message(&err), message);
    }
}

/// Helpers for the unit tests of every module (after `tests`, which uses them too).
#[cfg(test)]
pub mod testing {
    /// The exception type's name and the message of `err`.
    pub fn describe(err: &pyo3::PyErr) -> (String, String) {
        pyo3::Python::initialize();
        pyo3::Python::attach(|py| {
            let name = err.get_type(py).to_string();
            (name, err.value(py).to_string())
        })
    }

    /// The message of `err`, which must be a `ValueError`.
    pub fn value_error_message(err: &pyo3::PyErr) -> String {
        let (kind, message) = describe(err);
        assert_eq!(kind, "<class 'ValueError'>", "{message}");
        message
    }
}
