"""Step 10 fixtures: real Redis servers, each new, on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .redis_server import RedisServer


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
