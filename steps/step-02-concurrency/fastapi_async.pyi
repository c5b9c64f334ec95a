"""Async Rust in FastAPI, step 02: concurrent Tokio futures, one crossing per batch."""

import asyncio

__all__ = [
    "MAX_AGGREGATE_SOURCES",
    "MAX_BATCH_ITEMS",
    "MAX_DELAY_MS",
    "MAX_LATENCY_MS",
    "aggregate_async",
    "fetch_data_async",
    "process_batch_async",
    "process_batch_spawn_per_item_async",
]

MAX_DELAY_MS: int
"""The largest ``delay_ms`` that :func:`fetch_data_async` accepts (60000, one minute)."""

MAX_BATCH_ITEMS: int
"""The most strings :func:`process_batch_async` accepts in one call (100000)."""

MAX_AGGREGATE_SOURCES: int
"""The most sources :func:`aggregate_async` accepts in one call (1000)."""

MAX_LATENCY_MS: int
"""The largest ``latency_ms`` that :func:`aggregate_async` accepts (60000, one minute)."""

def fetch_data_async(id: int, delay_ms: int = 100) -> asyncio.Future[str]:
    """Return ``"Data for ID {id}"`` after ``delay_ms`` milliseconds of simulated I/O.

    The Rust future runs on a Tokio thread; the returned ``asyncio.Future`` completes on
    the running event loop, so call it from ``async def`` code and ``await`` it.

    Raises:
        ValueError: ``delay_ms`` is outside 0..=60000.
        OverflowError: ``id`` or ``delay_ms`` does not fit in a 64-bit signed integer.
        RuntimeError: no event loop is running in this thread.
    """

def process_batch_async(items: list[str]) -> asyncio.Future[list[str]]:
    """Return every string of ``items`` upper-cased, in the same order.

    The list is checked and copied into Rust once, at the call; one Tokio future then
    upper-cases every item without the GIL. Upper-casing is Unicode's full mapping, as
    ``str.upper`` does (``"ß"`` becomes ``"SS"``), but from the Unicode version of the Rust
    standard library, which can be newer than this Python's ``unicodedata.unidata_version``.

    Raises:
        ValueError: ``items`` holds more than 100000 strings.
        TypeError: ``items`` is not a ``list``, or one of its items is not a ``str``.
        UnicodeEncodeError: an item holds a lone surrogate (it has no UTF-8 form).
        RuntimeError: no event loop is running in this thread.
    """

def process_batch_spawn_per_item_async(items: list[str]) -> asyncio.Future[list[str]]:
    """The slow shape, kept to measure it: :func:`process_batch_async` (same result, limits
    and exceptions) with one Tokio task per item. Spawning costs far more than upper-casing
    one string: this is slower than a Python list comprehension (see ``bench/``)."""

def aggregate_async(sources: list[str], latency_ms: int = 50) -> asyncio.Future[dict[str, str]]:
    """Return ``{source: "Data from {source}"}`` after "fetching" every source at once.

    Each fetch is a Tokio task that waits ``latency_ms`` milliseconds of simulated I/O; the
    tasks wait together, so the whole call takes about one latency, not their sum. A source
    listed more than once is fetched once and has one key; keys keep the order in which each
    source first appears.

    Raises:
        ValueError: ``latency_ms`` is outside 0..=60000, or ``sources`` holds more than 1000
            strings.
        TypeError: ``sources`` is not a ``list``, or one of its items is not a ``str``.
        UnicodeEncodeError: a source holds a lone surrogate.
        OverflowError: ``latency_ms`` does not fit in a 64-bit signed integer.
        RuntimeError: no event loop is running in this thread.
    """
