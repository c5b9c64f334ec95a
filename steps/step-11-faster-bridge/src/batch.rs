//! Batches and fan-out (step 02): the shapes of work that pay for a trip into Rust.
//!
//! Each call from Python into Rust, and each Tokio future handed back to asyncio, has a
//! fixed cost (the Performance chapter measures it). So:
//!
//! - `process_batch_async` crosses once for a whole batch: it copies the list into Rust,
//!   then one future upper-cases every item. This is the shape to copy.
//! - `process_batch_spawn_per_item_async` spawns one Tokio task per item. It is the slow
//!   shape, kept so the benchmark in `bench/batch_shapes.py` can measure it.
//! - `aggregate_async` waits on many simulated I/O calls at once with a `JoinSet`, so the
//!   total time is about one latency, not their sum.

use std::collections::HashSet;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyDict, PyList, PyString};
use tokio::task::{JoinError, JoinSet};

use crate::bridge::future_into_py;
use crate::limits::{
    len_at_most, millis_in_range, MAX_AGGREGATE_SOURCES, MAX_BATCH_ITEMS, MAX_LATENCY_MS,
};

/// Copies a Python list of `str` into Rust: the one crossing a batch needs.
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
    len_at_most(name, len, max_len, "strings")?;
    let mut strings = Vec::with_capacity(len);
    for (index, item) in list.iter().enumerate() {
        let Ok(text) = item.cast::<PyString>() else {
            let type_name = item.get_type().name()?;
            let message = format!("{name}[{index}] must be str, got {type_name}");
            return Err(PyTypeError::new_err(message));
        };
        // A lone surrogate ("\ud800") has no UTF-8 form: this raises UnicodeEncodeError,
        // with a note naming the item, as PyO3 notes an argument it cannot convert.
        // (`to_cow`, not `to_str`: step 07's stable-ABI wheel has no borrowed UTF-8 view.)
        let text = text.to_cow().inspect_err(|err| {
            let note = format!("while processing '{name}[{index}]'");
            // `add_note` exists from Python 3.11 on; before it, the error has no note.
            let _ = err.value(item.py()).call_method1("add_note", (note,));
        })?;
        strings.push(text.into_owned());
    }
    Ok(strings)
}

// ANCHOR: batch
/// Upper-cases every string of `items`, in order, in one Rust future.
#[pyfunction]
pub fn process_batch_async<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyList>,
) -> PyResult<Bound<'py, PyAny>> {
    // One crossing: the whole list is checked and copied here, while Python called us.
    let items = strings_from_list(items, "items", MAX_BATCH_ITEMS)?;
    // One future for the whole batch. The loop runs on a Tokio worker, without the GIL.
    future_into_py(py, async move { Ok(uppercase_all(items)) })
}

/// Unicode full upper-casing, as Python's `str.upper`: "ß" becomes "SS", "ﬁ" becomes "FI".
fn uppercase_all(items: Vec<String>) -> Vec<String> {
    items.iter().map(|item| item.to_uppercase()).collect()
}
// ANCHOR_END: batch

// ANCHOR: spawn_per_item
/// The slow shape, kept to measure it: one Tokio task per item, joined in order.
///
/// Each `tokio::spawn` allocates a task and schedules it on a worker, which costs far more
/// than upper-casing one short string. Do not copy this for per-item work this small.
#[pyfunction]
pub fn process_batch_spawn_per_item_async<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyList>,
) -> PyResult<Bound<'py, PyAny>> {
    let items = strings_from_list(items, "items", MAX_BATCH_ITEMS)?;
    future_into_py(py, async move {
        let handles: Vec<_> = items
            .into_iter()
            .map(|item| tokio::spawn(async move { item.to_uppercase() }))
            .collect();
        let mut results = Vec::with_capacity(handles.len());
        // Awaiting the handles in spawn order keeps the output in input order.
        for handle in handles {
            results.push(handle.await.map_err(task_failed)?);
        }
        Ok(results)
    })
}
// ANCHOR_END: spawn_per_item

// ANCHOR: aggregate
/// "Fetches" every source at once; returns `{source: "Data from {source}"}`.
#[pyfunction]
#[pyo3(signature = (sources, latency_ms = 50))]
pub fn aggregate_async<'py>(
    py: Python<'py>,
    sources: &Bound<'py, PyList>,
    latency_ms: i64,
) -> PyResult<Bound<'py, PyAny>> {
    let latency = millis_in_range("latency_ms", latency_ms, 0, MAX_LATENCY_MS)?;
    let sources = strings_from_list(sources, "sources", MAX_AGGREGATE_SOURCES)?;
    future_into_py(py, async move {
        let fetched = fetch_all(sources, latency).await.map_err(task_failed)?;
        Ok(Aggregated(fetched))
    })
}

