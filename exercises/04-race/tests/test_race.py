"""Exercise 04-race: ``race`` answers with the faster call and drops the slower one."""

from __future__ import annotations

import asyncio
import time

import pytest
from ex04_race import MAX_LATENCY_MS, live_calls, race

BOTH_AND_NO_MORE = "a race runs both of its calls at once, and leaves nothing running after it"


async def wait_for_live_calls(expected: int, pending: asyncio.Future[str] | None = None) -> int:
    """Polls ``live_calls()`` (every 5 ms, for at most 5 s) until it reads ``expected`` or
    ``pending`` is done; returns the last reading. A bounded wait for Tokio's threads."""
    deadline = time.monotonic() + 5
    while (alive := live_calls()) != expected:
        if time.monotonic() > deadline or (pending is not None and pending.done()):
            break
        await asyncio.sleep(0.005)
    return alive


async def test_the_faster_call_wins() -> None:
    assert await race(20, 5_000) == "primary", "the primary answers in 20 ms, the fallback in 5 s"
    assert await race(5_000, 20) == "fallback", (
        "the fallback answers in 20 ms, the primary in 5 s: the two calls must run at the "
        "same time, not one after the other"
    )


async def test_the_race_takes_as_long_as_the_faster_call() -> None:
    started = time.perf_counter()
    assert await race(MAX_LATENCY_MS, 100) == "fallback"
    elapsed = time.perf_counter() - started
    assert elapsed < 5, f"a race against a 100 ms call took {elapsed:.1f} s"


async def test_both_calls_are_alive_during_the_race() -> None:
    pending = race(300, 30_000)
    alive = await wait_for_live_calls(2, pending)
    if pending.done():
        await pending  # an early failure, raised here
    assert alive == 2, f"{alive} call(s) alive during the race, not 2: {BOTH_AND_NO_MORE}"
    assert await pending == "primary"


async def test_the_losing_call_is_dropped_when_the_race_ends() -> None:
    assert await race(20, MAX_LATENCY_MS) == "primary"
    # No waiting: `select!` drops the loser before the race's future returns its answer.
    alive = live_calls()
    if alive != 0:
        await wait_for_live_calls(0)  # leave nothing behind for the next test
    assert alive == 0, (
        f"{alive} call(s) still alive after the race answered: the loser keeps running for "
        "nobody. select! drops the branch that lost; a spawned task would live on"
    )


async def test_cancelling_the_race_drops_both_calls() -> None:
    pending = race(MAX_LATENCY_MS, MAX_LATENCY_MS)
    alive = await wait_for_live_calls(2, pending)
    if pending.done():
        await pending  # an early failure, raised here
    assert alive == 2, f"{alive} call(s) alive during the race, not 2: {BOTH_AND_NO_MORE}"
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    # Python's cancellation reaches Rust on a Tokio thread a moment later.
    alive = await wait_for_live_calls(0)
    assert alive == 0, f"{alive} call(s) still alive 5 s after the race was cancelled"


@pytest.mark.parametrize(("primary_ms", "fallback_ms"), [(-1, 0), (0, MAX_LATENCY_MS + 1)])
def test_latencies_outside_the_range_raise_value_error(primary_ms: int, fallback_ms: int) -> None:
    with pytest.raises(ValueError, match=r"_ms must be between 0 and 60000 \(milliseconds\)"):
        race(primary_ms, fallback_ms)
