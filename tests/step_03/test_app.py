"""Step 03 app: the counter endpoints and ``POST /compute/{n}``, through the ``client``."""

import asyncio

import httpx
import pytest


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


@pytest.mark.parametrize("n", [0, 1, 10, 1_000_000])
async def test_compute_returns_n_and_the_exact_sum(client: httpx.AsyncClient, n: int) -> None:
    response = await client.post(f"/compute/{n}")
    assert response.status_code == 200
    assert response.json() == {"n": n, "sum": n * (n + 1) // 2}


async def test_compute_accepts_the_largest_n(client: httpx.AsyncClient) -> None:
    response = await client.post("/compute/1000000000")
    assert response.status_code == 200
    assert response.json() == {"n": 10**9, "sum": 500_000_000_500_000_000}


@pytest.mark.parametrize(
    ("n", "message"),
    [
        ("-1", "greater than or equal to 0"),
        ("1000000001", "less than or equal to 1000000000"),
        ("ten", "valid integer"),
        ("1.5", "valid integer"),
    ],
)
async def test_bad_n_is_422_with_fastapis_message(
    client: httpx.AsyncClient, n: str, message: str
) -> None:
    response = await client.post(f"/compute/{n}")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["path", "n"]
    assert message in error["msg"]


async def test_openapi_schema_documents_the_compute_bounds(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    [parameter] = schema["paths"]["/compute/{n}"]["post"]["parameters"]
    assert parameter["schema"]["minimum"] == 0
    assert parameter["schema"]["maximum"] == 1_000_000_000
