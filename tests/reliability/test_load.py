"""Load: thousands of requests held open at once by one real uvicorn process.

The client is :mod:`.rawhttp` (one socket per request, no pool), in this process; the
server is the stage's app in a uvicorn subprocess with the flags a loaded server needs:
``--backlog 4096`` (uvicorn's default, 2048, would leave the surplus connections waiting
for a SYN retransmit; Linux caps the backlog at ``net.core.somaxconn``, 4096 here) and
``--no-access-log`` (one log line per request would cost the server more than the
request). Both sides need more open files than the usual soft limit of 1024.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from .conftest import ServeStage
from .rawhttp import InFlight, RawResponse, request

LOADED_SERVER_ARGS = ("--backlog", "4096", "--no-access-log")


def first_errors(results: list[RawResponse | BaseException], limit: int = 5) -> list[str]:
    return [repr(r) for r in results if isinstance(r, BaseException)][:limit]


# ANCHOR: held
HELD_REQUESTS = 5_000
FETCH_DELAY_MS = 1_000


@pytest.mark.timeout(300)
async def test_5000_concurrent_fetches_all_answer_200_with_their_own_data(
    serve_stage: ServeStage, many_open_files: int
) -> None:
    in_flight = InFlight()
    with serve_stage(args=LOADED_SERVER_ARGS) as server:
        started = time.perf_counter()
        results = await asyncio.gather(
            *(
                request(server.url, "GET", f"/fetch/{i}?delay_ms={FETCH_DELAY_MS}", None, in_flight)
                for i in range(HELD_REQUESTS)
            ),
            return_exceptions=True,
        )
        elapsed = time.perf_counter() - started
        problems = server.problems()
    assert first_errors(results) == []
    answers = [r for r in results if isinstance(r, RawResponse)]
    assert [r.status for r in answers] == [200] * HELD_REQUESTS
    assert [r.json() for r in answers] == [
        {"id": i, "data": f"Data for ID {i}"} for i in range(HELD_REQUESTS)
    ]
    # Every request was sent before the first answer came back: all 5 000 were open at once.
    assert in_flight.peak == HELD_REQUESTS
    assert problems == []
    print(
        f"{HELD_REQUESTS} fetches of {FETCH_DELAY_MS} ms in {elapsed:.1f} s; all sent after"
        f" {in_flight.last_sent_at - started:.2f} s, first answer after"
        f" {in_flight.first_answer_at - started:.2f} s"
    )


# ANCHOR_END: held


# ANCHOR: counter
INCREMENTS = 10_000


@pytest.mark.timeout(300)
async def test_10000_concurrent_increments_count_exactly_to_10000(
    serve_stage: ServeStage, many_open_files: int
) -> None:
    with serve_stage(args=LOADED_SERVER_ARGS) as server:
        started = time.perf_counter()
        results = await asyncio.gather(
            *(request(server.url, "POST", "/counter/increment") for _ in range(INCREMENTS)),
            return_exceptions=True,
        )
        elapsed = time.perf_counter() - started
        final = await request(server.url, "GET", "/counter")
        problems = server.problems()
    assert first_errors(results) == []
    answers = [r for r in results if isinstance(r, RawResponse)]
    assert [r.status for r in answers] == [200] * INCREMENTS
    # Each increment saw its own count: no two were merged, none was lost.
    counts = sorted(r.json()["count"] for r in answers)  # type: ignore[index]
    assert counts == list(range(1, INCREMENTS + 1))
    assert final.json() == {"count": INCREMENTS}
    assert problems == []
    print(f"{INCREMENTS} increments in {elapsed:.1f} s")


# ANCHOR_END: counter
