//! Step 01's function: one Tokio future awaited from asyncio.

use pyo3::prelude::*;

use crate::bridge::future_into_py;
use crate::limits::{millis_in_range, MAX_DELAY_MS};

// ANCHOR: fetch
/// Returns `"Data for ID {id}"` after `delay_ms` milliseconds of (simulated) I/O.
#[pyfunction]
#[pyo3(signature = (id, delay_ms = 100))]
pub fn fetch_data_async(py: Python<'_>, id: i64, delay_ms: i64) -> PyResult<Bound<'_, PyAny>> {
    let delay = millis_in_range("delay_ms", delay_ms, 0, MAX_DELAY_MS)?;
    future_into_py(py, async move {
        // A zero-length Tokio sleep still waits for the timer's next tick (about 1 ms).
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok(format!("Data for ID {id}"))
    })
}
// ANCHOR_END: fetch
