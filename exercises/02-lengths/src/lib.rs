//! Exercise 02-lengths: a batch that crosses into Rust once.
//!
//! The task is in `README.md`; `just exercise 02-lengths` checks your work.

// The starter leaves names unused until you write your part. Delete this line when you are
// done: the compiler then tells you about anything still unused.
#![allow(unused)]

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};
use pyo3_async_runtimes::tokio::future_into_py;

/// The most strings `lengths_async` accepts in one call.
pub const MAX_ITEMS: usize = 100_000;

/// Resolves to the length of every string of `items`, in characters, in order.
#[pyfunction]
pub fn lengths_async<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyList>,
) -> PyResult<Bound<'py, PyAny>> {
    todo!("lengths_async: copy items with strings_from_list, then count them in one future")
}

/// Copies a Python list of `str` into Rust: the one crossing a batch needs (step 02).
///
/// The length is checked first, in O(1), so an oversized list is refused before a single
/// string is copied. After this, Rust owns its own `String`s: the future that uses them
/// needs neither the list nor the GIL.
fn strings_from_list(
    list: &Bound<'_, PyList>,
    name: &str,
    max_len: usize,
) -> PyResult<Vec<String>> {
    let len = list.len();
    if len > max_len {
        return Err(PyValueError::new_err(format!(
            "{name} must hold between 0 and {max_len} strings, got {len}"
        )));
    }
    let mut strings = Vec::with_capacity(len);
    for (index, item) in list.iter().enumerate() {
        let Ok(text) = item.cast::<PyString>() else {
            let type_name = item.get_type().name()?;
            let message = format!("{name}[{index}] must be str, got {type_name}");
            return Err(PyTypeError::new_err(message));
        };
        // A lone surrogate ("\ud800") has no UTF-8 form: this raises UnicodeEncodeError.
        strings.push(text.to_cow()?.into_owned());
    }
    Ok(strings)
}

/// Exercise 02-lengths: the length of every string of a batch.
#[pymodule]
mod ex02_lengths {
    #[pymodule_export]
    use super::lengths_async;
    #[pymodule_export]
    const MAX_ITEMS: usize = super::MAX_ITEMS;
}
