"""Step 09 against a real uvicorn server: SSE over a socket, and a client that leaves."""

import httpx

import fastapi_async as fa

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
