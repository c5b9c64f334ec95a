"""Step 06 app: the endpoints of steps 01-05, plus a GET that Rust retries with backoff.

Run it with ``just app 06``; the interactive docs are at http://127.0.0.1:8000/docs.
"""

import asyncio
import math
import sys
from typing import Annotated, Any, TypeVar

from fastapi import Body, FastAPI, HTTPException, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

import fastapi_async

app = FastAPI(
    title="Async Rust in FastAPI — step 06",
    description="Tokio futures awaited through pyo3-async-runtimes: a fetch, batches,"
    " a shared counter, a computation off the event loop, a deadline enforced in Rust,"
    " bounded concurrency, and an HTTP GET retried with exponential backoff and jitter.",
)


class FetchResponse(BaseModel):
    id: int
    data: str


I64_MIN, I64_MAX = -(2**63), 2**63 - 1


# ANCHOR: fetch
@app.get("/fetch/{id}")
async def fetch(
    id: Annotated[int, Path(ge=I64_MIN, le=I64_MAX, description="Any 64-bit integer.")],
    delay_ms: Annotated[
        int,
        Query(ge=0, le=fastapi_async.MAX_DELAY_MS, description="Simulated I/O time."),
    ] = 100,
) -> FetchResponse:
    # FastAPI has already checked both bounds (422 otherwise), so this await cannot
    # raise ValueError. The event loop serves other requests while Tokio sleeps.
    data = await fastapi_async.fetch_data_async(id, delay_ms)
    return FetchResponse(id=id, data=data)


# ANCHOR_END: fetch


# ANCHOR: batch
class BatchResponse(BaseModel):
    results: list[str]
    count: int


@app.post("/process/batch")
async def process_batch(
    items: Annotated[
        list[str],
        Body(
            max_length=fastapi_async.MAX_BATCH_ITEMS,
            description="Strings to upper-case, in order.",
        ),
    ],
) -> BatchResponse:
    # One await for the whole batch: one crossing into Rust, one Tokio future.
    results = await fastapi_async.process_batch_async(items)
    return BatchResponse(results=results, count=len(results))


# ANCHOR_END: batch


# ANCHOR: aggregate
class AggregateResponse(BaseModel):
    aggregated: dict[str, str]


@app.post("/aggregate")
async def aggregate(
    sources: Annotated[
        list[str],
        Body(
            max_length=fastapi_async.MAX_AGGREGATE_SOURCES,
            description="Source names; a repeated name is fetched once.",
        ),
    ],
    latency_ms: Annotated[
        int,
        Query(ge=0, le=fastapi_async.MAX_LATENCY_MS, description="Simulated I/O per source."),
    ] = 50,
) -> AggregateResponse:
    # All sources are fetched at once in Rust; this request waits about one latency.
    aggregated = await fastapi_async.aggregate_async(sources, latency_ms)
    return AggregateResponse(aggregated=aggregated)


# ANCHOR_END: aggregate


# One counter for this app process. Each uvicorn worker is its own process with its own
# counter, so with several workers the count is per worker (a later step uses Redis).
counter = fastapi_async.AsyncCounter()


class CountResponse(BaseModel):
    count: int


# ANCHOR: counter
@app.post("/counter/increment")
async def increment_counter() -> CountResponse:
    return CountResponse(count=await counter.increment_async())


@app.get("/counter")
async def get_counter() -> CountResponse:
    return CountResponse(count=await counter.get_count_async())


@app.post("/counter/reset")
async def reset_counter() -> CountResponse:
    return CountResponse(count=await counter.reset_async())


# ANCHOR_END: counter


class ComputeResponse(BaseModel):
    n: int
    sum: int


# ANCHOR: compute
@app.post("/compute/{n}")
async def compute(
    n: Annotated[
        int,
        Path(ge=0, le=fastapi_async.MAX_COMPUTE_N, description="Sum the integers 1..=n."),
    ],
) -> ComputeResponse:
    # The sum runs on Tokio's blocking pool; this request waits, the event loop does not.
    return ComputeResponse(n=n, sum=await fastapi_async.compute_with_progress(n))


# ANCHOR_END: compute


# ANCHOR: disconnect
T = TypeVar("T")

# The status nginx logs for "client closed the request"; the client never receives it.
CLIENT_CLOSED_REQUEST = 499


async def client_disconnected(request: Request) -> None:
    """Return once the client has closed the connection.

    For a request whose body has been read (or, as here, that has none), the ASGI server's
    ``receive()`` blocks until the connection ends, then returns ``http.disconnect``.
    """
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def cancel_on_disconnect(request: Request, work: asyncio.Future[T]) -> T:
    """Await ``work``, but cancel it (and so drop the Rust future) if the client leaves.

    Uvicorn does not cancel a handler when its client disconnects: without this race the
    work would run to its end for nobody.
    """
    watcher = asyncio.ensure_future(client_disconnected(request))
    racing: set[asyncio.Future[Any]] = {work, watcher}
    try:
        await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
    finally:
        # Whatever happened (even this handler being cancelled), leave nothing running.
        watcher.cancel()
        work.cancel()  # a no-op when `work` has finished
    if work.cancelled():
        raise HTTPException(CLIENT_CLOSED_REQUEST, "the client closed the request")
    return work.result()


