"""Step 01 app: ``GET /fetch/{id}``, served in-process through ``httpx.ASGITransport``."""

import asyncio
import time

import httpx
import pytest


async def test_fetch_returns_id_and_data(client: httpx.AsyncClient) -> None:
    response = await client.get("/fetch/42")
    assert response.status_code == 200
    assert response.json() == {"id": 42, "data": "Data for ID 42"}


async def test_fetch_honours_delay_ms(client: httpx.AsyncClient) -> None:
    started = time.perf_counter()
    response = await client.get("/fetch/7", params={"delay_ms": 300})
    assert response.status_code == 200
    assert response.json() == {"id": 7, "data": "Data for ID 7"}
    assert time.perf_counter() - started >= 0.295


async def test_concurrent_requests_overlap(client: httpx.AsyncClient) -> None:
    started = time.perf_counter()
    responses = await asyncio.gather(
        *(client.get(f"/fetch/{i}", params={"delay_ms": 200}) for i in range(50))
    )
    elapsed = time.perf_counter() - started
    assert [r.json()["data"] for r in responses] == [f"Data for ID {i}" for i in range(50)]
    # Served one after another, 50 requests of 200 ms would take 10 s.
    assert elapsed < 2.5, f"50 concurrent 200 ms requests took {elapsed:.2f} s"


@pytest.mark.parametrize(
    ("delay_ms", "message"),
    [
        ("-1", "greater than or equal to 0"),
        ("60001", "less than or equal to 60000"),
        ("soon", "valid integer"),
    ],
)
async def test_bad_delay_is_422_with_fastapis_message(
    client: httpx.AsyncClient, delay_ms: str, message: str
) -> None:
    response = await client.get("/fetch/1", params={"delay_ms": delay_ms})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "delay_ms"]
    assert message in error["msg"]


@pytest.mark.parametrize("id_", ["abc", "1.5", str(2**63)])
async def test_bad_id_is_422(client: httpx.AsyncClient, id_: str) -> None:
    response = await client.get(f"/fetch/{id_}")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["path", "id"]


async def test_openapi_schema_documents_the_bounds(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    parameters = {p["name"]: p for p in schema["paths"]["/fetch/{id}"]["get"]["parameters"]}
    assert parameters["delay_ms"]["schema"]["minimum"] == 0
    assert parameters["delay_ms"]["schema"]["maximum"] == 60_000
