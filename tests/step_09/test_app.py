"""Step 09 app, through ASGI: ``GET /compute/{n}/stream``, progress as Server-Sent Events."""

import json

import httpx

import fastapi_async as fa


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


async def test_the_schema_documents_the_event_stream(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    stream = schema["paths"]["/compute/{n}/stream"]["get"]
    n = stream["parameters"][0]["schema"]
    assert (n["minimum"], n["maximum"]) == (0, fa.MAX_COMPUTE_N)
    assert "text/event-stream" in stream["responses"]["200"]["content"]
