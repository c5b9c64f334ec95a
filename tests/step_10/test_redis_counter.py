"""Step 10: ``AsyncCounter`` on Redis (``FASTAPI_ASYNC_REDIS_URL``), against a real server."""

from __future__ import annotations

import asyncio
import time

import pytest

import fastapi_async as fa

from ..servers import free_port
from .redis_server import RedisServer

URL_ENV = "FASTAPI_ASYNC_REDIS_URL"
KEY = "fastapi_async:counter"


def redis_counter(monkeypatch: pytest.MonkeyPatch, url: str) -> fa.AsyncCounter:
    """A counter made while ``FASTAPI_ASYNC_REDIS_URL`` is ``url``: the variable is read then."""
    with monkeypatch.context() as patch:
        patch.setenv(URL_ENV, url)
        return fa.AsyncCounter()


def test_the_count_lives_in_redis_only_when_the_url_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    assert fa.AsyncCounter().backend == "in-process"
    monkeypatch.setenv(URL_ENV, "  ")
    assert fa.AsyncCounter().backend == "in-process"
    # Made with the variable set, so Redis; no connection is attempted yet (nothing on port 1).
    assert redis_counter(monkeypatch, "redis://127.0.0.1:1/0").backend == "redis"


async def test_increment_get_and_reset_are_incr_get_and_set_on_the_server(
    monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer
) -> None:
    counter = redis_counter(monkeypatch, redis_server.url)
    assert await counter.get_count_async() == 0  # no key yet
    assert [await counter.increment_async() for _ in range(3)] == [1, 2, 3]
    assert await counter.get_count_async() == 3
    assert redis_server.command("GET", KEY) == "3"
    assert await counter.reset_async() == 0
    assert redis_server.command("GET", KEY) == "0"
    assert await counter.increment_async() == 1


# ANCHOR: shared
async def test_two_counters_on_one_server_share_one_count(
    monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer
) -> None:
    # Two objects stand for two processes: in-process, each would count alone.
    first = redis_counter(monkeypatch, redis_server.url)
    second = redis_counter(monkeypatch, redis_server.url)
    assert await first.increment_async() == 1
    assert await second.increment_async() == 2
    assert await first.get_count_async() == 2
    separate = fa.AsyncCounter(), fa.AsyncCounter()
    assert [await c.increment_async() for c in separate] == [1, 1]


# ANCHOR_END: shared


async def test_a_thousand_concurrent_increments_count_exactly_a_thousand(
    monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer
) -> None:
    counter = redis_counter(monkeypatch, redis_server.url)
    counts = await asyncio.gather(*(counter.increment_async() for _ in range(1_000)))
    # INCR is atomic: every call got its own new value, none lost, none repeated.
    assert sorted(counts) == list(range(1, 1_001))
    assert await counter.get_count_async() == 1_000


async def test_redis_down_is_a_counter_backend_error_within_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()  # nothing listens there
    counter = redis_counter(monkeypatch, f"redis://127.0.0.1:{port}/0")
    for method in (counter.increment_async, counter.get_count_async, counter.reset_async):
        started = time.monotonic()
        with pytest.raises(fa.CounterBackendError) as raised:
            await method()
        # Bounded by the connection settings (3 attempts of at most 1 s): never a hang.
        assert time.monotonic() - started < 5
        assert f"Redis server at 127.0.0.1:{port} failed" in str(raised.value)
        assert "Connection refused" in str(raised.value)
        assert isinstance(raised.value, ConnectionError)


@pytest.mark.parametrize(
    "url", ["127.0.0.1:6379", "http://127.0.0.1:6379/", "redis://", "rediss://127.0.0.1:6380/"]
)
def test_a_bad_url_is_a_value_error_naming_the_variable_at_construction(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    with pytest.raises(ValueError, match=r"^FASTAPI_ASYNC_REDIS_URL must be a Redis URL"):
        redis_counter(monkeypatch, url)


async def test_redis_refuses_to_wrap_and_the_counter_raises_overflow_error(
    monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer
) -> None:
    counter = redis_counter(monkeypatch, redis_server.url)
    redis_server.command("SET", KEY, str(2**63 - 1))
    with pytest.raises(OverflowError, match=r"at its maximum \(9223372036854775807\)"):
        await counter.increment_async()
    assert await counter.get_count_async() == 2**63 - 1


async def test_a_key_that_holds_no_count_is_a_counter_backend_error(
    monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer
) -> None:
    counter = redis_counter(monkeypatch, redis_server.url)
    redis_server.command("SET", KEY, "-5")
    with pytest.raises(fa.CounterBackendError, match=r"holds -5 under fastapi_async:counter"):
        await counter.get_count_async()
    redis_server.command("SET", KEY, "hello")
    with pytest.raises(fa.CounterBackendError, match=r"not an integer"):
        await counter.increment_async()


# ANCHOR: restart
async def test_after_a_redis_restart_the_next_call_reconnects(
    monkeypatch: pytest.MonkeyPatch, durable_redis_server: RedisServer
) -> None:
    counter = redis_counter(monkeypatch, durable_redis_server.url)
    assert [await counter.increment_async() for _ in range(3)] == [1, 2, 3]
    durable_redis_server.stop()
    with pytest.raises(fa.CounterBackendError):
        await counter.increment_async()  # Redis is down: refused, within seconds
    durable_redis_server.start()
    # The append-only file kept the 3 acknowledged increments; the call after the restart
    # connects anew (its first try found the old, refused connection).
    assert await counter.increment_async() == 4
    assert await counter.get_count_async() == 4


async def test_a_restart_while_idle_costs_at_most_the_call_that_finds_the_dead_connection(
    monkeypatch: pytest.MonkeyPatch, durable_redis_server: RedisServer
) -> None:
    counter = redis_counter(monkeypatch, durable_redis_server.url)
    assert await counter.increment_async() == 1
    durable_redis_server.stop()
    durable_redis_server.start()
    # Nothing noticed the restart: the first call may meet the dead connection (and is not
    # sent again, since an INCR that reached Redis must not count twice); the next succeeds.
    try:
        first: int | None = await counter.increment_async()
    except fa.CounterBackendError:
        first = None
    assert first in (2, None)
    assert await counter.increment_async() == (3 if first else 2)


# ANCHOR_END: restart
