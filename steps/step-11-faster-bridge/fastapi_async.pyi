"""Async Rust in FastAPI, step 11: step 10's extension with a faster asyncio-Tokio bridge."""

import asyncio
from collections.abc import Callable
from typing import Literal, TypedDict, final

__all__ = [
    "ATTEMPT_TIMEOUT_MS",
    "MAX_AGGREGATE_SOURCES",
    "MAX_ALLOWED_HOSTS",
    "MAX_BATCH_ITEMS",
    "MAX_COMPUTE_N",
    "MAX_CONCURRENT",
    "MAX_DELAY_MS",
    "MAX_ENDPOINT_LEN",
    "MAX_LATENCY_MS",
    "MAX_REDIRECTS",
    "MAX_RETRIES",
    "MAX_TIMEOUT_MS",
    "MAX_URL_LEN",
    "MAX_WORKER_THREADS",
    "MIN_TIMEOUT_MS",
    "OVERALL_TIMEOUT_MS",
    "AsyncCounter",
    "ConcurrencyStats",
    "CounterBackendError",
    "DeadlineExceededError",
    "HostNotAllowedError",
    "HttpStatusError",
    "ProgressStream",
    "ProgressUpdate",
    "RetryExhaustedError",
    "RustPanic",
    "active_tasks",
    "aggregate_async",
    "api_call_with_timeout",
    "bridge_stats",
    "check_allowed_hosts",
    "compute_progress_stream",
    "compute_with_progress",
    "fetch_data_async",
    "fetch_with_retry",
    "process_batch_async",
    "process_batch_spawn_per_item_async",
    "process_with_concurrency",
    "runtime_info",
]

MAX_DELAY_MS: int
"""The largest ``delay_ms`` that :func:`fetch_data_async` accepts (60000, one minute)."""

MAX_BATCH_ITEMS: int
"""The most items :func:`process_batch_async` and :func:`process_with_concurrency` accept
in one call (100000)."""

MAX_AGGREGATE_SOURCES: int
"""The most sources :func:`aggregate_async` accepts in one call (1000)."""

MAX_LATENCY_MS: int
"""The largest simulated ``latency_ms`` any function accepts (60000, one minute)."""

MIN_TIMEOUT_MS: int
"""The smallest ``timeout_ms`` that :func:`api_call_with_timeout` accepts (1)."""

MAX_TIMEOUT_MS: int
"""The largest ``timeout_ms`` that :func:`api_call_with_timeout` accepts (60000)."""

MAX_ENDPOINT_LEN: int
"""The longest ``endpoint``, in characters, that :func:`api_call_with_timeout` accepts (256)."""

MAX_CONCURRENT: int
"""The largest ``max_concurrent`` that :func:`process_with_concurrency` accepts (1000).

The least is 1: a semaphore with no permits never grants one, so the batch would hang.
"""

MAX_RETRIES: int
"""The largest ``max_retries`` that :func:`fetch_with_retry` accepts (10: 11 attempts)."""

ATTEMPT_TIMEOUT_MS: int
"""How long one attempt (connect, send, read the body) may take (5000 ms); then it is retried."""

OVERALL_TIMEOUT_MS: int
"""How long one :func:`fetch_with_retry` call may take in all, waits included (30000 ms)."""

MAX_URL_LEN: int
"""The longest ``url``, in bytes, that :func:`fetch_with_retry` accepts (2048)."""

MAX_REDIRECTS: int
"""How many redirects one attempt of :func:`fetch_with_retry` follows (5); more fail."""

MAX_ALLOWED_HOSTS: int
"""The most entries ``allowed_hosts`` of :func:`fetch_with_retry` may hold (100)."""

MAX_COMPUTE_N: int
"""The largest ``n`` that :func:`compute_with_progress` and :func:`compute_progress_stream`
accept (1000000000, 10**9)."""

MAX_WORKER_THREADS: int
"""The most Tokio worker threads ``FASTAPI_ASYNC_WORKER_THREADS`` may set (64)."""

class _RuntimeInfo(TypedDict):
    worker_threads: int
    max_blocking_threads: int
    started: bool

class _BridgeStats(TypedDict):
    sent_to_loop: int
    wakeup_bytes: int
    wakeup_write_errors: int

def bridge_stats() -> _BridgeStats:
    """What the bridge between asyncio and Tokio did since the module was imported.

    ``sent_to_loop``: results handed to an event loop from Tokio. ``wakeup_bytes``: the
    bytes written to wake a loop for them; results that arrive together share one, so it
    can be far lower. ``wakeup_write_errors``: wake-up writes that failed (the next result
    writes again).
    """

