"""Step 12: a future done at the call comes back done, within a budget.

The bridge polls each future once at the call, on the loop's thread. What these tests
prove: a future done by then is awaited without a trip through the event loop, and ends
every way a future can (result, error, panic, a panic converting its result); one still
pending is parked, not spawned, so cancelling it drops it on the spot (even if its ``Drop``
panics); a loop gets at most 128 done futures in a row before one waits for its next
iteration, so a task that awaits ready futures in a loop still lets timers and other tasks
run; and batches, whose first poll is long, are polled on Tokio instead.
"""

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest

from fastapi_async import (
    AsyncCounter,
    RustPanic,
    active_tasks,
    api_call_with_timeout,
    bridge_stats,
    fetch_data_async,
    process_batch_async,
    process_batch_spawn_per_item_async,
)

from ..step_11.probing import probes

T = TypeVar("T")


def run_without_loop_iteration(awaitable: Awaitable[T]) -> T:
    """Drives a coroutine that awaits ``awaitable`` by hand, once; fails if it yields."""

    async def wrapper() -> T:
        return await awaitable

    coroutine: Coroutine[Any, Any, T] = wrapper()
    try:
        yielded = coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise AssertionError(f"the await yielded {yielded!r} to the event loop")


# ANCHOR: ready
async def test_a_future_done_at_the_call_is_awaited_without_a_loop_iteration() -> None:
    await asyncio.sleep(0)  # one loop iteration: a new budget (see below)
    before = bridge_stats()["ready_at_first_poll"]
    future = fetch_data_async(7, delay_ms=0)
    assert future.done()
    assert isinstance(future, asyncio.Future)
    assert future.get_loop() is asyncio.get_running_loop()
    assert run_without_loop_iteration(future) == "Data for ID 7"
    assert bridge_stats()["ready_at_first_poll"] == before + 1


# ANCHOR_END: ready


async def test_errors_and_panics_at_the_call_come_back_done() -> None:
    await asyncio.sleep(0)  # a new budget
    failed = probes.fail("bad input: 42", 0)
    panicked = probes.panic("index out of bounds", 0)
    unconvertible = probes.panic_when_delivered(0)
    assert [failed.done(), panicked.done(), unconvertible.done()] == [True, True, True]
    with pytest.raises(ValueError, match=r"^bad input: 42$"):
        await failed
    with pytest.raises(RustPanic, match=r"^rust future panicked: index out of bounds$"):
        await panicked
    with pytest.raises(RustPanic, match=r"^rust future panicked: conversion failed$"):
        await unconvertible


# ANCHOR: cancel_parked
async def test_cancelling_a_future_not_yet_woken_drops_it_at_once() -> None:
    future = api_call_with_timeout("slow", 60_000, latency_ms=60_000)
    assert active_tasks() == 1
    assert future.cancel()
    # Never woken, the future was parked in the bridge, not on Tokio: `cancel` dropped it
    # on the spot, on this thread.
    assert active_tasks() == 0
    with pytest.raises(asyncio.CancelledError):
        await future


# ANCHOR_END: cancel_parked


async def test_a_panicking_drop_is_reported_and_cancel_still_succeeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reported: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    future = probes.panic_when_dropped()
    assert future.cancel() is True
    assert future.cancelled()
    assert [type(r.exc_value) for r in reported] == [RustPanic]
    assert str(reported[0].exc_value) == "rust future panicked while dropped: dropped"


# ANCHOR: budget
async def test_after_128_ready_futures_in_a_row_the_next_waits_for_the_loop() -> None:
    await asyncio.sleep(0)  # one loop iteration: a new budget
    before = bridge_stats()
    futures = [fetch_data_async(i, delay_ms=0) for i in range(200)]
    assert [future.done() for future in futures] == [True] * 128 + [False] * 72
    assert await asyncio.gather(*futures) == [f"Data for ID {i}" for i in range(200)]
    assert bridge_stats()["over_budget"] - before["over_budget"] == 72


async def test_a_task_polling_ready_futures_lets_the_other_tasks_run() -> None:
    counter = AsyncCounter()

    async def poll_until_three() -> int:
        spins = 0
        while await counter.get_count_async() < 3:
            spins += 1
            assert spins < 100_000, "the other task never ran"
        return spins

    async def increment_three_times() -> None:
        for _ in range(3):
            await counter.increment_async()

    polling = asyncio.ensure_future(poll_until_three())
    await asyncio.gather(polling, increment_three_times())
    assert polling.result() > 0  # it did wait for the other task


async def test_a_timer_fires_during_a_long_run_of_ready_awaits() -> None:
    awaited = 0
    awaited_when_fired: list[int] = []
    asyncio.get_running_loop().call_later(0.01, lambda: awaited_when_fired.append(awaited))
    for i in range(300_000):
        await fetch_data_async(i, delay_ms=0)
        awaited += 1
    # Without a budget the loop runs the timer only after the last await.
    assert awaited_when_fired, "the timer did not fire during the awaits"
    assert awaited_when_fired[0] < 150_000


# ANCHOR_END: budget


# ANCHOR: spawned
@pytest.mark.parametrize("batch", [process_batch_async, process_batch_spawn_per_item_async])
async def test_a_batch_is_polled_on_tokio_from_the_start(batch: Callable[..., Any]) -> None:
    before = bridge_stats()
    future = batch(["a", "ß"])
    # Done at once if its first poll had run here, on the loop's thread.
    assert not future.done()
    assert await future == ["A", "SS"]
    after = bridge_stats()
    assert after["spawned_at_call"] - before["spawned_at_call"] == 1
    assert after["ready_at_first_poll"] == before["ready_at_first_poll"]


# ANCHOR_END: spawned
