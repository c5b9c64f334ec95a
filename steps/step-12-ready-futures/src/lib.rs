//! Async Rust in FastAPI, step 12: step 11's bridge hands back futures done at the call.
//!
//! New here: the bridge polls each future once at the call, on the loop's thread, and a
//! future done by then comes back done, within a budget per loop iteration (`bridge/task.rs`);
//! batches skip that first poll (`spawn_into_py`). The files, one concept each:
//!
//! - `limits.rs`: every limit of the module, and the checks that enforce them;
//! - `fetch.rs`: `fetch_data_async` (step 01);
//! - `batch.rs`: `process_batch_async`, its slow twin, and `aggregate_async` (step 02);
//! - `counter.rs`, `redis_counter.rs`: `AsyncCounter` (step 03), in Redis (step 10);
//! - `timeout.rs`, `tasks.rs`: `api_call_with_timeout` and `active_tasks` (step 04);
//! - `semaphore.rs`: `process_with_concurrency` and `ConcurrencyStats` (step 05);
//! - `backoff.rs`, `retry.rs`: the retry schedule and `fetch_with_retry` (step 06);
//! - `runtime.rs`, `compute.rs`: the runtime and `compute_with_progress` (step 07);
//! - `allowlist.rs`: which hosts `fetch_with_retry` may reach (step 08);
//! - `stream.rs`: progress as an async iterator (step 09);
//! - `bridge.rs`, `bridge/`, `probes.rs`: the bridge and its probes (steps 11, 12).

mod allowlist;
mod backoff;
mod batch;
mod bridge;
mod compute;
mod counter;
mod fetch;
mod limits;
mod probes;
mod redis_counter;
mod retry;
mod runtime;
mod semaphore;
mod stream;
mod tasks;
mod timeout;

// ANCHOR: module
/// Async Rust in FastAPI, step 12: step 11's bridge hands back futures done at the call.
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
    use super::redis_counter::CounterBackendError;

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

    #[pymodule_export]
    use super::allowlist::{check_allowed_hosts, HostNotAllowedError};
    #[pymodule_export]
    const MAX_ALLOWED_HOSTS: usize = super::limits::MAX_ALLOWED_HOSTS;
    #[pymodule_export]
    const MAX_REDIRECTS: usize = super::limits::MAX_REDIRECTS;

    #[pymodule_export]
    use super::compute::compute_with_progress;
    #[pymodule_export]
    const MAX_COMPUTE_N: i64 = super::limits::MAX_COMPUTE_N;
    #[pymodule_export]
    use super::runtime::runtime_info;
    #[pymodule_export]
    use super::stream::{compute_progress_stream, ProgressStream, ProgressUpdate};
    #[pymodule_export]
    const MAX_WORKER_THREADS: usize = super::limits::MAX_WORKER_THREADS;
    #[pymodule_export]
    use pyo3_async_runtimes::err::RustPanic;

    #[pymodule_export]
    use super::bridge::bridge_stats;

    /// Reads `FASTAPI_ASYNC_WORKER_THREADS` at import: a bad value fails the import, at
    /// start-up, not the first request (the runtime itself starts on first use). Also
    /// registers the `os.fork` hook that tells the runtime about forks, and the `atexit`
    /// hook that closes the bridge before the interpreter exits; attaches `_probes`.
    #[pymodule_init]
    fn init(module: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        let py = module.py();
        super::timeout::add_runtime_error_base(py)?;
        super::runtime::configure()?;
        super::runtime::mark_forks(py)?;
        exit_guard::close_bridge_at_exit(py)?;
        super::probes::attach(module)
    }
}
// ANCHOR_END: module
