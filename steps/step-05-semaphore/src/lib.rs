//! Async Rust in FastAPI, step 05: bounded concurrency with a Tokio semaphore.
//!
//! New here, in `semaphore.rs`: `process_with_concurrency`, with at most `max_concurrent`
//! items in flight, and `ConcurrencyStats` to watch that bound. The files, one concept each:
//!
//! - `limits.rs`: every limit of the module, and the checks that enforce them;
//! - `fetch.rs`: `fetch_data_async` (step 01);
//! - `batch.rs`: `process_batch_async`, its slow twin, and `aggregate_async` (step 02);
//! - `counter.rs`: `AsyncCounter` (step 03);
//! - `timeout.rs`, `tasks.rs`: `api_call_with_timeout` and `active_tasks` (step 04);
//! - `semaphore.rs`: `process_with_concurrency` and `ConcurrencyStats` (step 05).

mod batch;
mod counter;
mod fetch;
mod limits;
mod semaphore;
mod tasks;
mod timeout;

// ANCHOR: module
/// Async Rust in FastAPI, step 05: bounded concurrency with a Tokio semaphore.
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

    #[pymodule_export]
    use super::tasks::active_tasks;
    #[pymodule_export]
    use super::timeout::{api_call_with_timeout, DeadlineExceededError};
    #[pymodule_export]
    const MIN_TIMEOUT_MS: i64 = super::limits::MIN_TIMEOUT_MS;
    #[pymodule_export]
    const MAX_TIMEOUT_MS: i64 = super::limits::MAX_TIMEOUT_MS;
    #[pymodule_export]
    const MAX_ENDPOINT_LEN: usize = super::limits::MAX_ENDPOINT_LEN;

    #[pymodule_export]
    use super::semaphore::{process_with_concurrency, ConcurrencyStats};
    #[pymodule_export]
    const MAX_CONCURRENT: i64 = super::limits::MAX_CONCURRENT;

    #[pymodule_init]
    fn init(py: pyo3::Python<'_>) -> pyo3::PyResult<()> {
        super::timeout::add_runtime_error_base(py)
    }
}
// ANCHOR_END: module
