//! One inbox per event loop: where Tokio threads leave finished results, and the socket
//! that wakes the loop to collect them.
//!
//! A Tokio thread never touches a Python object here. It pushes the result, still a Rust
//! value, into the inbox and, only when the inbox was empty, writes one byte to a Unix
//! socket pair. The loop watches the other end with `loop.add_reader`; its callback runs on
//! the loop's thread, with the GIL, takes everything in the inbox at once, converts each
//! result and sets it on the waiting `asyncio.Future`. Ten thousand results that finish
//! within one loop iteration cost one byte and one wake-up, not ten thousand
//! `call_soon_threadsafe` calls.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use pyo3::exceptions::PyNotImplementedError;
use pyo3::prelude::*;
use pyo3::types::PyWeakrefReference;

use super::task::{convert, Task};
use super::{count, SENT_TO_LOOP, WAKEUP_BYTES, WAKEUP_WRITE_ERRORS};

/// A finished future's result, waiting for the GIL: calling it converts the value (or
/// hands back the error) on the loop's thread.
pub type Finished = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here is a push, a take or a map update: none can leave the
    // data half-changed, so a panic elsewhere while holding the lock is no reason to fail.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ANCHOR: inbox
/// The part of a loop's bridge that Tokio threads see: plain Rust, no Python object.
pub struct Inbox {
    sent: Mutex<Sent>,
    /// One byte here wakes the loop; `wake_rx` is the end the loop watches. Both ends live
    /// as long as the inbox, so a write never meets a closed peer (no `SIGPIPE`).
    wake_tx: UnixStream,
    wake_rx: UnixStream,
}

struct Sent {
    finished: Vec<(u64, Finished)>,
    /// A wake-up byte is on its way to the loop: later results ride along with it.
    woken: bool,
}

impl Inbox {
    pub fn new() -> std::io::Result<Self> {
        let (wake_tx, wake_rx) = UnixStream::pair()?;
        // Neither side may ever block: the writer is a Tokio worker, the reader the loop.
        wake_tx.set_nonblocking(true)?;
        wake_rx.set_nonblocking(true)?;
        Ok(Inbox {
            sent: Mutex::new(Sent {
                finished: Vec::new(),
                woken: false,
            }),
            wake_tx,
            wake_rx,
        })
    }

    /// Called on a Tokio thread when the future `key` has finished.
    pub fn send(&self, key: u64, result: Finished) {
        let must_wake = {
            let mut sent = lock(&self.sent);
            sent.finished.push((key, result));
            !std::mem::replace(&mut sent.woken, true)
        };
        count(&SENT_TO_LOOP);
        if must_wake {
            self.wake();
        }
    }

    /// Writes the wake-up byte. A failed write is counted (`bridge_stats`) and leaves
    /// `woken` unset, so the next result tries again instead of waiting behind no byte.
    fn wake(&self) {
        loop {
            match (&self.wake_tx).write(&[1]) {
                Ok(_) => return count(&WAKEUP_BYTES),
                // A full socket buffer: bytes are waiting already, the loop will wake.
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    lock(&self.sent).woken = false;
                    return count(&WAKEUP_WRITE_ERRORS);
                }
            }
        }
    }

    /// Everything sent so far; called on the loop's thread.
    pub(super) fn take(&self) -> Vec<(u64, Finished)> {
        // Empty the socket *before* taking the results: a result sent after the take finds
        // `woken` unset and writes a new byte, which the next wake-up will read.
        let mut bytes = [0_u8; 64];
        loop {
            match (&self.wake_rx).read(&mut bytes) {
                Ok(n) if n == bytes.len() => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // Read less than a full buffer, or nothing left (`WouldBlock`): empty.
                _ => break,
            }
        }
        let mut sent = lock(&self.sent);
        sent.woken = false;
        std::mem::take(&mut sent.finished)
    }
}
// ANCHOR_END: inbox

