"""Step 07 on the servers people deploy FastAPI with, started as "Deploying" starts them.

Each serves the complete app in a subprocess on 127.0.0.1, answers a fetch, a sum, a missed
deadline (504) and counter increments, then stops on SIGTERM: with the exit status that
means a clean stop for that server, its last shutdown line logged, and no warning, error or
traceback in its log.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

import httpx
import pytest

from ..conftest import stage_dir
from ..servers import GRANIAN, GUNICORN, UVICORN, UVICORN_ON_UVLOOP, Server, serve_in_process


@dataclass(frozen=True)
class Deployment:
    server: Server
    workers: int
    args: tuple[str, ...]
    # The exit status of a clean stop after SIGTERM, and the line the server logs last.
    status: int
    last_line: str
    # Whether the app's own start-up line (logger "uvicorn.error") reaches the log.
    logs_lifespan: bool


# ANCHOR: deployments
DEPLOYMENTS = {
    # One uvicorn process re-raises the SIGTERM it handled once it has shut down, so that a
    # supervisor sees why it stopped: Popen reports -15 (a shell, 143).
    "uvicorn --loop uvloop": Deployment(
        UVICORN_ON_UVLOOP, 1, (), -signal.SIGTERM, "Finished server process", True
    ),
    # With --workers, uvicorn's parent process stops its (spawned) workers, then exits 0.
    "uvicorn --workers 2": Deployment(UVICORN, 2, (), 0, "Stopping parent process", True),
    # The master imports the app (--preload), then forks the workers: the module is
    # imported before the fork, and its runtime starts in each worker, at its first call.
    "gunicorn --preload -w 2": Deployment(
        GUNICORN, 2, ("--preload",), 0, "Shutting down: Master", True
    ),
    # granian forks its workers first; each imports the app. It does not configure the
    # "uvicorn.error" logger, so the app's lifespan line is not printed.
    "granian --interface asgi --workers 2": Deployment(
        GRANIAN, 2, (), 0, "Granian shutdown completed", False
    ),
}
# ANCHOR_END: deployments


@pytest.mark.parametrize("deployment", DEPLOYMENTS.values(), ids=DEPLOYMENTS.keys())
def test_the_app_serves_on_the_server_then_stops_cleanly(
    pytestconfig: pytest.Config, deployment: Deployment
) -> None:
    app_dir = stage_dir(pytestconfig.getoption("--stage"))
    with serve_in_process(
        app_dir,
        server=deployment.server,
        workers=deployment.workers,
        args=deployment.args,
        env={"FASTAPI_ASYNC_WORKER_THREADS": "2"},
    ) as server:
        # One kept-alive connection: every request reaches the same worker, whose counter
        # starts at 0 (each worker process has its own).
        with httpx.Client(base_url=server.url, timeout=10) as client:
            fetched = client.get("/fetch/7", params={"delay_ms": 1})
            summed = client.post("/compute/1000")
            late = client.get("/api/slow", params={"timeout_ms": 10, "latency_ms": 1000})
            counts = [client.post("/counter/increment").json()["count"] for _ in range(3)]
            health = client.get("/health").json()
        status = server.stop()
        log, problems = server.log(), server.problems()
    assert fetched.json() == {"id": 7, "data": "Data for ID 7"}
    assert summed.json() == {"n": 1000, "sum": 500_500}
    assert late.status_code == 504
    assert late.json() == {"detail": "call to slow timed out after 10 ms"}
    assert counts == [1, 2, 3]
    assert health["runtime_started"] is True
    assert health["worker_threads"] == 2  # each worker read the variable at import
    # Each worker's lifespan found its runtime not started yet: with --preload, importing
    # the app in the master started nothing that a fork would copy.
    lifespans = log.count("fastapi_async runtime: {")
    assert lifespans == (deployment.workers if deployment.logs_lifespan else 0)
    assert "'started': True" not in log
    assert status == deployment.status, log
    assert deployment.last_line in log.splitlines()[-1]
    assert problems == []