def runtime_info() -> _RuntimeInfo:
    """The Tokio runtime's configuration, and whether it has started.

    ``worker_threads``: ``FASTAPI_ASYNC_WORKER_THREADS`` (1..=64, read at import: a bad value
    makes the import raise ``ValueError``), else the CPUs this process may use, at most 4.
    ``max_blocking_threads`` bounds the threads of CPU-bound work (16). The runtime starts
    at the first call that needs it, never at import, so a server may import the module and
    then fork; in a process forked after it started, every call raises ``RuntimeError``.
    """

class RustPanic(Exception):
    """A panic inside a Rust future, raised when the future is awaited.

    Defined by pyo3-async-runtimes (``pyo3_async_runtimes.RustPanic``), raised by this
    step's bridge too, and re-exported so an app can map it to an HTTP 500. The process and
    its runtime keep running.
    """

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

class CounterBackendError(ConnectionError):
    """The Redis server of an :class:`AsyncCounter` failed or could not be reached.

    Raised within a few seconds, never a hang: a connection attempt waits at most 1 s, a
    command 1 s, and a connection is tried 3 times. The message names the server's address
    and the command, never the URL (it may hold a password).
    """

@final  # a Rust class (`#[pyclass]` without `subclass`): Python cannot subclass it
class AsyncCounter:
    """A count shared by every awaitable its methods return.

    By default the count lives in Rust behind a mutex, in this process: any number of
    concurrent calls, from any number of tasks, add up exactly, but two counters, or two
    processes (``uvicorn --workers N``), never share a count.

    When the environment variable ``FASTAPI_ASYNC_REDIS_URL`` is set and not blank (for
    example ``redis://127.0.0.1:6379/0``) as the counter is created, the count lives in that Redis
    server instead, under the key ``fastapi_async:counter``, shared by every process and
    machine that uses the server: ``increment_async`` is Redis's atomic ``INCR``,
    ``get_count_async`` a ``GET``, ``reset_async`` a ``SET`` to 0. The connection is made
    by the first call, then reused; after an error (a Redis restart) a later call reconnects.

    Each method returns an ``asyncio.Future``; call it from ``async def`` code (with no
    running event loop it raises ``RuntimeError``).
    """

    def __new__(cls) -> AsyncCounter:
        """A new counter; at 0 when in-process (a Redis count keeps its current value).

        Raises:
            ValueError: ``FASTAPI_ASYNC_REDIS_URL`` is set but is not a ``redis://`` URL
                (``rediss://``, Redis over TLS, is not built in). Nothing is connected yet.
        """

    @property
    def backend(self) -> Literal["in-process", "redis"]:
        """Where the count lives, chosen at construction."""

    def increment_async(self) -> asyncio.Future[int]:
        """Add one; resolves to the new count.

        Raises:
            OverflowError: (from the awaited future) the count is already at its maximum,
                2**64 - 1 in-process, 2**63 - 1 in Redis; it stays unchanged.
            CounterBackendError: (from the awaited future) Redis failed or did not answer;
                the increment may or may not have been counted.
        """

    def get_count_async(self) -> asyncio.Future[int]:
        """Resolves to the current count.

        Raises:
            CounterBackendError: (from the awaited future) Redis failed or did not answer,
                or its key holds something that is not a count.
        """

    def reset_async(self) -> asyncio.Future[int]:
        """Set the count to 0; resolves to 0."""

class DeadlineExceededError(TimeoutError, RuntimeError):
    """A deadline enforced in Rust passed; the message names the call and the limit.

    A ``TimeoutError``, so ``except TimeoutError`` (and ``except asyncio.TimeoutError``)
    catch it, and a ``RuntimeError`` too, so code written for ``pyo3-asyncio``, whose Rust
    errors arrived as ``RuntimeError``, keeps catching it.
    """

