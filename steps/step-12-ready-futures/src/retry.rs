//! A real HTTP GET that retries transient failures with backoff (step 06).
//!
//! `fetch_with_retry(url, max_retries=3)` is the first function that talks to the network.
//! A remote service fails in ways that a second try often fixes (a dropped connection, a
//! timeout, a `503` while it restarts, a `429` asking us to slow down) and in ways that
//! no retry can fix (a `404`, a malformed URL). This module tells the two apart, waits
//! between attempts as `backoff.rs` prescribes, and bounds the whole thing in time, so a
//! caller always gets an answer or a clear error, never a hang.
//!
//! Step 08 adds `allowed_hosts`: the first URL and every redirect are checked against it
//! (`allowlist.rs`) before any connection to that host is made. Redirects are followed
//! here, hop by hop, rather than by reqwest's redirect policy: the policy belongs to the
//! one shared client, while the allowlist belongs to each call.

use std::error::Error as _;
use std::sync::LazyLock;
use std::time::Duration;

use pyo3::exceptions::{PyConnectionError, PyException, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use reqwest::header::{LOCATION, RETRY_AFTER};
use reqwest::{Client, StatusCode, Url};
use tokio::time::Instant;

use crate::allowlist::{self, Allowed};
use crate::backoff::{backoff_delay, parse_retry_after};
use crate::bridge::future_into_py;
use crate::limits::{
    int_in_range, ATTEMPT_TIMEOUT_MS, BACKOFF_BASE, BACKOFF_CAP, MAX_REDIRECTS, MAX_RETRIES,
    MAX_URL_LEN, OVERALL_TIMEOUT_MS, RETRY_AFTER_CAP,
};
use crate::timeout::DeadlineExceededError;

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

// ANCHOR: url
/// Parses `url`, or a `ValueError` naming `url`: only absolute `http`/`https` URLs of at
/// most `MAX_URL_LEN` bytes.
fn url_from(url: &str) -> PyResult<Url> {
    if url.len() > MAX_URL_LEN {
        return Err(PyValueError::new_err(format!(
            "url must be at most {MAX_URL_LEN} bytes long, got {}",
            url.len()
        )));
    }
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
// ANCHOR_END: url

// ANCHOR: client
/// The one HTTP client of the process, built on first use.
///
/// A `reqwest::Client` owns a connection pool (and the TLS configuration); cloning it is
/// cheap and shares that pool. Building one per call would open a new TCP (and TLS)
/// connection for every request and throw it away afterwards.
static CLIENT: LazyLock<Result<Client, String>> = LazyLock::new(|| {
    Client::builder()
        // reqwest follows no redirect: `attempt` does, so it can check each hop against
        // this call's allowlist before it connects.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(error_chain)
});

fn client() -> PyResult<Client> {
    let built = CLIENT
        .as_ref()
        .map_err(|e| format!("cannot build the HTTP client: {e}"));
    built.cloned().map_err(PyRuntimeError::new_err)
}
// ANCHOR_END: client

/// What one attempt came to.
enum Attempt {
    /// A 2xx answer and its body.
    Success(String),
    /// A transient failure and its cause: worth another attempt, after the wait the
    /// server asked for (`Retry-After`), if any.
    Retry(String, Option<Duration>),
    /// A failure no retry can fix.
    Fatal(String),
    /// A redirect to a host off the allowlist: nothing was sent to it.
    Refused(PyErr),
}

// ANCHOR: attempt
/// One GET, redirects followed and checked: 2xx succeeds; 429 and 5xx are retried; any
/// other status fails.
async fn attempt(client: &Client, url: &Url, allowlist: Option<&[Allowed]>) -> Attempt {
    let mut url = url.clone();
    let mut redirects = 0;
    let response = loop {
        let response = match client.get(url.clone()).send().await {
            Ok(response) => response,
            Err(e) if e.is_builder() => return Attempt::Fatal(error_chain(e)),
            // Connection refused or reset, DNS failure, a connection dropped mid-answer:
            // the request may not have reached the server, and a GET is safe to send again.
            Err(e) => return Attempt::Retry(error_chain(e), None),
        };
        if !response.status().is_redirection() {
            break response;
        }
        // 301, 302, 303, 307, 308: a GET stays a GET. A 3xx without a usable Location
        // (304, 300) is an answer like any other, and is not retried.
        let Some(next) = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|location| url.join(location).ok())
        else {
            break response;
        };
        redirects += 1;
        if redirects > MAX_REDIRECTS {
            return Attempt::Fatal(format!("too many redirects (more than {MAX_REDIRECTS})"));
        }
        if !matches!(next.scheme(), "http" | "https") {
            return Attempt::Fatal(format!("a redirect to scheme {:?}", next.scheme()));
        }
        if let Err(refused) = allowlist::check(&next, allowlist) {
            return Attempt::Refused(refused);
        }
        url = next;
    };
    let status = response.status();
    if status.is_success() {
        return match response.text().await {
            Ok(body) => Attempt::Success(body),
            Err(e) => Attempt::Retry(error_chain(e), None),
        };
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, RETRY_AFTER_CAP));
        return Attempt::Retry(format!("upstream answered {status}"), retry_after);
    }
    Attempt::Fatal(format!("upstream answered {status}, which is not retried"))
}
// ANCHOR_END: attempt

