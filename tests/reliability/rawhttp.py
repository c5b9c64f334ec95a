"""A minimal HTTP/1.1 client on asyncio streams, for the load tests and odd requests.

Thousands of requests held open at once cost httpx a pool entry, a task and a parser
each; here one request is one socket, one write and one read to the end, so the client
takes little of the CPU the server needs. It also sends bytes no proper client would
(bad UTF-8, broken request lines), which the bad-input tests need.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class RawResponse:
    status: int
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def split_host_port(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    assert parts.hostname is not None, base_url
    assert parts.port is not None, base_url
    return parts.hostname, parts.port


def build_request(
    method: str, target: bytes, body: bytes | None = None, content_length: int | None = None
) -> bytes:
    """One request with ``Connection: close``: the server ends the response with EOF.

    ``content_length`` declares a length other than the body's (a body cut short).
    """
    head = b"%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n" % (method.encode(), target)
    if body is not None:
        length = len(body) if content_length is None else content_length
        head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % length
    return head + b"\r\n" + (body or b"")


class InFlight:
    """Counts the requests sent and not yet answered, and the most there were at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.last_sent_at = 0.0
        self.first_answer_at = float("inf")

    def sent(self) -> None:
        self.now += 1
        self.peak = max(self.peak, self.now)
        self.last_sent_at = time.perf_counter()

    def answered(self) -> None:
        self.now -= 1
        self.first_answer_at = min(self.first_answer_at, time.perf_counter())


async def send_raw(base_url: str, request: bytes, in_flight: InFlight | None = None) -> RawResponse:
    """Send ``request`` as is and read the whole response (the server closes after it)."""
    reader, writer = await start_raw(base_url, request)
    if in_flight is not None:
        in_flight.sent()
    answer = await finish(reader, writer)
    if in_flight is not None:
        in_flight.answered()
    return answer


async def start_raw(
    base_url: str, request: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect and send ``request``; the response is left unread, the connection open."""
    host, port = split_host_port(base_url)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
    except BaseException:
        writer.close()
        raise
    return reader, writer


async def finish(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> RawResponse:
    """Read the response to its end (the server closes after it), then close."""
    try:
        raw = await reader.read(-1)
    finally:
        await hang_up(writer)
    return parse_response(raw)


async def hang_up(writer: asyncio.StreamWriter) -> None:
    writer.close()
    await writer.wait_closed()


def parse_response(raw: bytes) -> RawResponse:
    """Status and body of one HTTP/1.1 response (Content-Length or chunked)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if headers.get(b"transfer-encoding") == b"chunked":
        body = dechunk(body)
    return RawResponse(status, body)


def dechunk(data: bytes) -> bytes:
    out = bytearray()
    while True:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += rest[:size]
        data = rest[size + 2 :]


async def request(
    base_url: str,
    method: str,
    target: str,
    body: bytes | None = None,
    in_flight: InFlight | None = None,
) -> RawResponse:
    return await send_raw(base_url, build_request(method, target.encode(), body), in_flight)
