"""Shared fixtures: which stage is under test, its FastAPI app, and an HTTP client for it.

Every stage builds the same module, ``fastapi_async``, and each stage must still pass the
tests of the steps before it. ``just test-step 04`` builds stage 04 and runs
``tests/step_01`` … ``tests/step_04`` with ``--stage 04``; the app tests then load
``steps/step-04-*/app.py``, so step 01's endpoint tests run against stage 04's app.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from fastapi import FastAPI

from .servers import serve_in_thread

STEPS_DIR = Path(__file__).resolve().parent.parent / "steps"

# From step 08 on, the app's /retry reaches only the hosts of this allowlist (default: the
# app itself on 127.0.0.1:$PORT). The tests' upstreams listen on random loopback ports.
os.environ.setdefault("FASTAPI_ASYNC_ALLOWED_HOSTS", "127.0.0.1")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stage",
        default=os.environ.get("FASTAPI_ASYNC_STAGE"),
        help="two-digit stage whose build is installed (default: $FASTAPI_ASYNC_STAGE, "
        "else the latest step)",
    )


def stage_dir(stage: str | None) -> Path:
    """The folder of stage ``NN`` (``steps/step-NN-*``), or of the latest step."""
    candidates = sorted(STEPS_DIR.glob(f"step-{stage}-*" if stage else "step-*"))
    if not candidates:
        raise pytest.UsageError(f"no folder steps/step-{stage}-* for --stage {stage}")
    return candidates[-1]


TESTS_DIR = Path(__file__).resolve().parent


def collects_step_tests(config: pytest.Config) -> bool:
    """Whether the run includes ``tests/step_NN`` or ``tests/reliability`` (or a parent)."""
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if path in TESTS_DIR.parents or path == TESTS_DIR:
            return True
        if path.is_relative_to(TESTS_DIR):
            first = path.relative_to(TESTS_DIR).parts[0]
            if first.startswith("step_") or first == "reliability":
                return True
    return False


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to run step tests against a build of another stage: the results would mislead.

    Tests that need no built stage (``tests/tools``, ``tests/book``) run without the check.
    """
    if not collects_step_tests(config):
        return
    stage = stage_dir(config.getoption("--stage")).name.split("-")[1]
    import fastapi_async

    expected = f"step {stage}:"
    if expected not in (fastapi_async.__doc__ or ""):
        raise pytest.UsageError(
            f"the installed fastapi_async is not stage {stage} "
            f"(its docstring: {fastapi_async.__doc__!r}); run `just step-{stage}` first"
        )


def load_app_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{path.parent.name}_app", path)
    assert spec is not None, path
    assert spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def app(pytestconfig: pytest.Config) -> FastAPI:
    """The FastAPI app of the stage under test."""
    module = load_app_module(stage_dir(pytestconfig.getoption("--stage")) / "app.py")
    application = module.app
    assert isinstance(application, FastAPI)
    return application


@pytest.fixture
def server_url(app: FastAPI) -> Iterator[str]:
    """The app under test, served by a real uvicorn on a free 127.0.0.1 port, in a thread.

    In-process, so a test can watch ``active_tasks()`` while a client disconnects.
    """
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that calls the app in-process, through ASGI, with no server."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture(autouse=True)
def rust_futures_end_with_their_test() -> Iterator[None]:
    """After each test, wait (at most 5 s) until no counted Rust future is alive.

    A future that a test cancels is dropped on a Tokio thread a moment later. Without this
    wait, the next test that reads ``active_tasks()`` (from step 04 on) could still count it.
    """
    yield
    active_tasks = getattr(sys.modules.get("fastapi_async"), "active_tasks", None)
    if active_tasks is None:
        return
    deadline = time.monotonic() + 5
    while (alive := active_tasks()) != 0:
        if time.monotonic() > deadline:
            pytest.fail(f"{alive} Rust futures outlived their test by more than 5 s")
        time.sleep(0.01)  # a bounded poll for Tokio's threads, not a guess at a duration
