"""The work ``bench/run.py`` times: each row in a Rust variant and its pure-Python twin.

``bench/run.py`` runs this file in a fresh child process per row, column and round: the
Python twin on asyncio's loop or on uvloop, or the Rust variant with one stage's
``fastapi_async`` first on ``PYTHONPATH`` (``bench/stages.py``); for the row of bridge
against bridge, one future through either bridge of the same build (``rust`` and
``library``). The child warms up, times the row ``repeats`` times, and prints one line of
JSON: the samples, and for the I/O rows the 99th percentile of every operation's latency.

    .venv/bin/python bench/workloads.py await_ready python --loop uvloop --quick

The in-process rows time the module against asyncio; the I/O rows time the module's own
clients (reqwest for HTTP, redis-rs for Redis) against the Python clients a FastAPI
developer would use instead (``httpx.AsyncClient``, ``redis.asyncio``), on the same local
upstream and Redis server, which ``bench/run.py`` starts and passes in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from twin_app import python_sum


@dataclass
class Sizes:
    awaits_ready: int
    awaits_woken: int
    gather_small: int
    gather_large: int
    batch: int
    cpu_n: int
    counter: int
    http_gets: int  # at once, one time
    http_gets_few: int  # at once, http_rounds times over
    http_rounds: int
    redis_incrs: int
    repeats: int  # timed runs in each child, after one warm-up run
    repeats_large: int  # for the 100 000 gathered sleeps, without a warm-up


FULL = Sizes(2_000, 200, 10_000, 100_000, 100_000, 10_000_000, 10_000, 100, 10, 20, 1_000, 5, 2)
QUICK = Sizes(200, 20, 500, 2_000, 5_000, 100_000, 500, 20, 5, 2, 100, 2, 1)


@dataclass
class Sample:
    seconds: float  # per await for the loops, in all for the rest
    latencies_s: list[float]  # each operation's own time (the I/O rows only)


Timed = Callable[[], Awaitable[Sample]]


# ANCHOR: timed
def timed_loop(make: Callable[[int], Awaitable[object]], count: int) -> Timed:
    """Awaits ``make(i)`` for ``i`` in ``range(count)``, one after the other; time per await."""

    async def run() -> Sample:
        started = time.perf_counter()
        for i in range(count):
            await make(i)
        return Sample((time.perf_counter() - started) / count, [])

    return run


def timed_gather(make: Callable[[int], Awaitable[object]], count: int) -> Timed:
    """Gathers ``make(i)`` for ``i`` in ``range(count)``, all at once; total time."""

    async def run() -> Sample:
        started = time.perf_counter()
        results = await asyncio.gather(*(make(i) for i in range(count)))
        elapsed = time.perf_counter() - started
        assert len(results) == count
        return Sample(elapsed, [])

    return run


def timed_operations(
    operation: Callable[[], Awaitable[object]], count: int, times: int = 1
) -> Timed:
    """Gathers ``count`` calls of ``operation``, each timed on its own, ``times`` times over,
    one gather after the other; total time."""

    async def one(latencies: list[float]) -> None:
        started = time.perf_counter()
        await operation()
        latencies.append(time.perf_counter() - started)

    async def run() -> Sample:
        latencies: list[float] = []
        started = time.perf_counter()
        for _ in range(times):
            await asyncio.gather(*(one(latencies) for _ in range(count)))
        return Sample(time.perf_counter() - started, latencies)

    return run


# ANCHOR_END: timed


def checked(run: Callable[[], Awaitable[object]], expected: object) -> Timed:
    """Times one call of ``run`` and checks its answer."""

    async def timed() -> Sample:
        started = time.perf_counter()
        result = await run()
        elapsed = time.perf_counter() - started
        assert result == expected, "the two sides must compute the same answer"
        return Sample(elapsed, [])

    return timed


# ---------------------------------------------------------------- the rows, side by side


@dataclass
class Row:
    id: str
    title: str
    measured: str  # what one sample is
    python_label: str
    rust_label: str
    operations: int = 0  # an I/O row: operations per sample, reported as throughput and p99
    bridges: bool = False  # both sides Rust, through two bridges: the hand-written stage only
    warm_up: bool = True
    note: str = ""


def count(n: int) -> str:
    return f"{n:_}".replace("_", "\u00a0")  # 10 000, with a no-break space


def rows(sizes: Sizes) -> list[Row]:
    s = sizes
    return [
        Row(
            "await_ready",
            f"await of a result ready at once ({count(s.awaits_ready)} in a row)",
            "time per await",
            "asyncio.sleep(0)",
            "fetch_data_async(i, 0)",
        ),
        Row(
            "await_woken",
            f"await of a 1 ms sleep ({count(s.awaits_woken)} in a row)",
            "time per await",
            "asyncio.sleep(0.001)",
            "fetch_data_async(i, 1)",
            note="Tokio's timer counts whole milliseconds and rounds a sleep's deadline up, so a "
            "1 ms Tokio sleep takes about 2 ms before any bridge adds its cost",
        ),
        Row(
            "await_handoff",
            f"await of a result a Tokio task hands over ({count(s.awaits_ready)} in a row)",
            "time per await",
            "_probes.handoff_future_into_py(i)",
            "_probes.handoff(i)",
            bridges=True,
            note="both sides are Rust, in the same build of the hand-written bridge's stage: the "
            "same future through pyo3-async-runtimes' `future_into_py` and through the stage's "
            "own bridge",
        ),
        Row(
            "gather_small",
            f"{count(s.gather_small)} gathered 10 ms sleeps",
            "total time",
            "asyncio.sleep(0.01)",
            "fetch_data_async(i, 10)",
        ),
        Row(
            "gather_large",
            f"{count(s.gather_large)} gathered 10 ms sleeps",
            "total time",
            "asyncio.sleep(0.01)",
            "fetch_data_async(i, 10)",
            warm_up=False,
        ),
        Row(
            "batch_one_crossing",
            f"upper-case {count(s.batch)} strings in one call",
            "total time",
            "[s.upper() for s in items]",
            "process_batch_async(items)",
        ),
        Row(
            "batch_spawn_per_item",
            f"upper-case {count(s.batch)} strings, one Tokio task per item",
            "total time",
            "[s.upper() for s in items]",
            "process_batch_spawn_per_item_async(items)",
        ),
        Row(
            "cpu_sum",
            f"CPU-bound: sum 1..={count(s.cpu_n)} one item at a time",
            "total time",
            "the same loop, asyncio.to_thread",
            "compute_with_progress(n)",
            note="n is scaled down from MAX_COMPUTE_N = 10**9 so that the Python loop takes "
            "well under a second",
        ),
        Row(
            "counter",
            f"{count(s.counter)} gathered increments of a shared counter",
            "total time",
            "asyncio.Lock + int",
            "AsyncCounter().increment_async()",
        ),
        Row(
            "http_gets_few",
            f"{count(s.http_gets_few)} concurrent HTTP GETs to a local upstream, "
            f"{s.http_rounds} times",
            "requests per second; each GET's p99",
            "httpx.AsyncClient().get(url)",
            "fetch_with_retry(url, 0, allowed_hosts=...)",
            operations=s.http_gets_few * s.http_rounds,
        ),
        Row(
            "http_gets",
            f"{count(s.http_gets)} concurrent HTTP GETs to a local upstream",
            "requests per second; each GET's p99",
            "httpx.AsyncClient().get(url)",
            "fetch_with_retry(url, 0, allowed_hosts=...)",
            operations=s.http_gets,
            note="the upstream is a one-line RSGI app served by granian in its own process; "
            "both clients keep their connections between runs, and neither limits their "
            "number. httpx's pool (httpcore) checks every connection for every waiting "
            "request each time a request starts or ends, so its cost grows with the square of "
            "the concurrency: a profile of one gather of 100 GETs spends its time in "
            "`_assign_requests_to_connections`, 5 million `is_idle` calls (encode/httpx#3215)",
        ),
        Row(
            "redis_incrs",
            f"{count(s.redis_incrs)} concurrent Redis INCRs",
            "INCRs per second; each INCR's p99",
            "redis.asyncio.Redis().incr(key)",
            "AsyncCounter().increment_async() on Redis",
            operations=s.redis_incrs,
            note="one local redis-server without persistence; redis-py sends each command on "
            "a connection of its own from a pool of at most 100 (a `BlockingConnectionPool`), "
            "redis-rs pipelines every command on one multiplexed connection",
        ),
    ]


def http_shape(row: str, sizes: Sizes) -> tuple[int, int]:
    """How many GETs go at once, and how many times over."""
    if row == "http_gets":
        return sizes.http_gets, 1
    return sizes.http_gets_few, sizes.http_rounds


def python_side(row: str, sizes: Sizes, upstream: str, redis_url: str) -> tuple[Timed, Any]:
    """The pure-Python twin of ``row``, and what to close once it is done (or ``None``)."""
    items = [f"item-{i}" for i in range(sizes.batch)]
    n = sizes.cpu_n

    async def comprehension() -> list[str]:
        return [s.upper() for s in items]

    async def counter() -> Sample:
        lock = asyncio.Lock()
        total = 0

        async def increment() -> int:
            nonlocal total
            async with lock:
                total += 1
                return total

        started = time.perf_counter()
        await asyncio.gather(*(increment() for _ in range(sizes.counter)))
        elapsed = time.perf_counter() - started
        assert total == sizes.counter
        return Sample(elapsed, [])

    if row == "await_ready":
        return timed_loop(lambda i: asyncio.sleep(0), sizes.awaits_ready), None
    if row == "await_woken":
        return timed_loop(lambda i: asyncio.sleep(0.001), sizes.awaits_woken), None
    if row in ("gather_small", "gather_large"):
        size = sizes.gather_small if row == "gather_small" else sizes.gather_large
        return timed_gather(lambda i: asyncio.sleep(0.01), size), None
    if row in ("batch_one_crossing", "batch_spawn_per_item"):
        return checked(comprehension, [s.upper() for s in items]), None
    if row == "cpu_sum":
        return checked(lambda: asyncio.to_thread(python_sum, n), n * (n + 1) // 2), None
    if row == "counter":
        return counter, None
    if row in ("http_gets", "http_gets_few"):
        import httpx

        # No pool limit, as reqwest has none: each concurrent GET may have a connection.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        client = httpx.AsyncClient(limits=limits)

        async def get() -> str:
            answer = await client.get(upstream)
            answer.raise_for_status()
            return answer.text

        return timed_operations(get, *http_shape(row, sizes)), client
    if row == "redis_incrs":
        import redis.asyncio

        # redis-py's default pool raises "Too many connections" past 100 at once; this one
        # makes a command wait for a free connection instead, as a server under load must.
        pool = redis.asyncio.BlockingConnectionPool.from_url(redis_url, max_connections=100)
        redis_client = redis.asyncio.Redis(connection_pool=pool)
        return timed_operations(lambda: redis_client.incr("bench:counter"), sizes.redis_incrs), (
            redis_client
        )
    raise ValueError(f"no such row: {row}")


def bridge_side(side: str, sizes: Sizes) -> Timed:
    """A result handed over by a Tokio task, through the stage's bridge (``rust``) or
    through pyo3-async-runtimes (``library``): the stage's ``_probes``, not its API."""
    import importlib

    probes: Any = importlib.import_module("fastapi_async.fastapi_async")._probes
    handoff = probes.handoff if side == "rust" else probes.handoff_future_into_py
    return timed_loop(handoff, sizes.awaits_ready)


