"""A reader's app, written the way the original example wrote its app: a test fixture, not
a lesson (the lesson's app is steps/step-07-fastapi-app/app.py).

It calls the module with the original example's arguments and turns a missed deadline into
a 504 the original way, with ``except RuntimeError`` around ``api_call_with_timeout``.
``test_original_app.py`` proves that this app still works unchanged on step 07's module,
whose deadline error is a ``TimeoutError`` and, for code like this, a ``RuntimeError``.

Never serve it beyond loopback: ``/retry/{url}`` fetches any URL a client names (server-side
request forgery; step 08 adds the allowlist), and nothing here bounds a request's input. The
tests call it in-process, through ``httpx.ASGITransport``.
"""

from fastapi import FastAPI, HTTPException

import fastapi_async

app = FastAPI(title="The original example's app, on step 07's module")

# One counter at module level, as the original example had it.
counter = fastapi_async.AsyncCounter()


@app.get("/fetch/{id}")
async def fetch(id: int) -> dict[str, str]:
    return {"data": await fastapi_async.fetch_data_async(id)}


@app.post("/process/batch")
async def process_batch(items: list[str]) -> dict[str, list[str]]:
    return {"results": await fastapi_async.process_batch_async(items)}


@app.get("/compute/{n}")
async def compute(n: int) -> dict[str, int]:
    return {"result": await fastapi_async.compute_with_progress(n)}


# ANCHOR: timeout_handler
@app.get("/api/{endpoint}")
async def call_api(endpoint: str, timeout_ms: int = 1000) -> dict[str, str]:
    try:
        response = await fastapi_async.api_call_with_timeout(endpoint, timeout_ms)
    except RuntimeError as e:
        raise HTTPException(status_code=504, detail=str(e)) from e
    return {"response": response}


# ANCHOR_END: timeout_handler


@app.post("/aggregate")
async def aggregate(sources: list[str]) -> dict[str, dict[str, str]]:
    return {"aggregated": await fastapi_async.aggregate_async(sources)}


@app.post("/counter/increment")
async def increment() -> dict[str, int]:
    return {"count": await counter.increment_async()}


@app.get("/counter")
async def get_count() -> dict[str, int]:
    return {"count": await counter.get_count_async()}


@app.post("/counter/reset")
async def reset() -> dict[str, int]:
    return {"count": await counter.reset_async()}


@app.get("/retry/{url:path}")
async def retry(url: str, max_retries: int = 3) -> dict[str, str]:
    return {"result": await fastapi_async.fetch_with_retry(url, max_retries)}


@app.post("/batch")
async def bounded_batch(items: list[float], max_concurrent: int = 10) -> dict[str, list[float]]:
    return {"results": await fastapi_async.process_with_concurrency(items, max_concurrent)}
