"""Step 06 app: ``GET /retry/{url}`` against the local flaky upstream, through ASGI."""

import httpx

from .conftest import FlakyUpstream


async def test_retry_returns_the_url_and_the_body(
    client: httpx.AsyncClient, upstream: FlakyUpstream
) -> None:
    upstream.fail_first, upstream.failure = 1, "503"
    response = await client.get(f"/retry/{upstream.url()}")
    assert response.status_code == 200
    assert response.json() == {"url": upstream.url(), "result": "ok: request 2 to /hello"}


async def test_exhausted_retries_are_502_with_the_attempt_count(
    client: httpx.AsyncClient, upstream: FlakyUpstream
) -> None:
    upstream.fail_first, upstream.failure = 100, "503"
    response = await client.get(f"/retry/{upstream.url()}", params={"max_retries": 1})
    assert response.status_code == 502
    assert "after 2 attempts" in response.json()["detail"]
    assert upstream.requests == 2


async def test_a_final_upstream_error_is_502_after_one_request(
    client: httpx.AsyncClient, upstream: FlakyUpstream
) -> None:
    upstream.fail_first, upstream.failure = 1, "404"
    response = await client.get(f"/retry/{upstream.url()}")
    assert response.status_code == 502
    assert "404 Not Found" in response.json()["detail"]
    assert upstream.requests == 1


async def test_a_url_rust_rejects_is_422_on_the_url(client: httpx.AsyncClient) -> None:
    response = await client.get("/retry/ftp://example.com/file")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["path", "url"]
    assert "url must be an absolute http:// or https:// URL" in error["msg"]


async def test_max_retries_out_of_range_is_422_with_fastapis_message(
    client: httpx.AsyncClient, upstream: FlakyUpstream
) -> None:
    response = await client.get(f"/retry/{upstream.url()}", params={"max_retries": 11})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "max_retries"]
    assert "less than or equal to 10" in error["msg"]
    assert upstream.requests == 0


async def test_openapi_schema_documents_the_retry_bounds(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/retry/{url}"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["max_retries"]["schema"]["minimum"] == 0
    assert parameters["max_retries"]["schema"]["maximum"] == 10
    assert {"200", "422", "502", "504"} <= set(operation["responses"])