/// One simulated I/O call: waits `latency`, then returns the source's data.
async fn fetch_source(source: &str, latency: Duration) -> String {
    // A zero-length Tokio sleep still waits for the timer's next tick (about 1 ms).
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    format!("Data from {source}")
}

/// Fetches each distinct source once, all at the same time, in input order.
async fn fetch_all(
    sources: Vec<String>,
    latency: Duration,
) -> Result<Vec<(String, String)>, JoinError> {
    let mut tasks = JoinSet::new();
    for (index, source) in distinct(sources).into_iter().enumerate() {
        // Each fetch is its own Tokio task; all of them wait at the same time.
        tasks.spawn(async move {
            let data = fetch_source(&source, latency).await;
            (index, source, data)
        });
    }
    // `join_next` yields tasks as they finish, so each result carries its input index.
    // If this future is dropped (Python cancelled it), the JoinSet aborts every task.
    let mut fetched = Vec::with_capacity(tasks.len());
    while let Some(joined) = tasks.join_next().await {
        fetched.push(joined?);
    }
    fetched.sort_unstable_by_key(|(index, _, _)| *index);
    Ok(fetched
        .into_iter()
        .map(|(_, source, data)| (source, data))
        .collect())
}
// ANCHOR_END: aggregate

/// The sources without repeats, each kept where it first appears.
///
/// The result is a `dict`, so a repeated source could only ever keep one entry; fetching
/// it once is the same answer for less work.
fn distinct(sources: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::with_capacity(sources.len());
    sources
        .into_iter()
        .filter(|source| seen.insert(source.clone()))
        .collect()
}

// ANCHOR: aggregated
/// `aggregate_async`'s result: pairs in input order, which become a `dict` in Python.
///
/// A `HashMap` would convert to a `dict` too, but in an arbitrary order; building the
/// `dict` from ordered pairs keeps the response stable. The conversion runs where
/// pyo3-async-runtimes delivers the result, already attached to the interpreter.
struct Aggregated(Vec<(String, String)>);

impl<'py> IntoPyObject<'py> for Aggregated {
    type Target = PyDict;
    type Output = Bound<'py, PyDict>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.0.into_py_dict(py)
    }
}
// ANCHOR_END: aggregated

/// A task that panicked or was aborted becomes a `RuntimeError`, never a panic across FFI.
fn task_failed(err: JoinError) -> PyErr {
    PyRuntimeError::new_err(format!("a Tokio task failed: {err}"))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .enable_time()
            .build()
            .expect("a test runtime with timers can always be built")
    }

    #[test]
    fn strings_from_list_checks_length_then_types() {
        Python::initialize();
        Python::attach(|py| {
            let ok = PyList::new(py, ["a", "b"]).unwrap();
            assert_eq!(strings_from_list(&ok, "items", 2).unwrap(), ["a", "b"]);

            let err = strings_from_list(&ok, "items", 1).unwrap_err();
            assert!(err.is_instance_of::<pyo3::exceptions::PyValueError>(py));
            let message = err.value(py).to_string();
            assert_eq!(message, "items must hold between 0 and 1 strings, got 2");

            let mixed = PyList::empty(py);
            mixed.append("fine").unwrap();
            mixed.append(1).unwrap();
            let err = strings_from_list(&mixed, "sources", 10).unwrap_err();
            assert!(err.is_instance_of::<pyo3::exceptions::PyTypeError>(py));
            assert_eq!(err.value(py).to_string(), "sources[1] must be str, got int");
        });
    }

    #[test]
    fn uppercase_uses_full_unicode_mappings() {
        let items = ["straße", "ﬁne", "λόγος", "abc"].map(String::from).to_vec();
        assert_eq!(uppercase_all(items), ["STRASSE", "FINE", "ΛΌΓΟΣ", "ABC"]);
    }

    #[test]
    fn distinct_keeps_the_first_of_each_in_order() {
        let sources = ["b", "a", "b", "c", "a"].map(String::from).to_vec();
        assert_eq!(distinct(sources), ["b", "a", "c"]);
    }

    #[test]
    fn fetch_all_waits_once_not_once_per_source() {
        let sources: Vec<String> = (0..20).map(|i| format!("s{i}")).collect();
        let started = Instant::now();
        let fetched = runtime()
            .block_on(fetch_all(sources.clone(), Duration::from_millis(200)))
            .unwrap();
        let elapsed = started.elapsed();
        let expected: Vec<_> = sources
            .iter()
            .map(|s| (s.clone(), format!("Data from {s}")))
            .collect();
        assert_eq!(fetched, expected);
        // One after another: 20 x 200 ms = 4 s. Together: about 0.2 s.
        assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    }
}
