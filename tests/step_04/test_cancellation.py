"""Step 04: cancelling from Python drops the Rust future; ``active_tasks()`` shows it."""

import asyncio

import pytest

from fastapi_async import active_tasks, api_call_with_timeout, fetch_data_async

from .conditions import wait_until


# ANCHOR: counting
async def test_active_tasks_counts_pending_calls_and_returns_to_zero() -> None:
    assert active_tasks() == 0
    futures = [api_call_with_timeout(f"e{i}", 5000, latency_ms=200) for i in range(10)]
    # Each future counts itself from the moment it is created.
    assert active_tasks() == 10
    results = await asyncio.gather(*futures)
    assert results == [f"Response from e{i}" for i in range(10)]
    # Rust drops each future before it hands the result to Python.
    assert active_tasks() == 0


# ANCHOR_END: counting


# ANCHOR: wait_for
async def test_wait_for_cancels_the_call_and_the_rust_future_is_dropped() -> None:
    call = api_call_with_timeout("slow", timeout_ms=60_000, latency_ms=60_000)
    assert active_tasks() == 1
    # asyncio.TimeoutError is the builtin TimeoutError since Python 3.11, not before.
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(call, timeout=0.1)
    assert call.cancelled()
    # The drop happens on a Tokio thread shortly after: wait for it, bounded.
    await wait_until(lambda: active_tasks() == 0)


# ANCHOR_END: wait_for


async def test_task_cancel_drops_the_rust_future() -> None:
    async def handler() -> str:
        return await api_call_with_timeout("slow", 60_000, latency_ms=60_000)

    task = asyncio.ensure_future(handler())
    await wait_until(lambda: active_tasks() == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until(lambda: active_tasks() == 0)


async def test_cancelling_many_pending_calls_drops_every_one() -> None:
    futures = [api_call_with_timeout(f"e{i}", 60_000, latency_ms=60_000) for i in range(100)]
    assert active_tasks() == 100
    for future in futures:
        future.cancel()
    await wait_until(lambda: active_tasks() == 0)


async def test_step_01_futures_are_not_counted() -> None:
    future = fetch_data_async(1, delay_ms=0)
    assert active_tasks() == 0
    assert await future == "Data for ID 1"
