//! Step 08: step 07's extension, with a faster bridge between asyncio and Tokio.
//!
//! This file only declares the modules and the Python module; the code lives in:
//!
//! - `limits.rs`: every limit, and the checks that enforce them;
//! - `errors.rs`: the one error type and its Python exceptions;
//! - `runtime.rs`: the one Tokio runtime, configured from the environment;
//! - `bridge.rs` (and `bridge/`): how a Rust future becomes an `asyncio.Future`, the one
//!   change of this step;
//! - `fetch.rs`, `batch.rs`, `counter.rs`, `progress.rs`, `timeout.rs`, `tasks.rs`,
//!   `semaphore.rs`, `backoff.rs`, `retry.rs`: the functions of steps 01-06;
//! - `allowlist.rs`: which hosts `fetch_with_retry` may reach;
//! - `redis_counter.rs`: `AsyncCounter`'s count in Redis, shared by every process;
//! - `stream.rs`: progress as an async iterator.

mod allowlist;
mod backoff;
mod batch;
mod bridge;
mod counter;
mod errors;
mod fetch;
mod limits;
mod probes;
mod progress;
mod redis_counter;
mod retry;
mod runtime;
mod semaphore;
mod stream;
mod tasks;
mod timeout;

use pyo3::prelude::*;

// ANCHOR: module
/// Async Rust in FastAPI, step 08: step 07's extension with a faster asyncio-Tokio bridge.
#[pymodule]
mod fastapi_async {
    use pyo3::prelude::*;

    #[pymodule_export]
    use super::batch::{aggregate_async, process_batch_async, process_batch_spawn_per_item_async};
    #[pymodule_export]
    use super::bridge::bridge_stats;
    #[pymodule_export]
    use super::counter::AsyncCounter;
    #[pymodule_export]
    use super::errors::{
        CounterBackendError, HostNotAllowedError, HttpStatusError, RetryExhaustedError,
    };
    #[pymodule_export]
    use super::fetch::fetch_data_async;
    #[pymodule_export]
    use super::progress::compute_with_progress;
    #[pymodule_export]
    use super::retry::fetch_with_retry;
    #[pymodule_export]
    use super::runtime::runtime_info;
    #[pymodule_export]
    use super::semaphore::{process_with_concurrency, ConcurrencyStats};
    #[pymodule_export]
    use super::stream::{compute_progress_stream, ProgressStream, ProgressUpdate};
    #[pymodule_export]
    use super::tasks::active_tasks;
    #[pymodule_export]
    use super::timeout::api_call_with_timeout;
    /// The exception a panic inside a Rust future becomes (from pyo3-async-runtimes).
    #[pymodule_export]
    use pyo3_async_runtimes::err::RustPanic;

    // Every limit, from `limits.rs`: the app builds its OpenAPI constraints from these.
    #[pymodule_export]
    const MAX_DELAY_MS: i64 = super::limits::MAX_DELAY_MS;
    #[pymodule_export]
    const MAX_BATCH_ITEMS: usize = super::limits::MAX_BATCH_ITEMS;
    #[pymodule_export]
    const MAX_AGGREGATE_SOURCES: usize = super::limits::MAX_AGGREGATE_SOURCES;
    #[pymodule_export]
    const MAX_LATENCY_MS: i64 = super::limits::MAX_LATENCY_MS;
    #[pymodule_export]
    const MAX_COMPUTE_N: i64 = super::limits::MAX_COMPUTE_N;
    #[pymodule_export]
    const MIN_TIMEOUT_MS: i64 = super::limits::MIN_TIMEOUT_MS;
    #[pymodule_export]
    const MAX_TIMEOUT_MS: i64 = super::limits::MAX_TIMEOUT_MS;
    #[pymodule_export]
    const MAX_ENDPOINT_LEN: usize = super::limits::MAX_ENDPOINT_LEN;
    #[pymodule_export]
    const MAX_CONCURRENT: i64 = super::limits::MAX_CONCURRENT;
    #[pymodule_export]
    const MAX_RETRIES: u32 = super::limits::MAX_RETRIES;
    #[pymodule_export]
    const ATTEMPT_TIMEOUT_MS: u64 = super::limits::ATTEMPT_TIMEOUT_MS;
    #[pymodule_export]
    const OVERALL_TIMEOUT_MS: u64 = super::limits::OVERALL_TIMEOUT_MS;
    #[pymodule_export]
    const MAX_REDIRECTS: usize = super::limits::MAX_REDIRECTS;
    #[pymodule_export]
    const MAX_URL_LEN: usize = super::limits::MAX_URL_LEN;
    #[pymodule_export]
    const MAX_ALLOWED_HOSTS: usize = super::limits::MAX_ALLOWED_HOSTS;
    #[pymodule_export]
    const MAX_WORKER_THREADS: usize = super::limits::MAX_WORKER_THREADS;

    /// Reads `FASTAPI_ASYNC_WORKER_THREADS` at import: a bad value fails the import, at
    /// start-up, not the first request. The runtime itself starts on first use. Also
    /// registers the `os.fork` hook that tells the runtime about forks, and the `atexit`
    /// hook that closes the bridge before the interpreter exits; attaches `_probes`.
    #[pymodule_init]
    fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
        let py = module.py();
        super::runtime::configure()?;
        super::runtime::mark_forks(py)?;
        super::runtime::close_bridge_at_exit(py)?;
        super::probes::attach(module)
    }
}
// ANCHOR_END: module
