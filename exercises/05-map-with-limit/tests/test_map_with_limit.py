"""Exercise 05-map-with-limit: ``map_with_limit`` keeps at most ``max_concurrent`` in flight."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from ex05_map_with_limit import MAX_CONCURRENT, ConcurrencyStats, map_with_limit


async def eventually(condition: Callable[[], bool], within_s: float = 5) -> None:
    """Returns once ``condition()`` holds, or after ``within_s``: a count kept in Rust has
    nothing to await, so it is polled (every 5 ms)."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(0.005)


async def test_doubles_every_item_in_order() -> None:
    items = [float(i) for i in range(50)]
    results = await map_with_limit(items, max_concurrent=5, latency_ms=5)
    assert results == [2 * item for item in items], (
        "each result must sit at its item's index, whichever item finished first"
    )


async def test_never_more_than_max_concurrent_in_flight() -> None:
    stats = ConcurrencyStats()
    await map_with_limit([1.0] * 40, max_concurrent=4, latency_ms=50, stats=stats)
    peak = stats.peak_in_flight
    assert peak <= 4, (
        f"{peak} items ran at once with max_concurrent=4: take a permit from the semaphore "
        "before an item starts, and hold it until the item is done"
    )
    assert peak == 4, (
        f"at most {peak} item(s) ran at once with max_concurrent=4: up to 4 should run "
        "together (spawn each item as a task once it holds its permit)"
    )
    assert stats.in_flight == 0


async def test_one_permit_runs_one_item_at_a_time() -> None:
    stats = ConcurrencyStats()
    results = await map_with_limit([1.0, 2.0, 3.0], max_concurrent=1, latency_ms=20, stats=stats)
    assert results == [2.0, 4.0, 6.0]
    peak = stats.peak_in_flight
    assert peak == 1, f"{peak} items ran at once with max_concurrent=1"


async def test_the_limit_bounds_the_time_too() -> None:
    # 20 items of 100 ms, 10 at a time: two rounds, about 0.2 s (one at a time: 2 s).
    started = time.perf_counter()
    await map_with_limit([0.0] * 20, max_concurrent=10, latency_ms=100)
    elapsed = time.perf_counter() - started
    assert elapsed >= 0.19, f"20 items of 100 ms, 10 at a time, took {elapsed:.2f} s"
    assert elapsed < 1.5, f"20 items of 100 ms, 10 at a time, took {elapsed:.2f} s"


async def test_an_empty_batch() -> None:
    assert await map_with_limit([], max_concurrent=3) == []


async def test_cancelling_the_call_stops_its_items() -> None:
    stats = ConcurrencyStats()
    pending = map_with_limit([1.0] * 100, max_concurrent=5, latency_ms=60_000, stats=stats)
    await eventually(lambda: stats.in_flight == 5 or pending.done())
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    # The cancellation reaches the Rust future on a Tokio thread; wait for it, bounded.
    await eventually(lambda: stats.in_flight == 0)
    assert stats.in_flight == 0, (
        f"{stats.in_flight} items still run 5 s after the call was cancelled: keep the "
        "tasks in a JoinSet (dropped with the future, it aborts them)"
    )


@pytest.mark.parametrize("bad", [0, -1, MAX_CONCURRENT + 1])
def test_max_concurrent_outside_the_range_raises_value_error(bad: int) -> None:
    message = rf"^max_concurrent must be between 1 and 1000, got {bad}$"
    with pytest.raises(ValueError, match=message):
        map_with_limit([1.0], max_concurrent=bad)
