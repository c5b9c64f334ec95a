"""Benchmark the installed stage's Rust functions against pure Python, side by side.

Run it with ``just bench`` (which builds step 10, the stage ``just app`` serves, in release
mode first), ``just bench-bridge`` (step 11, the faster bridge), or by hand after
``just step NN``::

    .venv/bin/python bench/run.py            # the full run, a few minutes
    .venv/bin/python bench/run.py --quick    # every scenario with tiny sizes, under a minute
    .venv/bin/python bench/run.py --no-http --no-cargo

Every scenario times a Rust variant and its pure-Python twin in this one process, one
after the other inside each repeat (so a slow moment of a shared machine hits both), and
reports the median, the 90th percentile and the ratio of the medians, Rust / Python: below
1 the Rust variant is faster, above 1 it is slower. The HTTP scenarios serve the
installed stage's ``app.py`` and its pure-Python twin ``bench/twin_app.py`` with uvicorn and
load each with ``wrk``; their ratio is Rust's time per request over Python's (Python's requests/s
over Rust's), so that below 1 means "Rust faster" there too.

Writes ``results.json``, ``results.md`` and ``chart.svg`` into ``--out``
(default ``target/bench``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib
import json
import math
import os
import platform
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
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastapi_async

ROOT = Path(__file__).resolve().parent.parent
STEPS_DIR = ROOT / "steps"

# From stage 11 on: futures of known shapes through either bridge, for the bridge-to-bridge
# scenario (`probes.rs`; an attribute of the extension module, not part of the API).
PROBES: Any = getattr(importlib.import_module("fastapi_async.fastapi_async"), "_probes", None)


def available(name: str) -> bool:
    """Whether the installed stage has ``name`` (``"_probes.handoff"``: a probe)."""
    if name.startswith("_probes."):
        return PROBES is not None and hasattr(PROBES, name.removeprefix("_probes."))
    return hasattr(fastapi_async, name)


Timed = Callable[[], Awaitable[float]]
"""One timed run: does the work once and returns the seconds it took (per item, if the
scenario divides)."""


# ---------------------------------------------------------------- progress and statistics


class Progress:
    """One status line on stderr: rewritten in place on a terminal, one line per step else."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.tty = sys.stderr.isatty()
        self.started = time.perf_counter()

    def show(self, text: str) -> None:
        elapsed = time.perf_counter() - self.started
        line = f"[{self.done + 1:>2}/{self.total}] {elapsed:6.1f} s  {text}"
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def finish(self, text: str) -> None:
        self.show(text)
        if self.tty:
            sys.stderr.write("\n")
        self.done += 1


