"""Step 07 app, through ASGI: the compute endpoint, health, errors in one place, offline docs."""

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

import fastapi_async as fa

from ..conftest import load_app_module, stage_dir


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


async def test_health_reports_the_runtime(client: httpx.AsyncClient) -> None:
    body = (await client.get("/health")).json()
    assert body["status"] == "ok"
    assert body["worker_threads"] == fa.runtime_info()["worker_threads"]
    assert isinstance(body["runtime_started"], bool)


async def test_the_lifespan_logs_the_runtime(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    # ASGITransport does not run the lifespan; enter it the way the server does.
    with caplog.at_level("INFO", logger="uvicorn.error"):
        async with app.router.lifespan_context(app):
            pass
    assert "fastapi_async runtime: {'worker_threads':" in caplog.text


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


# ANCHOR: body_errors_test
async def test_a_chunked_body_over_the_limit_is_a_413_naming_the_limit(
    client: httpx.AsyncClient,
) -> None:
    # No Content-Length: the limit is found while reading, and the app's handler answers.
    # (With a Content-Length over the limit, Starlette answers a plain 413 before reading.)
    async def sixteen_mib_and_more() -> AsyncIterator[bytes]:
        for _ in range(17):
            yield b" " * 2**20

    response = await client.post(
        "/process/batch",
        content=sixteen_mib_and_more(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == {"detail": f"the request body must be at most {16 * 2**20} bytes"}


async def test_the_schema_documents_the_body_errors(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    for path in ["/process/batch", "/aggregate", "/batch"]:
        assert {"400", "413"} <= set(schema["paths"][path]["post"]["responses"]), path


# ANCHOR_END: body_errors_test
