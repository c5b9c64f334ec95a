//! Step 06's HTTP GET that retries transient failures with backoff, now behind an allowlist.
//!
//! `fetch_with_retry(url, max_retries=3)` is the first step that talks to the network.
//! A remote service fails in ways that a second try often fixes (a dropped connection, a
//! timeout, a `503` while it restarts, a `429` asking us to slow down) and in ways that
//! no retry can fix (a `404`, a malformed URL). This module tells the two apart, waits
//! between attempts as `backoff.rs` prescribes, and bounds the whole thing in time, so a
//! caller always gets an answer or a clear error, never a hang.
//!
//! Step 07 adds `allowed_hosts`: the first URL and every redirect are checked against it
//! (`allowlist.rs`) before any connection to that host is made. Redirects are followed
//! here, hop by hop, rather than by reqwest's redirect policy: the policy belongs to the
//! one shared client, while the allowlist belongs to each call.

use std::error::Error as _;
use std::sync::OnceLock;
use std::time::Duration;

use pyo3::prelude::*;
use reqwest::header::{LOCATION, RETRY_AFTER};
use reqwest::{Client, StatusCode, Url};
use tokio::time::Instant;

use crate::allowlist::{self, Allowed};
use crate::backoff::{backoff_delay, parse_retry_after};
use crate::bridge::future_into_py;
use crate::errors::Error;
use crate::limits::{
    int_in_range, ATTEMPT_TIMEOUT_MS, BACKOFF_BASE, BACKOFF_CAP, MAX_REDIRECTS, MAX_RETRIES,
    MAX_URL_LEN, OVERALL_TIMEOUT_MS, RETRY_AFTER_CAP,
};

// ANCHOR: url
/// Parses `url`, or a `ValueError` naming `url`: only absolute `http`/`https` URLs of at
/// most `MAX_URL_LEN` bytes.
fn url_from(url: &str) -> Result<Url, Error> {
    let bad = |why: &dyn std::fmt::Display| {
        Error::Value(format!(
            "url must be an absolute http:// or https:// URL, got {url:?} ({why})"
        ))
    };
    if url.len() > MAX_URL_LEN {
        return Err(Error::Value(format!(
            "url must be at most {MAX_URL_LEN} bytes long, got {}",
            url.len()
        )));
    }
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
static CLIENT: OnceLock<Result<Client, String>> = OnceLock::new();

fn client() -> Result<Client, Error> {
    CLIENT
        .get_or_init(|| {
            Client::builder()
                // reqwest follows no redirect: `attempt` does, so it can check each hop
                // against this call's allowlist before it connects.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(error_chain)
        })
        .clone()
        .map_err(|e| Error::Runtime(format!("cannot build the HTTP client: {e}")))
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
    /// A redirect to a host off the allowlist: nothing was sent to it.
    Refused(Error),
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
            Err(e) => {
                return Attempt::Retry {
                    cause: error_chain(e),
                    retry_after: None,
                }
            }
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
    Refused(Error),
}

/// Attempts the GET up to `max_retries + 1` times, waiting between attempts.
async fn get_with_retry(
    client: Client,
    url: Url,
    max_retries: u32,
    allowlist: Option<Vec<Allowed>>,
) -> Result<String, Failure> {
    let per_attempt = Duration::from_millis(ATTEMPT_TIMEOUT_MS);
    let deadline = Instant::now() + Duration::from_millis(OVERALL_TIMEOUT_MS);
    let mut attempts = 0;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let one = attempt(&client, &url, allowlist.as_deref());
        let outcome = tokio::time::timeout(per_attempt.min(remaining), one);
        let outcome = outcome.await;
        attempts += 1;
        let (cause, retry_after) = match outcome {
            Ok(Attempt::Success(body)) => return Ok(body),
            Ok(Attempt::Fatal(cause)) => return Err(Failure::Fatal { attempts, cause }),
            Ok(Attempt::Refused(error)) => return Err(Failure::Refused(error)),
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
    future_into_py(py, async move {
        let failure = match get_with_retry(client, url, max_retries, allowlist).await {
            Ok(body) => return Ok(body),
            Err(failure) => failure,
        };
        Err(match failure {
            Failure::Exhausted { attempts, cause } => Error::RetryExhausted(format!(
                "GET failed after {} (max_retries={max_retries}); last cause: {cause}",
                plural(attempts, "attempt"),
            )),
            Failure::Fatal { attempts, cause } => {
                Error::HttpStatus(format!("GET failed on attempt {attempts}: {cause}"))
            }
            Failure::Deadline { attempts, cause } => Error::Timeout(format!(
                "GET gave up after {}: the {OVERALL_TIMEOUT_MS} ms deadline would pass; \
                 last cause: {cause}",
                plural(attempts, "attempt"),
            )),
            Failure::Refused(error) => error,
        }
        .into())
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

    fn value_error_message(err: Error) -> String {
        assert!(matches!(err, Error::Value(_)), "{err:?}");
        err.to_string()
    }

    #[test]
    fn http_and_https_urls_are_accepted() {
        assert_eq!(url_from("http://127.0.0.1:8/x").unwrap().port(), Some(8));
        assert_eq!(url_from("https://example.com").unwrap().path(), "/");
    }

    #[test]
    fn urls_longer_than_the_limit_are_refused() {
        let long = format!("http://example.com/{}", "x".repeat(MAX_URL_LEN));
        let message = value_error_message(url_from(&long).unwrap_err());
        assert!(
            message.starts_with("url must be at most 2048 bytes"),
            "{message}"
        );
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
