"""Exercise 07-error-status: each error of the Rust module, as its HTTP status.

The task is in README.md; ``just exercise 07-error-status`` checks your work. You will need
``Request`` (from ``fastapi``), ``JSONResponse`` (from ``fastapi.responses``) and the
exception types of ``ex07_error_status``.
"""

import logging
from collections.abc import Awaitable, Callable

from ex07_error_status import BackendTimeoutError, ItemNotFoundError, RustPanic
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

logger = logging.getLogger("uvicorn.error")

Handler = Callable[[Request, Exception], Awaitable[JSONResponse]]


def detail(status_code: int) -> Handler:
    """A handler that answers ``status_code`` with ``{"detail": str(exc)}``."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=status_code, content={"detail": str(exc)})

    return handler


async def rust_panic(request: Request, exc: Exception) -> JSONResponse:
    # The panic message can name internals: log it, and tell the client only that it failed.
    logger.error("a Rust future panicked: %s", exc)
    return JSONResponse(status_code=500, content={"detail": "internal error (Rust panic)"})


def install_error_handlers(application: FastAPI) -> None:
    """Registers one handler per error of ``ex07_error_status`` (see README.md)."""
    application.add_exception_handler(ItemNotFoundError, detail(404))
    application.add_exception_handler(BackendTimeoutError, detail(504))
    application.add_exception_handler(ValueError, detail(422))
    application.add_exception_handler(RustPanic, rust_panic)
