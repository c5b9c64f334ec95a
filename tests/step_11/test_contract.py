"""Step 11: what the faster bridge must not give up for its speed.

asyncio's contract, kept as pyo3-async-runtimes keeps it: nothing outlives its owner (a
request's context, an event loop and its descriptors), and a fault (a panic converting a
result, a Python future that cannot be made) fails one future, never the loop or the
rest of a batch. Each test fails on a bridge without the property (the chapter says how
each was shown). Step 12's tests add fairness and large first polls.
"""

import asyncio
import contextvars
import gc
import warnings
import weakref
from collections.abc import Callable

import pytest

from fastapi_async import (
    RustPanic,
    active_tasks,
    api_call_with_timeout,
    bridge_stats,
    fetch_data_async,
)

from .probing import LOOP_FACTORIES, block_loop_until_sent, open_descriptors, probes

LoopFactory = Callable[[], asyncio.AbstractEventLoop]
each_loop = pytest.mark.parametrize("new_loop", LOOP_FACTORIES.values(), ids=LOOP_FACTORIES)


async def fetch_twice() -> None:
    """Uses the bridge of the running loop: one result from Tokio, one ready at once."""
    assert await fetch_data_async(1, delay_ms=1) == "Data for ID 1"
    assert await fetch_data_async(2, delay_ms=0) == "Data for ID 2"


# ANCHOR: owners
REQUEST_STATE: contextvars.ContextVar[object] = contextvars.ContextVar("request_state")


class RequestState:
    """What a request keeps in its context (a user, a database session)."""


def serve_one_request(event_loop: asyncio.AbstractEventLoop) -> "weakref.ref[RequestState]":
    """Runs a request that keeps its state in a context variable; returns a weak reference
    to that state."""
    state = RequestState()

    async def request() -> None:
        REQUEST_STATE.set(state)
        await fetch_twice()  # the loop's first bridged call: its bridge is made here

    event_loop.run_until_complete(request())
    return weakref.ref(state)


@each_loop
def test_a_requests_context_is_released_when_the_request_ends(new_loop: LoopFactory) -> None:
    event_loop = new_loop()
    try:
        state_alive = serve_one_request(event_loop)
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
async def test_a_panic_converting_one_result_fails_that_future_only() -> None:
    before = bridge_stats()["sent_to_loop"]
    futures = [
        probes.panic_when_delivered(1),
        fetch_data_async(1, delay_ms=20),
        fetch_data_async(2, delay_ms=20),
    ]
    # All three wait in the inbox together, the panicking one first.
    block_loop_until_sent(3, since=before)
    gathered = asyncio.gather(*futures, return_exceptions=True)
    results = await asyncio.wait_for(gathered, timeout=10)
    assert isinstance(results[0], RustPanic)
    assert str(results[0]) == "rust future panicked: conversion failed"
    assert results[1:] == ["Data for ID 1", "Data for ID 2"]


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
