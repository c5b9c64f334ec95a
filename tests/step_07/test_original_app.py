"""A drop-in check: the original example's way of writing the app works on step 07's module.

``original_app.py`` calls the module with the original example's arguments and catches its
deadline with ``except RuntimeError``. The module's ``DeadlineExceededError`` is a
``TimeoutError`` and a ``RuntimeError`` (step 04), so that handler still answers 504 with
the module's own message. Every other call of that app works as it did.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ..conftest import load_app_module
from .conftest import FlakyUpstream

ORIGINAL_APP = Path(__file__).with_name("original_app.py")


@pytest.fixture
async def reader() -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh import of the reader's app (its counter at 0), in-process."""
    transport = httpx.ASGITransport(app=load_app_module(ORIGINAL_APP).app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


# ANCHOR: drop_in_test
async def test_the_except_runtime_error_handler_answers_504_with_the_modules_message(
    reader: httpx.AsyncClient,
) -> None:
    # The simulated upstream takes 100 ms (the module's default latency); 10 ms is too few.
    response = await reader.get("/api/users", params={"timeout_ms": 10})
    assert response.status_code == 504
    assert response.json() == {"detail": "call to users timed out after 10 ms"}


# ANCHOR_END: drop_in_test


async def test_a_call_within_its_deadline_answers_200(reader: httpx.AsyncClient) -> None:
    response = await reader.get("/api/users", params={"timeout_ms": 5000})
    assert response.status_code == 200
    assert response.json() == {"response": "Response from users"}


async def test_fetch_batch_and_aggregate_work(reader: httpx.AsyncClient) -> None:
    fetched = await reader.get("/fetch/42")
    batch = await reader.post("/process/batch", json=["a", "ß"])
    aggregated = await reader.post("/aggregate", json=["db", "cache", "db"])
    assert fetched.json() == {"data": "Data for ID 42"}
    assert batch.json() == {"results": ["A", "SS"]}
    assert aggregated.json() == {"aggregated": {"db": "Data from db", "cache": "Data from cache"}}


async def test_compute_returns_the_exact_sum(reader: httpx.AsyncClient) -> None:
    response = await reader.get("/compute/1000000")
    assert response.json() == {"result": 1_000_000 * 1_000_001 // 2}


async def test_the_module_level_counter_counts_and_resets(reader: httpx.AsyncClient) -> None:
    counts = [(await reader.post("/counter/increment")).json()["count"] for _ in range(3)]
    assert counts == [1, 2, 3]
    assert (await reader.get("/counter")).json() == {"count": 3}
    assert (await reader.post("/counter/reset")).json() == {"count": 0}


async def test_the_semaphore_batch_doubles_every_item_in_order(
    reader: httpx.AsyncClient,
) -> None:
    items = [float(i) for i in range(25)]
    response = await reader.post("/batch", params={"max_concurrent": 5}, json=items)
    assert response.json() == {"results": [2 * x for x in items]}


async def test_retry_fetches_a_local_upstream_after_its_failures(
    reader: httpx.AsyncClient, upstream: FlakyUpstream
) -> None:
    upstream.fail_first, upstream.failure = 2, "503"
    response = await reader.get(f"/retry/{upstream.url()}", params={"max_retries": 3})
    assert response.json() == {"result": "ok: request 3 to /hello"}
    assert upstream.requests == 3
