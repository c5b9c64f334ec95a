"""Step 11: the faster bridge keeps pyo3-async-runtimes' contract and skips its fixed costs.

Steps 01-10's tests prove the contract still holds (an ``asyncio.Future`` of the running
loop, cancellation, errors, panics). These tests prove what is new: results reach the loop
through its inbox, those that arrive together share one wake-up byte, and every way a
future can end (result, error, panic, cancellation, a result set by other code) works.
``test_contract.py`` proves what the speed must not cost: ownership and contained faults.
Step 12's tests add futures that are done at the call.
"""

import asyncio
import threading

import pytest

from fastapi_async import (
    RustPanic,
    active_tasks,
    api_call_with_timeout,
    bridge_stats,
    fetch_data_async,
)

from ..step_04.conditions import wait_until
from .probing import block_loop_until, block_loop_until_sent, probes


async def test_a_pending_future_is_resolved_from_tokio() -> None:
    before = bridge_stats()["sent_to_loop"]
    future = fetch_data_async(8, delay_ms=20)
    assert not future.done()
    assert await future == "Data for ID 8"
    assert bridge_stats()["sent_to_loop"] == before + 1


# ANCHOR: coalesced
async def test_results_that_arrive_together_share_one_loop_wakeup() -> None:
    count = 200
    before = bridge_stats()
    futures = [api_call_with_timeout(f"e{i}", 5000, latency_ms=1) for i in range(count)]
    # All 200 results wait in the inbox, behind the one byte the first of them wrote.
    # (Each future is dropped just before it sends: `active_tasks()` tells they all did.)
    block_loop_until_sent(count, since=before["sent_to_loop"])
    block_loop_until(lambda: active_tasks() == 0)
    assert await asyncio.gather(*futures) == [f"Response from e{i}" for i in range(count)]
    assert bridge_stats()["wakeup_bytes"] - before["wakeup_bytes"] == 1


# ANCHOR_END: coalesced


@pytest.mark.parametrize("after_ms", [0, 20])
async def test_an_error_keeps_its_type_and_message(after_ms: int) -> None:
    future = probes.fail("bad input: 42", after_ms)
    with pytest.raises(ValueError, match=r"^bad input: 42$"):
        await future


@pytest.mark.parametrize("after_ms", [0, 20])
async def test_a_panic_becomes_rust_panic(after_ms: int) -> None:
    future = probes.panic("index out of bounds", after_ms)
    with pytest.raises(RustPanic, match=r"^rust future panicked: index out of bounds$"):
        await future


# ANCHOR: cancel
async def test_cancelling_a_pending_future_drops_the_rust_future() -> None:
    future = api_call_with_timeout("slow", 60_000, latency_ms=60_000)
    assert active_tasks() == 1
    assert future.cancel()
    # Aborted: Tokio drops it at its next scheduling point, on a worker.
    await wait_until(lambda: active_tasks() == 0)
    with pytest.raises(asyncio.CancelledError):
        await future


# ANCHOR_END: cancel


async def test_cancelling_a_future_running_on_tokio_drops_it() -> None:
    future = probes.wait_twice(1, 60_000)
    # After its first sleep the future was woken, so Tokio runs it.
    await wait_until(lambda: probes.in_second_wait() == 1)
    assert future.cancel()
    await wait_until(lambda: probes.in_second_wait() == 0)


async def test_cancelling_the_awaiting_task_drops_the_rust_future() -> None:
    async def handler() -> str:
        result: str = await api_call_with_timeout("slow", 60_000, latency_ms=60_000)
        return result

    task = asyncio.ensure_future(handler())
    await wait_until(lambda: active_tasks() == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until(lambda: active_tasks() == 0)


async def test_a_result_sent_before_cancel_is_dropped_not_set() -> None:
    before = bridge_stats()
    future = fetch_data_async(1, delay_ms=1)
    block_loop_until_sent(1, since=before["sent_to_loop"])
    assert future.cancel()
    # A later result comes out of the inbox after this one. Setting the result on the
    # cancelled future would raise InvalidStateError there, which pytest reports.
    assert await fetch_data_async(2, delay_ms=1) == "Data for ID 2"
    assert future.cancelled()


async def test_a_result_set_by_other_code_is_kept() -> None:
    before = bridge_stats()
    future = fetch_data_async(1, delay_ms=1)
    future.set_result("set by the caller")
    block_loop_until_sent(1, since=before["sent_to_loop"])
    # Delivered after the first result: by then the bridge has found the future done.
    assert await fetch_data_async(2, delay_ms=1) == "Data for ID 2"
    assert future.result() == "set by the caller"


async def test_a_future_awaited_from_another_loop_raises_and_still_resolves_on_its_own() -> None:
    future = fetch_data_async(3, delay_ms=20)
    errors: list[BaseException] = []

    async def await_elsewhere() -> None:
        await future

    def other_thread() -> None:
        try:
            asyncio.run(await_elsewhere())
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(timeout=10)
    assert len(errors) == 1
    assert isinstance(errors[0], RuntimeError)
    assert "different loop" in str(errors[0])
    # (Awaiting it again would fail: asyncio leaves it marked as awaited by the other task.)
    await wait_until(future.done)
    assert future.result() == "Data for ID 3"


async def test_loops_on_several_threads_each_get_their_results() -> None:
    def run_loop(offset: int) -> list[str]:
        async def fetch_some() -> list[str]:
            return await asyncio.gather(*(fetch_data_async(offset + i, 5) for i in range(50)))

        return asyncio.run(fetch_some())

    expected = [[f"Data for ID {o + i}" for i in range(50)] for o in (0, 100, 200)]
    results = await asyncio.gather(*(asyncio.to_thread(run_loop, o) for o in (0, 100, 200)))
    assert results == expected
