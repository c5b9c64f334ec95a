"""Pitfall: a process that forks after its Tokio runtime started (gunicorn --preload, say)."""

from __future__ import annotations

import asyncio
import faulthandler
import os
import sys

import pitfalls

import fastapi_async as fa

# A child that hangs is ended after this many seconds by faulthandler (exit code 1).
GIVE_UP_S = 3


async def sleep() -> str:
    await pitfalls.sleep_async(1)
    return "slept"


async def fetch() -> str:
    return await fa.fetch_data_async(1, 0)


def in_child(work: str) -> int:
    """Forks; the child prints what ``work`` gives (or its error); returns its exit code."""
    pid = os.fork()
    if pid == 0:
        faulthandler.dump_traceback_later(GIVE_UP_S, exit=True)
        try:
            print("child:", asyncio.run(fetch() if work == "fetch" else sleep()), flush=True)
        except RuntimeError as exc:
            print("child: RuntimeError:", exc, flush=True)
        os._exit(0)  # a forked child leaves without the parent's atexit hooks
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


# ANCHOR: broken
def broken() -> None:
    asyncio.run(sleep())  # the runtime, and its worker thread, start here, in the parent
    print("child exit code:", in_child("sleep"))  # the child waits for a thread it lacks


# ANCHOR_END: broken


# ANCHOR: refused
def refused() -> None:
    asyncio.run(fetch())  # step 07's runtime starts in the parent
    print("child exit code:", in_child("fetch"))  # the child gets a RuntimeError instead


# ANCHOR_END: refused


# ANCHOR: fixed
def fixed() -> None:
    # Fork first (import the modules, call nothing): each process starts its own runtime.
    print("child exit code:", in_child("sleep"))
    print("parent:", asyncio.run(sleep()))


# ANCHOR_END: fixed

if __name__ == "__main__":
    {"broken": broken, "refused": refused, "fixed": fixed}[sys.argv[1]]()
