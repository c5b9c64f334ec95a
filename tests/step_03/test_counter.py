"""Step 03: ``AsyncCounter``, one count shared by many concurrent awaitables."""

import asyncio

import pytest

import fastapi_async
from fastapi_async import AsyncCounter


# ANCHOR: exact
async def test_ten_thousand_concurrent_increments_count_exactly_ten_thousand() -> None:
    counter = AsyncCounter()
    results = await asyncio.gather(*(counter.increment_async() for _ in range(10_000)))
    # Every increment saw a different count: none was lost, none was applied twice.
    assert sorted(results) == list(range(1, 10_001))
    assert await counter.get_count_async() == 10_000


# ANCHOR_END: exact


async def test_a_new_counter_starts_at_zero() -> None:
    assert await AsyncCounter().get_count_async() == 0


async def test_increment_resolves_to_the_new_count() -> None:
    counter = AsyncCounter()
    assert await counter.increment_async() == 1
    assert await counter.increment_async() == 2
    assert await counter.increment_async() == 3


async def test_get_returns_the_current_count_without_changing_it() -> None:
    counter = AsyncCounter()
    for _ in range(5):
        await counter.increment_async()
    assert await counter.get_count_async() == 5
    assert await counter.get_count_async() == 5


async def test_reset_sets_the_count_to_zero_and_counting_resumes_from_there() -> None:
    counter = AsyncCounter()
    await asyncio.gather(*(counter.increment_async() for _ in range(50)))
    assert await counter.reset_async() == 0
    assert await counter.get_count_async() == 0
    assert await counter.increment_async() == 1


async def test_two_counters_are_independent() -> None:
    first, second = AsyncCounter(), AsyncCounter()
    await asyncio.gather(*(first.increment_async() for _ in range(30)))
    await second.increment_async()
    assert await first.get_count_async() == 30
    assert await second.get_count_async() == 1
    await first.reset_async()
    assert await second.get_count_async() == 1


async def test_methods_return_asyncio_futures_on_the_running_loop() -> None:
    counter = AsyncCounter()
    for future in (counter.increment_async(), counter.get_count_async(), counter.reset_async()):
        assert isinstance(future, asyncio.Future)
        assert future.get_loop() is asyncio.get_running_loop()
        await future


def test_the_constructor_takes_no_arguments() -> None:
    with pytest.raises(TypeError):
        AsyncCounter(5)  # type: ignore[call-arg]


def test_methods_without_a_running_event_loop_raise_runtime_error() -> None:
    counter = fastapi_async.AsyncCounter()
    with pytest.raises(RuntimeError, match="no running event loop"):
        counter.increment_async()
    with pytest.raises(RuntimeError, match="no running event loop"):
        counter.get_count_async()
    with pytest.raises(RuntimeError, match="no running event loop"):
        counter.reset_async()
