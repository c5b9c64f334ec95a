"""Waiting for a condition, for the tests of step 04.

A cancelled Rust future is dropped on a Tokio thread shortly after the cancellation, so a
test cannot check the live-task count at once; it waits for the count to reach the value,
polling, with an upper bound so a broken build fails instead of hanging.
"""

import asyncio
import time
from collections.abc import Callable


async def wait_until(condition: Callable[[], bool], *, within_s: float = 5.0) -> float:
    """Poll ``condition`` every 10 ms until it holds; return the seconds it took.

    Raises ``AssertionError`` if it still does not hold after ``within_s`` seconds.
    """
    started = time.perf_counter()
    while not condition():
        waited = time.perf_counter() - started
        assert waited < within_s, f"condition still false after {within_s} s"
        await asyncio.sleep(0.01)
    return time.perf_counter() - started