def api_call_with_timeout(
    endpoint: str, timeout_ms: int, latency_ms: int = 100
) -> asyncio.Future[str]:
    """Return ``"Response from {endpoint}"`` after ``latency_ms`` milliseconds of simulated
    upstream I/O, unless ``timeout_ms`` passes first.

    The deadline is enforced inside Rust with ``tokio::time::timeout``: when it passes, the
    simulated call is dropped and the future fails with :class:`DeadlineExceededError`
    after about ``timeout_ms``. Cancelling the returned future (``asyncio.wait_for``,
    ``Task.cancel()``) drops the Rust future as well; :func:`active_tasks` counts the
    futures of this function that are still alive.

    Raises:
        DeadlineExceededError: (from the awaited future) ``timeout_ms`` passed before the
            response; the message names the endpoint and the limit.
        ValueError: ``endpoint`` is empty or longer than 256 characters, ``timeout_ms`` is
            outside 1..=60000, or ``latency_ms`` is outside 0..=60000.
        OverflowError: ``timeout_ms`` or ``latency_ms`` does not fit in a 64-bit signed
            integer.
        RuntimeError: no event loop is running in this thread.
    """

def active_tasks() -> int:
    """The number of :func:`api_call_with_timeout` futures alive in this process, plus the
    :func:`compute_progress_stream` computations still running.

    Each such Rust future counts itself from its creation until it is dropped: after it
    completes, times out, or is cancelled from Python. The drop happens on a Tokio thread,
    so right after a cancellation the count may still include the cancelled future for a
    moment. :func:`fetch_data_async` futures are not counted.
    """

@final
class ConcurrencyStats:
    """Counts the items of :func:`process_with_concurrency` that hold a permit.

    Pass one as ``stats=``; every call given the same object adds to the same counters.
    """

    def __new__(cls) -> ConcurrencyStats: ...
    @property
    def in_flight(self) -> int:
        """The number of items holding a permit right now."""
    @property
    def peak_in_flight(self) -> int:
        """The highest number of items that held a permit at the same time."""

def process_with_concurrency(
    items: list[float],
    max_concurrent: int = 10,
    latency_ms: int = 10,
    *,
    stats: ConcurrencyStats | None = None,
) -> asyncio.Future[list[float]]:
    """Return every item doubled, after ``latency_ms`` of simulated I/O per item.

    At most ``max_concurrent`` items are in flight at once (a Tokio semaphore holds the
    permits), so the batch takes about ``ceil(len(items) / max_concurrent)`` rounds of
    ``latency_ms``. The results keep the order of ``items``. ``nan`` and infinities pass
    through (doubled, as IEEE 754 defines it), and a finite value beyond half of
    ``sys.float_info.max`` doubles to an infinity. Cancelling the future drops the items
    still in flight and releases their permits.

    Raises:
        ValueError: more than 100000 items, ``max_concurrent`` outside 1..=1000, or
            ``latency_ms`` outside 0..=60000.
        TypeError: ``items`` is not a sequence of numbers.
        OverflowError: an ``int`` in ``items`` is too large for a float, or
            ``max_concurrent`` or ``latency_ms`` does not fit in a 64-bit signed integer.
        RuntimeError: no event loop is running in this thread.
    """

class RetryExhaustedError(ConnectionError):
    """Every attempt failed with a retryable error; the message gives the number of attempts
    and the last cause (``upstream answered 503 Service Unavailable``, ``Connection refused``)."""

class HttpStatusError(Exception):
    """The upstream's answer is final and not a success (a status other than 2xx, 429 and
    5xx, such as ``404 Not Found``, or more than 5 redirects); it was not retried."""

def check_allowed_hosts(allowed_hosts: list[str]) -> None:
    """Check ``allowed_hosts`` as :func:`fetch_with_retry` would, without sending anything.

    Raises:
        ValueError: more than 100 entries, or one that is not a ``host`` or ``host:port``
            (the message names its index).
        TypeError: ``allowed_hosts`` is not a list of ``str``.
    """

class HostNotAllowedError(PermissionError):
    """The URL, or a redirect, points at a host that is not in ``allowed_hosts``; nothing
    was sent to that host. The message names the host and port."""