def percentile(samples: list[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``samples``, linear between the nearest two."""
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(samples: list[float]) -> dict[str, Any]:
    return {
        "median_s": statistics.median(samples),
        "p90_s": percentile(samples, 0.9),
        "samples_s": samples,
    }


def fmt_seconds(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


# ---------------------------------------------------------------- scenarios (in-process)


@dataclass
class Scenario:
    id: str
    title: str
    group: str
    size: str  # what one sample measures
    repeats: int
    rust_label: str
    python_label: str
    rust: Timed
    python: Timed
    warm_up: bool = True
    note: str = ""
    needs: tuple[str, ...] = ()


@dataclass
class Sizes:
    awaits_ready: int
    awaits_woken: int
    awaits_handoff: int
    fan_out_small: int
    fan_out_large: int
    batch: int
    cpu_n: int
    counter: int
    repeats: int
    repeats_large: int


FULL = Sizes(2_000, 200, 2_000, 10_000, 100_000, 100_000, 10_000_000, 10_000, 9, 3)
QUICK = Sizes(200, 20, 200, 500, 2_000, 5_000, 100_000, 500, 3, 2)


def python_sum(n: int) -> int:
    """``1 + 2 + ... + n`` one item at a time, the loop ``compute_with_progress`` runs in Rust."""
    total = 0
    for i in range(1, n + 1):
        total += i
    return total


# ANCHOR: timed
def timed_loop(make: Callable[[int], Awaitable[object]], count: int) -> Timed:
    """Awaits ``make(i)`` for ``i`` in ``range(count)``, one after the other; time per await."""

    async def run() -> float:
        started = time.perf_counter()
        for i in range(count):
            await make(i)
        return (time.perf_counter() - started) / count

    return run


def timed_gather(make: Callable[[int], Awaitable[object]], count: int) -> Timed:
    """Gathers ``make(i)`` for ``i`` in ``range(count)``, all at once; total time."""

    async def run() -> float:
        started = time.perf_counter()
        results = await asyncio.gather(*(make(i) for i in range(count)))
        elapsed = time.perf_counter() - started
        assert len(results) == count
        return elapsed

    return run


# ANCHOR_END: timed


def scenarios(sizes: Sizes) -> list[Scenario]:
    fa = fastapi_async
    items = [f"item-{i}" for i in range(sizes.batch)]
    expected = [s.upper() for s in items]

    def batch(run: Callable[[], Awaitable[list[str]]]) -> Timed:
        async def timed() -> float:
            started = time.perf_counter()
            result = await run()
            elapsed = time.perf_counter() - started
            assert result == expected
            return elapsed

        return timed

    async def comprehension() -> list[str]:
        return [s.upper() for s in items]

    def compute(run: Callable[[], Awaitable[int]]) -> Timed:
        n = sizes.cpu_n

        async def timed() -> float:
            started = time.perf_counter()
            result = await run()
            elapsed = time.perf_counter() - started
            assert result == n * (n + 1) // 2
            return elapsed

        return timed

    async def rust_counter() -> float:
        counter = fa.AsyncCounter()
        started = time.perf_counter()
        await asyncio.gather(*(counter.increment_async() for _ in range(sizes.counter)))
        elapsed = time.perf_counter() - started
        assert await counter.get_count_async() == sizes.counter
        return elapsed

    async def python_counter() -> float:
        lock = asyncio.Lock()
        count = 0

        async def increment() -> int:
            nonlocal count
            async with lock:
                count += 1
                return count

        started = time.perf_counter()
        await asyncio.gather(*(increment() for _ in range(sizes.counter)))
        elapsed = time.perf_counter() - started
        assert count == sizes.counter
        return elapsed

    def count(n: int) -> str:
        return f"{n:_}".replace("_", "\u00a0")  # 10 000, with a no-break space

    n, woken = count(sizes.cpu_n), count(sizes.awaits_woken)
    handoffs = count(sizes.awaits_handoff)
    return [
        Scenario(
            "await_ready",
            f"await of a future ready at once ({count(sizes.awaits_ready)} in a row)",
            "per-await overhead",
            "time per await",
            sizes.repeats,
            "fetch_data_async(i, 0)",
            "asyncio.sleep(0)",
            timed_loop(lambda i: fa.fetch_data_async(i, 0), sizes.awaits_ready),
            timed_loop(lambda i: asyncio.sleep(0), sizes.awaits_ready),
            needs=("fetch_data_async",),
        ),
        Scenario(
            "await_woken_1ms",
            f"await of a 1 ms sleep, woken by another thread ({woken} in a row)",
            "per-await overhead",
            "time per await",
            sizes.repeats,
            "fetch_data_async(i, 1)",
            "asyncio.sleep(0.001)",
            timed_loop(lambda i: fa.fetch_data_async(i, 1), sizes.awaits_woken),
            timed_loop(lambda i: asyncio.sleep(0.001), sizes.awaits_woken),
            needs=("fetch_data_async",),
        ),
        # ANCHOR: bridges
        Scenario(
            "await_handoff_bridges",
            f"await of a result handed over by a Tokio task ({handoffs} in a row)",
            "bridge against bridge",
            "time per await",
            sizes.repeats,
            "_probes.handoff(i)",
            "_probes.handoff_future_into_py(i)",
            timed_loop(lambda i: PROBES.handoff(i), sizes.awaits_handoff),
            timed_loop(lambda i: PROBES.handoff_future_into_py(i), sizes.awaits_handoff),
            note="both sides are Rust: the same future through this stage's bridge and through"
            " pyo3-async-runtimes' `future_into_py` (the second column is that baseline, not"
            " Python)",
            needs=("_probes.handoff", "_probes.handoff_future_into_py"),
        ),
        # ANCHOR_END: bridges
        Scenario(
            "fan_out_small",
            f"fan-out: {count(sizes.fan_out_small)} concurrent 10 ms sleeps",
            "fan-out",
            "total time, all gathered",
            sizes.repeats,
            "fetch_data_async(i, 10)",
            "asyncio.sleep(0.01)",
            timed_gather(lambda i: fa.fetch_data_async(i, 10), sizes.fan_out_small),
            timed_gather(lambda i: asyncio.sleep(0.01), sizes.fan_out_small),
            needs=("fetch_data_async",),
        ),
        Scenario(
            "fan_out_large",
            f"fan-out: {count(sizes.fan_out_large)} concurrent 10 ms sleeps",
            "fan-out",
            "total time, all gathered",
            sizes.repeats_large,
            "fetch_data_async(i, 10)",
            "asyncio.sleep(0.01)",
            timed_gather(lambda i: fa.fetch_data_async(i, 10), sizes.fan_out_large),
            timed_gather(lambda i: asyncio.sleep(0.01), sizes.fan_out_large),
            warm_up=False,
            needs=("fetch_data_async",),
        ),
        Scenario(
            "batch_one_crossing",
            f"upper-case {count(sizes.batch)} strings, one crossing",
            "batch",
            "total time",
            sizes.repeats,
            "process_batch_async(items)",
            "[s.upper() for s in items]",
            batch(lambda: fa.process_batch_async(items)),
            batch(comprehension),
            needs=("process_batch_async",),
        ),
        Scenario(
            "batch_spawn_per_item",
            f"upper-case {count(sizes.batch)} strings, one task per item",
            "batch",
            "total time",
            sizes.repeats,
            "process_batch_spawn_per_item_async(items)",
            "[s.upper() for s in items]",
            batch(lambda: fa.process_batch_spawn_per_item_async(items)),
            batch(comprehension),
            needs=("process_batch_spawn_per_item_async",),
        ),
        Scenario(
            "cpu_sum",
            f"CPU-bound: sum 1..={n} one item at a time",
            "CPU-bound",
            "total time",
            max(3, sizes.repeats // 2),
            "compute_with_progress(n)",
            "the same loop, asyncio.to_thread",
            compute(lambda: fa.compute_with_progress(sizes.cpu_n)),
            compute(lambda: asyncio.to_thread(python_sum, sizes.cpu_n)),
            note="n is scaled down from MAX_COMPUTE_N = 10**9 for both sides, so that the "
            "Python loop takes well under a second per run",
            needs=("compute_with_progress",),
        ),
        Scenario(
            "counter",
            f"shared counter: {count(sizes.counter)} concurrent increments",
            "shared counter",
            "total time, all gathered",
            sizes.repeats,
            "AsyncCounter.increment_async()",
            "asyncio.Lock + int, one task each",
            rust_counter,
            python_counter,
            needs=("AsyncCounter",),
        ),
    ]


async def run_scenario(scenario: Scenario, progress: Progress) -> dict[str, Any]:
    rust: list[float] = []
    python: list[float] = []
    if scenario.warm_up:
        progress.show(f"{scenario.title}: warm-up")
        await scenario.rust()
        await scenario.python()
    for repeat in range(scenario.repeats):
        # Alternate the order, so that neither side always runs right after the other.
        order = [("Rust", scenario.rust, rust), ("Python", scenario.python, python)]
        if repeat % 2:
            order.reverse()
        for side, run, samples in order:
            progress.show(f"{scenario.title}: {side} {repeat + 1}/{scenario.repeats}")
            samples.append(await run())
    result: dict[str, Any] = {
        "id": scenario.id,
        "title": scenario.title,
        "group": scenario.group,
        "size": scenario.size,
        "repeats": scenario.repeats,
        "note": scenario.note,
        "rust": {"label": scenario.rust_label, **summary(rust)},
        "python": {"label": scenario.python_label, **summary(python)},
    }
    result["ratio"] = result["rust"]["median_s"] / result["python"]["median_s"]
    progress.finish(
        f"{scenario.title}: Rust {fmt_seconds(result['rust']['median_s'])}, "
        f"Python {fmt_seconds(result['python']['median_s'])}, ratio {result['ratio']:.2f}"
    )
    return result


# ---------------------------------------------------------------- Rust only: counter_cost

COUNTER_COST = ["cargo", "run", "--quiet", "--release", "-p", "counter-cost"]


def run_counter_cost(progress: Progress) -> dict[str, Any]:
    progress.show("counter_cost (Rust only): cargo run --release (builds it the first time)")
    completed = subprocess.run(
        COUNTER_COST, cwd=ROOT, capture_output=True, text=True, check=True, timeout=900
    )
    lines = completed.stdout.strip().splitlines()
    table = [line for line in lines if line.startswith("|")]
    rows = []
    for line in table[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows.append({"counter": cells[0], "total_ms": float(cells[1].split()[0])})
        rows[-1]["per_increment_ns"] = float(cells[2].split()[0])
    progress.finish(
        "counter_cost (Rust only): "
        + ", ".join(f"{row['counter']} {row['per_increment_ns']:.0f} ns" for row in rows)
    )
    return {
        "command": " ".join(COUNTER_COST),
        "heading": next((line for line in lines if not line.startswith("|")), ""),
        "table_md": "\n".join(table),
        "rows": rows,
    }


# ---------------------------------------------------------------- HTTP: uvicorn + wrk

WRK_POST = """wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
"""


@dataclass
class HttpScenario:
    id: str
    title: str
    method: str
    path: str
    body: str = ""
    needs: tuple[str, ...] = ()


def http_scenarios() -> list[HttpScenario]:
    items = json.dumps([f"item-{i}" for i in range(10)])
    return [
        HttpScenario(
            "http_fetch",
            "HTTP GET /fetch/{id}?delay_ms=0",
            "GET",
            "/fetch/1?delay_ms=0",
            needs=("fetch_data_async",),
        ),
        HttpScenario(
            "http_fetch_woken",
            "HTTP GET /fetch/{id}?delay_ms=1 (woken from Tokio)",
            "GET",
            "/fetch/1?delay_ms=1",
            needs=("fetch_data_async",),
        ),
        HttpScenario(
            "http_batch",
            "HTTP POST /process/batch, 10 strings",
            "POST",
            "/process/batch",
            body=items,
            needs=("process_batch_async",),
        ),
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def installed_stage_dir() -> Path:
    """The folder of the stage whose build is installed (its docstring names it: "step NN:")."""
    match = re.search(r"step (\d\d):", fastapi_async.__doc__ or "")
    assert match, f"the installed fastapi_async names no stage: {fastapi_async.__doc__!r}"
    return next(STEPS_DIR.glob(f"step-{match.group(1)}-*"))


def app_stage_dir() -> Path:
    """The newest stage on pyo3-async-runtimes (no bridge of its own): what `just app` serves."""
    stages = sorted(STEPS_DIR.glob("step-[0-9][0-9]-*"))
    return [d for d in stages if not (d / "src/bridge.rs").exists()][-1]


@contextmanager
def serve(
    app_dir: Path, module: str, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Serve ``module:app`` from ``app_dir`` with uvicorn on a free port; yield its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", f"{module}:app", "--app-dir", str(app_dir)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--no-access-log", "--workers", str(workers)]
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/openapi.json", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start: {' '.join(command)}")
            time.sleep(0.05)
        yield base
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$")
UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, scenario: HttpScenario, duration_s: int, connections: int) -> dict[str, float]:
    command = ["wrk", "--latency", f"-d{duration_s}s", f"-c{connections}", "-t2"]
    with tempfile.TemporaryDirectory() as tmp:
        if scenario.method == "POST":
            script = Path(tmp) / "post.lua"
            script.write_text(WRK_POST.format(body=scenario.body))
            command += ["-s", str(script)]
        output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw failed requests:\n{output}")
    result = {"requests_per_s": float(output.split("Requests/sec:")[1].split()[0])}
    for line in output.splitlines():
        match = LATENCY.match(line)
        if match:
            result[f"p{match[1]}_ms"] = float(match[2]) * UNIT_MS[match[3]]
    return result


def check_same_answer(rust_base: str, python_base: str, scenario: HttpScenario) -> None:
    """Both apps answer the benchmarked request with the same status and body."""
    answers = []
    for base in (rust_base, python_base):
        request = urllib.request.Request(
            base + scenario.path,
            data=scenario.body.encode() if scenario.body else None,
            headers={"Content-Type": "application/json"},
            method=scenario.method,
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            answers.append((answer.status, json.loads(answer.read())))
    assert answers[0] == answers[1], answers


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure of several wrk runs, medianed on its own."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def run_http(
    progress: Progress, duration_s: int, connections: int, rounds: int
) -> list[dict[str, Any]]:
    """Each request against both apps, in ``rounds`` alternating rounds of ``duration_s``
    seconds each (Rust, Python, Rust, Python, ...), so that a slow minute of a shared
    machine hits both sides; the figures are the medians over the rounds."""
    stage = installed_stage_dir()
    chosen = [s for s in http_scenarios() if all(available(n) for n in s.needs)]
    results = []
    with serve(stage, "app") as rust_base, serve(ROOT / "bench", "twin_app") as python_base:
        bases = (("rust", rust_base), ("python", python_base))
        for scenario in chosen:
            check_same_answer(rust_base, python_base, scenario)
            warm_up = max(1, duration_s // 5)
            for side, base in bases:
                progress.show(f"{scenario.title}: {side}, wrk warm-up {warm_up} s")
                wrk(base + scenario.path, scenario, warm_up, connections)
            runs: dict[str, list[dict[str, float]]] = {"rust": [], "python": []}
            for n in range(1, rounds + 1):
                for side, base in bases:
                    progress.show(f"{scenario.title}: round {n}/{rounds}, {side}, {duration_s} s")
                    runs[side].append(wrk(base + scenario.path, scenario, duration_s, connections))
            rust, python = median_run(runs["rust"]), median_run(runs["python"])
            progress.finish(
                f"{scenario.title}: Rust {rust['requests_per_s']:.0f} req/s, "
                f"Python {python['requests_per_s']:.0f} req/s (medians of {rounds} rounds)"
            )
            # Time per request, Rust over Python (the same sense as the other ratios), per round.
            ratios = [
                p["requests_per_s"] / r["requests_per_s"]
                for r, p in zip(runs["rust"], runs["python"])
            ]
            body = f" with body {scenario.body}" if scenario.body else ""
            results.append(
                {
                    "id": scenario.id,
                    "title": scenario.title,
                    "request": f"{scenario.method} {scenario.path}{body}",
                    "duration_s": duration_s,
                    "connections": connections,
                    "rounds": rounds,
                    "rust": rust,
                    "python": python,
                    "rust_rounds": runs["rust"],
                    "python_rounds": runs["python"],
                    "rps_ratio": rust["requests_per_s"] / python["requests_per_s"],
                    "ratio": python["requests_per_s"] / rust["requests_per_s"],
                    "ratio_range": [min(ratios), max(ratios)],
                }
            )
    return results


# ---------------------------------------------------------------- machine and reports


def locked_version(crate: str) -> str:
    lock = (ROOT / "Cargo.lock").read_text()
    match = re.search(rf'name = "{re.escape(crate)}"\nversion = "([^"]+)"', lock)
    return match[1] if match else "unknown"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    wrk_path = shutil.which("wrk")
    wrk_version = ""
    if wrk_path:
        wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
        wrk_version = wrk_version.split("[")[0].strip()
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "stage": (fastapi_async.__doc__ or "").strip().splitlines()[0],
        "build": "release (maturin develop --release, as `just step` builds it)",
        "pyo3": locked_version("pyo3"),
        "pyo3_async_runtimes": locked_version("pyo3-async-runtimes"),
        "tokio": locked_version("tokio"),
        "wrk": wrk_version,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        # Other processes on the same cores skew every number: the 1-minute load average.
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Machine: {m['cpu_count']}-core {m['machine']} Linux ({m['cpu_model']}), "
        f"{m['python']}, pyo3 {m['pyo3']}, pyo3-async-runtimes {m['pyo3_async_runtimes']}, "
        f"tokio {m['tokio']}, release build; {m['date']}; load average "
        f"{m['load_average_at_start']} at the start, {m['load_average_at_end']} at the end"
        + (" — QUICK run, tiny sizes: do not quote" if results["settings"]["quick"] else "")
        + ".",
        "",
        "| Scenario | Measured | Rust | Python | Rust median (p90) | Python median (p90) "
        "| Rust / Python |",
        "| --- | --- | --- | --- | ---: | ---: | ---: |",
    ]
    for s in results["scenarios"]:
        rust, python = s["rust"], s["python"]
        lines.append(
            f"| {s['title']} | {s['size']} | `{rust['label']}` | `{python['label']}` "
            f"| {fmt_seconds(rust['median_s'])} ({fmt_seconds(rust['p90_s'])}) "
            f"| {fmt_seconds(python['median_s'])} ({fmt_seconds(python['p90_s'])}) "
            f"| {s['ratio']:.2f} |"
        )
    notes = [f"- {s['title']}: {s['note']}." for s in results["scenarios"] if s["note"]]
    lines += ["", *notes] if notes else []
    if results["http"]:
        h0 = results["http"][0]
        lines += [
            "",
            f"HTTP: uvicorn (1 worker) on 127.0.0.1, `wrk -t2 -c{h0['connections']} "
            f"-d{h0['duration_s']}s` on the same 2 cores, {h0['rounds']} rounds alternating "
            "between the two apps; medians over the rounds, and the range of the rounds' "
            "ratios.",
            "",
            "| Request | Rust req/s | Python req/s | Rust p50 / p99 | Python p50 / p99 "
            "| Rust / Python (time per request) | rounds' range |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for h in results["http"]:
            rust, python = h["rust"], h["python"]
            low, high = h["ratio_range"]
            lines.append(
                f"| {h['title']} | {rust['requests_per_s']:.0f} | {python['requests_per_s']:.0f} "
                f"| {rust['p50_ms']:.2f} / {rust['p99_ms']:.2f} ms "
                f"| {python['p50_ms']:.2f} / {python['p99_ms']:.2f} ms | {h['ratio']:.2f} "
                f"| {low:.2f} to {high:.2f} |"
            )
    if results["rust_only"]:
        cost = results["rust_only"]["counter_cost"]
        # `Mutex<u64>` would read as an HTML tag in Markdown.
        table = cost["table_md"].replace("<", "&lt;").replace(">", "&gt;")
        lines += ["", f"Rust only, `{cost['command']}`: {cost['heading']}", "", table]
    return "\n".join(lines) + "\n"


def chart(results: dict[str, Any]) -> str:
    """A horizontal bar per scenario: the ratio Rust / Python on a log scale, 1.0 marked."""
    rows = [(s["title"], s["ratio"]) for s in results["scenarios"]]
    rows += [(h["title"], h["ratio"]) for h in results["http"]]
    low = 10 ** math.floor(math.log10(min(r for _, r in rows) / 1.2))
    high = 10 ** math.ceil(math.log10(max(r for _, r in rows) * 1.2))
    label_w, plot_w, row_h, top = 440, 420, 26, 48
    width, height = label_w + plot_w + 70, top + row_h * len(rows) + 50

    def x(ratio: float) -> float:
        span = math.log10(high) - math.log10(low)
        return label_w + plot_w * (math.log10(ratio) - math.log10(low)) / span

    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="max-width: 100%; height: auto" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">'
        "Time, Rust / pure Python (log scale; left of 1.0: Rust faster)</text>",
    ]
    m = results["machine"]
    out.append(
        f'<text x="{width / 2}" y="34" text-anchor="middle" fill="#555">'
        f"{esc(m['python'])}, {m['cpu_count']}-core {esc(m['machine'])}, release build, "
        f"{esc(m['date'][:10])}{' (QUICK run)' if results['settings']['quick'] else ''}</text>"
    )
    decade = low
    bottom = top + row_h * len(rows)
    while decade <= high * 1.0001:
        for step in (1, 2, 5):
            tick = decade * step
            if tick > high * 1.0001:
                break
            major = step == 1
            out.append(
                f'<line x1="{x(tick):.1f}" y1="{top - 4}" x2="{x(tick):.1f}" y2="{bottom}" '
                f'stroke="{"#bbb" if major else "#e4e4e4"}"/>'
            )
            out.append(
                f'<text x="{x(tick):.1f}" y="{bottom + 16}" text-anchor="middle" '
                f'fill="{"#333" if major else "#888"}">{tick:g}</text>'
            )
        decade *= 10
    for index, (title, ratio) in enumerate(rows):
        y = top + index * row_h
        start, end = sorted((x(1.0), x(ratio)))
        colour = "#2e7d32" if ratio < 1 else "#c62828"
        out.append(
            f'<text x="{label_w - 8}" y="{y + row_h / 2 + 4}" text-anchor="end">{esc(title)}</text>'
        )
        out.append(
            f'<rect x="{start:.1f}" y="{y + 5}" width="{max(end - start, 1):.1f}" '
            f'height="{row_h - 10}" fill="{colour}"/>'
        )
        anchor, text_x = ("end", start - 4) if ratio < 1 else ("start", end + 4)
        out.append(
            f'<text x="{text_x:.1f}" y="{y + row_h / 2 + 4}" text-anchor="{anchor}">'
            f"{ratio:.2f}</text>"
        )
    out.append(
        f'<line x1="{x(1.0):.1f}" y1="{top - 8}" x2="{x(1.0):.1f}" y2="{bottom + 4}" '
        'stroke="black" stroke-width="2"/>'
    )
    out.append(
        f'<text x="{width / 2}" y="{height - 10}" text-anchor="middle" fill="#555">'
        "Rust median / Python median (HTTP: Python req/s / Rust req/s)</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, under a minute")
    parser.add_argument("--no-http", action="store_true", help="skip the uvicorn + wrk runs")
    parser.add_argument("--no-cargo", action="store_true", help="skip the Rust-only example")
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "bench")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    chosen = [s for s in scenarios(sizes) if all(available(n) for n in s.needs)]
    http = not args.no_http
    if http and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install -y wrk`, or pass --no-http")
    steps = len(chosen) + (0 if args.no_cargo else 1) + (len(http_scenarios()) if http else 0)
    progress = Progress(steps)
    results: dict[str, Any] = {
        "machine": machine(),
        "settings": {"quick": args.quick, "sizes": sizes.__dict__},
        "scenarios": [],
        "http": [],
        "rust_only": {},
    }
    # The cargo build comes first, so that it never competes with a measurement.
    if not args.no_cargo:
        results["rust_only"]["counter_cost"] = run_counter_cost(progress)

    async def in_process() -> None:
        for scenario in chosen:
            results["scenarios"].append(await run_scenario(scenario, progress))

    asyncio.run(in_process())
    if http:
        duration, connections, rounds = (2, 16, 1) if args.quick else (5, 64, 3)
        results["http"] = run_http(progress, duration, connections, rounds)

    results["machine"]["load_average_at_end"] = round(os.getloadavg()[0], 2)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "results.md").write_text(markdown(results))
    (args.out / "chart.svg").write_text(chart(results))
    print(markdown(results))
    print(f"Wrote {args.out}/results.json, results.md and chart.svg")
    return results


if __name__ == "__main__":
    main()
