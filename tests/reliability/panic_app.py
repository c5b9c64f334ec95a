"""The stage's app plus one test-only route that raises what a panicking Rust future raises.

The extension has no input that makes it panic (on purpose), and adding a function that
panics to the public module would ship a test hook to every user. So this wrapper, which
only the tests serve, adds ``GET /test-only/panic``: it raises ``RustPanic``, exactly what
awaiting a panicked future raises (pyo3-async-runtimes catches the panic on the Tokio
thread and fails the Python future with it). The app's own handler maps it.

Served with ``uvicorn panic_app:app --app-dir tests/reliability``; the stage's ``app.py``
is the file named by ``FASTAPI_ASYNC_APP``.
"""

import importlib.util
import os

from fastapi import FastAPI

import fastapi_async

_spec = importlib.util.spec_from_file_location("stage_app", os.environ["FASTAPI_ASYNC_APP"])
assert _spec is not None
assert _spec.loader is not None
_stage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_stage)
app: FastAPI = _stage.app


@app.get("/test-only/panic", include_in_schema=False)
async def panic() -> None:
    raise fastapi_async.RustPanic("rust future panicked: index out of bounds")
