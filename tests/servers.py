"""Real servers for the tests: uvicorn in a thread of the test process, or an ASGI server
(uvicorn, gunicorn with uvicorn workers, granian) in a subprocess.

In a thread, a test shares the process with the server, so it can read the extension's
own state (``fastapi_async.active_tasks()``). In a subprocess, the server is what a user
runs: its own interpreter, signals, exit status and log. Both listen on a free port of
127.0.0.1 and are stopped when the ``with`` block ends.

uvicorn runs on asyncio's own event loop unless a test asks for uvloop: with uvloop
installed (the dev group has it), uvicorn's default, ``--loop auto``, would pick uvloop, and
a user who installs only ``fastapi-async[app]`` has no uvloop.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import httpx
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (the OS picked it a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_in_thread(app: FastAPI, **config: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread of this process; yield its base URL.

    ``config`` overrides uvicorn.Config's arguments (``log_level`` is "warning" and ``loop``
    "asyncio" unless given).
    uvicorn installs signal handlers only in the main thread, so a thread is safe here.
    """
    config.setdefault("log_level", "warning")
    config.setdefault("loop", "asyncio")
    server = uvicorn.Config(app, host="127.0.0.1", port=free_port(), **config)
    runner = uvicorn.Server(server)
    thread = threading.Thread(target=runner.run, name="uvicorn-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started:  # a bounded poll for the server's own "ready" flag
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        assert thread.is_alive(), "uvicorn stopped during start-up"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        runner.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive(), "uvicorn did not stop within 10 s"


@contextmanager
def serve_http_in_thread(server: ThreadingHTTPServer) -> Iterator[str]:
    """Run ``server`` (bound, not yet serving) in a thread; yield its base URL, without a
    trailing slash; shut it down and close it when the block ends."""
    # A short poll interval lets shutdown() return in 50 ms instead of the default 0.5 s.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# What a clean server never prints (the servers' levels, Python's tracebacks, asyncio's
# complaints at exit).
PROBLEMS = (
    "WARNING",
    "ERROR",
    "CRITICAL",
    "Traceback",
    "Event loop is closed",
    "Task was destroyed but it is pending",
)


@dataclass(frozen=True)
class Server:
    """An ASGI server as a user runs it from a shell: which one, its own options, and the
    line each of its worker processes logs once it serves requests."""

    name: Literal["uvicorn", "gunicorn", "granian"]  # the module `python -m` runs
    options: tuple[str, ...] = ()
    started: str = "Application startup complete."

    def command(self, app: str, app_dir: Path, port: int, workers: int) -> list[str]:
        """The command line that serves ``app`` ("module:attribute", importable from
        ``app_dir``) on 127.0.0.1:``port`` with ``workers`` worker processes."""
        where = {
            "uvicorn": ("--app-dir", str(app_dir), "--host", "127.0.0.1", "--port", str(port)),
            "gunicorn": ("--chdir", str(app_dir), "--bind", f"127.0.0.1:{port}"),
            "granian": ("--working-dir", str(app_dir), "--host", "127.0.0.1", "--port", str(port)),
        }[self.name]
        # Given even when 1: without it, uvicorn and gunicorn read $WEB_CONCURRENCY.
        many = ("--workers", str(workers))
        return [sys.executable, "-m", self.name, *self.options, *where, *many, app]


# uvicorn on asyncio's loop; UVICORN_ON_UVLOOP as `uvicorn --loop uvloop`.
UVICORN = Server("uvicorn", ("--loop", "asyncio"))
UVICORN_ON_UVLOOP = Server("uvicorn", ("--loop", "uvloop"))
# gunicorn's master with uvicorn's worker class (package uvicorn-worker; it picks uvloop
# when installed). No control socket: gunicorn >= 25.1 would open one in $HOME otherwise.
GUNICORN = Server(
    "gunicorn",
    ("--worker-class", "uvicorn_worker.UvicornWorker", "--no-control-socket"),
)
# granian's ASGI interface (with lifespan). It logs "Started worker-N" once worker N, its
# lifespan started, accepts connections.
GRANIAN = Server("granian", ("--interface", "asgi"), started="Started worker-")


@dataclass
class ServerProcess:
    """A server subprocess: its base URL, the process, and the file its output goes to."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """Everything the server printed so far (stdout and stderr, interleaved)."""
        return self.log_path.read_text(errors="replace")

    def problems(self) -> list[str]:
        """The lines of the log that report a problem: warnings, errors, tracebacks, and
        asyncio's messages about tasks or loops that were not shut down cleanly."""
        return [line for line in self.log().splitlines() if any(p in line for p in PROBLEMS)]

    def stop(self, timeout_s: float = 30) -> int:
        """SIGTERM (every server here shuts down gracefully on it), then its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)


@contextmanager
def serve_in_process(
    app_dir: Path,
    *,
    server: Server = UVICORN,
    app: str = "app:app",
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    workers: int = 1,
    ready_within_s: float = 30,
) -> Iterator[ServerProcess]:
    """Run ``server`` (uvicorn unless given) on ``app`` ("module:attribute", imported from
    ``app_dir``) on a free port until the block ends.

    ``env`` is added to this process's environment; ``args`` are more options of the
    server; ``workers`` is the number of worker processes. Ready means ``GET /health``
    answered 200 and every worker logged ``server.started``; the server is killed if
    SIGTERM does not stop it.
    """
    port = free_port()
    command = server.command(app, app_dir, port, workers)
    command[-1:-1] = args  # before the app, where every server reads its options
    with tempfile.TemporaryDirectory(prefix=f"{server.name}-") as tmp:
        log_path = Path(tmp) / "server.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                command,
                env={**os.environ, "PORT": str(port), **(env or {})},
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        running = ServerProcess(f"http://127.0.0.1:{port}", process, log_path)
        try:
            wait_until_healthy(running, ready_within_s)
            wait_until_started(running, server.started, workers, ready_within_s)
            yield running
        finally:
            try:
                running.stop(timeout_s=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def wait_until_healthy(server: ServerProcess, within_s: float) -> None:
    """Poll ``GET /health`` until it answers 200, the process exits, or time runs out."""
    deadline = time.monotonic() + within_s
    while True:
        assert server.process.poll() is None, f"the server exited:\n{server.log()}"
        try:
            if httpx.get(f"{server.url}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        late = f"the server was not ready in {within_s} s:\n{server.log()}"
        assert time.monotonic() < deadline, late
        time.sleep(0.05)


def wait_until_started(server: ServerProcess, started: str, workers: int, within_s: float) -> None:
    """Poll the log until ``workers`` lines hold ``started``."""
    deadline = time.monotonic() + within_s
    while server.log().count(started) < workers:
        assert server.process.poll() is None, f"the server exited:\n{server.log()}"
        late = f"{workers} workers did not start in {within_s} s:\n{server.log()}"
        assert time.monotonic() < deadline, late
        time.sleep(0.05)
