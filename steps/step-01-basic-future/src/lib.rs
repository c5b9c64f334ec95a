//! Async Rust in FastAPI, step 01: one Tokio future, awaited from Python.
//!
//! `fetch_data_async` checks its input, hands a Tokio future to pyo3-async-runtimes and
//! returns an `asyncio.Future` at once; Tokio runs the future on its own threads, without the
//! GIL, and its result resumes the `await` in Python. The files, one concept each:
//!
//! - `limits.rs`: every limit of the module, and the checks that enforce them;
//! - `fetch.rs`: `fetch_data_async`.

mod fetch;
mod limits;

// ANCHOR: module
/// Async Rust in FastAPI, step 01: one Tokio future awaited from asyncio.
#[pyo3::pymodule]
mod fastapi_async {
    #[pymodule_export]
    use super::fetch::fetch_data_async;
    #[pymodule_export]
    const MAX_DELAY_MS: i64 = super::limits::MAX_DELAY_MS;
}
// ANCHOR_END: module
