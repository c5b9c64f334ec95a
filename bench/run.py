"""One side-by-side run: pure Python on asyncio and on uvloop, against two stages of the module.

Run it with ``just bench``, which builds what it needs first::

    just bench              # the full run, about 12 minutes on 2 cores
    just bench --quick      # every row with tiny sizes and 1-second loads: do not quote it
    just bench --no-servers --no-cargo
    just bench --report     # rewrite results.md and chart.svg from target/bench/results.json

Four columns, each row measured in every one that applies:

- pure Python on asyncio's own loop (the baseline of every ratio),
- the same pure Python on uvloop,
- the newest stage on pyo3-async-runtimes (step 10, what ``just app`` serves),
- the newest stage of all (step 12, the hand-written bridge).

One interpreter imports one ``fastapi_async``, so every measurement runs in a fresh child
process (``bench/workloads.py``), with a stage's build first on ``PYTHONPATH``
(``bench/stages.py``). Rounds alternate the order of the columns, so that a slow moment of
a shared machine falls on each; a figure is the median over the rounds, with their range.

Three kinds of rows: work in one process (awaits, gathered sleeps, a batch, a CPU-bound sum,
a shared counter); real I/O against the Python clients people use (N concurrent GETs to a
local upstream through reqwest against ``httpx``, N concurrent Redis ``INCR``s through
redis-rs against ``redis.asyncio``); and servers (the stage's ``app.py`` and its pure-Python
twin ``bench/twin_app.py`` under uvicorn, uvicorn on uvloop and granian, loaded by ``wrk``).

Writes ``results.json``, ``results.md`` and ``chart.svg`` into ``--out``
(default ``target/bench``); ``bench/report.py`` formats them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import report
import servers
import stages
import workloads

ROOT = stages.ROOT
BENCH = ROOT / "bench"


@dataclass
class Column:
    id: str
    label: str
    side: str  # "python" or "rust"
    loop: str = "asyncio"
    build: Path | None = None  # the stage's build folder (None: the module in .venv)
    stage: str = ""


def python_columns() -> list[Column]:
    return [
        Column("asyncio", "pure Python, asyncio", "python"),
        Column("uvloop", "pure Python, uvloop", "python", loop="uvloop"),
    ]


def stage_label(stage: str) -> str:
    if stages.has_bridge(stage):
        return f"step {stage}, hand-written bridge"
    return f"step {stage}, pyo3-async-runtimes"


class Progress:
    """One status line per step on stderr, with the time since the start."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def show(self, text: str) -> None:
        elapsed = time.perf_counter() - self.started
        sys.stderr.write(f"{elapsed:7.1f} s  {text}\n")
        sys.stderr.flush()


# ---------------------------------------------------------------- in-process and I/O rows


def measure(
    row: workloads.Row, column: Column, quick: bool, upstream: str, redis_url: str
) -> dict[str, Any]:
    """One child process: ``row`` in ``column``; its samples as ``workloads.py`` prints them."""
    argv = [sys.executable, str(BENCH / "workloads.py"), row.id, column.side, "--loop", column.loop]
    argv += ["--upstream", upstream, "--redis", redis_url] + (["--quick"] if quick else [])
    # Only the Redis row's AsyncCounter counts in Redis; the counter row's counts in-process.
    on_redis = {"FASTAPI_ASYNC_REDIS_URL": redis_url} if row.id == "redis_incrs" else {}
    env = stages.env_for(column.build, on_redis)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{row.id} in {column.id} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def bridge_columns(columns: list[Column]) -> list[Column]:
    """For the bridge-against-bridge row: the hand-written bridge's stage, through its own
    bridge (``rust``) and through pyo3-async-runtimes in the same build (``library``)."""
    bridged = [c for c in columns if c.side == "rust" and stages.has_bridge(c.stage)]
    if not bridged:
        return []
    own = bridged[-1]
    library = Column("library", "pyo3-async-runtimes, same build", "library", build=own.build)
    return [library, own]


Rounds = dict[tuple[str, str], list[dict[str, Any]]]
"""Each child's output, by row and column, one per round."""


def bridges_entry(row: workloads.Row, per_round: Rounds, columns: list[Column]) -> dict[str, Any]:
    library, own = chosen = bridge_columns(columns)
    figures = {
        c.id: spread([statistics.median(x["samples_s"]) for x in per_round[(row.id, c.id)]])
        for c in chosen
    }
    return {
        "id": row.id,
        "title": row.title,
        "stage": own.stage,
        "labels": {"library": row.python_label, own.id: row.rust_label},
        "columns": figures,
        "ratio": figures[own.id]["median"] / figures[library.id]["median"],
        "note": row.note,
    }


def spread(values: list[float]) -> dict[str, Any]:
    return {
        "rounds": values,
        "median": statistics.median(values),
        "range": [min(values), max(values)],
    }


