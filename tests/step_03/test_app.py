"""Step 03 app: the counter endpoints, through the ``client``."""

import asyncio

import httpx


async def test_counter_endpoints_increment_read_and_reset(client: httpx.AsyncClient) -> None:
    # One counter per app process, and the app outlives a test: start from a known state.
    assert (await client.post("/counter/reset")).json() == {"count": 0}
    for expected in (1, 2, 3):
        response = await client.post("/counter/increment")
        assert response.status_code == 200
        assert response.json() == {"count": expected}
    response = await client.get("/counter")
    assert response.status_code == 200
    assert response.json() == {"count": 3}
    response = await client.post("/counter/reset")
    assert response.status_code == 200
    assert response.json() == {"count": 0}
    assert (await client.get("/counter")).json() == {"count": 0}


async def test_concurrent_increment_requests_are_all_counted(client: httpx.AsyncClient) -> None:
    await client.post("/counter/reset")
    responses = await asyncio.gather(*(client.post("/counter/increment") for _ in range(200)))
    assert sorted(r.json()["count"] for r in responses) == list(range(1, 201))
    assert (await client.get("/counter")).json() == {"count": 200}


async def test_counter_endpoints_reject_the_wrong_method(client: httpx.AsyncClient) -> None:
    assert (await client.get("/counter/increment")).status_code == 405
    assert (await client.post("/counter")).status_code == 405
