"""Exercise 01-echo-after: ``echo_after``, one Tokio future awaited from asyncio."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from ex01_echo_after import MAX_DELAY_MS, echo_after


def raised_by(call: Callable[[], object]) -> Exception | None:
    """The exception ``call()`` raises, or None. (A panic is no ``Exception``: it goes up.)"""
    try:
        call()
    except Exception as exc:
        return exc
    return None


async def test_resolves_to_the_text() -> None:
    for text in ["hello", "", "héllo, wörld ✓", "🦀" * 1000]:
        result = await echo_after(text, delay_ms=0)
        assert result == text, f"echo_after({text[:20]!r}, 0) resolved to {result!r}"


async def test_returns_an_asyncio_future() -> None:
    pending = echo_after("soon", delay_ms=10)
    assert isinstance(pending, asyncio.Future), (
        f"echo_after returned a {type(pending).__name__}: return what future_into_py gives you"
    )
    assert await pending == "soon"


async def test_waits_at_least_the_delay() -> None:
    started = time.perf_counter()
    await echo_after("late", delay_ms=200)
    waited = time.perf_counter() - started
    # A Tokio sleep never ends early; how much later it ends is left to the test below.
    assert waited >= 0.195, f"delay_ms=200, yet the text came after {waited * 1000:.0f} ms"


async def test_the_event_loop_keeps_running_while_it_waits() -> None:
    pending = echo_after("done", delay_ms=300)
    ticks = 0
    # Each tick needs the event loop: a call that blocked it would leave no room for one.
    while not pending.done():
        await asyncio.sleep(0.01)
        ticks += 1
    assert await pending == "done"
    assert ticks >= 5, (
        f"the event loop ran {ticks} times during a 300 ms echo_after: wait inside the "
        "future with tokio::time::sleep(...).await, not in the call"
    )


async def test_many_calls_wait_at_the_same_time() -> None:
    texts = [f"call {i}" for i in range(50)]
    started = time.perf_counter()
    results = await asyncio.gather(*(echo_after(text, delay_ms=200) for text in texts))
    elapsed = time.perf_counter() - started
    assert results == texts
    # One after another: 50 x 200 ms = 10 s. Together: about 0.2 s.
    assert elapsed < 2.5, (
        f"50 calls of 200 ms took {elapsed:.1f} s: a Tokio sleep must not block its thread "
        "(tokio::time::sleep, never std::thread::sleep)"
    )


@pytest.mark.parametrize("delay_ms", [-1, MAX_DELAY_MS + 1, -(2**63), 2**63 - 1])
def test_a_delay_outside_the_range_raises_value_error_at_the_call(delay_ms: int) -> None:
    # No event loop runs here: only a check made before future_into_py can raise first.
    error = raised_by(lambda: echo_after("x", delay_ms=delay_ms))
    if error is None:
        pytest.fail(f"echo_after accepted delay_ms={delay_ms}", pytrace=False)
    if not isinstance(error, ValueError):
        pytest.fail(
            f"echo_after raised {error!r}: check delay_ms before calling future_into_py",
            pytrace=False,
        )
    expected = f"delay_ms must be between 0 and 60000 (milliseconds), got {delay_ms}"
    assert str(error) == expected, "use millis_in_range, which writes this message"


async def test_the_largest_delay_is_accepted() -> None:
    pending = echo_after("much later", delay_ms=MAX_DELAY_MS)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
