"""Per-await cost: PyO3's native coroutine against ``future_into_py``, and asyncio itself.

Needs ``native_async`` built into .venv (``just test-native``). Each case is timed over
batches of sequential awaits; the table shows the median per await over the batches and
its ratio to ``await asyncio.sleep(0)`` (ready cases) or ``asyncio.sleep(0.001)`` (1 ms).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import native_async as na

Case = tuple[str, Callable[[], Awaitable[object]], int, int]

# ANCHOR: cases
READY: list[Case] = [
    ("(a) native coroutine, ready at once", lambda: na.native_ready(1), 50, 2000),
    ("(b) future_into_py, ready at once", lambda: na.bridge_ready(1), 50, 200),
    ("(c) await asyncio.sleep(0)", lambda: asyncio.sleep(0), 50, 2000),
]
SLEEP_1_MS: list[Case] = [
    ("(d) native coroutine, 1 ms Tokio sleep", lambda: na.native_sleep(1), 30, 20),
    ("(e) future_into_py, 1 ms Tokio sleep", lambda: na.bridge_sleep(1), 30, 20),
    ("(f) await asyncio.sleep(0.001)", lambda: asyncio.sleep(0.001), 30, 20),
]
# ANCHOR_END: cases


async def per_await_us(make: Callable[[], Awaitable[object]], batches: int, size: int) -> float:
    """The median over ``batches`` of the mean time per await in a batch of ``size``."""
    for _ in range(size):  # warm-up: the runtime, the caches
        await make()
    samples = []
    for _ in range(batches):
        started = time.perf_counter()
        for _ in range(size):
            await make()
        samples.append((time.perf_counter() - started) / size * 1e6)
    return statistics.median(samples)


async def table(title: str, cases: list[Case]) -> None:
    results = [(name, await per_await_us(make, b, s), b * s) for name, make, b, s in cases]
    baseline = results[-1][1]
    print(f"\n{title}")
    print(f"{'case':<42} {'per await':>12} {'vs last row':>12} {'awaits':>8}")
    for name, us, count in results:
        print(f"{name:<42} {us:>9.2f} µs {us / baseline:>11.2f}x {count:>8}")


async def main() -> None:
    await table("Ready at once (baseline: asyncio.sleep(0))", READY)
    await table("1 ms sleep (baseline: asyncio.sleep(0.001))", SLEEP_1_MS)


if __name__ == "__main__":
    asyncio.run(main())
