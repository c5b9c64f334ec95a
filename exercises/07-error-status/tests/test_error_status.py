"""Exercise 07-error-status: each error of the Rust module reaches the client as its status."""

from collections.abc import AsyncIterator

import app
import httpx
import pytest


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # raise_app_exceptions=False: an error with no handler becomes the 500 a server would
    # send, instead of an exception in the test.
    transport = httpx.ASGITransport(app=app.create_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def answer(response: httpx.Response) -> str:
    return f"GET {response.request.url.path} answered {response.status_code} {response.text!r}"


async def test_a_stored_item_is_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/alpha")
    assert response.status_code == 200, answer(response)
    assert response.json() == {"key": "alpha", "value": "the first item"}


async def test_an_unknown_key_is_404_with_the_message(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/delta")
    assert response.status_code == 404, (
        f"{answer(response)}: map ItemNotFoundError to 404, with {{'detail': str(exc)}}"
    )
    assert response.json() == {"detail": "no item has the key 'delta'"}


async def test_a_backend_timeout_is_504_with_the_message(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/alpha", params={"latency_ms": 500, "timeout_ms": 20})
    assert response.status_code == 504, (
        f"{answer(response)}: map BackendTimeoutError to 504 (Gateway Timeout)"
    )
    assert response.json() == {"detail": "the lookup of 'alpha' timed out after 20 ms"}


async def test_bad_input_refused_by_rust_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/alpha", params={"latency_ms": -1})
    assert response.status_code == 422, f"{answer(response)}: map ValueError to 422"
    expected = "latency_ms must be between 0 and 60000 (milliseconds), got -1"
    assert response.json() == {"detail": expected}


async def test_a_rust_panic_is_500_and_keeps_its_message_private(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/broken")
    assert response.status_code == 500, answer(response)
    assert response.headers["content-type"] == "application/json", (
        f"{answer(response)}: map RustPanic to a JSON 500 of your own"
    )
    assert response.json() == {"detail": "internal error (Rust panic)"}, (
        f"{answer(response)}: the panic's message can name internals; answer only "
        "{'detail': 'internal error (Rust panic)'}"
    )


async def test_fastapi_s_own_validation_still_answers_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/alpha", params={"latency_ms": "soon"})
    assert response.status_code == 422, answer(response)
    assert response.json()["detail"][0]["loc"] == ["query", "latency_ms"]