def fetch_with_retry(
    url: str, max_retries: int = 3, *, allowed_hosts: list[str] | None = None
) -> asyncio.Future[str]:
    """GET ``url`` and return the response body as text (invalid UTF-8 is replaced).

    ``allowed_hosts`` lists the hosts the request may reach, as ``"host"`` (any port) or
    ``"host:port"`` (``"[::1]:8000"`` for IPv6). The host of ``url`` and of every redirect
    is normalised as the URL parser does (``http://2130706433/`` and ``http://0x7f.1/`` are
    ``127.0.0.1``; names are lower-cased) and compared with the list before any connection;
    names are not resolved, so ``localhost`` and ``[::1]`` are hosts of their own. ``None``
    (the default) allows every host: never pass ``None`` with a URL that a client chose,
    or the client can reach any address the server can (server-side request forgery).

    Connection errors, attempts that time out, ``429`` and ``5xx`` answers are retried, up
    to ``max_retries`` times, after a wait: the server's ``Retry-After`` in seconds (at most
    10 s), else exponential backoff with full jitter (a random wait below 50 ms, 100 ms,
    200 ms, ... capped at 2 s). Any other status fails at once; redirects are followed up to
    5 times. One HTTP client (and connection pool) serves the whole process, on Tokio.

    Raises:
        ValueError: at the call, before any request: ``url`` is not an absolute ``http://``
            or ``https://`` URL of at most 2048 bytes, ``max_retries`` is not in 0..=10, or
            ``allowed_hosts`` holds more than 100 entries or one that is not a host[:port].
        TypeError: ``allowed_hosts`` is not a list of ``str``.
        HostNotAllowedError: the host of ``url`` (at the call) or of a redirect (awaited)
            is not in ``allowed_hosts``.
        OverflowError: ``max_retries`` does not fit in a 64-bit signed integer.
        RuntimeError: no event loop is running in this thread.
        RetryExhaustedError: (awaited) ``max_retries + 1`` attempts all failed.
        HttpStatusError: (awaited) the upstream answered a status that is not retried.
        DeadlineExceededError: (awaited) the next attempt or wait would pass 30 s in all.
    """

def compute_with_progress(
    n: int, on_progress: Callable[[int, int], object] | None = None
) -> asyncio.Future[int]:
    """Resolves to ``1 + 2 + ... + n``, computed off the event loop, one item at a time.

    The work runs on a thread of Tokio's blocking pool with the GIL released, so the
    event loop and other Python threads keep running. ``on_progress(done, total)`` is
    called with ``total == n`` and strictly increasing ``done``: every 5 % of ``n`` (every
    item when ``n < 20``), and last, exactly once, with ``(n, n)``; for ``n == 0`` it is
    called once with ``(0, 0)``. Its return value is ignored.

    The callback runs on that Tokio thread, NOT on the event loop's thread: it must be
    thread-safe and must not touch asyncio objects directly. To reach the loop, capture it
    first (``loop = asyncio.get_running_loop()``) and call
    ``loop.call_soon_threadsafe(...)`` from the callback.

    If the callback raises, the computation stops and the awaited future raises that same
    exception object.

    Raises:
        ValueError: ``n`` is outside 0..=1000000000 (``MAX_COMPUTE_N``).
        TypeError: ``on_progress`` is neither callable nor None, or ``n`` is not an int.
        OverflowError: ``n`` does not fit in a 64-bit signed integer.
        RuntimeError: no event loop is running in this thread.
    """

@final
class ProgressUpdate:
    """One step of :func:`compute_progress_stream`: ``done`` of ``total`` items.

    ``sum`` is ``None`` on every update but the last, which has ``done == total`` and the
    sum ``1 + 2 + ... + total``.
    """

    @property
    def done(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def sum(self) -> int | None: ...

@final
class ProgressStream:
    """The updates of one computation, read with ``async for``; from
    :func:`compute_progress_stream`."""

    def __aiter__(self) -> ProgressStream: ...
    def __anext__(self) -> asyncio.Future[ProgressUpdate]:
        """An awaitable of the next update; it raises ``StopAsyncIteration`` after the last
        (the one with the sum), or after :meth:`close`, once the updates sent are read."""
    def close(self) -> None:
        """Stop the computation (it notices at its next report, within 5 % of ``n``)."""

def compute_progress_stream(n: int) -> ProgressStream:
    """Start summing ``1 + 2 + ... + n`` off the event loop; read its progress with ``async for``.

    The work is the same as :func:`compute_with_progress`'s and starts at once, on a thread
    of Tokio's blocking pool, with no Python code on that thread. The stream yields a
    :class:`ProgressUpdate` every 5 % of ``n`` (every item when ``n < 20``) with strictly
    increasing ``done < n`` and ``sum=None``, then one last update with ``done == total ==
    n`` and the sum; for ``n == 0`` only that last one. The computation stops early when the
    stream is closed (:meth:`ProgressStream.close`) or garbage-collected, so a client that
    goes away does not leave the work running; :func:`active_tasks` counts it until then.

    Raises:
        ValueError: ``n`` is outside 0..=1000000000 (``MAX_COMPUTE_N``).
        OverflowError: ``n`` does not fit in a 64-bit signed integer.
        RuntimeError: (from ``__anext__``) no event loop is running in this thread.
        RustPanic: (from an awaited ``__anext__``) the computation panicked.
    """
