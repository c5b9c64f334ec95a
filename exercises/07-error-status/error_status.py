"""Exercise 07-error-status: each error of the Rust module, as its HTTP status.

The task is in README.md; ``just exercise 07-error-status`` checks your work. You will need
``Request`` (from ``fastapi``), ``JSONResponse`` (from ``fastapi.responses``) and the
exception types of ``ex07_error_status``.
"""

from fastapi import FastAPI


def install_error_handlers(application: FastAPI) -> None:
    """Registers one handler per error of ``ex07_error_status`` (see README.md)."""
    raise NotImplementedError("install_error_handlers: one add_exception_handler per error")