// ANCHOR: loop_bridge
/// The loop's side: its inbox, and the futures still waiting for a result, by key.
///
/// The `add_reader` callback of its loop (`__call__`), so the loop owns it: it lives as
/// long as the loop watches its socket, and goes (its socket closed) when the loop closes.
#[pyclass(frozen, weakref, module = "fastapi_async")]
pub struct LoopBridge {
    inbox: Arc<Inbox>,
    /// Only the loop's thread touches it (with the GIL); the mutex is never contended.
    waiting: Mutex<Waiting>,
    /// Futures handed out done since the loop last ran its callbacks (see `BUDGET`).
    ready_streak: AtomicU32,
    /// Futures done at the call but over budget: `_new_budget` sets their results.
    over_budget: Mutex<Vec<Deferred>>,
}

/// A future done at the call, over budget, and its converted result.
type Deferred = (Py<PyAny>, PyResult<Py<PyAny>>);

struct Waiting {
    next_key: u64,
    futures: HashMap<u64, (Py<PyAny>, Arc<Task>)>,
}

#[pymethods]
impl LoopBridge {
    /// The reader callback: sets the result of every future whose Rust side has finished.
    fn __call__(&self, py: Python<'_>) {
        for (key, result) in self.inbox.take() {
            // Gone when the future was cancelled: its result is dropped here, unconverted.
            let Some((future, _task)) = lock(&self.waiting).futures.remove(&key) else {
                continue;
            };
            // A panic converting this result fails this future only, not the batch.
            deliver(future.bind(py), || convert(result, py));
        }
    }

    /// Runs once per loop iteration in which futures were handed out done: a new budget,
    /// and the results of the futures that were over the last one.
    fn _new_budget(&self, py: Python<'_>) {
        self.ready_streak.store(0, Ordering::Relaxed);
        let over_budget = std::mem::take(&mut *lock(&self.over_budget));
        for (future, result) in over_budget {
            deliver(future.bind(py), || result);
        }
    }
}
// ANCHOR_END: loop_bridge

// ANCHOR: budget
/// How many futures in a row a loop may get back done before one must wait for the loop's
/// next iteration: Tokio's own cooperative budget (128 polls per task), for the same
/// reason. `while await counter.get_count_async() < 3` would otherwise never yield, and
/// the loop would run no other task, timer or I/O callback.
const BUDGET: u32 = 128;

impl LoopBridge {
    /// Whether the next done future may be handed out done; the first one of a loop
    /// iteration schedules `_new_budget`, which the loop runs at its next iteration.
    pub fn within_budget(slf: &Bound<'_, Self>, event_loop: &Bound<'_, PyAny>) -> PyResult<bool> {
        let streak = slf.get().ready_streak.fetch_add(1, Ordering::Relaxed);
        if streak == 0 {
            let py = slf.py();
            let new_budget = slf.getattr(pyo3::intern!(py, "_new_budget"))?;
            event_loop.call_method1(pyo3::intern!(py, "call_soon"), (new_budget,))?;
        }
        Ok(streak < BUDGET)
    }

    /// `future` (not done) gets `result` at the loop's next iteration, from `_new_budget`,
    /// which the first future of this iteration has scheduled.
    pub fn defer(&self, future: Py<PyAny>, result: PyResult<Py<PyAny>>) {
        lock(&self.over_budget).push((future, result));
    }
}
// ANCHOR_END: budget

impl LoopBridge {
    pub fn inbox(&self) -> &Arc<Inbox> {
        &self.inbox
    }

    /// A key for a future about to wait in this loop.
    pub fn next_key(&self) -> u64 {
        let mut waiting = lock(&self.waiting);
        waiting.next_key += 1;
        waiting.next_key
    }

    /// `future` waits for the result that `task` will send with `key`.
    pub fn wait(&self, key: u64, future: Py<PyAny>, task: Arc<Task>) {
        lock(&self.waiting).futures.insert(key, (future, task));
    }

