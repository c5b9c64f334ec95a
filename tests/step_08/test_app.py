"""Step 08 app, through ASGI: ``GET /retry/{url}`` against local upstreams, the demo
upstream, and the allowlist."""

import os
import subprocess
import sys

import httpx
import pytest

import fastapi_async as fa

from ..conftest import stage_dir
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


async def test_the_demo_upstream_fails_k_times_per_key_then_succeeds(
    client: httpx.AsyncClient,
) -> None:
    statuses = [
        (await client.get("/upstream/flaky", params={"fail": 2, "key": "t1"})).status_code
        for _ in range(3)
    ]
    assert statuses == [503, 503, 200]
    other = await client.get("/upstream/flaky", params={"fail": 0, "key": "t2"})
    assert other.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8000/upstream/flaky",
        "http://[::1]:8000/",
        "http://10.0.0.1/",
    ],
)
async def test_retry_to_a_host_off_the_list_is_403(client: httpx.AsyncClient, url: str) -> None:
    response = await client.get(f"/retry/{url}")
    assert response.status_code == 403
    assert "is not in allowed_hosts" in response.json()["detail"]


async def test_retry_through_a_redirect_off_the_list_is_403(
    client: httpx.AsyncClient, redirector: str
) -> None:
    target = "http://192.0.2.1/never"  # TEST-NET-1: nothing answers there anyway
    response = await client.get(f"/retry/{redirector}/%3Fto%3D{target}")
    assert response.status_code == 403, response.text
    assert "host 192.0.2.1:80 is not in allowed_hosts" in response.json()["detail"]


async def test_a_url_longer_than_the_limit_is_422(client: httpx.AsyncClient) -> None:
    url = "http://127.0.0.1/" + "x" * fa.MAX_URL_LEN
    response = await client.get(f"/retry/{url}")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["path", "url"]


async def test_the_openapi_schema_carries_the_exported_limits(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    retry = schema["paths"]["/retry/{url}"]["get"]
    url = next(p for p in retry["parameters"] if p["name"] == "url")
    assert url["schema"]["maxLength"] == fa.MAX_URL_LEN
    assert {"403", "502", "504"} <= set(retry["responses"])


@pytest.mark.parametrize("bad", ["http://127.0.0.1/", "127.0.0.1:port", ",".join(["h"] * 101)])
def test_a_bad_allowlist_stops_the_app_at_import(pytestconfig: pytest.Config, bad: str) -> None:
    # A bad entry must not start an app whose every /retry then answers 422.
    app_dir = stage_dir(pytestconfig.getoption("--stage"))
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(app_dir)!r}); import app"],
        env={**os.environ, "FASTAPI_ASYNC_ALLOWED_HOSTS": bad},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert "ValueError: allowed_hosts" in done.stderr, done.stderr
