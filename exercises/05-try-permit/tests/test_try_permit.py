"""Exercise 05-try-permit: ``Limiter.run_async`` refuses work at once when it is full."""

from __future__ import annotations

import asyncio
import time

import pytest
from ex05_try_permit import BusyError, Limiter


async def until_available(limiter: Limiter, permits: int) -> int:
    """Polls ``limiter.available`` (every 5 ms, at most 5 s) until it reads ``permits``: a
    permit goes back on a Tokio thread, and there is nothing to await for it."""
    deadline = time.monotonic() + 5
    while limiter.available != permits:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.005)
    return limiter.available


async def cancel_all(*pending: asyncio.Future[str]) -> None:
    for future in pending:
        future.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def test_work_runs_while_a_permit_is_free() -> None:
    limiter = Limiter(2)
    assert await limiter.run_async(10) == "done"
    assert await asyncio.gather(limiter.run_async(10), limiter.run_async(10)) == ["done"] * 2


async def test_with_every_permit_taken_the_call_raises_busy_error_at_once() -> None:
    limiter = Limiter(2)
    running = [limiter.run_async(5_000), limiter.run_async(5_000)]
    try:
        assert limiter.available == 0, (
            f"two calls run, yet {limiter.available} permit(s) are free: take the permit "
            "at the call (try_acquire_owned) and move it into the future, which holds it"
        )
        try:
            extra = limiter.run_async(10)
        except BusyError as exc:
            refusal = str(exc)
        else:
            await cancel_all(extra)
            pytest.fail(
                "a third call returned an awaitable while both permits were taken: with no "
                "permit free it must raise BusyError at the call, not wait for one",
                pytrace=False,
            )
        assert refusal == "all 2 permits are in use: try again later"
    finally:
        await cancel_all(*running)


async def test_finished_work_gives_its_permit_back() -> None:
    limiter = Limiter(1)
    assert await limiter.run_async(10) == "done"
    assert await until_available(limiter, 1) == 1
    assert await limiter.run_async(10) == "done", "the permit of finished work was not returned"


async def test_cancelled_work_gives_its_permit_back() -> None:
    limiter = Limiter(1)
    pending = limiter.run_async(60_000)
    await cancel_all(pending)
    # Cancellation reaches the Rust future on a Tokio thread a moment later.
    assert await until_available(limiter, 1) == 1, "a cancelled call kept its permit"
    assert await limiter.run_async(10) == "done"


def test_busy_error_is_a_runtime_error() -> None:
    assert issubclass(BusyError, RuntimeError)


def test_the_number_of_permits_is_checked() -> None:
    with pytest.raises(ValueError, match=r"^max_concurrent must be between 1 and 1000, got 0$"):
        Limiter(0)
