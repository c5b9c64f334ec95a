"""Step 04: ``api_call_with_timeout``, a deadline enforced inside Rust."""

import asyncio
import time

import pytest

import fastapi_async
from fastapi_async import active_tasks, api_call_with_timeout

from .conditions import wait_until


async def test_returns_the_response_when_latency_is_below_the_timeout() -> None:
    assert await api_call_with_timeout("users", 1000, latency_ms=10) == "Response from users"
    assert await api_call_with_timeout("orders", 1, latency_ms=0) == "Response from orders"


async def test_returns_an_asyncio_future_bound_to_the_running_loop() -> None:
    future = api_call_with_timeout("users", 1000, latency_ms=0)
    assert isinstance(future, asyncio.Future)
    assert future.get_loop() is asyncio.get_running_loop()
    assert await future == "Response from users"


async def test_default_latency_is_100_ms() -> None:
    started = time.perf_counter()
    assert await api_call_with_timeout("users", 5000) == "Response from users"
    assert time.perf_counter() - started >= 0.095


# ANCHOR: timeout
async def test_timeout_raises_after_timeout_ms_not_after_latency_ms() -> None:
    started = time.perf_counter()
    with pytest.raises(TimeoutError, match=r"^call to users timed out after 100 ms$"):
        await api_call_with_timeout("users", timeout_ms=100, latency_ms=5000)
    elapsed = time.perf_counter() - started
    # A Tokio timer never fires early; 2.5 s leaves a busy machine a wide margin and is
    # still far below the 5 s the call would have taken.
    assert 0.095 <= elapsed < 2.5, f"timed out after {elapsed:.2f} s"
    # The timeout dropped the call inside Rust before the error reached Python.
    assert active_tasks() == 0


# ANCHOR_END: timeout


async def test_rust_timeout_is_a_deadline_exceeded_error_not_a_cancellation() -> None:
    future = api_call_with_timeout("users", timeout_ms=10, latency_ms=5000)
    with pytest.raises(TimeoutError) as caught:
        await future
    assert type(caught.value) is fastapi_async.DeadlineExceededError
    # The asyncio.Future failed with an exception; it was not cancelled.
    assert not future.cancelled()


# ANCHOR: two_bases
@pytest.mark.parametrize("handled", [TimeoutError, asyncio.TimeoutError, RuntimeError])
async def test_every_kind_of_timeout_handler_catches_the_deadline(
    handled: type[Exception],
) -> None:
    # `except RuntimeError` is how code written for pyo3-asyncio caught Rust's errors;
    # pytest.raises matches the way an `except` clause does.
    with pytest.raises(handled, match=r"^call to users timed out after 10 ms$"):
        await api_call_with_timeout("users", timeout_ms=10, latency_ms=5000)


# ANCHOR_END: two_bases


def test_the_deadline_class_keeps_timeout_errors_layout_first() -> None:
    mro = fastapi_async.DeadlineExceededError.__mro__
    assert mro.index(TimeoutError) < mro.index(RuntimeError)
    assert fastapi_async.DeadlineExceededError.__module__ == "fastapi_async"


async def test_rust_deadline_wins_over_a_longer_wait_for() -> None:
    # The inner deadline fires first: the error is Rust's, with the endpoint in its message.
    with pytest.raises(TimeoutError, match="call to users timed out after 50 ms"):
        await asyncio.wait_for(api_call_with_timeout("users", 50, latency_ms=5000), 10)


async def test_largest_timeout_and_latency_are_accepted_and_can_be_cancelled() -> None:
    assert fastapi_async.MIN_TIMEOUT_MS == 1
    assert fastapi_async.MAX_TIMEOUT_MS == 60_000
    assert fastapi_async.MAX_LATENCY_MS == 60_000
    assert fastapi_async.MAX_ENDPOINT_LEN == 256
    future = api_call_with_timeout(
        "x" * fastapi_async.MAX_ENDPOINT_LEN,
        fastapi_async.MAX_TIMEOUT_MS,
        latency_ms=fastapi_async.MAX_LATENCY_MS,
    )
    assert future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await future
    # The Rust future is dropped on a Tokio thread a moment later: wait for it, bounded.
    await wait_until(lambda: active_tasks() == 0)


async def test_endpoint_length_is_counted_in_characters_not_bytes() -> None:
    endpoint = "é" * fastapi_async.MAX_ENDPOINT_LEN  # 512 bytes in UTF-8
    assert await api_call_with_timeout(endpoint, 1000, latency_ms=0) == f"Response from {endpoint}"


@pytest.mark.parametrize("timeout_ms", [0, -1, 60_001, -(2**63), 2**63 - 1])
def test_timeout_outside_range_raises_value_error_naming_the_range(timeout_ms: int) -> None:
    before = active_tasks()
    # Checked before any future exists, so no event loop is needed to see it.
    with pytest.raises(
        ValueError,
        match=rf"^timeout_ms must be between 1 and 60000 \(milliseconds\), got {timeout_ms}$",
    ):
        api_call_with_timeout("users", timeout_ms)
    assert active_tasks() == before  # the call created no future, so counted none


@pytest.mark.parametrize("latency_ms", [-1, 60_001, -(2**63), 2**63 - 1])
def test_latency_outside_range_raises_value_error_naming_the_range(latency_ms: int) -> None:
    before = active_tasks()
    with pytest.raises(
        ValueError,
        match=rf"^latency_ms must be between 0 and 60000 \(milliseconds\), got {latency_ms}$",
    ):
        api_call_with_timeout("users", 1000, latency_ms=latency_ms)
    assert active_tasks() == before


@pytest.mark.parametrize(("endpoint", "length"), [("", 0), ("x" * 257, 257)])
def test_endpoint_outside_length_range_raises_value_error(endpoint: str, length: int) -> None:
    before = active_tasks()
    with pytest.raises(
        ValueError, match=rf"^endpoint must be between 1 and 256 characters long, got {length}$"
    ):
        api_call_with_timeout(endpoint, 1000)
    assert active_tasks() == before


@pytest.mark.parametrize(("timeout_ms", "latency_ms"), [(2**64, 0), (1000, 2**64)])
def test_integers_beyond_64_bits_raise_overflow_error(timeout_ms: int, latency_ms: int) -> None:
    with pytest.raises(OverflowError):
        api_call_with_timeout("users", timeout_ms, latency_ms=latency_ms)


def test_wrong_argument_types_raise_type_error() -> None:
    with pytest.raises(TypeError):
        api_call_with_timeout(42, 1000)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        api_call_with_timeout("users", 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        api_call_with_timeout("users")  # type: ignore[call-arg]


def test_calling_without_a_running_event_loop_raises_runtime_error_and_counts_nothing() -> None:
    before = active_tasks()
    with pytest.raises(RuntimeError, match="no running event loop"):
        api_call_with_timeout("users", 1000)
    # The guard was created, then dropped with the future that was never spawned.
    assert active_tasks() == before
