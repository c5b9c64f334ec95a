"""Shutdown: SIGTERM while requests are in flight.

uvicorn's graceful shutdown stops accepting connections, lets the requests it has finish
(with no ``--timeout-graceful-shutdown``, for as long as they take), runs the app's
lifespan exit, then re-raises the signal, so the process ends as a SIGTERM ends it (not
with status 0: uvicorn does this on purpose, in ``Server.capture_signals``, so that a
supervisor sees why it stopped). The extension must not spoil that: no Rust future may
try to reach an event loop that has closed ("Event loop is closed"), and no task may be
left pending at exit ("Task was destroyed but it is pending").
"""

from __future__ import annotations

import asyncio
import signal

import pytest

from .conftest import ServeStage
from .rawhttp import build_request, finish, request, start_raw

IN_FLIGHT = 50
DELAY_MS = 1_000


# ANCHOR: sigterm
async def sigterm_with_requests_in_flight(serve_stage: ServeStage) -> None:
    with serve_stage() as server:
        opened = await asyncio.gather(
            *(
                start_raw(
                    server.url, build_request("GET", f"/fetch/{i}?delay_ms={DELAY_MS}".encode())
                )
                for i in range(IN_FLIGHT)
            )
        )
        # Every fetch is sent. uvicorn takes connections in order, so once a request sent
        # after them all has its answer, each fetch has reached its handler.
        await request(server.url, "GET", "/health")
        server.process.send_signal(signal.SIGTERM)
        answers = await asyncio.gather(*(finish(reader, writer) for reader, writer in opened))
        status = await asyncio.to_thread(server.process.wait, 30)
        log = server.log()
        problems = server.problems()
    assert [a.status for a in answers] == [200] * IN_FLIGHT
    assert [a.json() for a in answers] == [
        {"id": i, "data": f"Data for ID {i}"} for i in range(IN_FLIGHT)
    ]
    # After a graceful shutdown uvicorn re-raises the signal it caught, so the process ends
    # as SIGTERM's default action ends it (Popen reports -15; a shell, 143).
    assert status == -signal.SIGTERM
    assert "Application shutdown complete." in log
    assert "Finished server process" in log
    assert problems == []


@pytest.mark.parametrize("rounds", [pytest.param(3), pytest.param(20, marks=pytest.mark.full)])
@pytest.mark.timeout(300)
async def test_sigterm_lets_requests_in_flight_finish_then_the_server_ends_cleanly(
    rounds: int, serve_stage: ServeStage
) -> None:
    for _ in range(rounds):
        await sigterm_with_requests_in_flight(serve_stage)


# ANCHOR_END: sigterm
