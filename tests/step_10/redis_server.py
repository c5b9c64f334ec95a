"""``redis-server`` processes for the tests of the Redis-backed counter.

Each listens on a free loopback port and is stopped when its test ends. The tests of the
Redis-backed counter run against Debian's ``redis-server`` (``just setup-redis`` installs
it; the test recipes call it). A missing server fails the test with that advice instead of
skipping it: a skipped test proves nothing. Each Redis server is new and empty, and keeps
its files in the test's temporary directory.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ..servers import free_port

STARTUP_DEADLINE_S = 10.0


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

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

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
