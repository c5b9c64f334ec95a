"""Exercise 07-sum-of-squares: CPU work on Tokio's blocking pool, off the event loop."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from ex07_sum_of_squares import MAX_N, sleep_async, sum_of_squares_async


def closed_form(n: int) -> int:
    return n * (n + 1) * (2 * n + 1) // 6


async def n_for(seconds: float) -> int:
    """An ``n`` whose sum takes about ``seconds`` on this machine, in this build."""
    probe = 2_000_000
    started = time.perf_counter()
    await sum_of_squares_async(probe)
    elapsed = max(time.perf_counter() - started, 1e-4)
    return min(MAX_N, int(probe * seconds / elapsed))


@pytest.mark.parametrize("n", [0, 1, 2, 10, 1_000, 123_457])
async def test_the_sum_is_exact(n: int) -> None:
    assert await sum_of_squares_async(n) == closed_form(n)


async def test_the_event_loop_keeps_ticking_during_a_long_sum() -> None:
    n = await n_for(1.0)
    future = sum_of_squares_async(n)
    ticks_while_pending = 0
    # Each tick needs the event loop and the GIL: a sum computed in the call itself, or
    # with the GIL held, would leave no room for one before the future is done.
    while not future.done():
        await asyncio.sleep(0.01)
        ticks_while_pending += 1
    assert await future == closed_form(n)
    # About 100 ticks fit in a second; a sum that blocked the loop would leave room for one.
    assert ticks_while_pending >= 3, (
        f"the event loop ticked {ticks_while_pending} times during a sum of about 1 s: "
        "compute inside the future, not in sum_of_squares_async itself"
    )


async def test_the_sums_leave_tokio_s_workers_free() -> None:
    # More sums at once than the runtime has worker threads (one per CPU). On the workers,
    # they would hold every one of them, and a 10 ms sleep (whose timer only a free worker
    # drives) would end after a sum; on the blocking pool, the workers stay free for it.
    n = await n_for(0.3)
    finished: list[str] = []

    async def run(name: str, work: asyncio.Future[object]) -> None:
        await work
        finished.append(name)

    sums = [run("a sum", sum_of_squares_async(n)) for _ in range((os.cpu_count() or 2) + 2)]
    await asyncio.gather(*sums, run("the sleep", sleep_async(10)))
    assert finished[0] == "the sleep", (
        "a 10 ms Tokio sleep ended after a sum: the sums held Tokio's worker threads (or "
        "the event loop). "
        "Run the loop with tokio::task::spawn_blocking, on the blocking pool"
    )


@pytest.mark.parametrize("n", [-1, MAX_N + 1])
def test_n_outside_the_range_raises_value_error_at_the_call(n: int) -> None:
    # No event loop runs here: only a check made before future_into_py can raise first.
    try:
        sum_of_squares_async(n)
    except RuntimeError as exc:
        pytest.fail(f"{exc!r}: check n (n_in_range) before future_into_py", pytrace=False)
    except ValueError as exc:
        message = str(exc)
    else:
        pytest.fail(f"sum_of_squares_async accepted n={n}", pytrace=False)
    assert message == f"n must be between 0 and 100000000, got {n}"
