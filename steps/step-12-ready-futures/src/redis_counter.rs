//! The count of `AsyncCounter` kept in Redis, so every process of a service shares it
//! (step 10).
//!
//! A `std::sync::Mutex` or an `AtomicU64` lives in one process's memory. Under
//! `uvicorn --workers 4`, or on several machines behind a load balancer, each process has
//! its own copy and each answers with its own count. Redis keeps the one count outside all
//! of them, and its `INCR` adds one and returns the new value as a single atomic command:
//! no read-modify-write race between processes, and no lock for us to write.
//!
//! The connection is a `redis::aio::ConnectionManager`: one multiplexed connection per
//! process, shared by every concurrent call, which reconnects after an error (a Redis
//! restart fails the calls in flight; a later call finds the new connection). It is
//! created on the first call, inside the Tokio runtime of the process that makes it, never
//! at construction: a server that creates the counter and then forks must not hand one
//! socket to several children (and `runtime.rs` already refuses a runtime across a fork).

use std::time::Duration;

use pyo3::exceptions::{PyConnectionError, PyOverflowError, PyValueError};
use pyo3::{PyErr, PyResult};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError, RedisResult};
use tokio::sync::OnceCell;

// ANCHOR: exception
pyo3::create_exception!(
    fastapi_async,
    CounterBackendError,
    PyConnectionError,
    "The counter's Redis server failed or could not be reached; the message names it."
);
// ANCHOR_END: exception

// ANCHOR: config
/// The environment variable naming the Redis server; unset or blank: the in-process count.
pub const REDIS_URL_ENV: &str = "FASTAPI_ASYNC_REDIS_URL";

/// The key that holds the count. Fixed, so that every process of a service finds it.
pub const COUNTER_KEY: &str = "fastapi_async:counter";

/// Bounds on a Redis that is down or slow: a call fails within a few seconds, never hangs.
/// One connection attempt waits at most `CONNECT_TIMEOUT`, a command `RESPONSE_TIMEOUT`,
/// and a (re)connection makes `1 + CONNECT_RETRIES` attempts, waiting 0.1 s then 0.2 s
/// between them, each wait plus a random jitter up to as much again. A refused connection
/// fails in under 0.6 s; a server that accepts nothing and answers nothing, in about
/// 3 × 1 s + 0.6 s.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
const CONNECT_RETRIES: usize = 2;
const RETRY_MIN_DELAY: Duration = Duration::from_millis(100);

fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(CONNECT_RETRIES)
        .set_min_delay(RETRY_MIN_DELAY)
}
// ANCHOR_END: config

// ANCHOR: struct
/// A count in Redis, under `COUNTER_KEY`.
pub struct RedisCounter {
    /// The parsed URL; opening it does no I/O.
    client: Client,
    /// The connection, made by the first call that needs it (in this process's runtime).
    connection: OnceCell<ConnectionManager>,
}
// ANCHOR_END: struct

impl RedisCounter {
    /// Checks `url` (`redis://[user:password@]host[:port][/db]`); connects later, on first use.
    pub fn from_url(url: &str) -> PyResult<Self> {
        let client = Client::open(url).map_err(|e| {
            PyValueError::new_err(format!(
                "{REDIS_URL_ENV} must be a Redis URL such as redis://127.0.0.1:6379/0 \
                 (rediss:// needs TLS, which this build leaves out): {e}"
            ))
        })?;
        Ok(Self {
            client,
            connection: OnceCell::new(),
        })
    }

    /// A handle to the one connection of this process (a cheap clone of an `Arc`).
    async fn connection(&self) -> RedisResult<ConnectionManager> {
        let manager = self
            .connection
            .get_or_try_init(|| async {
                // Lazy: returns at once; the first command connects. It spawns a task, so
                // it must run inside the Tokio runtime, which a future of ours always does.
                ConnectionManager::new_lazy_with_config(self.client.clone(), manager_config())
            })
            .await?;
        Ok(manager.clone())
    }

