"""Fixtures of step 04: a real uvicorn server, to see what a client disconnect does."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
from fastapi import FastAPI

from ..servers import serve_in_thread

Serve = Callable[[FastAPI], AbstractContextManager[str]]


@contextmanager
def _serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a free port) in a thread; yield its URL."""
    with serve_in_thread(app, lifespan="off", ws="none", timeout_graceful_shutdown=5) as url:
        yield url


@pytest.fixture
def serve() -> Serve:
    """A context manager that serves an app with a real uvicorn server and stops it."""
    return _serve
