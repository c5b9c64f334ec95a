"""Exercise 03-atomic-counter: ``AtomicCounter``, one count in an ``AtomicU64``."""

import asyncio

import pytest
from ex03_atomic_counter import AtomicCounter

U64_MAX = 2**64 - 1


async def test_each_increment_resolves_to_the_new_count() -> None:
    counter = AtomicCounter()
    assert [await counter.increment_async() for _ in range(3)] == [1, 2, 3]
    assert await counter.get_count_async() == 3


async def test_a_counter_starts_where_it_is_told() -> None:
    counter = AtomicCounter(41)
    assert await counter.increment_async() == 42


async def test_concurrent_increments_each_get_their_own_count() -> None:
    counter = AtomicCounter()
    results = await asyncio.gather(*(counter.increment_async() for _ in range(10_000)))
    assert await counter.get_count_async() == 10_000, "increments were lost"
    assert sorted(results) == list(range(1, 10_001)), (
        "two increments resolved to the same count: read, add and write in one atomic "
        "step (fetch_update), not a load followed by a store"
    )


async def test_at_the_maximum_an_increment_raises_overflow_error_and_changes_nothing() -> None:
    counter = AtomicCounter(U64_MAX - 1)
    assert await counter.increment_async() == U64_MAX
    (outcome,) = await asyncio.gather(counter.increment_async(), return_exceptions=True)
    if not isinstance(outcome, BaseException):
        pytest.fail(
            f"an increment at 2**64 - 1 resolved to {outcome}: it must raise OverflowError "
            "(fetch_add wraps around; a checked add does not)",
            pytrace=False,
        )
    if not isinstance(outcome, OverflowError):
        raise outcome
    assert str(outcome) == f"the counter is at its maximum ({U64_MAX})"
    count = await counter.get_count_async()
    assert count == U64_MAX, f"after the refused increment the count is {count}, not 2**64 - 1"


async def test_two_counters_do_not_share_a_count() -> None:
    first, second = AtomicCounter(), AtomicCounter()
    await first.increment_async()
    assert await second.get_count_async() == 0
