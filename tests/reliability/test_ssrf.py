"""SSRF: ``/retry`` reaches the allowlisted hosts, whatever the spelling, and nothing else.

The rule, from ``allowlist.rs``: a URL's host is normalised as the WHATWG URL parser does
(the ``url`` crate), then compared with each entry; names are never resolved. So every
spelling of the same IPv4 address (``127.1``, ``2130706433``, ``0x7f000001``,
``0177.0.0.1``, a trailing dot) *is* that address, and allowed when it is listed; every
other host (``localhost``, ``[::1]``, ``[::ffff:127.0.0.1]``, ``0.0.0.0``) is a host of
its own, refused with 403 before any connection, even when it would reach the same
socket. Userinfo (``user@``) is not the host. The server allows one upstream only,
``127.0.0.1:<its port>``, and the upstream counts what reaches it.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

import httpx
import pytest

from ..step_06.conftest import FlakyUpstream
from .conftest import ServeStage
from .rawhttp import RawResponse, request


def via_retry(inner_url: str) -> str:
    """The ``/retry/{url}`` target for ``inner_url``, every reserved character encoded, so
    the app's path parameter is exactly ``inner_url``."""
    return "/retry/" + quote(inner_url, safe=":/")


# ANCHOR: refused
REFUSED = {  # URL -> the host and port it normalises to, as the 403 names them
    "http://localhost:{port}/": "localhost:{port}",  # a name, not resolved
    "http://LOCALHOST:{port}/": "localhost:{port}",
    "http://localhost.:{port}/": "localhost.:{port}",
    "http://[::1]:{port}/": "[::1]:{port}",  # IPv6 loopback
    "http://[::ffff:127.0.0.1]:{port}/": "[::ffff:7f00:1]:{port}",  # IPv4-mapped IPv6
    "http://[0:0:0:0:0:ffff:7f00:1]:{port}/": "[::ffff:7f00:1]:{port}",
    "http://0.0.0.0:{port}/": "0.0.0.0:{port}",  # reaches this machine on Linux
    "http://0:{port}/": "0.0.0.0:{port}",
    "http://127.0.0.2:{port}/": "127.0.0.2:{port}",  # loopback, not the listed address
    "http://127.0.0.1:1/": "127.0.0.1:1",  # the listed address, another port
    "http://2130706434:{port}/": "127.0.0.2:{port}",  # decimal
    "http://2852039166/latest/meta-data/": "169.254.169.254:80",  # decimal
    "http://0xa9fea9fe/latest/meta-data/": "169.254.169.254:80",  # hex
    "http://127.0.0.1@evil.example/": "evil.example:80",  # "127.0.0.1" is userinfo
    "http://127.0.0.1:{port}@evil.example/": "evil.example:80",
    "http://evil.example\\@127.0.0.1:{port}/": "evil.example:80",  # a backslash is a "/" here
    "http://evil.example#@127.0.0.1:{port}/": "evil.example:80",  # the rest is a fragment
    "https://127.0.0.1/": "127.0.0.1:443",  # the default port of https
}
# ANCHOR_END: refused

# ANCHOR: allowed
ALLOWED = [
    "http://127.0.0.1:{port}/",
    "http://127.1:{port}/",  # short IPv4 form
    "http://2130706433:{port}/",  # decimal
    "http://0x7f000001:{port}/",  # hex
    "http://0x7f.0.0.1:{port}/",
    "http://0177.0.0.1:{port}/",  # octal first part
    "http://127.0.0.1.:{port}/",  # trailing dot: the same IPv4 address
    "HTTP://127.0.0.1:{port}/",  # scheme case does not matter
    "http://user:pass@127.0.0.1:{port}/",  # userinfo is not the host
]
# ANCHOR_END: allowed


def upstream_port(upstream: FlakyUpstream) -> str:
    return upstream.base_url.rsplit(":", 1)[1]


async def through_retry(
    serve_stage: ServeStage, upstream: FlakyUpstream, urls: Iterable[str]
) -> tuple[dict[str, RawResponse], list[str]]:
    """Each URL (``{port}``: the upstream's) through ``/retry`` of a server that allows
    only the upstream; the answers, and the problems in the server's log."""
    port = upstream_port(upstream)
    with serve_stage(env={"FASTAPI_ASYNC_ALLOWED_HOSTS": f"127.0.0.1:{port}"}) as server:
        answers = {
            url: await request(server.url, "GET", via_retry(url.format(port=port))) for url in urls
        }
        return answers, server.problems()


@pytest.mark.timeout(120)
async def test_every_spelling_of_another_host_is_refused_before_any_request(
    serve_stage: ServeStage, upstream: FlakyUpstream
) -> None:
    answers, problems = await through_retry(serve_stage, upstream, REFUSED)
    port = upstream_port(upstream)
    assert {url: (answer.status, answer.json()) for url, answer in answers.items()} == {
        url: (403, {"detail": f"host {host} is not in allowed_hosts; nothing was sent to it"})
        for url, host in ((u, h.format(port=port)) for u, h in REFUSED.items())
    }
    assert upstream.requests == 0
    assert problems == []


@pytest.mark.timeout(120)
async def test_every_spelling_of_the_listed_address_reaches_it(
    serve_stage: ServeStage, upstream: FlakyUpstream
) -> None:
    answers, problems = await through_retry(serve_stage, upstream, ALLOWED)
    assert {url: answer.status for url, answer in answers.items()} == dict.fromkeys(ALLOWED, 200)
    assert upstream.requests == len(ALLOWED)
    assert problems == []


# ANCHOR: redirect
@pytest.mark.timeout(120)
async def test_a_redirect_from_an_allowed_host_to_another_is_refused(
    serve_stage: ServeStage, upstream: FlakyUpstream, redirector: str
) -> None:
    port = upstream_port(upstream)
    allowed = f"127.0.0.1:{port},{redirector.removeprefix('http://')}"
    targets = [
        f"http://localhost:{port}/hello",
        f"http://[::1]:{port}/hello",
        f"http://2130706434:{port}/hello",
        "http://169.254.169.254/latest/meta-data/",
    ]
    with serve_stage(env={"FASTAPI_ASYNC_ALLOWED_HOSTS": allowed}) as server:
        refused = {
            target: await request(server.url, "GET", via_retry(f"{redirector}/?to={target}"))
            for target in targets
        }
        followed = await request(
            server.url, "GET", via_retry(f"{redirector}/?to={upstream.url('/hello')}")
        )
    assert {t: r.status for t, r in refused.items()} == dict.fromkeys(targets, 403)
    assert followed.status == 200
    # Only the allowed redirect reached the upstream.
    assert upstream.requests == 1


# ANCHOR_END: redirect


def test_the_helper_encodes_what_would_end_the_path() -> None:
    # A "#" or "?" left as is would end the app's path parameter early.
    inner = "http://a.example#@b.example/?x=1"
    target = via_retry(inner)
    assert httpx.URL(f"http://testserver{target}").path == f"/retry/{inner}"
