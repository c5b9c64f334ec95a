"""Step 01: ``fetch_data_async``, a Tokio future awaited from asyncio."""

import asyncio
import time

import pytest

import fastapi_async


async def test_returns_the_data_for_the_id() -> None:
    assert await fastapi_async.fetch_data_async(42) == "Data for ID 42"
    assert await fastapi_async.fetch_data_async(-7, delay_ms=0) == "Data for ID -7"


# ANCHOR: future
async def test_returns_an_asyncio_future_bound_to_the_running_loop() -> None:
    future = fastapi_async.fetch_data_async(1, delay_ms=0)
    assert isinstance(future, asyncio.Future)
    assert future.get_loop() is asyncio.get_running_loop()
    assert await future == "Data for ID 1"


# ANCHOR_END: future


async def test_waits_at_least_the_requested_delay() -> None:
    started = time.perf_counter()
    await fastapi_async.fetch_data_async(1, delay_ms=200)
    # A Tokio sleep never ends early; the upper side is left to the concurrency test.
    assert time.perf_counter() - started >= 0.195


# ANCHOR: heartbeat
async def test_event_loop_keeps_running_while_rust_sleeps() -> None:
    future = fastapi_async.fetch_data_async(1, delay_ms=500)
    ticks_while_pending = 0
    # Each tick needs the event loop: if the Rust sleep blocked the loop (or held the GIL),
    # no tick could run before the future is done.
    while not future.done():
        await asyncio.sleep(0.01)
        ticks_while_pending += 1
    assert await future == "Data for ID 1"
    # About 50 ticks fit in 500 ms; a blocked loop would manage at most one.
    assert ticks_while_pending >= 10


# ANCHOR_END: heartbeat


# ANCHOR: concurrent
async def test_hundred_concurrent_fetches_overlap() -> None:
    started = time.perf_counter()
    results = await asyncio.gather(
        *(fastapi_async.fetch_data_async(i, delay_ms=100) for i in range(100))
    )
    elapsed = time.perf_counter() - started
    assert results == [f"Data for ID {i}" for i in range(100)]
    # One after another they would take 100 x 100 ms = 10 s; together, about 0.1 s.
    assert elapsed < 2.5, f"100 concurrent 100 ms fetches took {elapsed:.2f} s"


# ANCHOR_END: concurrent


@pytest.mark.parametrize("delay_ms", [-1, 60_001, -(2**63), 2**63 - 1])
def test_delay_outside_range_raises_value_error_naming_the_range(delay_ms: int) -> None:
    # Checked before any future exists, so no event loop is needed to see it.
    with pytest.raises(ValueError, match=r"delay_ms must be between 0 and 60000.*got"):
        fastapi_async.fetch_data_async(1, delay_ms=delay_ms)


async def test_largest_delay_is_accepted_and_can_be_cancelled() -> None:
    future = fastapi_async.fetch_data_async(1, delay_ms=fastapi_async.MAX_DELAY_MS)
    assert fastapi_async.MAX_DELAY_MS == 60_000
    assert future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await future


@pytest.mark.parametrize(("id_", "delay_ms"), [(2**63, 0), (0, 2**64)])
def test_integers_beyond_64_bits_raise_overflow_error(id_: int, delay_ms: int) -> None:
    with pytest.raises(OverflowError):
        fastapi_async.fetch_data_async(id_, delay_ms=delay_ms)


def test_non_integer_arguments_raise_type_error() -> None:
    with pytest.raises(TypeError):
        fastapi_async.fetch_data_async("42")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        fastapi_async.fetch_data_async(1, delay_ms=1.5)  # type: ignore[arg-type]


def test_calling_without_a_running_event_loop_raises_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="no running event loop"):
        fastapi_async.fetch_data_async(1)
