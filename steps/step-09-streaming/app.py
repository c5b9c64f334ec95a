"""Step 09 app: step 08's app, plus ``GET /compute/{n}/stream``, progress as Server-Sent Events.

New here: the stream endpoint reads ``compute_progress_stream`` with ``async for`` and sends
each update as an event, and stops the Rust work when the client leaves.

Run it with ``just app 09``; the interactive docs are at http://127.0.0.1:8000/docs.
Environment: ``FASTAPI_ASYNC_WORKER_THREADS`` (Tokio worker threads, 1..=64),
``FASTAPI_ASYNC_ALLOWED_HOSTS`` (comma-separated ``host`` or ``host:port``; default
``127.0.0.1:$PORT``), ``PORT`` (default 8000).
"""

import asyncio
import json
import logging
import math
import os
import sys
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Annotated, Any, TypeVar, Union

from fastapi import Body, FastAPI, HTTPException, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.sse import format_sse_event
from fastapi.staticfiles import StaticFiles
from pydantic import AfterValidator, BaseModel, Field

import fastapi_async

logger = logging.getLogger("uvicorn.error")


# ANCHOR: lifespan
@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Importing the module only read FASTAPI_ASYNC_WORKER_THREADS; the runtime starts later.
    logger.info("fastapi_async runtime: %s", fastapi_async.runtime_info())
    logger.info("fastapi_async allowed hosts for /retry: %s", ", ".join(ALLOWED_HOSTS))
    yield


# ANCHOR_END: lifespan

# ANCHOR: body_limit
# The largest request body the app reads (413 beyond it, before the rest is read): far
# above its largest valid body (100 000 numbers for step 05's /batch, about 2.5 MB of
# JSON), far below what one request should make the server hold in memory. Without a
# limit, FastAPI reads any body whole, however large.
MAX_BODY_BYTES = 16 * 1024 * 1024
# ANCHOR_END: body_limit

app = FastAPI(
    max_body_size=MAX_BODY_BYTES,
    title="Async Rust in FastAPI — step 09",
    description="Tokio futures awaited through pyo3-async-runtimes: a fetch, batches,"
    " a shared counter, a deadline enforced in Rust, bounded concurrency, a computation"
    " off the event loop (also streamed as Server-Sent Events), and an HTTP GET retried"
    " with backoff, limited to an allowlist of hosts.",
    lifespan=lifespan,
    # /docs is served below from local files, so it works without internet access.
    docs_url=None,
    redoc_url=None,
)


class ErrorDetail(BaseModel):
    detail: str


# Answered before the handler runs, for a route with a JSON body: the body is not UTF-8
# (FastAPI's own 400), or it is larger than the limit.
BODY_ERRORS: dict[Union[int, str], dict[str, Any]] = {
    400: {"model": ErrorDetail, "description": "The body could not be read as UTF-8 JSON."},
    413: {"description": f"The body is larger than {MAX_BODY_BYTES} bytes."},
}


class FetchResponse(BaseModel):
    id: int
    data: str


I64_MIN, I64_MAX = -(2**63), 2**63 - 1


