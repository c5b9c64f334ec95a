"""Exercise 04-sleep-with-timeout: a deadline enforced in Rust, with ``tokio::time::timeout``."""

import asyncio
import re
import time

import pytest
from ex04_sleep_with_timeout import MAX_SLEEP_MS, MAX_TIMEOUT_MS, sleep_with_timeout

# How long a test waits for an answer before it gives up (the deadlines tested are far shorter).
PATIENCE_S = 10


async def outcome(sleep_ms: int, timeout_ms: int) -> tuple[object, float]:
    """The result or exception of one call, and the seconds it took. The test's own
    patience is ``asyncio.wait``'s, which raises nothing, so a ``TimeoutError`` can only
    come from Rust."""
    started = time.perf_counter()
    pending = sleep_with_timeout(sleep_ms, timeout_ms)
    done, _ = await asyncio.wait({pending}, timeout=PATIENCE_S)
    elapsed = time.perf_counter() - started
    if not done:
        pending.cancel()
        pytest.fail(
            f"sleep_with_timeout({sleep_ms}, {timeout_ms}) gave no answer within "
            f"{PATIENCE_S} s: the deadline is not enforced (tokio::time::timeout)",
            pytrace=False,
        )
    exception = pending.exception()
    return (exception if exception is not None else pending.result()), elapsed


async def test_a_sleep_shorter_than_the_timeout_resolves() -> None:
    result, elapsed = await outcome(sleep_ms=50, timeout_ms=5_000)
    if isinstance(result, BaseException):
        raise result
    assert result == "slept 50 ms"
    assert elapsed >= 0.045, f"a 50 ms sleep ended after {elapsed * 1000:.0f} ms"


async def test_a_sleep_longer_than_the_timeout_raises_timeout_error_after_the_timeout() -> None:
    result, elapsed = await outcome(sleep_ms=MAX_SLEEP_MS, timeout_ms=100)
    if not isinstance(result, TimeoutError):
        if isinstance(result, BaseException):
            raise result
        pytest.fail(f"expected TimeoutError, got the result {result!r}", pytrace=False)
    # A Tokio timer never fires early; it fired long before the minute-long sleep's end.
    assert elapsed >= 0.095, f"the 100 ms deadline fired after {elapsed * 1000:.0f} ms"
    assert str(result) == "the sleep timed out after 100 ms", (
        "the TimeoutError's message must name the limit, in milliseconds"
    )


async def test_the_message_names_the_limit_given() -> None:
    result, _ = await outcome(sleep_ms=5_000, timeout_ms=250)
    if isinstance(result, BaseException) and not isinstance(result, TimeoutError):
        raise result
    assert isinstance(result, TimeoutError), f"expected TimeoutError, got {result!r}"
    assert str(result) == "the sleep timed out after 250 ms"


async def test_many_deadlines_run_at_the_same_time() -> None:
    started = time.perf_counter()
    calls = [sleep_with_timeout(MAX_SLEEP_MS, 200) for _ in range(50)]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    elapsed = time.perf_counter() - started
    for result in outcomes:
        if isinstance(result, BaseException) and not isinstance(result, TimeoutError):
            raise result
        assert isinstance(result, TimeoutError), f"expected TimeoutError, got {result!r}"
    assert elapsed < PATIENCE_S / 2, f"50 deadlines of 200 ms took {elapsed:.1f} s together"


@pytest.mark.parametrize(
    ("sleep_ms", "timeout_ms", "message"),
    [
        (-1, 100, "sleep_ms must be between 0 and 60000 (milliseconds), got -1"),
        (MAX_SLEEP_MS + 1, 100, "sleep_ms must be between 0 and 60000 (milliseconds)"),
        (10, 0, "timeout_ms must be between 1 and 60000 (milliseconds), got 0"),
        (10, MAX_TIMEOUT_MS + 1, "timeout_ms must be between 1 and 60000 (milliseconds)"),
    ],
)
def test_arguments_outside_their_range_raise_value_error_at_the_call(
    sleep_ms: int, timeout_ms: int, message: str
) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        sleep_with_timeout(sleep_ms, timeout_ms)
