"""Fixtures of the reliability tests: the newest stage's app on real uvicorn servers.

Every test here runs against the stage given with ``--stage`` (``just test-reliability``
passes the newest), never a fixed one: the checks hold for every stage from 07 on.
"""

from __future__ import annotations

import logging
import resource
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import pytest

from ..conftest import stage_dir
from ..servers import ServerProcess, serve_in_process
from ..step_08.conftest import redirector, upstream

# The most sockets one process here opens at once (10 000 clients, or the server's ends of
# their connections, in a subprocess with its own table), plus room for everything else.
OPEN_FILES_NEEDED = 10_000 + 1_000


@pytest.fixture
def app_dir(pytestconfig: pytest.Config) -> Path:
    """The folder of the stage under test (its ``app.py``)."""
    return stage_dir(pytestconfig.getoption("--stage"))


class ServeStage(Protocol):
    def __call__(
        self, *, env: dict[str, str] | None = ..., args: tuple[str, ...] = ...
    ) -> AbstractContextManager[ServerProcess]: ...


@pytest.fixture
def serve_stage(app_dir: Path) -> ServeStage:
    """Runs the stage's app in a uvicorn subprocess: ``with serve_stage() as server:``."""

    def serve(
        *, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
    ) -> AbstractContextManager[ServerProcess]:
        return serve_in_process(app_dir, env=env, args=args)

    return serve


@pytest.fixture
def many_open_files() -> Iterator[int]:
    """Raises this process's soft limit of open files (a subprocess inherits it).

    Each in-flight request is a socket on each side; the common default soft limit, 1024,
    would end a load test with ``OSError: [Errno 24] Too many open files``.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES_NEEDED if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES_NEEDED)
    if wanted < OPEN_FILES_NEEDED:
        pytest.fail(f"the hard limit of open files is {hard}; raise it to {OPEN_FILES_NEEDED}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    try:
        yield wanted
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


class WarningRecords(logging.Handler):
    """Keeps every record of level WARNING or above that reaches it."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [f"{r.name} {r.levelname}: {r.getMessage()}" for r in self.records]


# uvicorn's loggers do not propagate to the root logger ("uvicorn.error" propagates to
# "uvicorn" only), so those are watched by name; asyncio's ("Task was destroyed but it is
# pending", "Exception in callback ...") reaches the root logger.
WATCHED_LOGGERS = ("uvicorn", "uvicorn.access", "")


@pytest.fixture
def server_warnings() -> Iterator[WarningRecords]:
    """Every warning or error logged in this process while the test runs."""
    handler = WarningRecords()
    loggers = [logging.getLogger(name) for name in WATCHED_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


# Step 06's flaky upstream, step 08's redirector, and the stage's app on uvicorn in a thread
# of this process (so that ``active_tasks()`` is the server's), all on 127.0.0.1.
__all__ = ["redirector", "upstream"]
