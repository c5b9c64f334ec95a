"""Pitfall: one Rust awaitable awaited from two event loops (here, in two threads)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

import pitfalls

# Long enough that the shared fetch is still running when the second loop awaits it.
DELAY_MS = 1000


# ANCHOR: broken
_in_flight: dict[int, asyncio.Future[str]] = {}


def shared_fetch(id: int) -> asyncio.Future[str]:
    """BROKEN: one fetch per id at a time, shared by every caller, on any event loop."""
    if id not in _in_flight:
        _in_flight[id] = pitfalls.fetch_data_async(id, DELAY_MS)
        _in_flight[id].add_done_callback(lambda _: _in_flight.pop(id, None))
    return _in_flight[id]


# ANCHOR_END: broken


# ANCHOR: fixed
_in_flight_per_loop: dict[tuple[asyncio.AbstractEventLoop, int], asyncio.Future[str]] = {}


def shared_fetch_fixed(id: int) -> asyncio.Future[str]:
    """FIXED: one fetch per id at a time, shared only by callers on the same event loop."""
    key = (asyncio.get_running_loop(), id)
    if key not in _in_flight_per_loop:
        _in_flight_per_loop[key] = pitfalls.fetch_data_async(id, DELAY_MS)
        _in_flight_per_loop[key].add_done_callback(lambda _: _in_flight_per_loop.pop(key, None))
    return _in_flight_per_loop[key]


# ANCHOR_END: fixed


# ANCHOR: demo
async def fetch_on_another_loop(share: Callable[[int], asyncio.Future[str]], id: int) -> str:
    """Awaits ``share(id)`` on a second event loop, in a thread of its own."""

    async def on_new_loop() -> str:
        return await share(id)

    return await asyncio.to_thread(asyncio.run, on_new_loop())


async def demo(
    share: Callable[[int], asyncio.Future[str]],
) -> tuple[str | BaseException, str | BaseException]:
    """Fetches id 1 on this loop and, at the same time, on another loop."""
    here = share(1)
    there = fetch_on_another_loop(share, 1)
    return await asyncio.gather(here, there, return_exceptions=True)


# ANCHOR_END: demo

if __name__ == "__main__":
    share = {"broken": shared_fetch, "fixed": shared_fetch_fixed}[sys.argv[1]]
    print(asyncio.run(demo(share)))
