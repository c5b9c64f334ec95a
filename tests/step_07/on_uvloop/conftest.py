"""Every async test under this folder runs on uvloop's event loop instead of asyncio's.

pytest-asyncio (1.4 on) asks the ``pytest_asyncio_loop_factories`` hook which loops an
async test runs on; a hook in a folder's conftest.py answers for the tests of that folder
only, so the rest of the suite keeps asyncio's loop.
"""

import asyncio
from collections.abc import Callable

import pytest
import uvloop


# ANCHOR: loop_factory
def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    return {"uvloop": uvloop.new_event_loop}


# ANCHOR_END: loop_factory
