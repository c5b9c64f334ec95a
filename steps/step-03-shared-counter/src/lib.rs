//! Async Rust in FastAPI, step 03: state shared between futures.
//!
//! New here, in `counter.rs`: `AsyncCounter`, whose awaitables all update one count, shared
//! by futures that run on several Tokio threads. The files, one concept each:
//!
//! - `limits.rs`: every limit of the module, and the checks that enforce them;
//! - `fetch.rs`: `fetch_data_async` (step 01);
//! - `batch.rs`: `process_batch_async`, its slow twin, and `aggregate_async` (step 02);
//! - `counter.rs`: `AsyncCounter` (step 03).

mod batch;
mod counter;
mod fetch;
mod limits;

// ANCHOR: module
/// Async Rust in FastAPI, step 03: state shared between futures.
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

    #[pymodule_export]
    use super::counter::AsyncCounter;
}
// ANCHOR_END: module
