"""Step 02 app: ``POST /process/batch`` and ``POST /aggregate``."""

import time

import httpx

import fastapi_async


async def test_process_batch_returns_results_and_count(client: httpx.AsyncClient) -> None:
    response = await client.post("/process/batch", json=["hello", "straße", "λόγος"])
    assert response.status_code == 200
    assert response.json() == {"results": ["HELLO", "STRASSE", "ΛΌΓΟΣ"], "count": 3}


async def test_process_batch_of_nothing_is_empty(client: httpx.AsyncClient) -> None:
    response = await client.post("/process/batch", json=[])
    assert response.status_code == 200
    assert response.json() == {"results": [], "count": 0}


async def test_process_batch_accepts_the_largest_batch(client: httpx.AsyncClient) -> None:
    items = [f"w{i}" for i in range(fastapi_async.MAX_BATCH_ITEMS)]
    response = await client.post("/process/batch", json=items)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 100_000
    assert body["results"][-1] == "W99999"


async def test_process_batch_over_the_limit_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/process/batch", json=["x"] * 100_001)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert "at most 100000 items" in error["msg"]


async def test_process_batch_with_a_non_string_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/process/batch", json=["a", 1])
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", 1]
    assert "valid string" in error["msg"]


async def test_process_batch_with_an_object_body_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/process/batch", json={"items": ["a"]})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert "valid list" in error["msg"]


async def test_aggregate_fetches_every_source_concurrently(client: httpx.AsyncClient) -> None:
    sources = [f"db-{i}" for i in range(20)]
    started = time.perf_counter()
    response = await client.post("/aggregate", json=sources, params={"latency_ms": 200})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert response.json() == {"aggregated": {s: f"Data from {s}" for s in sources}}
    # One after another: 20 x 200 ms = 4 s.
    assert 0.195 <= elapsed < 2.0, f"took {elapsed:.2f} s"


async def test_aggregate_collapses_duplicate_sources(client: httpx.AsyncClient) -> None:
    response = await client.post("/aggregate", json=["a", "a", "b"], params={"latency_ms": 0})
    assert response.status_code == 200
    assert response.json() == {"aggregated": {"a": "Data from a", "b": "Data from b"}}


async def test_aggregate_over_the_limit_is_422(client: httpx.AsyncClient) -> None:
    sources = [str(i) for i in range(1_001)]
    response = await client.post("/aggregate", json=sources)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert "at most 1000 items" in error["msg"]


async def test_aggregate_bad_latency_is_422(client: httpx.AsyncClient) -> None:
    for latency_ms, message in [("-1", "greater than or equal to 0"), ("60001", "less than")]:
        response = await client.post("/aggregate", json=["a"], params={"latency_ms": latency_ms})
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", "latency_ms"]
        assert message in error["msg"]


async def test_openapi_schema_documents_the_bounds(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    batch = schema["paths"]["/process/batch"]["post"]["requestBody"]["content"]
    assert batch["application/json"]["schema"]["maxItems"] == 100_000
    aggregate = schema["paths"]["/aggregate"]["post"]
    sources = aggregate["requestBody"]["content"]["application/json"]["schema"]
    assert sources["maxItems"] == 1_000
    [latency] = aggregate["parameters"]
    assert latency["schema"]["maximum"] == 60_000


JSON = {"content-type": "application/json"}


async def test_a_lone_surrogate_is_422_naming_the_item(client: httpx.AsyncClient) -> None:
    # Valid JSON, and Python's parser accepts it, but the string has no UTF-8 form.
    response = await client.post("/process/batch", content='["fine", "\\ud800"]', headers=JSON)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", 1]
    assert "lone surrogate at position 0 has no UTF-8 form" in error["msg"]
    assert error["input"] == "\\ud800"  # escaped, so the 422 itself is valid UTF-8


async def test_nan_where_a_string_belongs_is_422_not_500(client: httpx.AsyncClient) -> None:
    response = await client.post("/aggregate", content="[NaN, Infinity]", headers=JSON)
    assert response.status_code == 422
    assert [e["input"] for e in response.json()["detail"]] == ["nan", "inf"]


async def test_a_body_over_16_mib_is_413_before_it_is_parsed(client: httpx.AsyncClient) -> None:
    body = b"[" + b" " * (16 * 1024 * 1024) + b"]"
    response = await client.post("/process/batch", content=body, headers=JSON)
    assert response.status_code == 413
