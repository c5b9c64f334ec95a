"""Step 04 app: ``GET /api/{endpoint}``, served in-process through ``httpx.ASGITransport``."""

import time

import httpx
import pytest

from fastapi_async import active_tasks


async def test_call_within_the_deadline_is_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/users", params={"timeout_ms": 1000, "latency_ms": 10})
    assert response.status_code == 200
    assert response.json() == {"endpoint": "users", "response": "Response from users"}


async def test_defaults_are_a_1000_ms_deadline_and_100_ms_latency(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/users")
    assert response.status_code == 200
    assert response.json()["response"] == "Response from users"


async def test_call_past_the_deadline_is_504_with_rusts_message(
    client: httpx.AsyncClient,
) -> None:
    started = time.perf_counter()
    response = await client.get("/api/users", params={"timeout_ms": 100, "latency_ms": 5000})
    elapsed = time.perf_counter() - started
    assert response.status_code == 504
    assert response.json() == {"detail": "call to users timed out after 100 ms"}
    assert 0.095 <= elapsed < 2.5, f"504 after {elapsed:.2f} s"
    assert active_tasks() == 0


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"timeout_ms": "0"}, "timeout_ms", "greater than or equal to 1"),
        ({"timeout_ms": "60001"}, "timeout_ms", "less than or equal to 60000"),
        ({"timeout_ms": "soon"}, "timeout_ms", "valid integer"),
        ({"latency_ms": "-1"}, "latency_ms", "greater than or equal to 0"),
        ({"latency_ms": "60001"}, "latency_ms", "less than or equal to 60000"),
    ],
)
async def test_bad_query_is_422_with_fastapis_message(
    client: httpx.AsyncClient, params: dict[str, str], field: str, message: str
) -> None:
    response = await client.get("/api/users", params=params)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", field]
    assert message in error["msg"]


async def test_endpoint_longer_than_256_characters_is_422(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/" + "x" * 256, params={"latency_ms": 0})).status_code == 200
    response = await client.get("/api/" + "x" * 257)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["path", "endpoint"]
    assert "at most 256 characters" in error["msg"]


async def test_openapi_schema_documents_the_bounds_and_the_504(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/api/{endpoint}"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert (parameters["timeout_ms"]["minimum"], parameters["timeout_ms"]["maximum"]) == (1, 60_000)
    assert (parameters["latency_ms"]["minimum"], parameters["latency_ms"]["maximum"]) == (0, 60_000)
    assert parameters["endpoint"]["maxLength"] == 256
    assert "504" in operation["responses"]
