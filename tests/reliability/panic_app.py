"""The stage's app plus one test-only route that raises what a panicking Rust future raises.

The extension has no input that makes it panic (on purpose), and adding a function that
panics to the public module would ship a test hook to every user. So this wrapper, which
only the tests serve, adds ``GET /test-only/panic``: it raises ``RustPanic``, exactly what
awaiting a panicked future raises (pyo3-async-runtimes catches the panic on the Tokio
thread and fails the Python future with it). The app's own handler maps it.

Served with ``uvicorn panic_app:app --app-dir <stage folder>`` and this folder on
``PYTHONPATH``: ``--app-dir`` makes the stage's ``app.py`` importable as ``app``.
"""

import importlib

from fastapi import FastAPI

import fastapi_async

# The stage's app.py, importable as `app` because uvicorn's --app-dir put its folder first
# on sys.path (imported by name here, so that the type checker needs no stub for it).
app: FastAPI = importlib.import_module("app").app


@app.get("/test-only/panic", include_in_schema=False)
async def panic() -> None:
    raise fastapi_async.RustPanic("rust future panicked: index out of bounds")
