"""Step 08 fixtures: step 06's upstream and a redirecting server."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from ..servers import serve_http_in_thread
from ..step_06.conftest import FlakyUpstream, closed_port_url, upstream

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
