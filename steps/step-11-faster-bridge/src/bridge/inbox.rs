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
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use pyo3::exceptions::PyNotImplementedError;
use pyo3::prelude::*;

use super::task::Task;
use super::{count, LOOP_WAKEUPS, SENT_TO_LOOP};

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
    finished: Mutex<Vec<(u64, Finished)>>,
    /// One byte here wakes the loop; `wake_rx` is the end the loop watches. Both ends live
    /// as long as the inbox, so a write never meets a closed peer (no `SIGPIPE`).
    wake_tx: UnixStream,
    wake_rx: UnixStream,
}

impl Inbox {
    pub fn new() -> std::io::Result<Self> {
        let (wake_tx, wake_rx) = UnixStream::pair()?;
        // Neither side may ever block: the writer is a Tokio worker, the reader the loop.
        wake_tx.set_nonblocking(true)?;
        wake_rx.set_nonblocking(true)?;
        Ok(Inbox {
            finished: Mutex::new(Vec::new()),
            wake_tx,
            wake_rx,
        })
    }

    /// Called on a Tokio thread when the future `key` has finished.
    pub fn send(&self, key: u64, result: Finished) {
        let was_empty = {
            let mut finished = lock(&self.finished);
            finished.push((key, result));
            finished.len() == 1
        };
        count(&SENT_TO_LOOP);
        // Only the first result of a batch wakes the loop; the others ride along. A full
        // socket buffer (`WouldBlock`) means a wake-up is already pending: nothing is lost.
        if was_empty {
            let _ = (&self.wake_tx).write(&[1]);
        }
    }

    /// Everything sent so far; called on the loop's thread.
    pub(super) fn take(&self) -> Vec<(u64, Finished)> {
        // Empty the socket *before* taking the results: a result sent after the take finds
        // the inbox empty and writes a new byte, which the next wake-up will read.
        let mut bytes = [0_u8; 64];
        loop {
            match (&self.wake_rx).read(&mut bytes) {
                Ok(n) if n == bytes.len() => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // Read less than a full buffer, or nothing left (`WouldBlock`): empty.
                _ => break,
            }
        }
        std::mem::take(&mut *lock(&self.finished))
    }
}
// ANCHOR_END: inbox

// ANCHOR: loop_bridge
/// The loop's side: its inbox, and the futures still waiting for a result, by key.
///
/// The `add_reader` callback of its loop (`__call__`), so the loop owns it and it lives
/// as long as the loop watches its socket.
#[pyclass(frozen, module = "fastapi_async")]
pub struct LoopBridge {
    inbox: Arc<Inbox>,
    /// Only the loop's thread touches it (with the GIL); the mutex is never contended.
    waiting: Mutex<Waiting>,
}

struct Waiting {
    next_key: u64,
    futures: HashMap<u64, (Py<PyAny>, Arc<Task>)>,
}

#[pymethods]
impl LoopBridge {
    /// The reader callback: sets the result of every future whose Rust side has finished.
    fn __call__(&self, py: Python<'_>) {
        let finished = self.inbox.take();
        if finished.is_empty() {
            return; // a byte from a batch that an earlier wake-up already delivered
        }
        count(&LOOP_WAKEUPS);
        for (key, result) in finished {
            // Gone when the future was cancelled: its result is dropped here, unconverted.
            let Some((future, _task)) = lock(&self.waiting).futures.remove(&key) else {
                continue;
            };
            let future = future.bind(py);
            // Done already if Python cancelled it after Rust sent the result.
            let delivered = match future.call_method0(pyo3::intern!(py, "done")) {
                Ok(done) if done.is_truthy().unwrap_or(false) => Ok(()),
                Ok(_) => resolve(future, result(py)),
                Err(e) => Err(e),
            };
            if let Err(e) = delivered {
                e.write_unraisable(py, Some(future));
            }
        }
    }
}
// ANCHOR_END: loop_bridge

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
/// Every event loop the bridge has served, with its bridge (`None`: the loop cannot watch
/// a socket). Loops hold their bridge through `add_reader`; this list holds the loops, so
/// that a loop's address is never reused while it is listed. A closed loop is removed the
/// next time an unknown loop turns up.
static LOOPS: Mutex<Vec<Served>> = Mutex::new(Vec::new());

/// An event loop, and its bridge (`None`: the loop has no `add_reader`).
type Served = (Py<PyAny>, Option<Py<LoopBridge>>);

impl LoopBridge {
    /// The bridge of `event_loop`, created (and its socket watched) on first use.
    pub fn for_loop<'py>(event_loop: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, Self>>> {
        let py = event_loop.py();
        if let Some(bridge) = Self::listed(event_loop) {
            return Ok(bridge);
        }
        // A new loop (a new `asyncio.run`, a test's loop): forget the closed ones first.
        let known: Vec<Py<PyAny>> = lock(&LOOPS).iter().map(|(l, _)| l.clone_ref(py)).collect();
        let mut closed = Vec::new();
        for l in known {
            if l.call_method0(py, pyo3::intern!(py, "is_closed"))?
                .is_truthy(py)?
            {
                closed.push(l);
            }
        }
        let bridge = Self::watch(event_loop)?;
        let mut loops = lock(&LOOPS);
        let (forgotten, open): (Vec<_>, Vec<_>) = std::mem::take(&mut *loops)
            .into_iter()
            .partition(|(l, _)| closed.iter().any(|c| c.is(l)));
        *loops = open;
        loops.push((
            event_loop.clone().unbind(),
            bridge.clone().map(Bound::unbind),
        ));
        drop(loops);
        // Dropped with the lock released: a loop's last reference may run Python code.
        drop(forgotten);
        Ok(bridge)
    }

    /// The bridge of `event_loop` if it has been served before (`Some(None)`: no bridge).
    pub fn listed<'py>(event_loop: &Bound<'py, PyAny>) -> Option<Option<Bound<'py, Self>>> {
        // No Python code runs while `LOOPS` is locked: Python code may release the GIL, and
        // another thread holding the GIL would then wait for this lock forever.
        lock(&LOOPS)
            .iter()
            .find(|(l, _)| l.is(event_loop))
            .map(|(_, bridge)| bridge.as_ref().map(|b| b.bind(event_loop.py()).clone()))
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
            },
        )?;
        match event_loop.call_method1(pyo3::intern!(py, "add_reader"), (fd, &bridge)) {
            Ok(_) => Ok(Some(bridge)),
            // Windows' proactor loop has no add_reader.
            Err(e) if e.is_instance_of::<PyNotImplementedError>(py) => Ok(None),
            Err(e) => Err(e),
        }
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
    fn a_result_sent_after_a_take_writes_a_new_byte() {
        let inbox = Inbox::new().unwrap();
        inbox.send(1, unit());
        assert_eq!(inbox.take().len(), 1);
        inbox.send(2, unit());
        assert_eq!(bytes_waiting(&inbox), 1);
    }
}