# ANCHOR: text
def utf8_text(text: str) -> str:
    """``text`` unchanged if it has a UTF-8 form: a lone surrogate, which JSON can spell
    (``"\\ud800"``) and Python's parser accepts, has none, and Rust would refuse it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"a lone surrogate at position {exc.start} has no UTF-8 form") from None
    return text


# A JSON string that can cross into Rust: a 422 naming the item, not a late ValueError.
Text = Annotated[str, AfterValidator(utf8_text)]
# ANCHOR_END: text


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


@app.post("/process/batch", responses=BODY_ERRORS)
async def process_batch(
    items: Annotated[
        list[Text],
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


@app.post("/aggregate", responses=BODY_ERRORS)
async def aggregate(
    sources: Annotated[
        list[Text],
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


# ANCHOR: counter_backend
# One counter for this app process. Each uvicorn worker is its own process with its own
# counter, so with several workers the count is per worker ("Scaling out" uses Redis).
counter = fastapi_async.AsyncCounter()
# ANCHOR_END: counter_backend


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


# ANCHOR: stream
class EventStream(StreamingResponse):
    """Server-Sent Events, streamed as they are: FastAPI's own SSE loop (an endpoint that
    yields, with ``response_class=EventSourceResponse``) logs an "Exception in ASGI
    application" (BrokenResourceError) when a client leaves while an event is on its way
    (FastAPI 0.165, fastapi discussion #15725); a StreamingResponse just stops."""

    media_type = "text/event-stream"


# Each event of the stream, for the OpenAPI schema (3.2's `itemSchema` for event streams).
PROGRESS_EVENT_SCHEMA = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"enum": ["progress", "sum"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}


@app.get(
    "/compute/{n}/stream",
    response_class=StreamingResponse,  # no media type: the one below is the only one
    responses={200: {"content": {"text/event-stream": {"itemSchema": PROGRESS_EVENT_SCHEMA}}}},
)
async def compute_stream(
    n: Annotated[
        int,
        Path(ge=0, le=fastapi_async.MAX_COMPUTE_N, description="Sum the integers 1..=n."),
    ],
) -> EventStream:
    """`progress` events (`{"done", "total"}`), then one `sum` event (`{"n", "sum"}`)."""
    return EventStream(progress_events(n), headers={"Cache-Control": "no-cache"})


async def progress_events(n: int) -> AsyncIterator[bytes]:
    """The events of ``/compute/{n}/stream``, formatted as Server-Sent Events."""
    stream = fastapi_async.compute_progress_stream(n)
    try:
        async for update in stream:
            if update.sum is None:
                event, data = "progress", {"done": update.done, "total": update.total}
            else:
                event, data = "sum", {"n": n, "sum": update.sum}
            yield format_sse_event(event=event, data_str=json.dumps(data, separators=(",", ":")))
            # Sending does not wait, and an update already waiting may be awaited without a
            # loop turn (step 12's bridge does that): give the loop a turn, so that it
            # notices a client that left.
            await asyncio.sleep(0)
    finally:
        # The client went away (this generator was cancelled or closed) or the stream
        # ended: either way, stop the Rust work now rather than when the GC runs.
        stream.close()


# ANCHOR_END: stream


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


@app.get(
    "/api/{endpoint}",
    responses={504: {"model": ErrorDetail, "description": "The upstream call timed out."}},
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
    # A DeadlineExceededError from Rust becomes a 504 in `install_error_handlers`.
    response = await cancel_on_disconnect(request, call)
    return ApiResponse(endpoint=endpoint, response=response)


# ANCHOR_END: api


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


@app.post("/batch", responses=BODY_ERRORS)
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


# ANCHOR: allowlist
def allowed_hosts_from_env() -> list[str]:
    """``FASTAPI_ASYNC_ALLOWED_HOSTS``, split on commas; default: this app on loopback."""
    raw = os.environ.get("FASTAPI_ASYNC_ALLOWED_HOSTS")
    if raw is None:
        return [f"127.0.0.1:{os.environ.get('PORT', '8000')}"]
    return [host.strip() for host in raw.split(",") if host.strip()]


# Read and checked once, at import: the allowlist is configuration, not a request parameter,
# and a bad entry stops the app at start-up instead of failing every /retry with a 422.
ALLOWED_HOSTS = allowed_hosts_from_env()
fastapi_async.check_allowed_hosts(ALLOWED_HOSTS)
# ANCHOR_END: allowlist


class RetryResponse(BaseModel):
    url: str
    result: str


# ANCHOR: retry
@app.get(
    "/retry/{url:path}",
    responses={
        403: {"model": ErrorDetail, "description": "The host is not on the allowlist"},
        # Starlette's `path` parameters match anything but a line break.
        404: {"model": ErrorDetail, "description": "The URL holds a line break"},
        502: {"model": ErrorDetail, "description": "Retries exhausted, or a final error"},
        504: {"model": ErrorDetail, "description": "The overall deadline passed"},
    },
)
async def retry(
    url: Annotated[
        str,
        Path(
            max_length=fastapi_async.MAX_URL_LEN,
            description="An absolute http:// or https:// URL on an allowed host. Encode"
            " its `?`, `&` and `=` (`%3F`, `%26`, `%3D`), or they belong to this request.",
        ),
    ],
    max_retries: Annotated[
        int,
        Query(ge=0, le=fastapi_async.MAX_RETRIES, description="Retries after the 1st try."),
    ] = 3,
) -> RetryResponse:
    # Rust checks the URL and its host now, before any request (ValueError: 422, on the
    # `url` parameter, in FastAPI's own shape; HostNotAllowedError: 403) and every redirect
    # later; `install_error_handlers` maps what the awaited future raises.
    try:
        future = fastapi_async.fetch_with_retry(url, max_retries, allowed_hosts=ALLOWED_HOSTS)
    except ValueError as exc:
        error = {"type": "value_error", "loc": ("path", "url"), "msg": str(exc), "input": url}
        raise RequestValidationError([error]) from exc
    return RetryResponse(url=url, result=await future)


# ANCHOR_END: retry


# ANCHOR: upstream
# The demo upstream that /retry can reach by default: it fails the first `fail` requests of
# each `key` with 503, then answers 200. Bounded: at most this many keys are kept.
MAX_UPSTREAM_KEYS = 1000
upstream_seen: "OrderedDict[str, int]" = OrderedDict()


@app.get(
    "/upstream/flaky",
    response_class=PlainTextResponse,
    responses={503: {"description": "One of the first `fail` requests of this key."}},
)
async def flaky_upstream(
    key: Annotated[str, Query(min_length=1, max_length=64, description="Counts per key.")],
    fail: Annotated[
        int, Query(ge=0, le=fastapi_async.MAX_RETRIES + 1, description="Failures first.")
    ] = 1,
) -> PlainTextResponse:
    seen = upstream_seen.pop(key, 0) + 1
    upstream_seen[key] = seen  # (re)inserted last: the oldest key is evicted first
    while len(upstream_seen) > MAX_UPSTREAM_KEYS:
        upstream_seen.popitem(last=False)
    if seen <= fail:
        return PlainTextResponse(f"failure {seen} of {fail} for {key}", status_code=503)
    return PlainTextResponse(f"ok after {seen - 1} failures for {key}")


# ANCHOR_END: upstream


# ANCHOR: health
class HealthResponse(BaseModel):
    status: str
    worker_threads: int
    max_blocking_threads: int
    runtime_started: bool


@app.get("/health")
async def health() -> HealthResponse:
    info = fastapi_async.runtime_info()
    return HealthResponse(
        status="ok",
        worker_threads=info["worker_threads"],
        max_blocking_threads=info["max_blocking_threads"],
        runtime_started=info["started"],
    )


# ANCHOR_END: health


# ANCHOR: docs
# Swagger UI 5's files, from fastapi-offline, served by this app: /docs then needs no CDN.
SWAGGER_DIR = files("fastapi_offline") / "static"
app.mount("/static/swagger", StaticFiles(directory=str(SWAGGER_DIR)), name="swagger")


@app.get("/docs", include_in_schema=False)
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} — docs",
        swagger_js_url="/static/swagger/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger/swagger-ui.css",
        swagger_favicon_url="/static/swagger/favicon.png",
    )


