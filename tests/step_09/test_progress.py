"""Step 09: ``compute_with_progress(n, on_progress)``, a Python callback called from Rust."""

import asyncio
import threading

import pytest

from fastapi_async import compute_with_progress


def closed_form(n: int) -> int:
    return n * (n + 1) // 2


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


def test_a_callback_that_is_not_callable_raises_type_error() -> None:
    with pytest.raises(TypeError, match="on_progress must be a callable or None, got int"):
        compute_with_progress(10, 3)  # type: ignore[arg-type]
