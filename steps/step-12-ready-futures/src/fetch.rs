//! `fetch_data_async`: one Tokio future, awaited from asyncio (step 01).

use pyo3::prelude::*;

use crate::bridge::future_into_py;
use crate::limits::{millis_in_range, MAX_DELAY_MS};

// ANCHOR: fetch
/// Returns `"Data for ID {id}"` after `delay_ms` milliseconds of (simulated) I/O.
///
/// The return value is an `asyncio.Future`: `await fetch_data_async(42)` yields the string.
/// Must be called while an event loop is running (from `async def` code).
#[pyfunction]
#[pyo3(signature = (id, delay_ms = 100))]
pub fn fetch_data_async(py: Python<'_>, id: i64, delay_ms: i64) -> PyResult<Bound<'_, PyAny>> {
    // Checked here, in the caller's frame: bad input raises before any future exists.
    let delay = millis_in_range("delay_ms", delay_ms, 0, MAX_DELAY_MS)?;
    // The async block owns everything it uses (`id`, `delay`): it runs later, on a Tokio
    // thread, after this function has returned, so it may not borrow from this frame.
    future_into_py(py, async move {
        // A zero-length Tokio sleep still waits for the timer's next tick (about 1 ms).
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok(format!("Data for ID {id}"))
    })
}
// ANCHOR_END: fetch