# ANCHOR_END: docs


# ANCHOR: non_finite
def json_safe(value: object) -> object:
    """``value`` with every NaN or infinity replaced by its name (JSON has no such numbers)
    and every lone surrogate escaped (UTF-8 has no such characters)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf" or "-inf"
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    return value


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # FastAPI's own handler, plus `json_safe`. Each error echoes its `input`, and Python's
    # JSON parser accepts `NaN` and lone surrogates (`"\\ud800"`): the default handler would
    # then fail to render its own 422 (a 500 instead), since the response must be UTF-8 JSON.
    return JSONResponse(
        status_code=422, content={"detail": json_safe(jsonable_encoder(exc.errors()))}
    )


# ANCHOR_END: non_finite


# ANCHOR: errors
def detail(status_code: int) -> Any:
    """A handler that answers ``status_code`` with ``{"detail": str(exc)}``."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=status_code, content={"detail": str(exc)})

    return handler


async def body_too_large(request: Request, exc: Exception) -> JSONResponse:
    message = f"the request body must be at most {MAX_BODY_BYTES} bytes"
    return JSONResponse(status_code=413, content={"detail": message})


async def rust_panic(request: Request, exc: Exception) -> JSONResponse:
    # The panic message can name internals: log it, and tell the client only that it failed.
    logger.error("a Rust future panicked: %s", exc)
    return JSONResponse(status_code=500, content={"detail": "internal error (Rust panic)"})


def install_error_handlers(application: FastAPI) -> None:
    """The one mapping from errors to HTTP answers; each step adds its own."""
    application.add_exception_handler(RequestValidationError, validation_error)  # 422
    application.add_exception_handler(413, body_too_large)  # past `max_body_size`
    application.add_exception_handler(ValueError, detail(422))
    application.add_exception_handler(TimeoutError, detail(504))
    application.add_exception_handler(fastapi_async.RetryExhaustedError, detail(502))
    application.add_exception_handler(fastapi_async.HttpStatusError, detail(502))
    application.add_exception_handler(fastapi_async.HostNotAllowedError, detail(403))
    application.add_exception_handler(fastapi_async.RustPanic, rust_panic)


install_error_handlers(app)
# ANCHOR_END: errors
