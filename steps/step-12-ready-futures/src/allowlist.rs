//! Which hosts `fetch_with_retry` may reach: the defence against server-side request forgery
//! (step 08).
//!
//! An endpoint that fetches a URL its client chose can be aimed at anything the server can
//! reach: `http://127.0.0.1:6379/`, a cloud metadata service at `169.254.169.254`, an admin
//! panel on the private network. The allowlist refuses every host not named in it, before
//! a connection is made, on the first URL and on every redirect.
//!
//! Hosts are compared after the `url` crate has normalised them, as the connection would
//! use them: `http://2130706433/` and `http://0x7f.1/` are both `127.0.0.1`, `EXAMPLE.com`
//! is `example.com`. Names are not resolved: `localhost` and `[::1]` are hosts of their own,
//! refused unless listed, and a listed name is trusted to point where its DNS says.

use pyo3::exceptions::{PyPermissionError, PyValueError};
use pyo3::{pyfunction, PyResult};
use url::{Host, Url};

use crate::limits::{len_at_most, MAX_ALLOWED_HOSTS};

// ANCHOR: exception
pyo3::create_exception!(
    fastapi_async,
    HostNotAllowedError,
    PyPermissionError,
    "The URL, or a redirect, points at a host that is not on the allowlist; nothing was sent."
);
// ANCHOR_END: exception

// ANCHOR: entry
/// One allowlist entry: a normalised host and, if the entry named one, a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    host: Host<String>,
    /// `None`: any port of this host.
    port: Option<u16>,
}

/// Parses `host`, `host:port`, `[v6]` or `[v6]:port`, normalising the host as a URL would.
fn parse_entry(entry: &str) -> Option<Allowed> {
    let entry = entry.trim();
    let (host, port) = match entry.rsplit_once(':') {
        // A colon after the last `]` (or in a name with no brackets) separates the port;
        // a bare IPv6 address without brackets has colons too, and is refused below.
        Some((host, port))
            if !port.contains(']')
                && !port.is_empty()
                && (!host.contains(':') || host.ends_with(']')) =>
        {
            (host, Some(port.parse::<u16>().ok()?))
        }
        _ => (entry, None),
    };
    if host.is_empty() || host.contains(['/', '@', '?', '#']) {
        return None;
    }
    Some(Allowed {
        host: Host::parse(host).ok()?,
        port,
    })
}

/// Checks and normalises every entry of `allowed_hosts`.
pub fn parse_allowlist(entries: &[String]) -> PyResult<Vec<Allowed>> {
    len_at_most("allowed_hosts", entries.len(), MAX_ALLOWED_HOSTS, "hosts")?;
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            parse_entry(entry).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "allowed_hosts[{index}] must be a host or host:port \
                     (e.g. \"api.example.com\" or \"127.0.0.1:8000\"), got {entry:?}"
                ))
            })
        })
        .collect()
}

/// Checks `allowed_hosts` as `fetch_with_retry` would, without a request: for a list read
/// from the configuration at start-up, so that a bad entry stops the app there.
#[pyfunction]
pub fn check_allowed_hosts(allowed_hosts: Vec<String>) -> PyResult<()> {
    parse_allowlist(&allowed_hosts).map(drop)
}
// ANCHOR_END: entry

// ANCHOR: check
/// `Ok` if `url`'s host and port are on the list (`None`: no list, everything allowed).
pub fn check(url: &Url, allowlist: Option<&[Allowed]>) -> PyResult<()> {
    let Some(allowlist) = allowlist else {
        return Ok(());
    };
    let host = url.host().map(|h| h.to_owned());
    let port = url.port_or_known_default();
    let allowed = host.as_ref().is_some_and(|host| {
        allowlist
            .iter()
            .any(|a| &a.host == host && a.port.is_none_or(|p| Some(p) == port))
    });
    if allowed {
        return Ok(());
    }
    let shown = match (&host, port) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => "(no host)".to_owned(),
    };
    Err(HostNotAllowedError::new_err(format!(
        "host {shown} is not in allowed_hosts; nothing was sent to it"
    )))
}
// ANCHOR_END: check

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::testing::{describe, value_error_message};

    fn list(entries: &[&str]) -> Vec<Allowed> {
        let entries: Vec<String> = entries.iter().map(|e| (*e).to_owned()).collect();
        parse_allowlist(&entries).unwrap()
    }

    fn allowed(url: &str, entries: &[&str]) -> bool {
        check(&Url::parse(url).unwrap(), Some(&list(entries))).is_ok()
    }

    #[test]
    fn numeric_spellings_of_loopback_normalise_to_127_0_0_1() {
        for url in [
            "http://127.0.0.1:8000/",
            "http://2130706433:8000/",
            "http://0x7f.1:8000/",
            "http://0177.0.0.1:8000/",
        ] {
            assert!(allowed(url, &["127.0.0.1:8000"]), "{url}");
            assert!(!allowed(url, &["10.0.0.1"]), "{url}");
        }
    }

    #[test]
    fn localhost_and_ipv6_loopback_are_distinct_hosts() {
        assert!(!allowed("http://localhost:8000/", &["127.0.0.1:8000"]));
        assert!(!allowed("http://[::1]:8000/", &["127.0.0.1:8000"]));
        assert!(allowed("http://[::1]:8000/", &["[::1]:8000"]));
        assert!(allowed("http://LocalHost/", &["localhost"]));
    }

    #[test]
    fn a_port_in_the_entry_must_match_and_no_port_allows_any() {
        assert!(!allowed("http://127.0.0.1:9000/", &["127.0.0.1:8000"]));
        assert!(allowed("http://127.0.0.1:9000/", &["127.0.0.1"]));
        // The scheme's default port counts as the URL's port.
        assert!(allowed("https://example.com/x", &["example.com:443"]));
        assert!(!allowed("http://example.com/x", &["example.com:443"]));
    }

    #[test]
    fn no_list_allows_everything_and_an_empty_list_nothing() {
        let url = Url::parse("http://169.254.169.254/latest/meta-data/").unwrap();
        assert!(check(&url, None).is_ok());
        let err = check(&url, Some(&[])).unwrap_err();
        let message = "host 169.254.169.254:80 is not in allowed_hosts; nothing was sent to it";
        let kind = "<class 'fastapi_async.HostNotAllowedError'>";
        assert_eq!(describe(&err), (kind.into(), message.into()));
    }

    #[test]
    fn malformed_entries_are_a_value_error_naming_the_index() {
        for bad in [
            "", "http://x", "a/b", "x:port", "x:70000", "::1", "user@x", "[::1",
        ] {
            let entries = vec!["ok".to_owned(), bad.to_owned()];
            let err = value_error_message(&parse_allowlist(&entries).unwrap_err());
            assert!(
                err.starts_with("allowed_hosts[1] must be a host"),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn too_many_entries_are_refused() {
        let entries = vec!["x".to_owned(); MAX_ALLOWED_HOSTS + 1];
        let err = value_error_message(&parse_allowlist(&entries).unwrap_err());
        assert_eq!(
            err,
            "allowed_hosts must hold between 0 and 100 hosts, got 101"
        );
    }
}
