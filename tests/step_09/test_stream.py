"""Step 09: ``compute_progress_stream``, progress read with ``async for``."""

import pytest

import fastapi_async as fa

from ..step_04.conditions import wait_until


# ANCHOR: stream_test
async def test_the_stream_yields_increasing_progress_then_the_exact_sum() -> None:
    n = 1_000_000
    updates = [update async for update in fa.compute_progress_stream(n)]
    *progress, last = updates
    done = [u.done for u in progress]
    assert done == sorted(set(done))
    assert all(0 < d < n for d in done)
    assert all(u.total == n and u.sum is None for u in progress)
    assert (last.done, last.total, last.sum) == (n, n, n * (n + 1) // 2)


# ANCHOR_END: stream_test


async def test_the_stream_of_zero_is_only_the_sum() -> None:
    updates = [u async for u in fa.compute_progress_stream(0)]
    assert [(u.done, u.total, u.sum) for u in updates] == [(0, 0, 0)]


@pytest.mark.parametrize("n", [-1, fa.MAX_COMPUTE_N + 1])
def test_the_stream_refuses_n_outside_the_range_at_the_call(n: int) -> None:
    with pytest.raises(ValueError, match=rf"^n must be between 0 and 1000000000, got {n}$"):
        fa.compute_progress_stream(n)


async def test_closing_the_stream_stops_the_computation() -> None:
    assert fa.active_tasks() == 0
    stream = fa.compute_progress_stream(fa.MAX_COMPUTE_N)
    first = await stream.__anext__()
    assert first.sum is None
    assert fa.active_tasks() == 1  # the computation is running
    stream.close()
    # It stops at its next report (5 % of 10**9 items), far sooner than the whole sum.
    await wait_until(lambda: fa.active_tasks() == 0, within_s=5)
    # The updates sent before it stopped can still be read; no sum is ever sent.
    left = [update async for update in stream]
    assert all(update.sum is None for update in left)
