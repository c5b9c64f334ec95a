"""Scaling out: the counter under ``uvicorn --workers 4``, in-process and on Redis.

Each worker is its own process. The in-process counter then splits into four counts (the
lesson, asserted); on Redis the four workers share one count, exact to the last increment,
even across a Redis restart.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest

from ..conftest import load_app_module, stage_dir
from ..servers import free_port, serve_in_process
from .redis_server import RedisServer

WORKERS = 4
INCREMENTS = 4_000


# ANCHOR: load
async def increment_many(base_url: str, total: int, at_once: int = 32) -> list[int]:
    """``POST /counter/increment`` ``total`` times, ``at_once`` at a time, each on a new
    connection; the counts answered.

    A new connection per request: the kernel hands each one to whichever worker accepts it
    first, so the requests spread over the workers as a load balancer would spread them.
    (A kept-alive connection stays with the worker that accepted it, and one worker's
    accept loop can take many waiting connections at once: the spread would be luck.)
    """
    limits = httpx.Limits(max_connections=at_once, max_keepalive_connections=0)
    slots = asyncio.Semaphore(at_once)  # queue here, not in httpx's pool (slow when long)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def increment() -> int:
            async with slots:
                response = await client.post("/counter/increment")
            assert response.status_code == 200, response.text
            count: int = response.json()["count"]
            return count

        return await asyncio.gather(*(increment() for _ in range(total)))


# ANCHOR_END: load


def per_worker_counts(counts: list[int]) -> list[int]:
    """The final count of each process, from the counts its increments answered.

    A process that counted ``c`` increments answered 1, 2, ..., c, once each; so the
    number of answers equal to ``v`` is the number of processes that reached ``v``.
    """
    reached = Counter(counts)
    top = max(counts)
    # Every process counts 1, 2, 3, ... without gaps: fewer processes reach a higher value.
    assert all(reached[v] >= reached[v + 1] for v in range(1, top)), reached
    return [sum(1 for v in range(1, top + 1) if reached[v] >= k) for k in range(1, reached[1] + 1)]


# ANCHOR: split
@pytest.mark.timeout(180)
def test_four_workers_without_redis_each_count_only_their_own_share(
    pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FASTAPI_ASYNC_REDIS_URL", raising=False)
    app_dir = stage_dir(pytestconfig.getoption("--stage"))
    with serve_in_process(app_dir, workers=WORKERS, args=("--no-access-log",)) as server:
        counts = asyncio.run(increment_many(server.url, INCREMENTS))
        reads = [httpx.get(f"{server.url}/counter").json()["count"] for _ in range(20)]
    workers = per_worker_counts(counts)
    print(f"per-worker counts {sorted(workers, reverse=True)}, reads {sorted(set(reads))}")
    # Several processes each counted a share: every increment counted once, in one of them...
    assert 2 <= len(workers) <= WORKERS, workers
    assert sum(workers) == INCREMENTS
    # ...and no process knows the total: a client sees one worker's share, never 4 000.
    # (0 is the share of a worker that happened to accept no increment.)
    assert max(counts) < INCREMENTS
    assert all(read in {0, *workers} for read in reads), (reads, workers)


# ANCHOR_END: split


# ANCHOR: shared
@pytest.mark.timeout(180)
def test_four_workers_on_redis_count_every_increment_exactly_once(
    pytestconfig: pytest.Config, redis_server: RedisServer
) -> None:
    app_dir = stage_dir(pytestconfig.getoption("--stage"))
    env = {"FASTAPI_ASYNC_REDIS_URL": redis_server.url}
    with serve_in_process(app_dir, env=env, workers=WORKERS, args=("--no-access-log",)) as server:
        counts = asyncio.run(increment_many(server.url, INCREMENTS))
        reads = [httpx.get(f"{server.url}/counter").json()["count"] for _ in range(20)]
    # One count for all: INCR gave every request its own value, 1 to 4 000.
    assert sorted(counts) == list(range(1, INCREMENTS + 1))
    assert reads == [INCREMENTS] * 20
    assert redis_server.command("GET", "fastapi_async:counter") == str(INCREMENTS)


# ANCHOR_END: shared


@pytest.fixture
async def redis_client(
    pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch, durable_redis_server: RedisServer
) -> AsyncIterator[httpx.AsyncClient]:
    """An ASGI client of a fresh copy of the app, made with its counter on Redis."""
    monkeypatch.setenv("FASTAPI_ASYNC_REDIS_URL", durable_redis_server.url)
    module = load_app_module(stage_dir(pytestconfig.getoption("--stage")) / "app.py")
    transport = httpx.ASGITransport(app=module.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_counter_endpoints_answer_503_with_the_reason_when_redis_is_down(
    pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("FASTAPI_ASYNC_REDIS_URL", f"redis://127.0.0.1:{port}/0")
    module = load_app_module(stage_dir(pytestconfig.getoption("--stage")) / "app.py")
    transport = httpx.ASGITransport(app=module.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for method, path, command in (
            ("POST", "/counter/increment", "INCR"),
            ("GET", "/counter", "GET"),
            ("POST", "/counter/reset", "SET"),
        ):
            response = await client.request(method, path)
            assert response.status_code == 503
            assert response.json() == {
                "detail": f"the counter's Redis server at 127.0.0.1:{port} failed "
                f"({command} fastapi_async:counter): Connection refused (os error 111)"
            }


# ANCHOR: restart_mid_run
async def test_a_redis_restart_mid_run_loses_no_acknowledged_increment(
    redis_client: httpx.AsyncClient, durable_redis_server: RedisServer
) -> None:
    acknowledged: list[int] = []  # the counts of the 200 answers
    failed: list[str] = []  # the details of the 503 answers
    enough = asyncio.Event()
    target = 0
    stop = False

    async def keep_incrementing() -> None:
        while not stop:
            response = await redis_client.post("/counter/increment")
            if response.status_code == 200:
                acknowledged.append(response.json()["count"])
                if len(acknowledged) >= target:
                    enough.set()
            else:
                assert response.status_code == 503, response.text
                failed.append(response.json()["detail"])

    async def until_acknowledged(more: int) -> None:
        nonlocal target
        target = len(acknowledged) + more
        enough.clear()
        await asyncio.wait_for(enough.wait(), timeout=30)

    clients = [asyncio.ensure_future(keep_incrementing()) for _ in range(8)]
    try:
        await until_acknowledged(300)
        await asyncio.to_thread(durable_redis_server.stop)  # increments in flight fail
        await asyncio.to_thread(durable_redis_server.start)  # same port, same files
        await until_acknowledged(300)  # served again, by the restarted server
    finally:
        stop = True
        await asyncio.gather(*clients)
    final = (await redis_client.get("/counter")).json()["count"]
    # Every acknowledged increment survived the restart, and was counted once: INCR gave
    # each its own value, none repeated (a Redis that lost data would count from 0 again).
    assert len(set(acknowledged)) == len(acknowledged)
    assert max(acknowledged) <= final
    # An increment that failed may still have been counted (Redis ran it, the reply was
    # lost), never more than that.
    assert len(acknowledged) <= final <= len(acknowledged) + len(failed)
    assert failed, "the restart should have failed the requests in flight"
    assert all("Redis server at 127.0.0.1" in detail for detail in failed)


# ANCHOR_END: restart_mid_run