# ANCHOR_END: disconnect


# ANCHOR: api
class ApiResponse(BaseModel):
    endpoint: str
    response: str


class TimeoutDetail(BaseModel):
    detail: str


@app.get(
    "/api/{endpoint}",
    responses={504: {"model": TimeoutDetail, "description": "The upstream call timed out."}},
)
async def call_api(
    request: Request,
    endpoint: Annotated[
        str, Path(min_length=1, max_length=fastapi_async.MAX_ENDPOINT_LEN, description="Name.")
    ],
    timeout_ms: Annotated[
        int,
        Query(
            ge=fastapi_async.MIN_TIMEOUT_MS,
            le=fastapi_async.MAX_TIMEOUT_MS,
            description="Deadline for the upstream call.",
        ),
    ] = 1000,
    latency_ms: Annotated[
        int,
        Query(ge=0, le=fastapi_async.MAX_LATENCY_MS, description="Simulated upstream time."),
    ] = 100,
) -> ApiResponse:
    call = fastapi_async.api_call_with_timeout(endpoint, timeout_ms, latency_ms)
    try:
        response = await cancel_on_disconnect(request, call)
    except TimeoutError as exc:
        # The deadline passed inside Rust: a gateway timeout, with Rust's message.
        raise HTTPException(status_code=504, detail=str(exc)) from exc
    return ApiResponse(endpoint=endpoint, response=response)


# ANCHOR_END: api


# ANCHOR: non_finite
def json_safe(value: object) -> object:
    """``value`` with every NaN or infinity replaced by its name: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf" or "-inf"
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    return value


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    # FastAPI's own handler, plus `json_safe`. Python's JSON parser accepts `NaN` and
    # `Infinity`, each error echoes its `input`, and the default handler would then fail to
    # render its own 422 (a 500 instead), since JSON responses refuse non-finite floats.
    return JSONResponse(
        status_code=422, content={"detail": json_safe(jsonable_encoder(exc.errors()))}
    )


# ANCHOR_END: non_finite


# ANCHOR: bounded_batch
# Doubling a float beyond this overflows to infinity, which JSON cannot carry.
MAX_ABS_ITEM = sys.float_info.max / 2

# A JSON number: strict (no "1.5" strings, no booleans), finite (no NaN or Infinity, which
# Python's JSON parser accepts), and small enough that its double is finite too.
BatchItem = Annotated[
    float, Field(strict=True, allow_inf_nan=False, ge=-MAX_ABS_ITEM, le=MAX_ABS_ITEM)
]


class ProcessedResponse(BaseModel):
    processed: int
    results: list[float]


@app.post("/batch")
async def bounded_batch(
    items: Annotated[
        list[BatchItem],
        Body(max_length=fastapi_async.MAX_BATCH_ITEMS, description="The numbers to double."),
    ],
    max_concurrent: Annotated[
        int,
        Query(ge=1, le=fastapi_async.MAX_CONCURRENT, description="Items in flight at most."),
    ] = 10,
    latency_ms: Annotated[
        int,
        Query(ge=0, le=fastapi_async.MAX_LATENCY_MS, description="Simulated I/O per item."),
    ] = 10,
) -> ProcessedResponse:
    # Every bound was checked above (422 otherwise), so this cannot raise ValueError.
    results = await fastapi_async.process_with_concurrency(items, max_concurrent, latency_ms)
    return ProcessedResponse(processed=len(results), results=results)


# ANCHOR_END: bounded_batch


class RetryResponse(BaseModel):
    url: str
    result: str


# ANCHOR: retry
# Warning: as written, this endpoint lets anyone make the server GET any URL, including
# internal ones (http://127.0.0.1/..., cloud metadata at 169.254.169.254): server-side
# request forgery (SSRF). Never expose it as is; step 07 adds an allowlist of hosts.
@app.get(
    "/retry/{url:path}",
    responses={
        502: {"description": "Retries exhausted, or a final upstream error"},
        504: {"description": "The overall deadline passed"},
    },
)
async def retry(
    url: Annotated[str, Path(description="An absolute http:// or https:// URL.")],
    max_retries: Annotated[
        int,
        Query(ge=0, le=fastapi_async.MAX_RETRIES, description="Retries after the 1st try."),
    ] = 3,
) -> RetryResponse:
    try:
        # Raises ValueError at once (before any request) for a URL Rust rejects.
        future = fastapi_async.fetch_with_retry(url, max_retries)
    except ValueError as exc:
        # The same 422 shape as FastAPI's own validation errors.
        error = {"type": "value_error", "loc": ("path", "url"), "msg": str(exc), "input": url}
        raise RequestValidationError([error]) from exc
    try:
        body = await future
    except (fastapi_async.RetryExhaustedError, fastapi_async.HttpStatusError) as exc:
        raise HTTPException(status_code=502, detail=str(exc)) from exc
    except TimeoutError as exc:
        raise HTTPException(status_code=504, detail=str(exc)) from exc
    return RetryResponse(url=url, result=body)


# ANCHOR_END: retry
