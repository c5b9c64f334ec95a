"""The pure-Python twin of the stages' app, for the server rows of ``bench/run.py``.

The same FastAPI routes, parameters, bounds and response models as ``GET /fetch/{id}``,
``POST /process/batch`` and ``POST /compute/{n}`` in ``steps/step-NN-*/app.py``, with the
Rust calls replaced by plain asyncio and Python: ``asyncio.sleep`` for the simulated I/O,
``str.upper`` for the batch, the same one-at-a-time loop in a thread for the sum. Served by
the same server, loaded by the same ``wrk``, so the only difference between the two apps is
what each handler awaits.

Serve it by hand with ``.venv/bin/uvicorn twin_app:app --app-dir bench``.
"""

import asyncio
from typing import Annotated

from fastapi import Body, FastAPI, Path, Query
from pydantic import BaseModel

# The limits of the Rust module (`MAX_DELAY_MS`, `MAX_BATCH_ITEMS`, `MAX_COMPUTE_N`) and of
# the app (`MAX_BODY_BYTES`), copied so that this app does not import the extension at all.
MAX_DELAY_MS = 60_000
MAX_BATCH_ITEMS = 100_000
MAX_COMPUTE_N = 10**9
MAX_BODY_BYTES = 16 * 1024 * 1024
I64_MIN, I64_MAX = -(2**63), 2**63 - 1

# `max_body_size` as in the app: FastAPI then wraps every request in its body-limit
# middleware, which costs both servers the same.
app = FastAPI(title="Pure-Python twin of the benchmarked endpoints", max_body_size=MAX_BODY_BYTES)


class FetchResponse(BaseModel):
    id: int
    data: str


# ANCHOR: fetch
@app.get("/fetch/{id}")
async def fetch(
    id: Annotated[int, Path(ge=I64_MIN, le=I64_MAX, description="Any 64-bit integer.")],
    delay_ms: Annotated[int, Query(ge=0, le=MAX_DELAY_MS, description="Simulated I/O time.")] = 100,
) -> FetchResponse:
    # `asyncio.sleep(0)` yields to the event loop once, as awaiting a Rust future does.
    await asyncio.sleep(delay_ms / 1000)
    return FetchResponse(id=id, data=f"Data for ID {id}")


# ANCHOR_END: fetch


class BatchResponse(BaseModel):
    results: list[str]
    count: int


# ANCHOR: batch
@app.post("/process/batch")
async def process_batch(
    items: Annotated[
        list[str], Body(max_length=MAX_BATCH_ITEMS, description="Strings to upper-case.")
    ],
) -> BatchResponse:
    results = [item.upper() for item in items]
    return BatchResponse(results=results, count=len(results))


# ANCHOR_END: batch


class ComputeResponse(BaseModel):
    n: int
    sum: int


def python_sum(n: int) -> int:
    """``1 + 2 + ... + n`` one item at a time, as ``compute_with_progress`` sums in Rust."""
    total = 0
    for i in range(1, n + 1):
        total += i
    return total


@app.post("/compute/{n}")
async def compute(
    n: Annotated[int, Path(ge=0, le=MAX_COMPUTE_N, description="Sum the integers 1..=n.")],
) -> ComputeResponse:
    # In a thread, so that the loop takes other requests; but the thread holds the GIL.
    return ComputeResponse(n=n, sum=await asyncio.to_thread(python_sum, n))
