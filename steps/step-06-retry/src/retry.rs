//! Step 06: a real HTTP GET that retries transient failures with backoff.
//!
//! `fetch_with_retry(url, max_retries=3)` is the first step that talks to the network.
//! A remote service fails in ways that a second try often fixes (a dropped connection, a
//! timeout, a `503` while it restarts, a `429` asking us to slow down) and in ways that
//! no retry can fix (a `404`, a malformed URL). This module tells the two apart, waits
//! between attempts as `backoff.rs` prescribes, and bounds the whole thing in time, so a
//! caller always gets an answer or a clear error, never a hang.

use std::error::Error as _;
use std::sync::OnceLock;
use std::time::Duration;

use pyo3::exceptions::{
    PyConnectionError, PyException, PyRuntimeError, PyTimeoutError, PyValueError,
};
use pyo3::prelude::*;
use reqwest::header::RETRY_AFTER;
use reqwest::{Client, StatusCode, Url};
use tokio::time::Instant;

use crate::backoff::{
    backoff_delay, parse_retry_after, BACKOFF_BASE, BACKOFF_CAP, RETRY_AFTER_CAP,
};

// ANCHOR: limits
/// The most retries a caller may ask for: 11 attempts in all.
pub const MAX_RETRIES: u32 = 10;

/// How long one attempt (connect, send, read the whole body) may take, in milliseconds.
pub const ATTEMPT_TIMEOUT_MS: u64 = 5_000;

/// How long a whole call may take, every attempt and every wait included, in milliseconds.
///
/// Without it, 11 attempts of 5 s plus the waits between them could hold a request for
/// well over a minute.
pub const OVERALL_TIMEOUT_MS: u64 = 30_000;

/// How many redirects one attempt follows before it fails.
pub const MAX_REDIRECTS: usize = 5;

/// Turns `max_retries` from Python into a `u32`, or a `ValueError` that says the range.
fn retries_from(max_retries: i64) -> PyResult<u32> {
    match u32::try_from(max_retries) {
        Ok(n) if n <= MAX_RETRIES => Ok(n),
        _ => Err(PyValueError::new_err(format!(
            "max_retries must be between 0 and {MAX_RETRIES}, got {max_retries}"
        ))),
    }
}

/// Parses `url`, or a `ValueError` naming `url`: only absolute `http`/`https` URLs.
fn url_from(url: &str) -> PyResult<Url> {
    let bad = |why: &dyn std::fmt::Display| {
        PyValueError::new_err(format!(
            "url must be an absolute http:// or https:// URL, got {url:?} ({why})"
        ))
    };
    let parsed = Url::parse(url).map_err(|e| bad(&e))?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        other => Err(bad(&format_args!("scheme {other:?} is not allowed"))),
    }
}
// ANCHOR_END: limits

// ANCHOR: exceptions
pyo3::create_exception!(
    fastapi_async,
    RetryExhaustedError,
    PyConnectionError,
    "Every attempt failed with a retryable error; the message gives the count and last cause."
);
pyo3::create_exception!(
    fastapi_async,
    HttpStatusError,
    PyException,
    "The upstream answered with a status that is final (e.g. 404); it was not retried."
);
// ANCHOR_END: exceptions

// ANCHOR: client
/// The one HTTP client of the process, built on first use.
///
/// A `reqwest::Client` owns a connection pool (and the TLS configuration); cloning it is
/// cheap and shares that pool. Building one per call would open a new TCP (and TLS)
/// connection for every request and throw it away afterwards.
static CLIENT: OnceLock<Result<Client, String>> = OnceLock::new();

fn client() -> PyResult<Client> {
    CLIENT
        .get_or_init(|| {
            Client::builder()
                // Follow a few redirects, never an endless chain. Each hop is a new
                // request to a host the caller did not name: step 07 checks every hop
                // against an allowlist, which is why the policy is explicit here.
                .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
                .build()
                .map_err(error_chain)
        })
        .clone()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot build the HTTP client: {e}")))
}
// ANCHOR_END: client

/// What one attempt came to.
enum Attempt {
    /// A 2xx answer and its body.
    Success(String),
    /// A transient failure: worth another attempt, after `retry_after` if the server said.
    Retry {
        cause: String,
        retry_after: Option<Duration>,
    },
    /// A failure no retry can fix.
    Fatal(String),
}

// ANCHOR: attempt
/// One GET, classified: 2xx succeeds; 429 and 5xx are retried; any other status fails.
async fn attempt(client: &Client, url: &Url) -> Attempt {
    let response = match client.get(url.clone()).send().await {
        Ok(response) => response,
        // Too many redirects: following them again would give the same answer.
        Err(e) if e.is_redirect() || e.is_builder() => return Attempt::Fatal(error_chain(e)),
        // Connection refused or reset, DNS failure, a connection dropped mid-answer: the
        // request may not have reached the server, and a GET is safe to send again.
        Err(e) => {
            return Attempt::Retry {
                cause: error_chain(e),
                retry_after: None,
            }
        }
    };
    let status = response.status();
    if status.is_success() {
        return match response.text().await {
            Ok(body) => Attempt::Success(body),
            Err(e) => Attempt::Retry {
                cause: error_chain(e),
                retry_after: None,
            },
        };
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, RETRY_AFTER_CAP));
        return Attempt::Retry {
            cause: format!("upstream answered {status}"),
            retry_after,
        };
    }
    Attempt::Fatal(format!("upstream answered {status}, which is not retried"))
}
// ANCHOR_END: attempt

