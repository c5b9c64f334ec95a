"""Exercise 06-retry-flaky: ``call_with_retry`` retries a flaky call, a bounded number of times."""

import time

import pytest
from ex06_retry_flaky import MAX_RETRIES, FlakyService, RetryExhaustedError, call_with_retry


async def test_an_answer_at_the_first_attempt_is_returned() -> None:
    service = FlakyService(0)
    assert await call_with_retry(service) == "answer from call 1"
    assert service.calls == 1, f"the service was called {service.calls} times for one answer"


async def test_failures_are_retried_until_the_service_answers() -> None:
    service = FlakyService(2)
    answer = await call_with_retry(service, max_retries=3, base_ms=1)
    assert answer == "answer from call 3"
    assert service.calls == 3


async def test_the_last_retry_may_still_succeed() -> None:
    service = FlakyService(3)
    try:
        answer = await call_with_retry(service, max_retries=3, base_ms=1)
    except RetryExhaustedError as exc:
        pytest.fail(
            f"gave up with one retry left ({exc}): max_retries=3 allows 4 attempts in all, "
            "the first one and 3 retries",
            pytrace=False,
        )
    assert answer == "answer from call 4"


async def test_too_many_failures_raise_retry_exhausted_error_naming_the_count() -> None:
    service = FlakyService(100)
    with pytest.raises(RetryExhaustedError) as raised:
        await call_with_retry(service, max_retries=3, base_ms=1)
    assert service.calls == 4, (
        f"the service was called {service.calls} times with max_retries=3: 4 attempts in all"
    )
    assert str(raised.value) == (
        "gave up after 4 attempts (max_retries=3); last error: call 4 failed (simulated)"
    )


async def test_no_retries_means_one_attempt() -> None:
    service = FlakyService(1)
    with pytest.raises(RetryExhaustedError) as raised:
        await call_with_retry(service, max_retries=0)
    assert service.calls == 1
    assert str(raised.value) == (
        "gave up after 1 attempt (max_retries=0); last error: call 1 failed (simulated)"
    )


async def test_it_waits_the_backoff_between_attempts() -> None:
    service = FlakyService(3)
    started = time.perf_counter()
    assert await call_with_retry(service, max_retries=3, base_ms=50) == "answer from call 4"
    elapsed = time.perf_counter() - started
    # Three waits between four attempts: 50 + 100 + 200 ms. A Tokio sleep never ends early.
    assert elapsed >= 0.345, (
        f"four attempts took {elapsed * 1000:.0f} ms: wait backoff(0, base), then "
        "backoff(1, base), then backoff(2, base) between them (350 ms)"
    )


async def test_it_does_not_wait_after_the_last_attempt() -> None:
    service = FlakyService(100)
    started = time.perf_counter()
    with pytest.raises(RetryExhaustedError):
        await call_with_retry(service, max_retries=2, base_ms=300)
    elapsed = time.perf_counter() - started
    # Waits of 300 and 600 ms between three attempts; one more after the last would add 1.2 s.
    assert 0.895 <= elapsed < 1.6, (
        f"three attempts took {elapsed:.2f} s: wait 300 ms, then 600 ms, and give up at once "
        "after the last failure (there is nothing left to wait for)"
    )


def test_retry_exhausted_error_is_a_connection_error() -> None:
    assert issubclass(RetryExhaustedError, ConnectionError)


@pytest.mark.parametrize("bad", [-1, MAX_RETRIES + 1])
def test_max_retries_outside_the_range_raises_value_error(bad: int) -> None:
    with pytest.raises(ValueError, match=rf"^max_retries must be between 0 and 10, got {bad}$"):
        call_with_retry(FlakyService(0), max_retries=bad)
