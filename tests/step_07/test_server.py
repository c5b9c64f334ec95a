"""Step 07 against a real uvicorn server: SSE over a socket, a client that leaves, workers."""

import httpx
import pytest

import fastapi_async as fa

from ..conftest import stage_dir
from ..servers import serve_in_process
from ..step_04.conditions import wait_until
from .test_app import parse_sse


async def test_sse_progress_is_monotone_and_the_sum_exact(server_url: str) -> None:
    n = 10_000_000
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as client:
        response = await client.get(f"/compute/{n}/stream")
    events = parse_sse(response.text)
    *progress, last = events
    done = [data["done"] for _, data in progress]
    assert done == sorted(set(done))
    assert len(done) >= 10
    assert last == ("sum", {"n": n, "sum": n * (n + 1) // 2})


# ANCHOR: disconnect_test
async def test_a_client_that_leaves_mid_stream_stops_the_rust_work(server_url: str) -> None:
    assert fa.active_tasks() == 0
    async with (
        httpx.AsyncClient(base_url=server_url, timeout=30) as client,
        client.stream("GET", f"/compute/{fa.MAX_COMPUTE_N}/stream") as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("event: progress"):
                break  # one progress event seen: the computation is running
        assert fa.active_tasks() == 1
    # The connection is closed: the server cancels the generator, which closes the stream.
    waited = await wait_until(lambda: fa.active_tasks() == 0, within_s=5)
    assert waited < 5


# ANCHOR_END: disconnect_test


async def test_the_readme_retry_example_works_through_the_app_itself(server_url: str) -> None:
    # The inner URL's ?, & and = are percent-encoded, as in the README's curl line.
    inner = f"{server_url}/upstream/flaky%3Ffail%3D2%26key%3Dreadme"
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as client:
        response = await client.get(f"/retry/{inner}")
    assert response.status_code == 200, response.text
    assert response.json()["result"] == "ok after 2 failures for readme"


def test_uvicorn_with_two_spawned_workers_serves_requests(pytestconfig: pytest.Config) -> None:
    # uvicorn starts its workers with multiprocessing's "spawn": each is a fresh process
    # that imports the app itself, so no Tokio runtime crosses a fork().
    app_dir = stage_dir(pytestconfig.getoption("--stage"))
    with (
        serve_in_process(app_dir, env={"FASTAPI_ASYNC_WORKER_THREADS": "2"}, workers=2) as server,
        # One kept-alive connection: every request below reaches the same worker, so its
        # /health describes the runtime that served the fetches. (Each worker has its own.)
        httpx.Client(base_url=server.url) as client,
    ):
        answers = [client.get("/fetch/7?delay_ms=1").status_code for _ in range(10)]
        assert answers == [200] * 10
        health = client.get("/health").json()
        assert health["worker_threads"] == 2
        assert health["runtime_started"] is True
