//! One error type for the whole crate, and the one place it becomes a Python exception.
//!
//! Every check and every failure in the other modules returns `Error`; each variant maps to
//! exactly one Python exception type below, so the app can map those types to HTTP statuses
//! in one place too (see `app.py`). The message is built where the error happens, and names
//! the parameter, the allowed range and the value given.

use std::fmt;

use pyo3::exceptions::{
    PyConnectionError, PyException, PyOverflowError, PyPermissionError, PyRuntimeError,
    PyTimeoutError, PyTypeError, PyValueError,
};
use pyo3::PyErr;

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
pyo3::create_exception!(
    fastapi_async,
    HostNotAllowedError,
    PyPermissionError,
    "The URL, or a redirect, points at a host that is not on the allowlist; nothing was sent."
);
pyo3::create_exception!(
    fastapi_async,
    CounterBackendError,
    PyConnectionError,
    "The counter's Redis server failed or could not be reached; the message names it."
);
// ANCHOR_END: exceptions

// ANCHOR: error
/// Everything that can go wrong in this crate, by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An argument outside its documented range or form: `ValueError`.
    Value(String),
    /// An argument of the wrong type: `TypeError`.
    Type(String),
    /// A count that would wrap: `OverflowError`.
    Overflow(String),
    /// A deadline passed: `TimeoutError`.
    Timeout(String),
    /// Every attempt failed with a retryable error: `RetryExhaustedError`.
    RetryExhausted(String),
    /// The upstream's answer is final and not a success: `HttpStatusError`.
    HttpStatus(String),
    /// The URL or a redirect leaves the allowlist: `HostNotAllowedError`.
    HostNotAllowed(String),
    /// The counter's shared store (Redis) failed or is unreachable: `CounterBackendError`.
    CounterBackend(String),
    /// The runtime or a task failed in a way no input explains: `RuntimeError`.
    Runtime(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Self::Value(m)
        | Self::Type(m)
        | Self::Overflow(m)
        | Self::Timeout(m)
        | Self::RetryExhausted(m)
        | Self::HttpStatus(m)
        | Self::HostNotAllowed(m)
        | Self::CounterBackend(m)
        | Self::Runtime(m)) = self;
        f.write_str(m)
    }
}

impl std::error::Error for Error {}

impl From<Error> for PyErr {
    fn from(error: Error) -> PyErr {
        match error {
            Error::Value(m) => PyValueError::new_err(m),
            Error::Type(m) => PyTypeError::new_err(m),
            Error::Overflow(m) => PyOverflowError::new_err(m),
            Error::Timeout(m) => PyTimeoutError::new_err(m),
            Error::RetryExhausted(m) => RetryExhaustedError::new_err(m),
            Error::HttpStatus(m) => HttpStatusError::new_err(m),
            Error::HostNotAllowed(m) => HostNotAllowedError::new_err(m),
            Error::CounterBackend(m) => CounterBackendError::new_err(m),
            Error::Runtime(m) => PyRuntimeError::new_err(m),
        }
    }
}
// ANCHOR_END: error

/// `Result` with this crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use pyo3::prelude::*;

    use super::*;

    #[test]
    fn each_variant_becomes_its_python_exception_with_the_same_message() {
        Python::initialize();
        Python::attach(|py| {
            let cases: [(Error, &str); 9] = [
                (Error::Value("v".into()), "ValueError"),
                (Error::Type("t".into()), "TypeError"),
                (Error::Overflow("o".into()), "OverflowError"),
                (Error::Timeout("to".into()), "TimeoutError"),
                (Error::RetryExhausted("r".into()), "RetryExhaustedError"),
                (Error::HttpStatus("h".into()), "HttpStatusError"),
                (Error::HostNotAllowed("n".into()), "HostNotAllowedError"),
                (Error::CounterBackend("c".into()), "CounterBackendError"),
                (Error::Runtime("rt".into()), "RuntimeError"),
            ];
            for (error, name) in cases {
                let message = error.to_string();
                let err = PyErr::from(error);
                assert_eq!(err.get_type(py).name().unwrap().to_string(), name);
                assert_eq!(err.value(py).to_string(), message);
            }
            let denied = PyErr::from(Error::HostNotAllowed("n".into()));
            assert!(denied.is_instance_of::<PyPermissionError>(py));
            let exhausted = PyErr::from(Error::RetryExhausted("r".into()));
            assert!(exhausted.is_instance_of::<PyConnectionError>(py));
            let backend = PyErr::from(Error::CounterBackend("c".into()));
            assert!(backend.is_instance_of::<PyConnectionError>(py));
        });
    }
}
