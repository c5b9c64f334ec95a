"""Exercise 03-decrement: ``AsyncCounter.decrement_async``, down to zero and no further."""

import asyncio

import pytest
from ex03_decrement import AsyncCounter


async def counter_at(count: int) -> AsyncCounter:
    counter = AsyncCounter()
    await asyncio.gather(*(counter.increment_async() for _ in range(count)))
    return counter


async def test_a_decrement_resolves_to_the_new_count() -> None:
    counter = await counter_at(3)
    assert await counter.decrement_async() == 2
    assert await counter.decrement_async() == 1
    assert await counter.get_count_async() == 1


async def test_at_zero_a_decrement_raises_overflow_error_and_changes_nothing() -> None:
    counter = AsyncCounter()
    (outcome,) = await asyncio.gather(counter.decrement_async(), return_exceptions=True)
    if not isinstance(outcome, BaseException):
        pytest.fail(f"a decrement at 0 resolved to {outcome}: it must raise OverflowError")
    if not isinstance(outcome, OverflowError):
        raise outcome
    assert str(outcome) == "the counter is at 0: it cannot go below zero"
    assert await counter.get_count_async() == 0
    assert await counter.increment_async() == 1, "the counter is unusable after the refusal"


async def test_concurrent_decrements_never_take_the_same_unit_twice() -> None:
    counter = await counter_at(500)
    outcomes = await asyncio.gather(
        *(counter.decrement_async() for _ in range(600)), return_exceptions=True
    )
    counts = sorted(o for o in outcomes if isinstance(o, int))
    refused = [o for o in outcomes if isinstance(o, OverflowError)]
    others = [o for o in outcomes if not isinstance(o, (int, OverflowError))]
    if others:
        raise others[0]
    assert counts == list(range(500)), (
        "600 decrements of 500: each count from 499 to 0 once, then 100 refusals. Check and "
        "update under one lock: between two locks, two futures can take the same unit"
    )
    assert len(refused) == 100
    assert await counter.get_count_async() == 0


async def test_increments_and_decrements_cancel_out() -> None:
    counter = await counter_at(1_000)
    calls = [counter.increment_async() for _ in range(1_000)]
    calls += [counter.decrement_async() for _ in range(1_000)]
    await asyncio.gather(*calls)
    assert await counter.get_count_async() == 1_000
