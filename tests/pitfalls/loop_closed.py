"""Pitfall: a Rust future still running when its event loop closes."""

from __future__ import annotations

import asyncio
import sys

import pitfalls

import fastapi_async


# ANCHOR: broken
async def start_and_leave() -> None:
    pitfalls.fetch_data_async(1, 100)  # started, never awaited: asyncio.run() does not wait for it


def broken() -> None:
    asyncio.run(start_and_leave())  # the loop closes while the Rust future still runs
    print(asyncio.run(fetch_later()))  # the program goes on; 100 ms in, the result arrives


# ANCHOR_END: broken


async def fetch_later() -> str:
    return await pitfalls.fetch_data_async(2, 1000)


# ANCHOR: fixed
async def start_and_finish() -> None:
    pending = pitfalls.fetch_data_async(1, 100)
    pending.cancel()  # not needed after all: cancelling drops the Rust future (step 04)
    # Or, to keep the result: `await pending`, or gather / TaskGroup every future you start.


def fixed() -> None:
    asyncio.run(start_and_finish())
    print(asyncio.run(fetch_later()))


# ANCHOR_END: fixed


# ANCHOR: guarded_exit
async def start_guarded_and_leave() -> None:
    fastapi_async.fetch_data_async(1, 100)  # a stage's function: its bridge has the exit guard


def exit_while_running() -> None:
    """The interpreter exits while a Rust future still runs: the guard drops its result."""
    asyncio.run(start_guarded_and_leave())
    print("exiting", flush=True)


# ANCHOR_END: guarded_exit


if __name__ == "__main__":
    {"broken": broken, "fixed": fixed, "exit_while_running": exit_while_running}[sys.argv[1]]()