// ANCHOR: loop
/// Attempts the GET up to `max_retries + 1` times, waiting between attempts; each way of
/// giving up is its own Python exception.
async fn get_with_retry(
    client: Client,
    url: Url,
    max_retries: u32,
    allowlist: Option<Vec<Allowed>>,
) -> PyResult<String> {
    let per_attempt = Duration::from_millis(ATTEMPT_TIMEOUT_MS);
    let deadline = Instant::now() + Duration::from_millis(OVERALL_TIMEOUT_MS);
    let gave_up = |attempts, cause| {
        DeadlineExceededError::new_err(format!(
            "GET gave up after {}: the {OVERALL_TIMEOUT_MS} ms deadline would pass; \
             last cause: {cause}",
            plural(attempts, "attempt"),
        ))
    };
    let mut attempts = 0;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let one = attempt(&client, &url, allowlist.as_deref());
        let outcome = tokio::time::timeout(per_attempt.min(remaining), one).await;
        attempts += 1;
        let (cause, retry_after) = match outcome {
            Ok(Attempt::Success(body)) => return Ok(body),
            Ok(Attempt::Fatal(cause)) => {
                let message = format!("GET failed on attempt {attempts}: {cause}");
                return Err(HttpStatusError::new_err(message));
            }
            Ok(Attempt::Refused(refused)) => return Err(refused),
            Ok(Attempt::Retry(cause, retry_after)) => (cause, retry_after),
            Err(_elapsed) if per_attempt >= remaining => {
                return Err(gave_up(
                    attempts,
                    "the attempt was cut short by the deadline".into(),
                ));
            }
            Err(_elapsed) => (format!("no answer within {ATTEMPT_TIMEOUT_MS} ms"), None),
        };
        if attempts > max_retries {
            return Err(RetryExhaustedError::new_err(format!(
                "GET failed after {} (max_retries={max_retries}); last cause: {cause}",
                plural(attempts, "attempt"),
            )));
        }
        // The server's Retry-After wins over our own schedule; otherwise full jitter.
        let wait = retry_after.unwrap_or_else(|| {
            backoff_delay(attempts - 1, BACKOFF_BASE, BACKOFF_CAP, fastrand::f64())
        });
        // Do not sleep only to find the deadline has passed when we wake up.
        if Instant::now() + wait >= deadline {
            return Err(gave_up(attempts, cause));
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
/// `allowed_hosts`: `None` allows any host (unsafe for a URL a client chose); a list
/// allows only those hosts, on the first URL and on every redirect.
#[pyfunction]
#[pyo3(signature = (url, max_retries = 3, *, allowed_hosts = None))]
pub fn fetch_with_retry<'py>(
    py: Python<'py>,
    url: &str,
    max_retries: i64,
    allowed_hosts: Option<Vec<String>>,
) -> PyResult<Bound<'py, PyAny>> {
    // Every check happens here, in the caller's frame, before any future exists.
    let max_retries = int_in_range("max_retries", max_retries, 0, i64::from(MAX_RETRIES))?;
    let url = url_from(url)?;
    let allowlist = allowed_hosts
        .as_deref()
        .map(allowlist::parse_allowlist)
        .transpose()?;
    // Refused here, at the call: no future, no connection, for a host off the list.
    allowlist::check(&url, allowlist.as_deref())?;
    let client = client()?; // a clone: a handle to the one shared pool
    future_into_py(py, get_with_retry(client, url, max_retries, allowlist))
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
    use crate::limits::testing::value_error_message;

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
            let message = value_error_message(&url_from(bad).unwrap_err());
            let start = format!("url must be an absolute http:// or https:// URL, got {bad:?} (");
            assert!(message.starts_with(&start), "{message}");
        }
        let long = format!("http://example.com/{}", "x".repeat(MAX_URL_LEN));
        let message = value_error_message(&url_from(&long).unwrap_err());
        assert_eq!(message, "url must be at most 2048 bytes long, got 2067");
    }
}