def rust_side(row: str, sizes: Sizes, upstream: str) -> Timed:
    """``row`` through the importable ``fastapi_async`` (the stage the parent chose)."""
    import fastapi_async as fa

    items = [f"item-{i}" for i in range(sizes.batch)]
    n = sizes.cpu_n

    async def counter() -> Sample:
        shared = fa.AsyncCounter()
        started = time.perf_counter()
        await asyncio.gather(*(shared.increment_async() for _ in range(sizes.counter)))
        elapsed = time.perf_counter() - started
        assert await shared.get_count_async() == sizes.counter
        return Sample(elapsed, [])

    if row == "await_ready":
        return timed_loop(lambda i: fa.fetch_data_async(i, 0), sizes.awaits_ready)
    if row == "await_woken":
        return timed_loop(lambda i: fa.fetch_data_async(i, 1), sizes.awaits_woken)
    if row in ("gather_small", "gather_large"):
        size = sizes.gather_small if row == "gather_small" else sizes.gather_large
        return timed_gather(lambda i: fa.fetch_data_async(i, 10), size)
    if row == "batch_one_crossing":
        return checked(lambda: fa.process_batch_async(items), [s.upper() for s in items])
    if row == "batch_spawn_per_item":
        return checked(
            lambda: fa.process_batch_spawn_per_item_async(items), [s.upper() for s in items]
        )
    if row == "cpu_sum":
        return checked(lambda: fa.compute_with_progress(n), n * (n + 1) // 2)
    if row == "counter":
        return counter
    if row in ("http_gets", "http_gets_few"):
        allowed = [urlsplit(upstream).netloc]
        return timed_operations(
            lambda: fa.fetch_with_retry(upstream, 0, allowed_hosts=allowed),
            *http_shape(row, sizes),
        )
    if row == "redis_incrs":
        on_redis = fa.AsyncCounter()  # FASTAPI_ASYNC_REDIS_URL, set by the parent
        assert on_redis.backend == "redis", "FASTAPI_ASYNC_REDIS_URL is not set"
        return timed_operations(on_redis.increment_async, sizes.redis_incrs)
    raise ValueError(f"no such row: {row}")


def percentile(samples: list[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``samples``, linear between the nearest two."""
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def measure(
    row: Row, side: str, sizes: Sizes, upstream: str, redis_url: str
) -> dict[str, Any]:
    closing = None
    if row.bridges:
        run = bridge_side(side, sizes)
    elif side == "python":
        run, closing = python_side(row.id, sizes, upstream, redis_url)
    else:
        run = rust_side(row.id, sizes, upstream)
    repeats = sizes.repeats if row.warm_up else sizes.repeats_large
    try:
        if row.warm_up:
            await run()
        samples = [await run() for _ in range(repeats)]
    finally:
        if closing is not None:
            await closing.aclose()
    result: dict[str, Any] = {"samples_s": [s.seconds for s in samples]}
    if row.operations:
        latencies = [t for s in samples for t in s.latencies_s]
        result["p99_s"] = percentile(latencies, 0.99)
        result["median_s"] = statistics.median(result["samples_s"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("row")
    parser.add_argument("side", choices=["python", "rust", "library"])
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--upstream", default="", help="the HTTP rows' upstream URL")
    parser.add_argument("--redis", default="", help="the Redis rows' server URL")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    (row,) = [r for r in rows(sizes) if r.id == args.row]
    work = measure(row, args.side, sizes, args.upstream, args.redis)
    if args.loop == "uvloop":
        import uvloop

        result = uvloop.run(work)
    else:
        result = asyncio.run(work)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
