"""Step 06 fixtures: a real HTTP upstream on 127.0.0.1 that fails on purpose, and a closed port.

``fetch_with_retry`` makes real requests, so the tests give it a real server: a
``ThreadingHTTPServer`` on port 0 (the OS picks a free port), run in a thread for one test.
It fails the first ``fail_first`` requests in the chosen way, then answers ``200``, and it
counts every request it sees, so a test can assert exactly how many attempts Rust made.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

import pytest

from ..servers import serve_http_in_thread

Failure = Literal["500", "503", "429", "404", "drop", "hang"]


class FlakyUpstream:
    """What the server does, and what it has seen. Set the fields before the request."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.fail_first = 0
        self.failure: Failure = "503"
        self.retry_after: str | None = None
        self.release = threading.Event()  # ends every "hang" at teardown
        self._lock = threading.Lock()
        self._client_ports: list[int] = []

    def url(self, path: str = "/hello") -> str:
        return self.base_url + path

    @property
    def requests(self) -> int:
        with self._lock:
            return len(self._client_ports)

    @property
    def client_ports(self) -> list[int]:
        """The client-side port of each request: equal ports mean a reused connection."""
        with self._lock:
            return list(self._client_ports)

    def record(self, client_port: int) -> int:
        """Counts one request and returns its number, from 1."""
        with self._lock:
            self._client_ports.append(client_port)
            return len(self._client_ports)


class _Server(ThreadingHTTPServer):
    upstream: FlakyUpstream


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open, so the client's connection pool can reuse them.
    protocol_version = "HTTP/1.1"
    # An idle kept-alive connection is closed after this, so no handler thread lingers.
    timeout = 5
    server: _Server

    def do_GET(self) -> None:
        upstream = self.server.upstream
        number = upstream.record(self.client_address[1])
        if self.path.startswith("/redirect/"):
            # /redirect/3 -> /redirect/2 -> /redirect/1 -> /redirect/0, which answers 200.
            left = int(self.path.removeprefix("/redirect/"))
            if left > 0:
                self._reply(302, "", {"Location": f"/redirect/{left - 1}"})
            else:
                self._reply(200, "ok: redirected")
            return
        if number <= upstream.fail_first:
            if upstream.failure == "drop":
                # Close the connection without a word: the client sees it drop.
                self.close_connection = True
                return
            if upstream.failure == "hang":
                upstream.release.wait(timeout=30)
                self.close_connection = True
                return
            headers = {}
            if upstream.retry_after is not None:
                headers["Retry-After"] = upstream.retry_after
            self._reply(int(upstream.failure), f"failure {number}", headers)
            return
        self._reply(200, f"ok: request {number} to {self.path}")

    def _reply(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output clean


@pytest.fixture
def upstream() -> Iterator[FlakyUpstream]:
    """A flaky HTTP server on 127.0.0.1, started for one test and stopped after it."""
    server = _Server(("127.0.0.1", 0), _Handler)
    with serve_http_in_thread(server) as base_url:
        server.upstream = FlakyUpstream(base_url)
        try:
            yield server.upstream
        finally:
            server.upstream.release.set()  # before the shutdown, which waits for handlers


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The socket is closed: the port is free, and nothing will accept a connection on it.
    return f"http://127.0.0.1:{port}/nothing-here"
