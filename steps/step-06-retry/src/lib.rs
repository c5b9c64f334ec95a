//! Async Rust in FastAPI, step 06: retry with backoff and jitter, over real HTTP.
//!
//! New here: `fetch_with_retry` (`retry.rs`), an HTTP GET that retries what a retry can fix,
//! waits as `backoff.rs` (or the server) says, and is bounded in time. The files, one
//! concept each:
//!
//! - `limits.rs`: every limit of the module, and the checks that enforce them;
//! - `fetch.rs`: `fetch_data_async` (step 01);
//! - `batch.rs`: `process_batch_async`, its slow twin, and `aggregate_async` (step 02);
//! - `counter.rs`: `AsyncCounter` (step 03);
//! - `timeout.rs`, `tasks.rs`: `api_call_with_timeout` and `active_tasks` (step 04);
//! - `semaphore.rs`: `process_with_concurrency` and `ConcurrencyStats` (step 05);
//! - `backoff.rs`, `retry.rs`: the retry schedule and `fetch_with_retry` (step 06).

mod backoff;
mod batch;
mod counter;
mod fetch;
mod limits;
mod retry;
mod semaphore;
mod tasks;
mod timeout;

// ANCHOR: module
/// Async Rust in FastAPI, step 06: retry with backoff and jitter, over real HTTP.
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

    #[pymodule_export]
    use super::retry::{fetch_with_retry, HttpStatusError, RetryExhaustedError};
    #[pymodule_export]
    const MAX_RETRIES: u32 = super::limits::MAX_RETRIES;
    #[pymodule_export]
    const ATTEMPT_TIMEOUT_MS: u64 = super::limits::ATTEMPT_TIMEOUT_MS;
    #[pymodule_export]
    const OVERALL_TIMEOUT_MS: u64 = super::limits::OVERALL_TIMEOUT_MS;
    #[pymodule_export]
    const MAX_URL_LEN: usize = super::limits::MAX_URL_LEN;

    #[pymodule_init]
    fn init(py: pyo3::Python<'_>) -> pyo3::PyResult<()> {
        super::timeout::add_runtime_error_base(py)
    }
}
// ANCHOR_END: module
