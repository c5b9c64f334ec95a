"""Step 07: ``compute_with_progress``, CPU work on Tokio's blocking pool, off the event loop."""

import asyncio
import time

import pytest

import fastapi_async
from fastapi_async import MAX_COMPUTE_N, compute_with_progress


def closed_form(n: int) -> int:
    return n * (n + 1) // 2


@pytest.mark.parametrize("n", [0, 1, 2, 19, 20, 21, 1_000, 123_457, MAX_COMPUTE_N])
async def test_sum_is_exact(n: int) -> None:
    assert await compute_with_progress(n) == closed_form(n)


def test_the_limit_is_ten_to_the_ninth() -> None:
    assert MAX_COMPUTE_N == 10**9


# ANCHOR: heartbeat
async def test_event_loop_keeps_running_during_a_large_computation() -> None:
    future = compute_with_progress(MAX_COMPUTE_N)
    ticks_while_pending = 0
    # Each tick needs the event loop and the GIL: if the sum ran on the loop's thread, or
    # held the GIL while it worked, no tick could run before the future is done.
    while not future.done():
        await asyncio.sleep(0.01)
        ticks_while_pending += 1
    assert await future == closed_form(MAX_COMPUTE_N)
    # 10**9 items take most of a second here (about 80 ticks); a blocked loop gets one.
    assert ticks_while_pending >= 10


# ANCHOR_END: heartbeat


async def test_computations_run_side_by_side_on_the_blocking_pool() -> None:
    # Ordering, not a stopwatch: started second, the small sum still finishes first,
    # because it runs on its own blocking thread instead of queueing behind the large one.
    finished: list[str] = []

    async def run(name: str, n: int) -> None:
        await compute_with_progress(n)
        finished.append(name)

    await asyncio.gather(run("large", MAX_COMPUTE_N), run("small", 1_000))
    assert finished == ["small", "large"]


async def test_a_burst_of_computations_leaves_threads_to_deliver_other_results() -> None:
    # The blocking pool also delivers every result to Python. Twenty sums at once, more
    # than the pool's 16 threads, must not hold a 0 ms fetch until one of them finishes:
    # only MAX_CPU_JOBS of them run, the others wait for a turn on no thread.
    computations = asyncio.gather(*(compute_with_progress(MAX_COMPUTE_N) for _ in range(20)))
    slowest, fetches = 0.0, 0
    while not computations.done():
        started = time.perf_counter()
        assert await fastapi_async.fetch_data_async(fetches, 0) == f"Data for ID {fetches}"
        slowest, fetches = max(slowest, time.perf_counter() - started), fetches + 1
        await asyncio.sleep(0.01)  # a fetch every 10 ms or so: leave the CPU to the sums
    await computations
    # The sums take seconds on 2 cores; a fetch queued behind them would wait that long.
    assert fetches >= 10, f"only {fetches} fetches while the sums ran"
    assert slowest < 0.5, f"a 0 ms fetch waited {slowest:.2f} s behind the computations"


@pytest.mark.parametrize("n", [-1, MAX_COMPUTE_N + 1, -(2**63), 2**63 - 1])
def test_n_outside_range_raises_value_error_naming_n_and_the_range(n: int) -> None:
    # Checked before any future exists, so no event loop is needed to see it.
    with pytest.raises(ValueError, match=rf"^n must be between 0 and 1000000000, got {n}$"):
        compute_with_progress(n)


@pytest.mark.parametrize("n", [2**63, -(2**63) - 1])
def test_n_beyond_64_bits_raises_overflow_error(n: int) -> None:
    with pytest.raises(OverflowError):
        compute_with_progress(n)


def test_non_integer_n_raises_type_error() -> None:
    with pytest.raises(TypeError):
        compute_with_progress("10")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        compute_with_progress(10.0)  # type: ignore[arg-type]


def test_calling_without_a_running_event_loop_raises_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="no running event loop"):
        fastapi_async.compute_with_progress(10)
