"""The Troubleshooting page's pitfalls, each broken function next to its fix. Not for use."""

from asyncio import Future
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")

__all__ = [
    "MAX_MS",
    "blocking_sleep_async",
    "call_back_detached",
    "call_back_holding_gil",
    "fetch_data_async",
    "fetch_unguarded_async",
    "offloaded_sleep_async",
    "panic_async",
    "sleep_async",
    "sleep_eager",
]

MAX_MS: int
"""The longest sleep any function here accepts, in milliseconds."""

def fetch_data_async(id: int, delay_ms: int) -> Future[str]:
    """Returns ``"Data for ID {id}"`` after ``delay_ms`` ms, through the exit guard."""

def fetch_unguarded_async(id: int, delay_ms: int) -> Future[str]:
    """BROKEN: the same, through the plain bridge; the process can abort at exit."""

def panic_async(message: str) -> Future[None]:
    """Panics with ``message`` inside the future; awaiting it raises ``RustPanic``."""

def sleep_eager(ms: int) -> Future[None]:
    """BROKEN: builds the Tokio timer outside the runtime; panics ("no reactor running")."""

def sleep_async(ms: int) -> Future[None]:
    """FIXED: sleeps ``ms`` milliseconds on the Tokio runtime."""

def blocking_sleep_async(ms: int) -> Future[None]:
    """BROKEN: ``std::thread::sleep`` inside the future; stalls the one Tokio worker."""

def offloaded_sleep_async(ms: int) -> Future[None]:
    """FIXED: the same blocking sleep, on Tokio's blocking pool."""

def call_back_holding_gil(callback: Callable[[], _T]) -> _T:
    """BROKEN: deadlocks: blocks on a Tokio task that needs the GIL this call holds."""

def call_back_detached(callback: Callable[[], _T]) -> _T:
    """FIXED: the same call with the GIL released while waiting; returns ``callback()``."""
