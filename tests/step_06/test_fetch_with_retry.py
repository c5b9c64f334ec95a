"""Step 06: ``fetch_with_retry``, a real HTTP GET retried with backoff, against a local server."""

import asyncio
import time

import pytest

import fastapi_async
from fastapi_async import HttpStatusError, RetryExhaustedError

from .conftest import Failure, FlakyUpstream


async def test_returns_the_body_of_a_success_after_one_request(upstream: FlakyUpstream) -> None:
    assert await fastapi_async.fetch_with_retry(upstream.url()) == "ok: request 1 to /hello"
    assert upstream.requests == 1


# ANCHOR: flaky
@pytest.mark.parametrize("failure", ["500", "503", "429", "drop"])
async def test_succeeds_after_k_retryable_failures_with_exactly_k_plus_1_requests(
    upstream: FlakyUpstream, failure: Failure
) -> None:
    upstream.fail_first, upstream.failure = 3, failure
    body = await fastapi_async.fetch_with_retry(upstream.url(), max_retries=3)
    assert body == "ok: request 4 to /hello"
    assert upstream.requests == 4


async def test_exhaustion_makes_max_retries_plus_1_requests_and_says_so(
    upstream: FlakyUpstream,
) -> None:
    upstream.fail_first, upstream.failure = 100, "503"
    with pytest.raises(RetryExhaustedError, match="after 3 attempts") as caught:
        await fastapi_async.fetch_with_retry(upstream.url(), max_retries=2)
    assert "503 Service Unavailable" in str(caught.value)
    assert upstream.requests == 3


async def test_404_fails_at_once_without_a_retry(upstream: FlakyUpstream) -> None:
    upstream.fail_first, upstream.failure = 1, "404"
    with pytest.raises(HttpStatusError, match="404 Not Found"):
        await fastapi_async.fetch_with_retry(upstream.url(), max_retries=3)
    assert upstream.requests == 1


# ANCHOR_END: flaky


async def test_max_retries_zero_makes_exactly_one_attempt(upstream: FlakyUpstream) -> None:
    upstream.fail_first, upstream.failure = 1, "503"
    with pytest.raises(RetryExhaustedError, match=r"after 1 attempt\b"):
        await fastapi_async.fetch_with_retry(upstream.url(), max_retries=0)
    assert upstream.requests == 1


async def test_connection_refused_is_retried_then_exhausted(closed_port_url: str) -> None:
    with pytest.raises(RetryExhaustedError, match=r"after 3 attempts.*refused") as caught:
        await fastapi_async.fetch_with_retry(closed_port_url, max_retries=2)
    # The message keeps the causes but not the URL (it may carry credentials).
    assert closed_port_url not in str(caught.value)


# ANCHOR: retry_after
async def test_retry_after_is_waited_for_while_the_event_loop_runs(
    upstream: FlakyUpstream,
) -> None:
    upstream.fail_first, upstream.failure, upstream.retry_after = 1, "429", "1"
    started = time.perf_counter()
    future = fastapi_async.fetch_with_retry(upstream.url(), max_retries=1)
    ticks_while_pending = 0
    while not future.done():
        await asyncio.sleep(0.01)
        ticks_while_pending += 1
    assert await future == "ok: request 2 to /hello"
    # Our own backoff would have waited at most 50 ms; the server asked for 1 s.
    assert time.perf_counter() - started >= 0.95
    assert upstream.requests == 2
    # The wait holds neither the event loop nor the GIL: ~100 ticks fit in 1 s.
    assert ticks_while_pending >= 10


# ANCHOR_END: retry_after


async def test_an_attempt_with_no_answer_times_out_and_counts_as_a_failure(
    upstream: FlakyUpstream,
) -> None:
    upstream.fail_first, upstream.failure = 1, "hang"
    started = time.perf_counter()
    with pytest.raises(RetryExhaustedError, match=r"after 1 attempt\b.*no answer within 5000 ms"):
        await fastapi_async.fetch_with_retry(upstream.url(), max_retries=0)
    elapsed = time.perf_counter() - started
    assert fastapi_async.ATTEMPT_TIMEOUT_MS == 5_000
    assert 4.9 <= elapsed < 15, f"the attempt timed out after {elapsed:.2f} s"


async def test_redirects_are_followed_up_to_five(upstream: FlakyUpstream) -> None:
    assert await fastapi_async.fetch_with_retry(upstream.url("/redirect/5")) == "ok: redirected"
    assert upstream.requests == 6


async def test_a_sixth_redirect_fails_at_once(upstream: FlakyUpstream) -> None:
    with pytest.raises(HttpStatusError, match="too many redirects"):
        await fastapi_async.fetch_with_retry(upstream.url("/redirect/6"), max_retries=3)
    assert upstream.requests == 6


async def test_calls_share_one_client_and_reuse_its_connections(upstream: FlakyUpstream) -> None:
    for _ in range(5):
        await fastapi_async.fetch_with_retry(upstream.url())
    # A client per call would open a new connection (a new client port) every time; the
    # shared pool reuses one. Allow for a connection the pool had not taken back yet.
    assert len(set(upstream.client_ports)) < 5, upstream.client_ports


@pytest.mark.parametrize(
    "url",
    ["", "not a url", "/relative/path", "http://", "ftp://example.com/x", "file:///etc/passwd"],
)
def test_bad_url_raises_value_error_naming_url(url: str) -> None:
    # Checked before any future exists, so no event loop is needed to see it.
    with pytest.raises(ValueError, match=r"url must be an absolute http:// or https:// URL") as e:
        fastapi_async.fetch_with_retry(url)
    assert f'got "{url}"' in str(e.value)


@pytest.mark.parametrize("max_retries", [-1, 11, -(2**63), 2**63 - 1])
def test_max_retries_outside_range_raises_value_error_naming_the_range(max_retries: int) -> None:
    with pytest.raises(
        ValueError, match=rf"max_retries must be between 0 and 10, got {max_retries}"
    ):
        fastapi_async.fetch_with_retry("http://127.0.0.1/", max_retries=max_retries)


def test_max_retries_beyond_64_bits_raises_overflow_error() -> None:
    with pytest.raises(OverflowError):
        fastapi_async.fetch_with_retry("http://127.0.0.1/", max_retries=2**64)


async def test_largest_max_retries_is_accepted(upstream: FlakyUpstream) -> None:
    upstream.fail_first, upstream.failure = 2, "503"
    body = await fastapi_async.fetch_with_retry(upstream.url(), fastapi_async.MAX_RETRIES)
    assert body == "ok: request 3 to /hello"


def test_limits_and_exceptions_are_exported() -> None:
    assert fastapi_async.MAX_RETRIES == 10
    assert fastapi_async.ATTEMPT_TIMEOUT_MS == 5_000
    assert fastapi_async.OVERALL_TIMEOUT_MS == 30_000
    assert issubclass(RetryExhaustedError, ConnectionError)
    assert not issubclass(HttpStatusError, ConnectionError)
    assert RetryExhaustedError.__module__ == HttpStatusError.__module__ == "fastapi_async"


def test_calling_without_a_running_event_loop_raises_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="no running event loop"):
        fastapi_async.fetch_with_retry("http://127.0.0.1/")