// ANCHOR: loop
/// Why a call gave up; each kind becomes one Python exception.
enum Failure {
    Exhausted { attempts: u32, cause: String },
    Fatal { attempts: u32, cause: String },
    Deadline { attempts: u32, cause: String },
}

/// Attempts the GET up to `max_retries + 1` times, waiting between attempts.
async fn get_with_retry(client: Client, url: Url, max_retries: u32) -> Result<String, Failure> {
    let per_attempt = Duration::from_millis(ATTEMPT_TIMEOUT_MS);
    let deadline = Instant::now() + Duration::from_millis(OVERALL_TIMEOUT_MS);
    let mut attempts = 0;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let outcome = tokio::time::timeout(per_attempt.min(remaining), attempt(&client, &url));
        let outcome = outcome.await;
        attempts += 1;
        let (cause, retry_after) = match outcome {
            Ok(Attempt::Success(body)) => return Ok(body),
            Ok(Attempt::Fatal(cause)) => return Err(Failure::Fatal { attempts, cause }),
            Ok(Attempt::Retry { cause, retry_after }) => (cause, retry_after),
            Err(_elapsed) if per_attempt >= remaining => {
                let cause = "the attempt was cut short by the deadline".to_owned();
                return Err(Failure::Deadline { attempts, cause });
            }
            Err(_elapsed) => (format!("no answer within {ATTEMPT_TIMEOUT_MS} ms"), None),
        };
        if attempts > max_retries {
            return Err(Failure::Exhausted { attempts, cause });
        }
        // The server's Retry-After wins over our own schedule; otherwise full jitter.
        let wait = retry_after.unwrap_or_else(|| {
            backoff_delay(attempts - 1, BACKOFF_BASE, BACKOFF_CAP, fastrand::f64())
        });
        // Do not sleep only to find the deadline has passed when we wake up.
        if Instant::now() + wait >= deadline {
            return Err(Failure::Deadline { attempts, cause });
        }
        // A zero-length Tokio sleep still waits for the timer's next tick (about 1 ms).
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}
// ANCHOR_END: loop

// ANCHOR: fetch
/// GETs `url` and returns the body as text, retrying transient failures with backoff.
///
/// Must be called while an event loop is running (from `async def` code).
#[pyfunction]
#[pyo3(signature = (url, max_retries = 3))]
pub fn fetch_with_retry<'py>(
    py: Python<'py>,
    url: &str,
    max_retries: i64,
) -> PyResult<Bound<'py, PyAny>> {
    // Every check happens here, in the caller's frame, before any future exists.
    let max_retries = retries_from(max_retries)?;
    let url = url_from(url)?;
    let client = client()?; // a clone: a handle to the one shared pool
    crate::runtime::future_into_py(py, async move {
        get_with_retry(client, url, max_retries)
            .await
            .map_err(|failure| match failure {
                Failure::Exhausted { attempts, cause } => RetryExhaustedError::new_err(format!(
                    "GET failed after {} (max_retries={max_retries}); last cause: {cause}",
                    plural(attempts, "attempt"),
                )),
                Failure::Fatal { attempts, cause } => {
                    HttpStatusError::new_err(format!("GET failed on attempt {attempts}: {cause}"))
                }
                Failure::Deadline { attempts, cause } => PyTimeoutError::new_err(format!(
                    "GET gave up after {}: the {OVERALL_TIMEOUT_MS} ms deadline would pass; \
                     last cause: {cause}",
                    plural(attempts, "attempt"),
                )),
            })
    })
}
// ANCHOR_END: fetch

/// "1 attempt", "3 attempts".
fn plural(count: u32, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// An error and its causes on one line: reqwest's own message ("error sending request")
/// says little; the useful part ("Connection refused") is further down the chain.
///
/// The URL is left out: the caller knows the one it gave, and after a redirect the URL
/// could be one the caller should not learn (an internal host) or carry credentials.
fn error_chain(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_error_message(err: PyErr) -> String {
        Python::initialize();
        Python::attach(|py| {
            assert!(err.is_instance_of::<PyValueError>(py));
            err.value(py).to_string()
        })
    }

    #[test]
    fn max_retries_accepts_zero_to_ten() {
        for n in 0..=10 {
            assert_eq!(retries_from(n).unwrap(), u32::try_from(n).unwrap());
        }
    }

    #[test]
    fn max_retries_outside_the_range_is_a_value_error() {
        for bad in [-1, 11, i64::MIN, i64::MAX] {
            let message = value_error_message(retries_from(bad).unwrap_err());
            assert!(
                message.contains("max_retries must be between 0 and 10"),
                "{message}"
            );
            assert!(message.contains(&bad.to_string()), "{message}");
        }
    }

    #[test]
    fn http_and_https_urls_are_accepted() {
        assert_eq!(url_from("http://127.0.0.1:8/x").unwrap().port(), Some(8));
        assert_eq!(url_from("https://example.com").unwrap().path(), "/");
    }

    #[test]
    fn other_urls_are_a_value_error_naming_url() {
        for bad in [
            "",
            "example.com/x",
            "/relative",
            "http://",
            "ftp://example.com/x",
        ] {
            let message = value_error_message(url_from(bad).unwrap_err());
            assert!(
                message.starts_with("url must be an absolute http"),
                "{message}"
            );
            assert!(message.contains(&format!("{bad:?}")), "{message}");
        }
    }
}
