//! Exercise 06-backoff-schedule: how long to wait before each retry, as a pure function.
//!
//! The task is in `README.md`; `just exercise 06-backoff-schedule` checks your work (the
//! Rust tests in `tests/schedule.rs` first, then the Python tests).

use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The most retries `backoff_schedule` describes.
pub const MAX_RETRIES: i64 = 100;
/// The longest `base_ms` or `cap_ms` (one minute).
pub const MAX_WAIT_MS: i64 = 60_000;

/// The longest wait before retry number `attempt + 1`: `base * 2^attempt`, but never more
/// than `cap`. Step 06's `backoff_delay` then waits a random fraction of it (full jitter).
///
/// Pure: no clock, no randomness, no Python, so that tests can check it exactly. It must
/// not panic for any `attempt`: `2^attempt` no longer fits a `u32` from attempt 32 on.
#[allow(unused)] // until you write it
pub fn backoff_ceiling(attempt: u32, base: Duration, cap: Duration) -> Duration {
    todo!("backoff_ceiling: base * 2^attempt, at most cap, and no panic for a large attempt")
}

/// The ceilings of the first `retries` waits, in milliseconds: attempt 0, 1, 2, ...
#[pyfunction]
#[pyo3(signature = (retries, base_ms = 50, cap_ms = 2_000))]
pub fn backoff_schedule(retries: i64, base_ms: i64, cap_ms: i64) -> PyResult<Vec<u64>> {
    let retries: u32 = int_in_range("retries", retries, 0, MAX_RETRIES)?;
    let base = Duration::from_millis(int_in_range("base_ms", base_ms, 0, MAX_WAIT_MS)?);
    let cap = Duration::from_millis(int_in_range("cap_ms", cap_ms, 0, MAX_WAIT_MS)?);
    let millis = |attempt| {
        let ceiling = backoff_ceiling(attempt, base, cap);
        u64::try_from(ceiling.as_millis()).map_err(|_| {
            PyValueError::new_err(format!(
                "backoff_ceiling({attempt}, ...) returned {ceiling:?}, above the cap ({cap:?})"
            ))
        })
    };
    (0..retries).map(millis).collect()
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

/// Exercise 06-backoff-schedule: the backoff ceilings, for Python.
#[pymodule]
mod ex06_backoff_schedule {
    #[pymodule_export]
    use super::backoff_schedule;
    #[pymodule_export]
    const MAX_RETRIES: i64 = super::MAX_RETRIES;
}
