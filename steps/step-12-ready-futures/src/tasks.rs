//! `active_tasks`: a count of the Rust futures alive right now, for tests and metrics (step 04).
//!
//! Cancellation is invisible from the outside: when Python cancels an awaitable, nothing
//! tells you whether the Rust future behind it was dropped or is still running, holding a
//! timer, a connection or a permit. `TaskGuard` makes it visible. Each future that
//! `api_call_with_timeout` creates owns one guard, and so does each computation of
//! `compute_progress_stream` (step 09) while it runs; the guard adds one to a global counter
//! when it is created and subtracts one in `Drop`, which runs however the future ends:
//! completed, timed out, or dropped half-way because Python cancelled it.
//! `active_tasks()` reads the counter, so a test can wait for it to return to 0.

use std::sync::atomic::{AtomicUsize, Ordering};

use pyo3::prelude::*;

// ANCHOR: guard
/// How many `TaskGuard`s exist, that is, how many guarded futures are alive.
static ACTIVE_TASKS: AtomicUsize = AtomicUsize::new(0);

/// Counts one live future for as long as it exists (RAII: created with it, dropped with it).
///
/// Move it into the `async move` block: it is then dropped exactly when the future is,
/// after it completes, or when Tokio drops it unfinished (cancellation).
#[must_use = "the task is counted only while the guard is alive"]
pub struct TaskGuard(());

impl TaskGuard {
    pub fn new() -> Self {
        // A lone counter that orders no other memory: `Relaxed` is enough, and every
        // read still sees each increment and decrement in one total order.
        ACTIVE_TASKS.fetch_add(1, Ordering::Relaxed);
        TaskGuard(())
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        ACTIVE_TASKS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The number of `api_call_with_timeout` futures that are alive (pending, or not yet
/// dropped after they finished or were cancelled), plus the `compute_progress_stream`
/// computations still running.
#[pyfunction]
pub fn active_tasks() -> usize {
    ACTIVE_TASKS.load(Ordering::Relaxed)
}
// ANCHOR_END: guard

#[cfg(test)]
mod tests {
    use super::*;

    // The only test in this crate that creates guards, so no other test moves the counter.
    #[test]
    fn guard_counts_while_alive_and_uncounts_on_drop() {
        let before = active_tasks();
        let first = TaskGuard::new();
        let second = TaskGuard::new();
        assert_eq!(active_tasks(), before + 2);
        drop(first);
        assert_eq!(active_tasks(), before + 1);
        // A future that owns a guard releases it when the future is dropped unpolled.
        let future = async move {
            let _guard = second;
        };
        drop(future);
        assert_eq!(active_tasks(), before);
    }
}
