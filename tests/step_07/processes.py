"""Servers that the tests start as processes: ``redis-server`` and ``uvicorn --workers N``.

Each listens on a free loopback port and is stopped when its test ends. The tests of the
Redis-backed counter run against Debian's ``redis-server`` (``just setup-redis`` installs
it; the test recipes call it). A missing server fails the test with that advice instead of
skipping it: a skipped test proves nothing. Each Redis server is new and empty, and keeps
its files in the test's temporary directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

STARTUP_DEADLINE_S = 10.0
WORKERS_STARTUP_DEADLINE_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def redis_binaries() -> tuple[str, str]:
    """The paths of ``redis-server`` and ``redis-cli``, or a test failure saying what to run."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        pytest.fail(
            "redis-server and redis-cli are needed by the Redis tests and are not on PATH: "
            "run `just setup-redis` (it installs Debian's redis-server)",
            pytrace=False,
        )
    return server, cli


# ANCHOR: server
class RedisServer:
    """One ``redis-server`` process on ``127.0.0.1:port``, restartable on the same port.

    ``durable=False``: no persistence at all (``--save "" --appendonly no``), the fastest,
    and a restart starts from an empty database. ``durable=True``: an append-only file
    written to disk before each reply (``--appendfsync always``), so a restart keeps every
    increment Redis acknowledged.
    """

    def __init__(self, directory: Path, *, durable: bool = False) -> None:
        self.server_bin, self.cli_bin = redis_binaries()
        self.directory = directory
        self.port = free_port()
        self.durable = durable
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"]
        if not self.durable:
            persistence = ["--appendonly", "no"]
        self.process = subprocess.Popen(
            [
                self.server_bin,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                *persistence,
                *("--dir", str(self.directory), "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while not self.answers_ping():  # a bounded poll for the server's own answer
            assert self.process.poll() is None, "redis-server exited during start-up"
            assert time.monotonic() < deadline, "redis-server did not answer PING in 10 s"
            time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM: Redis closes its clients, flushes its append-only file and exits."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def answers_ping(self) -> bool:
        try:
            return self.command("PING") == "PONG"
        except subprocess.CalledProcessError:
            return False

    def command(self, *args: str) -> str:
        """One command through ``redis-cli``; its raw reply, without the final newline."""
        completed = subprocess.run(
            [self.cli_bin, "-p", str(self.port), "--raw", *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        # redis-cli exits 0 on a refused connection too, with the error on stderr.
        if completed.stderr.strip():
            raise subprocess.CalledProcessError(1, args, completed.stdout, completed.stderr)
        return completed.stdout.rstrip("\n")


# ANCHOR_END: server


# ANCHOR: workers
@contextmanager
def uvicorn_workers(
    app_dir: Path, workers: int, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Serve ``app_dir/app.py`` with ``uvicorn --workers N``; yield its base URL once every
    worker has started (each logs "Application startup complete.")."""
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "app:app", "--app-dir", str(app_dir)),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
            *("--log-level", "info", "--no-access-log"),
        ],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stderr is not None
    log: list[str] = []
    started = threading.Semaphore(0)

    def read_log(stream: Iterator[str]) -> None:
        # Read to the end, always: a full pipe would block the server.
        for line in stream:
            log.append(line)
            if "Application startup complete." in line:
                started.release()

    reader = threading.Thread(target=read_log, args=(server.stderr,), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + WORKERS_STARTUP_DEADLINE_S
        for _ in range(workers):
            if not started.acquire(timeout=max(0.0, deadline - time.monotonic())):
                pytest.fail(f"{workers} uvicorn workers did not start:\n{''.join(log)}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()  # SIGTERM: uvicorn stops its workers, then itself
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
        reader.join(timeout=5)
        server.stderr.close()


# ANCHOR_END: workers
