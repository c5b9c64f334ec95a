//! Exercise 01-checked-greeting: refuse bad input at the call, before any future exists.
//!
//! The task is in `README.md`; `just exercise 01-checked-greeting` checks your work.

// The starter leaves names unused until you write your part. Delete this line when you are
// done: the compiler then tells you about anything still unused.
#![allow(unused)]

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_async_runtimes::tokio::future_into_py;

/// The longest `name` that `greet_async` accepts, in characters.
pub const MAX_NAME_LEN: usize = 64;

/// Returns an `asyncio.Future` that resolves to `"Hello, {name}!"`.
#[pyfunction]
pub fn greet_async(py: Python<'_>, name: String) -> PyResult<Bound<'_, PyAny>> {
    future_into_py(py, async move {
        // Is this the right place for the check? (See the task in README.md.)
        check_name(&name)?;
        Ok(format!("Hello, {name}!"))
    })
}

/// `Ok(())` if `name` has 1 to `MAX_NAME_LEN` characters, else a `ValueError` that names
/// the parameter, the range and the length given.
fn check_name(name: &str) -> PyResult<()> {
    todo!("check_name: accept 1 to MAX_NAME_LEN characters, else return a ValueError")
}

/// Exercise 01-checked-greeting: a greeting, for a name checked at the call.
#[pymodule]
mod ex01_checked_greeting {
    #[pymodule_export]
    use super::greet_async;
    #[pymodule_export]
    const MAX_NAME_LEN: usize = super::MAX_NAME_LEN;
}
