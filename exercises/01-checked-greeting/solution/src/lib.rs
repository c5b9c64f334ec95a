//! Exercise 01-checked-greeting: refuse bad input at the call, before any future exists.
//!
//! The task is in `README.md`; `just exercise 01-checked-greeting` checks your work.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_async_runtimes::tokio::future_into_py;

/// The longest `name` that `greet_async` accepts, in characters.
pub const MAX_NAME_LEN: usize = 64;

/// Returns an `asyncio.Future` that resolves to `"Hello, {name}!"`.
#[pyfunction]
pub fn greet_async(py: Python<'_>, name: String) -> PyResult<Bound<'_, PyAny>> {
    // Checked here, in the caller's frame: a bad name raises at the call, where the caller
    // can see which call was wrong, and no future (nor Tokio task) is made for it.
    check_name(&name)?;
    future_into_py(py, async move { Ok(format!("Hello, {name}!")) })
}

/// `Ok(())` if `name` has 1 to `MAX_NAME_LEN` characters, else a `ValueError` that names
/// the parameter, the range and the length given.
fn check_name(name: &str) -> PyResult<()> {
    // Characters, as Python's `len` counts them, not the bytes of the UTF-8 form.
    let len = name.chars().count();
    if (1..=MAX_NAME_LEN).contains(&len) {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!(
            "name must be between 1 and {MAX_NAME_LEN} characters long, got {len}"
        )))
    }
}

/// Exercise 01-checked-greeting: a greeting, for a name checked at the call.
#[pymodule]
mod ex01_checked_greeting {
    #[pymodule_export]
    use super::greet_async;
    #[pymodule_export]
    const MAX_NAME_LEN: usize = super::MAX_NAME_LEN;
}
