"""Async Rust in FastAPI, step 01: one Tokio future awaited from asyncio."""

import asyncio

__all__ = ["MAX_DELAY_MS", "fetch_data_async"]

MAX_DELAY_MS: int
"""The largest ``delay_ms`` that :func:`fetch_data_async` accepts (60000, one minute)."""

def fetch_data_async(id: int, delay_ms: int = 100) -> asyncio.Future[str]:
    """Return ``"Data for ID {id}"`` after ``delay_ms`` milliseconds of simulated I/O.

    The Rust future runs on a Tokio thread; the returned ``asyncio.Future`` completes on
    the running event loop, so call it from ``async def`` code and ``await`` it.

    Raises:
        ValueError: ``delay_ms`` is outside 0..=60000.
        OverflowError: ``id`` or ``delay_ms`` does not fit in a 64-bit signed integer.
        RuntimeError: no event loop is running in this thread.
    """
