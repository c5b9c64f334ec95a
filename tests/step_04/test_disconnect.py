"""Step 04: what a client disconnect does, with a real uvicorn server.

Uvicorn does not cancel a (non-streaming) handler when its client goes away: the handler
runs to its end, and its response is discarded. The step's endpoint races the call
against the disconnect, so there the Rust future is dropped as soon as the client leaves.
"""

import time

import httpx
import pytest
from fastapi import FastAPI

from fastapi_async import active_tasks, api_call_with_timeout

from .conditions import wait_until
from .conftest import Serve

plain_app = FastAPI()


@plain_app.get("/plain/{endpoint}")
async def plain(endpoint: str, latency_ms: int) -> str:
    # The usual shape of a handler: await the call, nothing else.
    return await api_call_with_timeout(endpoint, 60_000, latency_ms)


async def give_up_early(url: str, params: dict[str, int]) -> None:
    """Send the request, then close the connection after 0.2 s without a response."""
    async with httpx.AsyncClient(timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(url, params=params)


# ANCHOR: plain
async def test_uvicorn_lets_a_plain_handler_run_on_after_the_client_leaves(
    serve: Serve,
) -> None:
    with serve(plain_app) as base_url:
        started = time.perf_counter()
        await give_up_early(f"{base_url}/plain/users", {"latency_ms": 1500})
        await wait_until(lambda: active_tasks() == 0)
        # Not cancelled: the Rust future lived its full 1.5 s latency for nobody.
        assert time.perf_counter() - started >= 1.45


# ANCHOR_END: plain


# ANCHOR: raced
async def test_the_step_endpoint_drops_the_rust_future_when_the_client_leaves(
    serve: Serve, app: FastAPI
) -> None:
    with serve(app) as base_url:
        params = {"timeout_ms": 60_000, "latency_ms": 30_000}
        await give_up_early(f"{base_url}/api/users", params)
        # Well before the 30 s latency: the handler saw the disconnect and cancelled.
        await wait_until(lambda: active_tasks() == 0, within_s=5)


# ANCHOR_END: raced


async def test_the_step_endpoint_still_answers_a_client_that_waits(
    serve: Serve, app: FastAPI
) -> None:
    with serve(app) as base_url:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{base_url}/api/users", params={"latency_ms": 200})
    assert response.json() == {"endpoint": "users", "response": "Response from users"}
    assert active_tasks() == 0
