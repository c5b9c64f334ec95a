"""Step 07 fixtures: step 06's upstream, a redirecting server, a real uvicorn server, and
real Redis servers."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI

from ..servers import serve_http_in_thread, serve_in_thread
from ..step_06.conftest import FlakyUpstream, closed_port_url, upstream
from .redis_server import RedisServer

__all__ = ["FlakyUpstream", "closed_port_url", "upstream"]


class _Redirector(BaseHTTPRequestHandler):
    """``GET /?to=URL`` answers ``302 Location: URL``."""

    def do_GET(self) -> None:
        target = parse_qs(urlsplit(self.path).query)["to"][0]
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def redirector() -> Iterator[str]:
    """The base URL of a server on 127.0.0.1 that redirects wherever ``?to=`` says."""
    with serve_http_in_thread(ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)) as url:
        yield url


@pytest.fixture
def server_url(app: FastAPI) -> Iterator[str]:
    """The app under test, served by a real uvicorn on a free 127.0.0.1 port, in a thread.

    In-process, so a test can watch ``active_tasks()`` while a client disconnects.
    """
    with serve_in_thread(app) as url:
        yield url


# ANCHOR: redis_fixture
@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A new, empty redis-server on a free 127.0.0.1 port, without persistence."""
    with RedisServer(tmp_path) as server:
        yield server


# ANCHOR_END: redis_fixture


@pytest.fixture
def durable_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """Like ``redis_server``, but every write reaches its append-only file before the reply."""
    with RedisServer(tmp_path, durable=True) as server:
        yield server
