"""Cancellation: clients that leave mid-request leave no Rust work running, and no noise.

The server runs in a thread of this process (``server_url``), so the test reads the
very counter the app's futures update: ``fastapi_async.active_tasks()`` counts each
``api_call_with_timeout`` future and each running ``compute_progress_stream``
computation until Rust drops it. Every wait below is a bounded poll of that counter.
"""

from __future__ import annotations

import asyncio

import pytest

import fastapi_async as fa

from ..step_04.conditions import wait_until
from .conftest import WarningRecords
from .rawhttp import build_request, hang_up, split_host_port, start_raw

# Far longer than the test: a future still counted at the end was not cancelled.
NEVER_MS = fa.MAX_LATENCY_MS


# ANCHOR: leave_mid_request
@pytest.mark.parametrize("clients", [1_000])
@pytest.mark.timeout(120)
async def test_clients_that_leave_mid_request_leave_no_rust_future_alive(
    clients: int, server_url: str, server_warnings: WarningRecords, many_open_files: int
) -> None:
    assert fa.active_tasks() == 0
    target = f"/api/slow?timeout_ms={NEVER_MS}&latency_ms={NEVER_MS}"
    request = build_request("GET", target.encode())
    opened = await asyncio.gather(*(start_raw(server_url, request) for _ in range(clients)))
    # Every request has reached its handler: one Rust future each, all pending.
    await wait_until(lambda: fa.active_tasks() == clients, within_s=60)
    await asyncio.gather(*(hang_up(writer) for _, writer in opened))
    waited = await wait_until(lambda: fa.active_tasks() == 0, within_s=30)
    assert server_warnings.messages() == []
    print(f"{clients} futures dropped {waited:.2f} s after their clients left")


# ANCHOR_END: leave_mid_request


async def leave_after_first_progress(base_url: str, n: int) -> bool:
    """Read the stream up to its first progress event, then hang up; True if it came."""
    host, port = split_host_port(base_url)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(build_request("GET", f"/compute/{n}/stream".encode()))
        await writer.drain()
        await reader.readuntil(b"event: progress")
        return True
    finally:
        await hang_up(writer)


# ANCHOR: leave_mid_stream
STREAM_N = 100_000_000  # about 0.1 s of work in 20 steps: still running when the client leaves


@pytest.mark.parametrize(
    "clients", [pytest.param(200), pytest.param(1_000, marks=pytest.mark.full)]
)
@pytest.mark.timeout(300)
async def test_clients_that_leave_mid_stream_stop_every_computation(
    clients: int, server_url: str, server_warnings: WarningRecords, many_open_files: int
) -> None:
    assert fa.active_tasks() == 0
    seen = await asyncio.gather(
        *(leave_after_first_progress(server_url, STREAM_N) for _ in range(clients))
    )
    assert seen == [True] * clients
    waited = await wait_until(lambda: fa.active_tasks() == 0, within_s=60)
    assert server_warnings.messages() == []
    print(f"{clients} streams stopped {waited:.2f} s after the last client left")


# ANCHOR_END: leave_mid_stream
