"""Faults: an upstream that refuses, hangs, answers slowly, trickles or talks garbage.

``/retry`` must end every such call in its documented status (chapter 07: retries
exhausted or a final error, 502; the overall deadline, 504) and within its deadline:
each attempt is cut at ``ATTEMPT_TIMEOUT_MS`` (5 s), the whole call at
``OVERALL_TIMEOUT_MS`` (30 s). The faulty upstream is an asyncio server in this test's
event loop; the app runs in a uvicorn subprocess that may reach any port of 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import fastapi_async as fa

from ..servers import free_port, serve_in_process
from .conftest import ServeStage
from .rawhttp import request
from .test_ssrf import via_retry

ATTEMPT_S = fa.ATTEMPT_TIMEOUT_MS / 1000
OVERALL_S = fa.OVERALL_TIMEOUT_MS / 1000
# Generous: a loaded CI machine may be seconds late, never early.
SLACK_S = 10.0
SLOW_ANSWER_S = 1.0


class FaultyUpstream:
    """``/hang``, ``/slow``, ``/trickle``, ``/garbage``, ``/reset``: one fault per path."""

    def __init__(self) -> None:
        self.release = asyncio.Event()  # set at teardown: ends every hanging connection
        self.requests = 0
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            path = head.split(b" ", 2)[1]
            if path == b"/hang":  # accepts, reads, never answers
                await self.release.wait()
            elif path == b"/slow":  # answers, late but within one attempt's time
                await asyncio.sleep(SLOW_ANSWER_S)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow")
            elif path == b"/trickle":  # a 200 whose body comes one byte every 0.5 s
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
                while not self.release.is_set():
                    writer.write(b".")
                    await writer.drain()
                    await asyncio.sleep(0.5)
            elif path == b"/garbage":  # bytes that are not HTTP at all
                writer.write(b"\x00\xff\xfeSSH-2.0-not-http\r\n\r\n\x01\x02")
            # /reset, and anything else: close without a word.
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the app gave up on this connection first: that is the point
        finally:
            writer.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
async def faulty_upstream() -> AsyncIterator[FaultyUpstream]:
    upstream = FaultyUpstream()
    server = await asyncio.start_server(upstream.handle, "127.0.0.1", 0)
    upstream.port = server.sockets[0].getsockname()[1]
    try:
        yield upstream
    finally:
        upstream.release.set()
        server.close()
        await server.wait_closed()


@dataclass
class Fault:
    path: str  # on the faulty upstream; "closed" is a port where nothing listens
    max_retries: int
    status: int
    detail: str  # a fragment of the error message
    attempts: int  # requests the upstream must have seen
    at_least_s: float
    at_most_s: float


# ANCHOR: faults
FAULTS = {
    "refused": Fault("closed", 2, 502, "after 3 attempts (max_retries=2)", 0, 0, SLACK_S),
    "hang": Fault("/hang", 0, 502, f"no answer within {fa.ATTEMPT_TIMEOUT_MS} ms", 1,
                  ATTEMPT_S, ATTEMPT_S + SLACK_S),
    "trickle": Fault("/trickle", 0, 502, f"no answer within {fa.ATTEMPT_TIMEOUT_MS} ms", 1,
                     ATTEMPT_S, ATTEMPT_S + SLACK_S),
    "garbage": Fault("/garbage", 1, 502, "after 2 attempts (max_retries=1)", 2, 0, SLACK_S),
    "reset": Fault("/reset", 1, 502, "after 2 attempts (max_retries=1)", 2, 0, SLACK_S),
    "hang past the deadline": Fault("/hang", fa.MAX_RETRIES, 504,
                                    f"the {fa.OVERALL_TIMEOUT_MS} ms deadline would pass",
                                    round(OVERALL_S / ATTEMPT_S), OVERALL_S - ATTEMPT_S,
                                    OVERALL_S + SLACK_S),
}  # fmt: skip
# ANCHOR_END: faults


@pytest.mark.parametrize("name", FAULTS)
@pytest.mark.timeout(120)
async def test_each_upstream_fault_ends_in_its_status_within_its_deadline(
    name: str, serve_stage: ServeStage, faulty_upstream: FaultyUpstream
) -> None:
    fault = FAULTS[name]
    inner = (
        f"http://127.0.0.1:{free_port()}/"
        if fault.path == "closed"
        else faulty_upstream.url(fault.path)
    )
    with serve_stage(env={"FASTAPI_ASYNC_ALLOWED_HOSTS": "127.0.0.1"}) as server:
        started = time.perf_counter()
        target = f"{via_retry(inner)}?max_retries={fault.max_retries}"
        answer = await request(server.url, "GET", target)
        took = time.perf_counter() - started
        problems = server.problems()
    assert answer.status == fault.status, answer.body
    assert fault.detail in answer.json()["detail"]  # type: ignore[index]
    assert faulty_upstream.requests == fault.attempts
    assert fault.at_least_s <= took <= fault.at_most_s
    assert problems == []


async def test_a_slow_upstream_within_the_attempt_time_succeeds(
    serve_stage: ServeStage, faulty_upstream: FaultyUpstream
) -> None:
    with serve_stage(env={"FASTAPI_ASYNC_ALLOWED_HOSTS": "127.0.0.1"}) as server:
        started = time.perf_counter()
        answer = await request(server.url, "GET", via_retry(faulty_upstream.url("/slow")))
        took = time.perf_counter() - started
    assert answer.status == 200
    assert answer.json() == {"url": faulty_upstream.url("/slow"), "result": "slow"}
    assert faulty_upstream.requests == 1
    assert SLOW_ANSWER_S <= took < ATTEMPT_S


# ANCHOR: panic
async def test_a_rust_panic_is_a_500_json_and_the_server_keeps_serving(app_dir: Path) -> None:
    here = Path(__file__).parent
    with serve_in_process(app_dir, app="panic_app:app", env={"PYTHONPATH": str(here)}) as server:
        panicked = await request(server.url, "GET", "/test-only/panic")
        after = [await request(server.url, "GET", f"/fetch/{i}?delay_ms=1") for i in range(3)]
        problems = server.problems()
    assert panicked.status == 500
    assert panicked.json() == {"detail": "internal error (Rust panic)"}
    assert [a.json() for a in after] == [{"id": i, "data": f"Data for ID {i}"} for i in range(3)]
    # One line for the panic, logged by the app's handler; no traceback, no other problem.
    assert len(problems) == 1
    assert "ERROR" in problems[0]
    assert "a Rust future panicked: rust future panicked: index out of bounds" in problems[0]


# ANCHOR_END: panic
