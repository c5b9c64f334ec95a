"""What step 11's bridge tests share: its probes, the two event loops, and ways to hold
the loop still while Tokio sends results."""

import asyncio
import importlib
import os
import time
from collections.abc import Callable
from typing import Any

import uvloop

from fastapi_async import bridge_stats

# Stage 11's futures of known shapes, for its benchmark and these tests (`probes.rs`): an
# attribute of the extension module only, with no stub, since it is not part of the API.
probes: Any = importlib.import_module("fastapi_async.fastapi_async")._probes

# The event loops every test of this folder runs on (see conftest.py).
LOOP_FACTORIES: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


def block_loop_until(condition: Callable[[], bool]) -> None:
    """Hold the loop's thread (this is called without ``await``) until ``condition()``.

    Nothing can be delivered meanwhile, so every result Tokio sends waits in the inbox.
    """
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "condition still false after 10 s"
        time.sleep(0.001)


def block_loop_until_sent(count: int, since: int) -> None:
    """``block_loop_until`` Tokio has sent ``count`` results since
    ``bridge_stats()["sent_to_loop"]`` was ``since``."""
    block_loop_until(lambda: bridge_stats()["sent_to_loop"] - since >= count)


def open_descriptors() -> int:
    """How many file descriptors this process has open (Linux)."""
    return len(os.listdir("/proc/self/fd"))
