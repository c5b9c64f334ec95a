"""Every async test of step 12 runs on asyncio's event loop and on uvloop's, as step 11's."""

import asyncio
from collections.abc import Callable

import pytest

from ..step_11.probing import LOOP_FACTORIES


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    return LOOP_FACTORIES
