"""Step 05: ``process_with_concurrency``, a batch whose concurrency a Tokio semaphore bounds."""

import asyncio
import math
import sys
import time

import pytest

import fastapi_async
from fastapi_async import ConcurrencyStats, process_with_concurrency


async def wait_until_in_flight(stats: ConcurrencyStats, count: int) -> None:
    """Polls the counter (a condition, not a fixed sleep) until ``count`` items hold a permit."""
    deadline = time.monotonic() + 10
    while stats.in_flight != count:
        assert time.monotonic() < deadline, f"in_flight stuck at {stats.in_flight}"
        await asyncio.sleep(0.001)


async def test_doubles_every_item_in_order() -> None:
    items = [float(i) * 1.5 - 700 for i in range(1_000)]
    results = await process_with_concurrency(items, max_concurrent=7, latency_ms=1)
    assert results == [x * 2 for x in items]


async def test_keeps_input_order_whatever_order_items_finish_in() -> None:
    # Every item takes the same time, but 1 000 tasks on several Tokio workers finish in
    # no fixed order; the results must still follow the input.
    items = [float(i) for i in reversed(range(1_000))]
    assert await process_with_concurrency(items, 100, 0) == [x * 2 for x in items]


async def test_three_positional_arguments_are_the_whole_api() -> None:
    assert await process_with_concurrency([1.0, -2.5], 2, 0) == [2.0, -5.0]
    assert await process_with_concurrency([3]) == [6.0]


async def test_empty_batch_returns_empty_list() -> None:
    stats = ConcurrencyStats()
    assert await process_with_concurrency([], stats=stats) == []
    assert stats.peak_in_flight == 0


# ANCHOR: peak
async def test_peak_in_flight_reaches_but_never_exceeds_the_limit() -> None:
    stats = ConcurrencyStats()
    results = await process_with_concurrency(
        [1.0] * 50, max_concurrent=10, latency_ms=50, stats=stats
    )
    assert results == [2.0] * 50
    # 50 items of 50 ms: the first 10 all hold a permit long before any finishes.
    assert stats.peak_in_flight == 10
    assert stats.in_flight == 0


# ANCHOR_END: peak


async def test_peak_is_the_batch_size_when_the_limit_is_larger() -> None:
    stats = ConcurrencyStats()
    await process_with_concurrency([1.0] * 5, max_concurrent=1_000, latency_ms=20, stats=stats)
    assert stats.peak_in_flight == 5


async def test_max_concurrent_one_runs_one_item_at_a_time() -> None:
    stats = ConcurrencyStats()
    started = time.perf_counter()
    results = await process_with_concurrency([1.0, 2.0, 3.0, 4.0, 5.0], 1, 40, stats=stats)
    elapsed = time.perf_counter() - started
    assert results == [2.0, 4.0, 6.0, 8.0, 10.0]
    assert stats.peak_in_flight == 1
    # One after another: five 40 ms waits, never overlapping.
    assert elapsed >= 5 * 0.040 * 0.95, f"took {elapsed:.3f} s"


# ANCHOR: rounds
async def test_wall_time_is_about_len_over_limit_rounds() -> None:
    round_s = 0.050
    started = time.perf_counter()
    await process_with_concurrency([1.0] * 100, max_concurrent=10, latency_ms=50)
    elapsed = time.perf_counter() - started
    # 100 items, 10 at a time: 10 rounds of 50 ms. Fewer than 9 would mean the limit leaked;
    # 30 or more, that the items ran (nearly) one by one. Both margins are wide on purpose.
    assert 9 * round_s <= elapsed < 30 * round_s, f"took {elapsed:.3f} s"


# ANCHOR_END: rounds


async def test_stats_shared_by_calls_counts_their_combined_load() -> None:
    stats = ConcurrencyStats()
    await asyncio.gather(
        process_with_concurrency([1.0] * 20, 4, 50, stats=stats),
        process_with_concurrency([1.0] * 20, 4, 50, stats=stats),
    )
    # Each call holds its own semaphore of 4 permits; together, 8 items at most.
    assert 4 < stats.peak_in_flight <= 8
    assert stats.in_flight == 0


# ANCHOR: cancel
async def test_cancelling_releases_every_permit() -> None:
    stats = ConcurrencyStats()
    future = process_with_concurrency(
        [1.0] * 1_000, max_concurrent=7, latency_ms=60_000, stats=stats
    )
    await wait_until_in_flight(stats, 7)
    future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await future
    # The Rust future is dropped, its JoinSet aborts the tasks, and each task's permit
    # (with its in-flight count) goes back when the task is dropped: long before 60 s.
    await wait_until_in_flight(stats, 0)
    assert stats.peak_in_flight == 7


# ANCHOR_END: cancel


async def test_nan_and_infinities_pass_through_doubled() -> None:
    big = sys.float_info.max
    results = await process_with_concurrency([math.nan, math.inf, -math.inf, big, -0.0], 2, 0)
    assert math.isnan(results[0])
    # IEEE 754 doubling: infinities stay, the largest finite float overflows to infinity.
    assert results[1:4] == [math.inf, -math.inf, math.inf]
    assert math.copysign(1.0, results[4]) == -1.0


def test_exports_the_limits() -> None:
    assert fastapi_async.MAX_CONCURRENT == 1_000
    assert fastapi_async.MAX_LATENCY_MS == 60_000
    assert fastapi_async.MAX_BATCH_ITEMS == 100_000


@pytest.mark.parametrize("max_concurrent", [0, -1, 1_001, -(2**63), 2**63 - 1])
def test_max_concurrent_outside_range_raises_value_error(max_concurrent: int) -> None:
    # 0 is refused, not accepted: a semaphore with no permits would never let an item start.
    with pytest.raises(
        ValueError, match=rf"max_concurrent must be between 1 and 1000, got {max_concurrent}$"
    ):
        process_with_concurrency([1.0], max_concurrent=max_concurrent)


@pytest.mark.parametrize("latency_ms", [-1, 60_001, -(2**63)])
def test_latency_outside_range_raises_value_error(latency_ms: int) -> None:
    with pytest.raises(
        ValueError,
        match=rf"latency_ms must be between 0 and 60000 \(milliseconds\), got {latency_ms}$",
    ):
        process_with_concurrency([1.0], latency_ms=latency_ms)


def test_too_many_items_raises_value_error() -> None:
    with pytest.raises(ValueError, match=r"items must hold at most 100000 values, got 100001$"):
        process_with_concurrency([0.0] * 100_001)


async def test_largest_batch_is_accepted() -> None:
    items = [float(i) for i in range(fastapi_async.MAX_BATCH_ITEMS)]
    results = await process_with_concurrency(items, fastapi_async.MAX_CONCURRENT, 0)
    assert results == [x * 2 for x in items]


def test_non_numbers_raise_type_error() -> None:
    with pytest.raises(TypeError):
        process_with_concurrency(["1.0"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        process_with_concurrency("12")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        process_with_concurrency([1.0], max_concurrent=2.5)  # type: ignore[arg-type]


def test_int_too_large_for_a_float_raises_overflow_error() -> None:
    with pytest.raises(OverflowError):
        process_with_concurrency([2**1024])


def test_calling_without_a_running_event_loop_raises_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="no running event loop"):
        process_with_concurrency([1.0])


def test_stats_start_at_zero() -> None:
    stats = ConcurrencyStats()
    assert (stats.in_flight, stats.peak_in_flight) == (0, 0)
    assert repr(stats) == "ConcurrencyStats(in_flight=0, peak_in_flight=0)"
