"""Step 11: what the faster bridge must not give up for its speed.

asyncio's contract, kept as pyo3-async-runtimes keeps it: a task that awaits ready futures
in a loop still lets the event loop run (the bridge's budget); large work never runs on the
loop's thread; nothing outlives its owner (a request's context, an event loop's
descriptors); and a fault (a panic converting a result, a panicking ``Drop``, a Python
future that cannot be made) fails one future, never the loop, the batch or ``cancel()``.
Each test fails on a bridge without the property (see the chapter for how each was shown).
"""

import asyncio
import contextvars
import gc
import sys
import warnings
import weakref
from collections.abc import Callable
from typing import Any

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

from .probing import LOOP_FACTORIES, block_loop_until_sent, open_descriptors, probes

LoopFactory = Callable[[], asyncio.AbstractEventLoop]
each_loop = pytest.mark.parametrize("new_loop", LOOP_FACTORIES.values(), ids=LOOP_FACTORIES)


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


async def fetch_twice() -> None:
    """Uses the bridge of the running loop: one result from Tokio, one ready at once."""
    assert await fetch_data_async(1, delay_ms=1) == "Data for ID 1"
    assert await fetch_data_async(2, delay_ms=0) == "Data for ID 2"


# ANCHOR: owners
REQUEST_STATE: contextvars.ContextVar[object] = contextvars.ContextVar("request_state")


@each_loop
def test_a_requests_context_is_released_when_the_request_ends(new_loop: LoopFactory) -> None:
    class RequestState:
        pass

    state = RequestState()
    state_alive = weakref.ref(state)

    async def request() -> None:
        REQUEST_STATE.set(state)
        await fetch_twice()  # the loop's first bridged call: its bridge is made here

    event_loop = new_loop()
    try:
        event_loop.run_until_complete(request())
        del state
        gc.collect()
        assert state_alive() is None, "the request's context outlived the request"
    finally:
        event_loop.close()


@each_loop
def test_a_closed_loop_releases_its_bridge_at_once(new_loop: LoopFactory) -> None:
    first = new_loop()  # starts the Tokio runtime, whose descriptors stay open
    first.run_until_complete(fetch_twice())
    first.close()
    before = open_descriptors()
    event_loop = new_loop()
    event_loop.run_until_complete(fetch_twice())
    event_loop.close()
    assert open_descriptors() == before


def test_loops_never_closed_leave_no_descriptors_behind() -> None:
    # asyncio's loops only: a uvloop loop that is never closed is never freed (its libuv
    # handles keep it alive, 5 descriptors each, bridge or not), and its bridge with it.
    before = open_descriptors()
    with warnings.catch_warnings():
        # An asyncio loop freed unclosed warns (ResourceWarning), then closes itself.
        warnings.simplefilter("ignore", ResourceWarning)
        for _ in range(200):
            asyncio.new_event_loop().run_until_complete(fetch_twice())
        gc.collect()
    assert open_descriptors() - before < 50


# ANCHOR_END: owners


# ANCHOR: faults
@pytest.mark.parametrize("after_ms", [0, 1])
async def test_a_panic_converting_one_result_fails_that_future_only(after_ms: int) -> None:
    before = bridge_stats()["sent_to_loop"]
    futures = [
        probes.panic_when_delivered(after_ms),
        fetch_data_async(1, delay_ms=20),
        fetch_data_async(2, delay_ms=20),
    ]
    # All three wait in the inbox together, the panicking one first.
    block_loop_until_sent(3 if after_ms else 2, since=before)
    gathered = asyncio.gather(*futures, return_exceptions=True)
    results = await asyncio.wait_for(gathered, timeout=10)
    assert isinstance(results[0], RustPanic)
    assert str(results[0]) == "rust future panicked: conversion failed"
    assert results[1:] == ["Data for ID 1", "Data for ID 2"]


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


class LoopOutOfMemory(asyncio.SelectorEventLoop):
    """An asyncio loop that fails to make futures on demand, as under memory pressure
    (``asyncio.Future(loop=...)`` calls ``loop.get_debug()``)."""

    failing = False

    def get_debug(self) -> bool:
        if self.failing:
            raise MemoryError("no memory for a future")
        return super().get_debug()


def test_a_future_whose_python_side_cannot_be_made_is_dropped() -> None:
    event_loop = LoopOutOfMemory()

    async def call_while_failing() -> None:
        await fetch_twice()  # the bridge exists before futures start failing
        event_loop.failing = True
        try:
            api_call_with_timeout("slow", 60_000, latency_ms=60_000)
        finally:
            event_loop.failing = False

    try:
        with pytest.raises(MemoryError, match="no memory for a future"):
            event_loop.run_until_complete(call_while_failing())
        # Dropped in the call, on this thread; a parked future would live for a minute.
        assert active_tasks() == 0
    finally:
        event_loop.close()


# ANCHOR_END: faults
