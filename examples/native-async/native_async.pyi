"""PyO3's native ``async fn`` next to ``future_into_py``: the same work, both ways.

The ``native_*`` functions return PyO3 coroutines (polled by the asyncio event loop); the
``bridge_*`` functions return ``asyncio.Future`` objects (run by Tokio). A native
coroutine converts and checks its arguments when it is first awaited, not when called.
"""

import asyncio
from collections.abc import Coroutine
from typing import Any, Final

__all__ = [
    "MAX_SLEEP_MS",
    "bridge_ready",
    "bridge_sleep",
    "live_sleeps",
    "native_ready",
    "native_sleep",
    "native_sleep_cancellable",
    "native_sleep_detached",
    "native_sleep_outside_tokio",
]

MAX_SLEEP_MS: Final[int]
"""The longest sleep any function here accepts, in milliseconds."""

def native_ready(value: int) -> Coroutine[Any, Any, int]:
    """Returns ``value`` at once (native coroutine)."""

def native_sleep(ms: int) -> Coroutine[Any, Any, int]:
    """Returns ``ms`` after sleeping ``ms`` ms on Tokio (native coroutine; cancel aborts)."""

def native_sleep_detached(ms: int) -> Coroutine[Any, Any, int]:
    """Like ``native_sleep``, but a cancel detaches the Tokio sleep instead of stopping it."""

def native_sleep_outside_tokio(ms: int) -> Coroutine[Any, Any, int]:
    """Wrong on purpose: polls a Tokio timer outside Tokio; raises ``PanicException``."""

def native_sleep_cancellable(ms: int) -> Coroutine[Any, Any, int]:
    """Like ``native_sleep``; on cancel, stops the Tokio sleep before re-raising."""

def bridge_ready(value: int) -> asyncio.Future[int]:
    """Returns ``value`` at once, through ``future_into_py``."""

def bridge_sleep(ms: int) -> asyncio.Future[int]:
    """Returns ``ms`` after sleeping ``ms`` ms on Tokio, through ``future_into_py``."""

def live_sleeps() -> int:
    """The number of Tokio sleeps alive, in either style."""
