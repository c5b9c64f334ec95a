"""Pitfall: calling a Rust async function while no event loop runs."""

from __future__ import annotations

import asyncio
import sys

import pitfalls


# ANCHOR: broken
def broken() -> None:
    # The argument is evaluated first, before asyncio.run() has started any loop.
    print(asyncio.run(pitfalls.fetch_data_async(1, 0)))  # type: ignore[arg-type]


# ANCHOR_END: broken


# ANCHOR: fixed
async def fetch() -> str:
    return await pitfalls.fetch_data_async(1, 0)  # called while the loop runs


def fixed() -> None:
    print(asyncio.run(fetch()))


# ANCHOR_END: fixed

if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1]]()
