"""PyO3's native ``async fn`` next to ``future_into_py``: values, the event loop, cancels, errors.

``live_sleeps()`` counts the Tokio sleeps alive in the process, in either style, so the
cancellation tests see whether the Tokio work really stopped. A cancelled Tokio task is
dropped on a Tokio thread shortly after, so those tests wait for the count, bounded.
"""

import asyncio
import time

import native_async as na
import pytest

from ..step_04.conditions import wait_until


@pytest.fixture(autouse=True)
async def no_sleeps_left_over() -> None:
    """Every test starts with no Tokio sleep alive (a detached one may still be ending)."""
    await wait_until(lambda: na.live_sleeps() == 0)


async def test_both_styles_return_the_same_values() -> None:
    assert await na.native_ready(7) == 7
    assert await na.bridge_ready(7) == 7
    assert await na.native_sleep(5) == 5
    assert await na.bridge_sleep(5) == 5
    assert await na.native_sleep_cancellable(5) == 5
    assert na.live_sleeps() == 0


def test_a_ready_native_coroutine_finishes_on_its_first_send_without_an_event_loop() -> None:
    coroutine = na.native_ready(42)
    # Each send() is one poll of the Rust future, on the caller's thread.
    with pytest.raises(StopIteration) as stop:
        coroutine.send(None)
    assert stop.value.value == 42


async def test_a_native_coroutine_cannot_be_awaited_twice() -> None:
    coroutine = na.native_ready(1)
    assert await coroutine == 1
    with pytest.raises(RuntimeError, match="cannot reuse already awaited coroutine"):
        await coroutine


async def test_the_event_loop_runs_other_tasks_while_a_native_coroutine_waits_on_tokio() -> None:
    ticks = 0

    async def ticker(until: "asyncio.Task[int]") -> None:
        nonlocal ticks
        while not until.done():
            ticks += 1
            await asyncio.sleep(0.005)

    sleeper = asyncio.ensure_future(na.native_sleep(300))
    await asyncio.gather(sleeper, ticker(sleeper))
    assert sleeper.result() == 300
    # 300 ms of 5 ms ticks is ~60; a blocked loop would tick once.
    assert ticks >= 10, f"the loop ticked only {ticks} times in 300 ms"


async def test_many_native_sleeps_run_at_the_same_time() -> None:
    started = time.perf_counter()
    results = await asyncio.gather(*(na.native_sleep(200) for _ in range(50)))
    elapsed = time.perf_counter() - started
    assert results == [200] * 50
    # One after another would take 10 s.
    assert elapsed < 2.0, f"50 sleeps of 200 ms took {elapsed:.2f} s"


# ANCHOR: cancel
async def test_cancelling_a_native_coroutine_aborts_its_owned_tokio_task() -> None:
    task = asyncio.ensure_future(na.native_sleep(60_000))
    await wait_until(lambda: na.live_sleeps() == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The coroutine dropped its Rust future inside throw(); that aborted the Tokio task,
    # which Tokio carries out on one of its threads shortly after.
    await wait_until(lambda: na.live_sleeps() == 0)


async def test_cancelling_a_native_coroutine_detaches_a_bare_join_handle() -> None:
    task = asyncio.ensure_future(na.native_sleep_detached(1000))
    await wait_until(lambda: na.live_sleeps() == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.1)
    # Python has given up, but the Tokio sleep is still alive, for nobody ...
    assert na.live_sleeps() == 1
    # ... until it ends on its own, about 1 s after it started.
    await wait_until(lambda: na.live_sleeps() == 0)


async def test_a_cancel_handle_stops_the_tokio_task_before_the_cancel_reaches_python() -> None:
    task = asyncio.ensure_future(na.native_sleep_cancellable(60_000))
    await wait_until(lambda: na.live_sleeps() == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # No waiting: the coroutine re-raised the CancelledError only after the task ended.
    assert na.live_sleeps() == 0


# ANCHOR_END: cancel


async def test_wait_for_cancels_a_native_coroutine_and_its_tokio_task() -> None:
    # asyncio.TimeoutError is the builtin TimeoutError since Python 3.11, not before.
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(na.native_sleep(60_000), timeout=0.05)
    await wait_until(lambda: na.live_sleeps() == 0)


async def test_cancelling_a_bridge_future_drops_the_rust_future() -> None:
    future = na.bridge_sleep(60_000)
    await wait_until(lambda: na.live_sleeps() == 1)
    future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await future
    await wait_until(lambda: na.live_sleeps() == 0)


async def test_a_native_coroutine_checks_its_arguments_when_awaited_not_when_called() -> None:
    # PyO3 converts an async fn's arguments inside the coroutine: calling never raises.
    too_long, negative, not_an_int = (
        na.native_sleep(60_001),
        na.native_sleep(-1),
        na.native_sleep("x"),  # type: ignore[arg-type]
    )
    with pytest.raises(
        ValueError, match=r"ms must be between 0 and 60000 \(milliseconds\), got 60001"
    ):
        await too_long
    with pytest.raises(OverflowError, match="can't convert negative int to unsigned"):
        await negative
    with pytest.raises(TypeError, match="'str' object cannot be interpreted as an integer"):
        await not_an_int
    assert na.live_sleeps() == 0


async def test_a_bridge_function_checks_its_arguments_when_called() -> None:
    with pytest.raises(
        ValueError, match=r"ms must be between 0 and 60000 \(milliseconds\), got 60001"
    ):
        na.bridge_sleep(60_001)
    with pytest.raises(OverflowError, match="can't convert negative int to unsigned"):
        na.bridge_sleep(-1)
    assert na.MAX_SLEEP_MS == 60_000


async def test_a_tokio_timer_polled_by_the_event_loop_panics_with_no_reactor() -> None:
    # PanicException derives from BaseException, so `except Exception` does not catch it.
    with pytest.raises(BaseException, match="there is no reactor running") as raised:
        await na.native_sleep_outside_tokio(5)
    assert type(raised.value).__name__ == "PanicException"
    assert not isinstance(raised.value, Exception)
