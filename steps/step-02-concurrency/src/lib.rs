//! Async Rust in FastAPI, step 02: many Tokio futures at once, one crossing per batch.
//!
//! New here, in `batch.rs`: a batch that crosses into Rust once, and many simulated I/O
//! calls awaited together inside one call. The files, one concept each:
//!
//! - `limits.rs`: every limit of the module, and the checks that enforce them;
//! - `fetch.rs`: `fetch_data_async` (step 01);
//! - `batch.rs`: `process_batch_async`, its slow twin, and `aggregate_async` (step 02).

mod batch;
mod fetch;
mod limits;

// ANCHOR: module
/// Async Rust in FastAPI, step 02: concurrent Tokio futures, one crossing per batch.
#[pyo3::pymodule]
mod fastapi_async {
    #[pymodule_export]
    use super::fetch::fetch_data_async;
    #[pymodule_export]
    const MAX_DELAY_MS: i64 = super::limits::MAX_DELAY_MS;

    #[pymodule_export]
    use super::batch::{aggregate_async, process_batch_async, process_batch_spawn_per_item_async};
    #[pymodule_export]
    const MAX_BATCH_ITEMS: usize = super::limits::MAX_BATCH_ITEMS;
    #[pymodule_export]
    const MAX_AGGREGATE_SOURCES: usize = super::limits::MAX_AGGREGATE_SOURCES;
    #[pymodule_export]
    const MAX_LATENCY_MS: i64 = super::limits::MAX_LATENCY_MS;
}
// ANCHOR_END: module
