"""Step 08: ``fetch_with_retry(..., allowed_hosts=...)``, called from Python."""

import pytest

import fastapi_async as fa

from .conftest import FlakyUpstream


async def test_a_host_off_the_list_is_refused_at_the_call(upstream: FlakyUpstream) -> None:
    with pytest.raises(fa.HostNotAllowedError, match=r"host 127\.0\.0\.1:"):
        fa.fetch_with_retry(upstream.url(), allowed_hosts=["example.com"])
    assert upstream.requests == 0
    assert issubclass(fa.HostNotAllowedError, PermissionError)


@pytest.mark.parametrize("spelling", ["2130706433", "0x7f.1", "127.1"])
async def test_numeric_spellings_of_an_allowed_host_are_the_same_host(
    upstream: FlakyUpstream, spelling: str
) -> None:
    port = upstream.base_url.rsplit(":", 1)[1]
    url = f"http://{spelling}:{port}/hello"
    assert await fa.fetch_with_retry(url, allowed_hosts=[f"127.0.0.1:{port}"]) == (
        "ok: request 1 to /hello"
    )


@pytest.mark.parametrize("host", ["localhost", "[::1]"])
def test_localhost_and_ipv6_loopback_are_refused_unless_listed(host: str) -> None:
    with pytest.raises(fa.HostNotAllowedError):
        fa.fetch_with_retry(f"http://{host}:8000/", allowed_hosts=["127.0.0.1"])


async def test_a_redirect_off_the_list_is_refused_and_never_sent(
    redirector: str, upstream: FlakyUpstream
) -> None:
    # The redirector is allowed on its port only; the upstream's port is not on the list.
    port = redirector.rsplit(":", 1)[1]
    future = fa.fetch_with_retry(
        f"{redirector}/?to={upstream.url()}", allowed_hosts=[f"127.0.0.1:{port}"]
    )
    with pytest.raises(fa.HostNotAllowedError, match="is not in allowed_hosts"):
        await future
    assert upstream.requests == 0


async def test_a_redirect_on_the_list_is_followed(redirector: str, upstream: FlakyUpstream) -> None:
    body = await fa.fetch_with_retry(
        f"{redirector}/?to={upstream.url()}", allowed_hosts=["127.0.0.1"]
    )
    assert body == "ok: request 1 to /hello"


def test_a_malformed_allowlist_entry_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match=r"^allowed_hosts\[0\] must be a host or host:port"):
        fa.fetch_with_retry("http://127.0.0.1/", allowed_hosts=["http://127.0.0.1/"])
