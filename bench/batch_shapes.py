"""Time three shapes of upper-casing a batch of strings, in one process.

Run it after ``just step 02`` (or any later stage):

    .venv/bin/python bench/batch_shapes.py

Shapes: a Python list comprehension; ``process_batch_async`` (one crossing into Rust,
one Tokio future for the whole batch); ``process_batch_spawn_per_item_async`` (one Tokio
task per item). Each is timed ``REPEATS`` times on the same input; the table shows the
medians and each shape's ratio to the list comprehension.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable

import fastapi_async

ITEMS = 100_000
REPEATS = 15


async def median_seconds(run: Callable[[], Awaitable[list[str]]], expected: list[str]) -> float:
    assert await run() == expected  # warm-up, and a check that the shape is correct
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        await run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


async def main() -> None:
    items = [f"item-{i}" for i in range(ITEMS)]
    expected = [s.upper() for s in items]

    async def comprehension() -> list[str]:
        return [s.upper() for s in items]

    async def one_crossing() -> list[str]:
        return await fastapi_async.process_batch_async(items)

    async def spawn_per_item() -> list[str]:
        return await fastapi_async.process_batch_spawn_per_item_async(items)

    shapes = [
        ("Python list comprehension", comprehension),
        ("process_batch_async (one crossing)", one_crossing),
        ("spawn per item", spawn_per_item),
    ]
    medians = {name: await median_seconds(run, expected) for name, run in shapes}
    baseline = medians["Python list comprehension"]

    print(f"{ITEMS} strings, median of {REPEATS} runs each")
    print(
        f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    print(f"{'shape':<38} {'median':>10} {'vs Python':>10}")
    for name, seconds in medians.items():
        print(f"{name:<38} {seconds * 1000:>7.2f} ms {seconds / baseline:>9.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
