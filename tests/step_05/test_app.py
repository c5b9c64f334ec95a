"""Step 05 app: ``POST /batch``, served in-process through ``httpx.ASGITransport``."""

import time

import httpx
import pytest


async def test_batch_doubles_the_numbers_in_order(client: httpx.AsyncClient) -> None:
    items = [float(i) - 50.5 for i in range(100)]
    response = await client.post("/batch", json=items, params={"max_concurrent": 20})
    assert response.status_code == 200
    assert response.json() == {"processed": 100, "results": [x * 2 for x in items]}


async def test_batch_accepts_integers_and_an_empty_list(client: httpx.AsyncClient) -> None:
    response = await client.post("/batch", json=[1, 2, 3])
    assert response.json() == {"processed": 3, "results": [2.0, 4.0, 6.0]}
    response = await client.post("/batch", json=[])
    assert response.json() == {"processed": 0, "results": []}


async def test_batch_wall_time_follows_max_concurrent(client: httpx.AsyncClient) -> None:
    started = time.perf_counter()
    response = await client.post(
        "/batch", json=[1] * 20, params={"max_concurrent": 5, "latency_ms": 50}
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    # 20 items, 5 at a time: 4 rounds of 50 ms (wide margins, as in the module tests).
    assert 3 * 0.050 <= elapsed < 12 * 0.050, f"took {elapsed:.3f} s"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("max_concurrent", "0", "greater than or equal to 1"),
        ("max_concurrent", "1001", "less than or equal to 1000"),
        ("max_concurrent", "many", "valid integer"),
        ("latency_ms", "-1", "greater than or equal to 0"),
        ("latency_ms", "60001", "less than or equal to 60000"),
    ],
)
async def test_bad_query_is_422_with_fastapis_message(
    client: httpx.AsyncClient, name: str, value: str, message: str
) -> None:
    response = await client.post("/batch", json=[1], params={name: value})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", name]
    assert message in error["msg"]


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ('{"items": [1]}', ["body"], "valid list"),
        ('["1.5"]', ["body", 0], "valid number"),
        ("[true]", ["body", 0], "valid number"),
        ("[1, null]", ["body", 1], "valid number"),
        ("[1e308]", ["body", 0], "less than or equal to"),
        ("[-1e308]", ["body", 0], "greater than or equal to"),
    ],
)
async def test_bad_body_is_422(
    client: httpx.AsyncClient, body: str, loc: list[object], message: str
) -> None:
    response = await client.post(
        "/batch", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == loc
    assert message in error["msg"]


# ANCHOR: nan_422
@pytest.mark.parametrize(
    ("body", "index", "echoed"),
    [
        ("[NaN]", 0, "nan"),
        ("[1, Infinity]", 1, "inf"),
        ("[-Infinity]", 0, "-inf"),
        ("[1e400]", 0, "inf"),
    ],
)
async def test_non_finite_numbers_are_422_not_500(
    client: httpx.AsyncClient, body: str, index: int, echoed: str
) -> None:
    # Python's JSON parser accepts these; JSON itself has no such numbers.
    response = await client.post(
        "/batch", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", index]
    assert error["msg"] == "Input should be a finite number"
    assert error["input"] == echoed


# ANCHOR_END: nan_422


async def test_too_many_items_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/batch", json=[0] * 100_001, params={"latency_ms": 0})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert "at most 100000 items" in error["msg"]


async def test_openapi_schema_documents_the_bounds(client: httpx.AsyncClient) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"]["/batch"]["post"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert (parameters["max_concurrent"]["minimum"], parameters["max_concurrent"]["maximum"]) == (
        1,
        1000,
    )
    assert (parameters["latency_ms"]["minimum"], parameters["latency_ms"]["maximum"]) == (0, 60000)
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["maxItems"] == 100_000
    assert body["items"]["type"] == "number"
