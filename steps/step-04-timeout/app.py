"""Step 04 app: the endpoints of steps 01-03, plus an upstream call with a deadline.

Run it with ``just app 04``; the interactive docs are at http://127.0.0.1:8000/docs.
"""

import asyncio
import math
from typing import Annotated, Any, TypeVar

from fastapi import Body, FastAPI, HTTPException, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel

import fastapi_async

# ANCHOR: body_limit
# The largest request body the app reads (413 beyond it, before the rest is read): far
# above its largest valid body (100 000 numbers for step 05's /batch, about 2.5 MB of
# JSON), far below what one request should make the server hold in memory. Without a
# limit, FastAPI reads any body whole, however large.
MAX_BODY_BYTES = 16 * 1024 * 1024
# ANCHOR_END: body_limit

app = FastAPI(
    max_body_size=MAX_BODY_BYTES,
    title="Async Rust in FastAPI — step 04",
    description="Tokio futures awaited through pyo3-async-runtimes: a fetch, batches,"
    " a shared counter, and a deadline enforced in Rust.",
)


class ErrorDetail(BaseModel):
    detail: str


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


@app.post("/process/batch")
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


@app.post("/aggregate")
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


def install_error_handlers(application: FastAPI) -> None:
    """The one mapping from errors to HTTP answers; each step adds its own."""
    application.add_exception_handler(RequestValidationError, validation_error)  # 422
    application.add_exception_handler(TimeoutError, detail(504))


install_error_handlers(app)
# ANCHOR_END: errors
