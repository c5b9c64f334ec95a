"""Exercise 02-fetch-all: ``fetch_all`` runs its fetches at the same time, in one call."""

import time

import pytest
from ex02_fetch_all import MAX_DELAY_MS, MAX_FETCHES, fetch_all


def expected(delays_ms: list[int]) -> list[str]:
    return [f"result {i} after {ms} ms" for i, ms in enumerate(delays_ms)]


async def test_one_result_per_fetch_in_the_input_order() -> None:
    # The fetch that finishes first is the second one: the order must not follow the clock.
    delays_ms = [300, 50, 200, 0, 100]
    results = await fetch_all(delays_ms)
    assert results == expected(delays_ms), (
        "each result must sit where its delay was in delays_ms (result i for delay i), "
        f"whichever finished first; got {results}"
    )


async def test_the_fetches_wait_at_the_same_time() -> None:
    delays_ms = [200] * 20
    started = time.perf_counter()
    results = await fetch_all(delays_ms)
    elapsed = time.perf_counter() - started
    assert results == expected(delays_ms)
    # One after another: 20 x 200 ms = 4 s. At the same time: about 0.2 s.
    assert elapsed < 2, (
        f"20 fetches of 200 ms took {elapsed:.1f} s: spawn them all before awaiting any, "
        "one task per fetch in a JoinSet"
    )


async def test_the_total_is_about_the_longest_fetch() -> None:
    # A long fetch and many short ones: the short ones finish while the long one waits.
    delays_ms = [1_000] + [100] * 30
    started = time.perf_counter()
    results = await fetch_all(delays_ms)
    elapsed = time.perf_counter() - started
    assert results == expected(delays_ms)
    assert elapsed < 2.5, f"one 1 s fetch and 30 of 100 ms took {elapsed:.1f} s (the sum: 4 s)"


async def test_no_delays_give_no_results() -> None:
    assert await fetch_all([]) == []


@pytest.mark.parametrize("bad", [-1, MAX_DELAY_MS + 1])
def test_a_delay_outside_the_range_raises_value_error_naming_it(bad: int) -> None:
    with pytest.raises(ValueError, match=rf"^delays_ms\[1\] must be between 0 and 60000 .*{bad}$"):
        fetch_all([0, bad])


def test_too_many_fetches_raise_value_error() -> None:
    with pytest.raises(ValueError, match=r"^delays_ms must hold between 0 and 1000 delays"):
        fetch_all([0] * (MAX_FETCHES + 1))