    /// Stops waiting for `key`: the task, if its result has not been delivered yet.
    pub fn forget(&self, key: u64) -> Option<Arc<Task>> {
        // The future is dropped after the lock is released: its last reference may run
        // Python code (`__del__`), which may call back into the bridge.
        let (future, task) = lock(&self.waiting).futures.remove(&key)?;
        drop(future);
        Some(task)
    }
}

impl Drop for LoopBridge {
    /// The loop has closed (or been freed): nothing will await its futures any more, so
    /// their Rust futures are dropped rather than left running for no one.
    fn drop(&mut self) {
        let waiting = std::mem::take(&mut lock(&self.waiting).futures);
        for (_future, task) in waiting.into_values() {
            let _ = task.cancel();
        }
    }
}

/// Sets `result()` on `future` unless it is done already (cancelled, or some other code
/// called `set_result`, which is public); an error doing so is reported, never raised.
fn deliver(future: &Bound<'_, PyAny>, result: impl FnOnce() -> PyResult<Py<PyAny>>) {
    let py = future.py();
    let delivered = match future.call_method0(pyo3::intern!(py, "done")) {
        Ok(done) if done.is_truthy().unwrap_or(false) => Ok(()),
        Ok(_) => resolve(future, result()),
        Err(e) => Err(e),
    };
    if let Err(e) = delivered {
        e.write_unraisable(py, Some(future));
    }
}

/// Sets `result` (a value or an exception) on `future`, which must not be done.
pub fn resolve(future: &Bound<'_, PyAny>, result: PyResult<Py<PyAny>>) -> PyResult<()> {
    let py = future.py();
    match result {
        Ok(value) => future.call_method1(pyo3::intern!(py, "set_result"), (value,))?,
        Err(error) => future.call_method1(pyo3::intern!(py, "set_exception"), (error,))?,
    };
    Ok(())
}

// ANCHOR: registry
/// Every event loop the bridge has served, by address, and its bridge (`None`: the loop
/// cannot watch a socket), both held weakly: the loop owns its bridge through
/// `add_reader`, and nothing here keeps a loop, its bridge or their sockets alive.
static LOOPS: Mutex<Vec<Served>> = Mutex::new(Vec::new());

struct Served {
    address: usize,
    event_loop: Py<PyWeakrefReference>,
    bridge: Option<Py<PyWeakrefReference>>,
}

