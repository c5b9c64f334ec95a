"""Step 03: ``compute_with_progress``, CPU work off the event loop with a progress callback."""

import asyncio
import threading

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


# ANCHOR: progress
@pytest.mark.parametrize("n", [1, 7, 10, 11, 39, 100, 1_001, 123_457, 10_000_000])
async def test_progress_is_increasing_at_least_every_ten_percent_and_ends_at_n(n: int) -> None:
    reports: list[tuple[int, int]] = []
    total = await compute_with_progress(n, lambda done, of: reports.append((done, of)))
    assert total == closed_form(n)
    assert reports[-1] == (n, n)
    assert all(of == n for _, of in reports)
    done = [d for d, _ in reports]
    steps = [b - a for a, b in zip([0, *done], done)]
    assert all(step > 0 for step in steps), done  # strictly increasing: (n, n) only once
    assert max(steps) <= max(1, n // 10), done  # never more than 10 % (or 1 item) apart


# ANCHOR_END: progress


async def test_zero_gives_zero_and_exactly_one_report() -> None:
    reports: list[tuple[int, int]] = []
    assert await compute_with_progress(0, lambda done, of: reports.append((done, of))) == 0
    assert reports == [(0, 0)]


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


async def test_the_callback_runs_on_a_tokio_thread_not_the_event_loop_thread() -> None:
    loop_thread = threading.get_ident()
    callback_threads: set[int] = set()
    await compute_with_progress(1_000, lambda *_: callback_threads.add(threading.get_ident()))
    assert callback_threads
    assert loop_thread not in callback_threads


# ANCHOR: threadsafe
async def test_callback_reaches_the_event_loop_with_call_soon_threadsafe() -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()

    def on_progress(done: int, total: int) -> None:
        # Runs on a Tokio thread: asyncio objects may only be touched from the loop.
        loop.call_soon_threadsafe(queue.put_nowait, (done, total))

    total = await compute_with_progress(100, on_progress)
    assert total == 5050
    # Each put_nowait was scheduled before the future's result, so all are queued now.
    received = [queue.get_nowait() for _ in range(queue.qsize())]
    assert received == [(done, 100) for done in range(5, 101, 5)]


# ANCHOR_END: threadsafe


class ProgressStopped(Exception):
    pass


# ANCHOR: exception
async def test_an_exception_in_the_callback_stops_the_work_and_is_raised_as_is() -> None:
    raised = ProgressStopped("stop at the third report")
    calls = 0

    def on_progress(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise raised

    with pytest.raises(ProgressStopped) as caught:
        await compute_with_progress(1_000_000, on_progress)
    assert caught.value is raised  # the same object, not a copy or a wrapper
    assert calls == 3  # no report after the exception: the computation stopped


# ANCHOR_END: exception


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


def test_a_callback_that_is_not_callable_raises_type_error() -> None:
    with pytest.raises(TypeError, match="on_progress must be a callable or None, got int"):
        compute_with_progress(10, 3)  # type: ignore[arg-type]


def test_calling_without_a_running_event_loop_raises_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="no running event loop"):
        fastapi_async.compute_with_progress(10)