def run_rows(
    rows: list[workloads.Row],
    columns: list[Column],
    args: argparse.Namespace,
    progress: Progress,
    upstream: str,
    redis_url: str,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Every row in every column; and the bridge-against-bridge row, when a stage has one."""
    per_round: Rounds = {}
    bridged = bridge_columns(columns)
    for round_ in range(args.rounds):
        order = columns if round_ % 2 == 0 else columns[::-1]
        for row in rows:
            for column in bridged if row.bridges else order:
                progress.show(f"round {round_ + 1}/{args.rounds}: {row.title}, {column.label}")
                sample = measure(row, column, args.quick, upstream, redis_url)
                per_round.setdefault((row.id, column.id), []).append(sample)
    results = []
    for row in rows:
        if row.bridges:
            continue
        entry: dict[str, Any] = {
            "id": row.id,
            "title": row.title,
            "measured": row.measured,
            "io": bool(row.operations),
            "note": row.note,
            "labels": {"python": row.python_label, "rust": row.rust_label},
            "columns": {},
        }
        for column in columns:
            children = per_round[(row.id, column.id)]
            if row.operations:
                figures = spread([row.operations / child["median_s"] for child in children])
                figures["p99"] = spread([child["p99_s"] for child in children])
            else:
                figures = spread([statistics.median(child["samples_s"]) for child in children])
            figures["children"] = children
            entry["columns"][column.id] = figures
        base = entry["columns"]["asyncio"]["median"]
        # Time over the baseline's time: below 1, faster than pure Python on asyncio.
        entry["ratios"] = {
            c.id: (base / entry["columns"][c.id]["median"])
            if row.operations
            else (entry["columns"][c.id]["median"] / base)
            for c in columns
            if c.id != "asyncio"
        }
        results.append(entry)
    bridges = [bridges_entry(r, per_round, columns) for r in rows if r.bridges and bridged]
    return results, (bridges[0] if bridges else None)


# ---------------------------------------------------------------- server rows


def run_servers(
    columns: list[Column], args: argparse.Namespace, progress: Progress
) -> list[dict[str, Any]]:
    """Each endpoint of each app on each server, in alternating rounds of ``wrk``."""
    duration, warm_up = (1, 1) if args.quick else (4, 1)
    apps: list[tuple[str, str, Path, str, Path | None]] = [
        ("twin", "pure-Python twin", BENCH, "twin_app:app", None)
    ]
    apps += [(c.id, c.label, stages.stage_dir(c.stage), "app:app", c.build) for c in columns]
    results = []
    for server in servers.SERVERS:
        with contextlib.ExitStack() as running:
            bases = {
                app_id: running.enter_context(
                    servers.serve(server, app_dir, target, stages.env_for(build))
                )
                for app_id, _, app_dir, target, build in apps
            }
            for endpoint in servers.ENDPOINTS:
                answers = {app_id: servers.answer(base, endpoint) for app_id, base in bases.items()}
                assert len(set(map(json.dumps, answers.values()))) == 1, answers
                for app_id, base in bases.items():
                    progress.show(f"{server}, {endpoint.id}: {app_id}, warm-up")
                    servers.wrk(base + endpoint.path, endpoint.method, warm_up, args.connections)
                runs: dict[str, list[dict[str, float]]] = {app_id: [] for app_id in bases}
                for round_ in range(args.rounds):
                    order = list(bases) if round_ % 2 == 0 else list(bases)[::-1]
                    for app_id in order:
                        progress.show(
                            f"round {round_ + 1}/{args.rounds}: {server}, {endpoint.id}, {app_id}"
                        )
                        url = bases[app_id] + endpoint.path
                        runs[app_id].append(
                            servers.wrk(url, endpoint.method, duration, args.connections)
                        )
                entry: dict[str, Any] = {
                    "server": server,
                    "server_label": servers.SERVER_LABELS[server],
                    "endpoint": endpoint.id,
                    "title": endpoint.title,
                    "apps": {},
                }
                for app_id, label, *_ in apps:
                    medians = servers.median_run(runs[app_id])
                    rps = [run["requests_per_s"] for run in runs[app_id]]
                    entry["apps"][app_id] = {
                        "label": label,
                        **medians,
                        "rps_range": [min(rps), max(rps)],
                        "rounds": runs[app_id],
                    }
                twin = entry["apps"]["twin"]["requests_per_s"]
                # Time per request over the twin's (its req/s over the app's): below 1, faster.
                entry["ratios"] = {
                    c.id: twin / entry["apps"][c.id]["requests_per_s"] for c in columns
                }
                results.append(entry)
    return results


# ---------------------------------------------------------------- Rust only: counter_cost

COUNTER_COST = ["cargo", "run", "--quiet", "--release", "-p", "counter-cost"]


def run_counter_cost(progress: Progress) -> dict[str, Any]:
    progress.show("counter_cost (Rust only): cargo run --release (builds it the first time)")
    completed = subprocess.run(
        COUNTER_COST, cwd=ROOT, capture_output=True, text=True, check=True, timeout=900
    )
    lines = completed.stdout.strip().splitlines()
    table = [line for line in lines if line.startswith("|")]
    return {
        "command": " ".join(COUNTER_COST),
        "heading": next((line for line in lines if not line.startswith("|")), ""),
        "table_md": "\n".join(table),
    }


# ---------------------------------------------------------------- machine and main


def locked_version(crate: str) -> str:
    lock = (ROOT / "Cargo.lock").read_text()
    match = re.search(rf'name = "{re.escape(crate)}"\nversion = "([^"]+)"', lock)
    return match[1] if match else "unknown"


def python_version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    wrk_version = ""
    if shutil.which("wrk"):
        wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
        wrk_version = wrk_version.split("[")[0].strip()
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "build": "release (maturin build --release)",
        "pyo3": locked_version("pyo3"),
        "pyo3_async_runtimes": locked_version("pyo3-async-runtimes"),
        "tokio": locked_version("tokio"),
        "packages": {
            p: python_version(p)
            for p in ("uvloop", "uvicorn", "granian", "fastapi", "httpx", "redis")
        },
        "wrk": wrk_version,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        # Other processes on the same cores skew every number: the 1-minute load average.
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the harness")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument(
        "--stages", nargs="*", help="stages to build and compare (default: 10 and the newest)"
    )
    parser.add_argument(
        "--installed",
        action="store_true",
        help="one Rust column, the module installed in .venv, instead of building stages",
    )
    parser.add_argument("--no-io", action="store_true", help="skip the HTTP and Redis rows")
    parser.add_argument("--no-servers", action="store_true", help="skip the wrk runs")
    parser.add_argument("--no-cargo", action="store_true", help="skip the Rust-only example")
    parser.add_argument("--connections", type=int, default=64, help="wrk's connections")
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "bench")
    parser.add_argument(
        "--report", action="store_true", help="only rewrite the reports from --out's results.json"
    )
    return parser.parse_args(argv)


def rust_columns(args: argparse.Namespace, progress: Progress) -> list[Column]:
    if args.installed:
        import fastapi_async

        match = re.search(r"step (\d\d):", fastapi_async.__doc__ or "")
        stage = match[1] if match else stages.newest_stage()
        return [Column("installed", f"{stage_label(stage)} (installed)", "rust", stage=stage)]
    columns = []
    for stage in args.stages or [stages.app_stage(), stages.newest_stage()]:
        progress.show(f"building stage {stage} (release) into {stages.BUILDS_DIR / stage}")
        build = stages.build(stage)
        columns.append(
            Column(f"stage-{stage}", stage_label(stage), "rust", build=build, stage=stage)
        )
    return columns


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.report:
        saved: dict[str, Any] = json.loads((args.out / "results.json").read_text())
        write_reports(saved, args.out)
        return saved
    if not args.no_servers and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install -y wrk`, or pass --no-servers")
    progress = Progress()
    results: dict[str, Any] = {"machine": machine(), "rows": [], "servers": [], "rust_only": {}}
    # Builds come first, so that they never compete with a measurement.
    rust = rust_columns(args, progress)
    if not args.no_cargo:
        results["rust_only"]["counter_cost"] = run_counter_cost(progress)
    columns = [*python_columns(), *rust]
    sizes = workloads.QUICK if args.quick else workloads.FULL
    results["settings"] = {
        "quick": args.quick,
        "rounds": args.rounds,
        "sizes": sizes.__dict__,
        "columns": {c.id: c.label for c in columns},
        "connections": args.connections,
    }
    rows = [r for r in workloads.rows(sizes) if not (r.operations and args.no_io)]
    with contextlib.ExitStack() as peers:
        upstream = redis_url = ""
        if not args.no_io:
            upstream = peers.enter_context(
                servers.serve(
                    "granian-rsgi", BENCH, "upstream:app", dict(os.environ), ready_path="/"
                )
            )
            upstream += "/"
            redis_url = peers.enter_context(servers.redis_server())
        results["rows"], results["bridges"] = run_rows(
            rows, columns, args, progress, upstream, redis_url
        )
    if not args.no_servers:
        results["servers"] = run_servers(rust, args, progress)
    results["machine"]["load_average_at_end"] = round(os.getloadavg()[0], 2)
    results["machine"]["wall_time_s"] = round(time.perf_counter() - progress.started)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    write_reports(results, args.out)
    return results


def write_reports(results: dict[str, Any], out: Path) -> None:
    (out / "results.md").write_text(report.markdown(results))
    (out / "chart.svg").write_text(report.chart(results))
    print(report.markdown(results))
    print(f"Wrote {out}/results.json, results.md and chart.svg")


if __name__ == "__main__":
    main()