impl LoopBridge {
    /// The bridge of `event_loop`, created (and its socket watched) on first use.
    pub fn for_loop<'py>(event_loop: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, Self>>> {
        if let Some(bridge) = Self::listed(event_loop) {
            return Ok(bridge);
        }
        let bridge = Self::watch(event_loop)?;
        let served = Served {
            address: event_loop.as_ptr() as usize,
            event_loop: PyWeakrefReference::new(event_loop)?.unbind(),
            bridge: match &bridge {
                Some(bridge) => Some(PyWeakrefReference::new(bridge)?.unbind()),
                None => None,
            },
        };
        let py = event_loop.py();
        let mut loops = lock(&LOOPS);
        // Loops freed since (a new one may have the same address) and loops closed since
        // (their bridge went with their reader) are forgotten.
        let (forgotten, kept) = std::mem::take(&mut *loops)
            .into_iter()
            .partition(|s| s.event_loop.bind(py).upgrade().is_none() || s.bridge_gone(py));
        *loops = kept;
        loops.push(served);
        drop(loops);
        drop::<Vec<Served>>(forgotten); // dead weak references: dropping them runs no code
        Ok(bridge)
    }

    /// The bridge of `event_loop` if it has been served before (`Some(None)`: no bridge).
    pub fn listed<'py>(event_loop: &Bound<'py, PyAny>) -> Option<Option<Bound<'py, Self>>> {
        let py = event_loop.py();
        let address = event_loop.as_ptr() as usize;
        // Upgrading a weak reference runs no Python code (which could release the GIL and
        // let another thread wait for this lock while holding the GIL).
        let loops = lock(&LOOPS);
        let served = loops.iter().find(|s| s.address == address)?;
        // The address of a freed loop, reused by this one: not served yet.
        if !served
            .event_loop
            .bind(py)
            .upgrade()
            .is_some_and(|l| l.is(event_loop))
        {
            return None;
        }
        match &served.bridge {
            None => Some(None),
            // `None` (not served) if the bridge went: the loop removed its reader.
            Some(bridge) => Some(Some(bridge.bind(py).upgrade_as::<Self>().ok()??)),
        }
    }

    /// Creates a bridge and registers its socket with `loop.add_reader`.
    fn watch<'py>(event_loop: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, Self>>> {
        let py = event_loop.py();
        let inbox = Inbox::new()?;
        let fd = inbox.wake_rx.as_raw_fd();
        let bridge = Bound::new(
            py,
            Self {
                inbox: Arc::new(inbox),
                waiting: Mutex::new(Waiting {
                    next_key: 0,
                    futures: HashMap::new(),
                }),
                ready_streak: AtomicU32::new(0),
                over_budget: Mutex::new(Vec::new()),
            },
        )?;
        // `add_reader` keeps a copy of the current context (the first request's) for as
        // long as the reader is registered: register it in an empty one.
        let add_reader = event_loop.getattr(pyo3::intern!(py, "add_reader"))?;
        let empty = py.import("contextvars")?.getattr("Context")?.call0()?;
        match empty.call_method1(pyo3::intern!(py, "run"), (add_reader, fd, &bridge)) {
            Ok(_) => Ok(Some(bridge)),
            // Windows' proactor loop has no add_reader.
            Err(e) if e.is_instance_of::<PyNotImplementedError>(py) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Served {
    fn bridge_gone(&self, py: Python<'_>) -> bool {
        self.bridge
            .as_ref()
            .is_some_and(|b| b.bind(py).upgrade().is_none())
    }
}
// ANCHOR_END: registry

#[cfg(test)]
mod tests {
    use super::*;

    /// A result that is never converted: these tests need no interpreter.
    fn unit() -> Finished {
        Box::new(|_py: Python<'_>| unreachable!("not converted in these tests"))
    }

    /// How many wake-up bytes are waiting in the socket.
    fn bytes_waiting(inbox: &Inbox) -> usize {
        let mut bytes = [0_u8; 64];
        (&inbox.wake_rx).read(&mut bytes).unwrap_or(0)
    }

    #[test]
    fn results_sent_together_write_one_wakeup_byte() {
        let inbox = Inbox::new().unwrap();
        for key in 1..=3 {
            inbox.send(key, unit());
        }
        assert_eq!(bytes_waiting(&inbox), 1);
    }

    #[test]
    fn take_returns_every_result_in_order_and_empties_the_inbox() {
        let inbox = Inbox::new().unwrap();
        for key in 1..=3 {
            inbox.send(key, unit());
        }
        let keys: Vec<u64> = inbox.take().into_iter().map(|(key, _)| key).collect();
        assert_eq!(keys, [1, 2, 3]);
        assert!(inbox.take().is_empty());
        assert_eq!(bytes_waiting(&inbox), 0, "take reads the byte too");
    }

    #[test]
    fn a_failed_wakeup_write_is_tried_again_by_the_next_result() {
        let inbox = Inbox::new().unwrap();
        inbox.wake_tx.shutdown(std::net::Shutdown::Write).unwrap(); // every write fails
        let errors = || WAKEUP_WRITE_ERRORS.load(Ordering::Relaxed);
        let before = errors();
        inbox.send(1, unit());
        inbox.send(2, unit());
        assert_eq!(errors() - before, 2, "the second result wrote again");
    }

    #[test]
    fn a_result_sent_after_a_take_writes_a_new_byte() {
        let inbox = Inbox::new().unwrap();
        inbox.send(1, unit());
        assert_eq!(inbox.take().len(), 1);
        inbox.send(2, unit());
        assert_eq!(bytes_waiting(&inbox), 1);
    }
}
