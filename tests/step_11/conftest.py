"""Every async test of step 11 runs twice: on asyncio's event loop and on uvloop's.

The bridge watches a socket with ``loop.add_reader`` and schedules with ``loop.call_soon``,
which the two loops implement apart (uvloop on libuv), so its contract is checked on both.
pytest-asyncio (1.4 on) asks this hook which loops each async test of this folder runs on.
"""

import asyncio
from collections.abc import Callable

import pytest

from .probing import LOOP_FACTORIES


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    return LOOP_FACTORIES
