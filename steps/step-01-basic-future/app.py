"""Step 01 app: one endpoint that awaits one Rust future.

Run it with ``just app 01``; the interactive docs are at http://127.0.0.1:8000/docs.
"""

from typing import Annotated

from fastapi import FastAPI, Path, Query
from pydantic import BaseModel

import fastapi_async

app = FastAPI(
    title="Async Rust in FastAPI — step 01",
    description="One endpoint that awaits a Tokio future through pyo3-async-runtimes.",
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
