"""The servers of ``bench/run.py``'s server rows, and ``wrk`` to load them.

Each app is served by one worker process of the server under test (``bench/scaling.py``
asks for two as well), on a free port of
127.0.0.1, and stopped when its ``with`` block ends. ``wrk`` runs on the same machine, so
load generator and server share its cores: the figures compare apps and servers with each
other, they are not what a dedicated server would reach.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent

# The servers a FastAPI developer picks from. uvicorn is given its loop and HTTP parser
# explicitly: `--loop auto` would take uvloop whenever it is installed, and without
# httptools installed uvicorn parses HTTP with h11 (pure Python) either way.
COMMANDS = {
    "uvicorn": ["uvicorn", "--loop", "asyncio", "--http", "h11", "--no-access-log"],
    "uvicorn-uvloop": ["uvicorn", "--loop", "uvloop", "--http", "h11", "--no-access-log"],
    "granian": ["granian", "--interface", "asgi", "--loop", "uvloop", "--no-ws"],
    # The upstream of the HTTP GET rows (`bench/upstream.py`), not a server under test.
    "granian-rsgi": ["granian", "--interface", "rsgi", "--loop", "uvloop", "--no-ws"],
}
SERVERS = ["uvicorn", "uvicorn-uvloop", "granian"]
SERVER_LABELS = {
    "uvicorn": "uvicorn (asyncio loop, h11)",
    "uvicorn-uvloop": "uvicorn (uvloop, h11)",
    "granian": "granian (ASGI, uvloop)",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def command(server: str, app_dir: Path, target: str, port: int, workers: int) -> list[str]:
    program, *options = COMMANDS[server]
    where = ["--app-dir", str(app_dir)] if program == "uvicorn" else ["--working-dir", str(app_dir)]
    listen = ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    return [str(BIN / program), *options, *where, *listen, "--workers", str(workers), target]


@contextmanager
def serve(
    server: str,
    app_dir: Path,
    target: str,
    env: dict[str, str],
    *,
    ready_path: str = "/openapi.json",
    workers: int = 1,
) -> Iterator[str]:
    """Serve ``target`` ("app:app") from ``app_dir`` with ``server``; yield its base URL."""
    port = free_port()
    argv = command(server, app_dir, target, port, workers)
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # a bounded poll for the server's first answer
            try:
                with urllib.request.urlopen(base + ready_path, timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {' '.join(argv)}")
            time.sleep(0.05)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def redis_server() -> Iterator[str]:
    """A new, empty redis-server without persistence on a free port; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is missing: run `just setup-redis`")
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--dir", directory, "--loglevel", "warning"]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        ping = ["redis-cli", "-p", str(port), "ping"]
        try:
            deadline = time.monotonic() + 10
            while subprocess.run(ping, capture_output=True, text=True).stdout.strip() != "PONG":
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)  # a bounded poll for its PONG
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


@dataclass
class Endpoint:
    id: str
    title: str
    method: str
    path: str


# The app's endpoints under load, and the twin's (`bench/twin_app.py`) of the same shape.
ENDPOINTS = [
    Endpoint("ready", "ready: GET /fetch/1?delay_ms=0", "GET", "/fetch/1?delay_ms=0"),
    Endpoint("woken", "woken: GET /fetch/1?delay_ms=1", "GET", "/fetch/1?delay_ms=1"),
    Endpoint("cpu", "CPU-bound: POST /compute/100000", "POST", "/compute/100000"),
]

LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$")
UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, method: str, duration_s: int, connections: int) -> dict[str, float]:
    """Loads ``url`` for ``duration_s`` seconds; requests per second, p50 and p99 in ms."""
    argv = ["wrk", "--latency", f"-d{duration_s}s", f"-c{connections}", "-t2", "--timeout", "10s"]
    with tempfile.TemporaryDirectory() as tmp:
        if method != "GET":
            script = Path(tmp) / "method.lua"
            script.write_text(f'wrk.method = "{method}"\n')
            argv += ["-s", str(script)]
        output = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw failed requests:\n{output}")
    result = {"requests_per_s": float(output.split("Requests/sec:")[1].split()[0])}
    for line in output.splitlines():
        match = LATENCY.match(line)
        if match:
            result[f"p{match[1]}_ms"] = float(match[2]) * UNIT_MS[match[3]]
    return result


def answer(base: str, endpoint: Endpoint) -> tuple[int, object]:
    request = urllib.request.Request(base + endpoint.path, method=endpoint.method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure of several wrk runs, medianed on its own."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}
