"""Step 07 app, through ASGI: health, the demo upstream, the allowlist, errors, offline docs."""

import json
import re

import httpx
import pytest
from fastapi import FastAPI

import fastapi_async as fa

from ..conftest import load_app_module, stage_dir


async def test_health_reports_the_runtime(client: httpx.AsyncClient) -> None:
    body = (await client.get("/health")).json()
    assert body["status"] == "ok"
    assert body["worker_threads"] == fa.runtime_info()["worker_threads"]
    assert isinstance(body["runtime_started"], bool)


async def test_the_lifespan_logs_the_runtime_and_the_allowlist(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    # ASGITransport does not run the lifespan; enter it the way the server does.
    with caplog.at_level("INFO", logger="uvicorn.error"):
        async with app.router.lifespan_context(app):
            pass
    assert "fastapi_async runtime: {'worker_threads':" in caplog.text
    assert "allowed hosts for /retry: 127.0.0.1" in caplog.text


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
    stream = schema["paths"]["/compute/{n}/stream"]["get"]
    n = stream["parameters"][0]["schema"]
    assert (n["minimum"], n["maximum"]) == (0, fa.MAX_COMPUTE_N)
    assert "text/event-stream" in stream["responses"]["200"]["content"]


def parse_sse(text: str) -> list[tuple[str, dict[str, int]]]:
    """``(event, data)`` for each event of a ``text/event-stream`` body."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


async def test_the_stream_endpoint_sends_progress_then_the_sum(client: httpx.AsyncClient) -> None:
    response = await client.get("/compute/1000/stream")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    *progress, last = events
    assert progress
    assert all(name == "progress" for name, _ in progress)
    assert last == ("sum", {"n": 1000, "sum": 500500})


async def test_the_stream_endpoint_refuses_n_out_of_range(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/compute/{fa.MAX_COMPUTE_N + 1}/stream")
    assert response.status_code == 422


# ANCHOR: panic_test
async def test_a_rust_panic_is_a_500_json_and_the_app_keeps_serving(
    pytestconfig: pytest.Config,
) -> None:
    # The extension has no input that panics, so the test raises what a panicking future
    # raises when awaited (pyo3-async-runtimes' RustPanic), from a route of its own, on an
    # app with the app's own handlers.
    app_py = stage_dir(pytestconfig.getoption("--stage")) / "app.py"
    probe = FastAPI()
    load_app_module(app_py).install_error_handlers(probe)

    @probe.get("/panic")
    async def panic() -> None:
        raise fa.RustPanic("rust future panicked: index out of bounds")

    @probe.get("/ok")
    async def ok() -> str:
        return "ok"

    transport = httpx.ASGITransport(app=probe)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        response = await c.get("/panic")
        assert response.status_code == 500
        assert response.json() == {"detail": "internal error (Rust panic)"}
        assert (await c.get("/ok")).json() == "ok"


# ANCHOR_END: panic_test


# ANCHOR: docs_test
async def test_docs_render_from_local_assets_only(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert {a.rsplit(".", 1)[-1] for a in assets} >= {"js", "css"}
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served by this app"
        response = await client.get(asset)
        assert response.status_code == 200, asset
        assert response.content, asset
        kind = "javascript" if asset.endswith(".js") else asset.rsplit(".", 1)[-1]
        assert kind in response.headers["content-type"], (asset, response.headers)
    assert not re.search(r"https?://", page.text.replace("http://testserver", ""))


# ANCHOR_END: docs_test