    // ANCHOR: commands
    /// `INCR`: adds one and returns the new count, atomically for every client of the server.
    pub async fn increment(&self) -> PyResult<u64> {
        let count: i64 = self
            .query(redis::cmd("INCR").arg(COUNTER_KEY))
            .await
            .map_err(|e| self.incr_failed(&e))?;
        self.as_count(count)
    }

    /// `GET`: the current count; a key that does not exist yet is a count of 0.
    pub async fn get(&self) -> PyResult<u64> {
        let count: Option<i64> = self
            .query(redis::cmd("GET").arg(COUNTER_KEY))
            .await
            .map_err(|e| self.unavailable("GET", &e))?;
        self.as_count(count.unwrap_or(0))
    }

    /// `SET key 0`: resets the count for every process.
    pub async fn reset(&self) -> PyResult<u64> {
        let () = self
            .query(redis::cmd("SET").arg(COUNTER_KEY).arg(0))
            .await
            .map_err(|e| self.unavailable("SET", &e))?;
        Ok(0)
    }

    /// Sends `command`, and sends it once more if the first try found no connection.
    ///
    /// A refused connection means the command never left this process, so a second try
    /// cannot count an `INCR` twice. The manager has started a new connection by then, so
    /// the first call after a Redis restart finds the server instead of the stale failure.
    /// Any other error is returned as it is: after a dropped connection nobody knows whether
    /// Redis ran the command, and sending an `INCR` again could count it twice.
    async fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> RedisResult<T> {
        let mut redis = self.connection().await?;
        match command.query_async(&mut redis).await {
            Err(e) if e.is_connection_refusal() => command.query_async(&mut redis).await,
            answer => answer,
        }
    }
    // ANCHOR_END: commands

    // ANCHOR: errors
    /// `CounterBackendError` naming the server and the command; the URL is not shown, since
    /// it may hold a password.
    fn unavailable(&self, command: &str, error: &RedisError) -> PyErr {
        let addr = self.client.get_connection_info().addr();
        CounterBackendError::new_err(format!(
            "the counter's Redis server at {addr} failed ({command} {COUNTER_KEY}): {error}"
        ))
    }

    /// Redis counts in a signed 64-bit integer and refuses to wrap past its maximum: the
    /// same `OverflowError` as the in-process counter, at Redis's limit (2**63 - 1).
    fn incr_failed(&self, error: &RedisError) -> PyErr {
        if error.detail().is_some_and(|d| d.contains("would overflow")) {
            let message = format!("the counter is at its maximum ({})", i64::MAX);
            return PyOverflowError::new_err(message);
        }
        self.unavailable("INCR", error)
    }

    /// A value someone else wrote under our key (say `SET fastapi_async:counter -5`) is
    /// not a count: an error, not a wrapped number.
    fn as_count(&self, value: i64) -> PyResult<u64> {
        u64::try_from(value).map_err(|_| {
            let addr = self.client.get_connection_info().addr();
            CounterBackendError::new_err(format!(
                "the Redis server at {addr} holds {value} under {COUNTER_KEY}, not a count"
            ))
        })
    }
    // ANCHOR_END: errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::testing::value_error_message;

    #[test]
    fn a_redis_url_is_accepted_without_connecting() {
        // Port 1 on loopback has no server: construction must not try to reach it.
        assert!(RedisCounter::from_url("redis://127.0.0.1:1/0").is_ok());
    }

    #[test]
    fn anything_else_is_a_value_error_naming_the_variable() {
        // rediss:// is a Redis URL, but this build leaves TLS out.
        for bad in [
            "",
            "127.0.0.1:6379",
            "http://127.0.0.1/",
            "redis://:x:y@/",
            "rediss://h/",
        ] {
            let Err(err) = RedisCounter::from_url(bad) else {
                panic!("{bad:?} was accepted");
            };
            let message = value_error_message(&err);
            assert!(
                message.starts_with("FASTAPI_ASYNC_REDIS_URL must be a Redis URL"),
                "{bad:?}: {message}"
            );
        }
    }
}
