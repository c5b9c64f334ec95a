"""Increments per second of ``AsyncCounter``, in this process against Redis.

Run it with ``just bench-scaling``.

The "Scaling out" chapter quotes this script. Two measurements, each in-process then Redis:

1. In one Python process: ``--increments`` gathered ``increment_async()`` calls, and the
   same number awaited one after the other; the median of ``--repeats`` runs.
2. Over HTTP: ``POST /counter/increment`` on step 10's app (the newest stage on
   pyo3-async-runtimes) under uvicorn with 1 and with 2 worker processes, loaded by ``wrk``
   with one new connection per request (``-H "Connection: close"``, so the kernel spreads
   the requests over the workers). After each run the script reads ``GET /counter`` once
   and sets it beside the requests wrk saw answered: in-process with 2 workers, one read
   shows one worker's share only.

It starts its own ``redis-server`` (no persistence) on a free loopback port, and uvicorn on
asyncio's own loop (``bench/servers.py``). Writes ``scaling.json`` and
``scaling.md`` into ``--out`` (default ``target/bench``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import servers
import stages
from run import machine

import fastapi_async

URL_ENV = "FASTAPI_ASYNC_REDIS_URL"


def counter_on(url: str | None) -> fastapi_async.AsyncCounter:
    """A counter made with ``FASTAPI_ASYNC_REDIS_URL`` set to ``url`` (None: unset)."""
    saved = os.environ.pop(URL_ENV, None)
    try:
        if url is not None:
            os.environ[URL_ENV] = url
        return fastapi_async.AsyncCounter()
    finally:
        os.environ.pop(URL_ENV, None)
        if saved is not None:
            os.environ[URL_ENV] = saved


async def increments_per_second(url: str | None, count: int, repeats: int) -> dict[str, float]:
    counter = counter_on(url)

    async def gathered() -> None:
        await asyncio.gather(*(counter.increment_async() for _ in range(count)))

    async def one_by_one() -> None:
        for _ in range(count):
            await counter.increment_async()

    async def median_rate(run: Callable[[], Awaitable[None]]) -> float:
        await run()  # warm-up: the runtime, and the connection to Redis
        rates = []
        for _ in range(repeats):
            await counter.reset_async()
            started = time.perf_counter()
            await run()
            rates.append(count / (time.perf_counter() - started))
            assert await counter.get_count_async() == count
        return statistics.median(rates)

    return {"gathered": await median_rate(gathered), "one_by_one": await median_rate(one_by_one)}


def wrk_increments(base: str, duration_s: int, connections: int) -> dict[str, float]:
    """wrk's answered requests and rate for ``POST /counter/increment``, and one read after."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text('wrk.method = "POST"\n')
        command = ["wrk", f"-d{duration_s}s", f"-c{connections}", "-t2", "-s", str(script)]
        command += ["-H", "Connection: close", f"{base}/counter/increment"]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw failed requests:\n{output}")
    answered = int(output.split(" requests in ")[0].split()[-1])
    with urllib.request.urlopen(f"{base}/counter", timeout=10) as answer:
        read = json.loads(answer.read())["count"]
    rate = float(output.split("Requests/sec:")[1].split()[0])
    return {"requests_per_s": rate, "answered": answered, "get_counter": read}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--increments", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-http", action="store_true", help="skip uvicorn + wrk")
    parser.add_argument("--out", type=Path, default=stages.ROOT / "target" / "bench")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"machine": machine(), "in_process_module": {}, "http": []}
    with servers.redis_server() as url:
        backends = {"in-process": None, "redis": url}
        for name, backend_url in backends.items():
            rates = asyncio.run(increments_per_second(backend_url, args.increments, args.repeats))
            results["in_process_module"][name] = rates
            gathered, one_by_one = rates["gathered"], rates["one_by_one"]
            print(f"{name}: {gathered:.0f}/s gathered, {one_by_one:.0f}/s one by one")
        if not args.no_http:
            for workers in (1, 2):
                for name, backend_url in backends.items():
                    env = stages.env_for(None, {URL_ENV: backend_url} if backend_url else {})
                    app_dir = stages.stage_dir(stages.app_stage())
                    with servers.serve("uvicorn", app_dir, "app:app", env, workers=workers) as base:
                        # A new server counts from 0 in-process; Redis is reset for all.
                        reset = urllib.request.Request(f"{base}/counter/reset", method="POST")
                        urllib.request.urlopen(reset, timeout=10).close()
                        run = wrk_increments(base, args.duration, args.connections)
                    results["http"].append({"workers": workers, "backend": name, **run})
                    print(f"HTTP, {workers} worker(s), {name}: {run}")
    results["settings"] = vars(args) | {"out": str(args.out)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scaling.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "scaling.md").write_text(markdown(results))
    print(markdown(results))
    return results


def markdown(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["settings"]
    lines = [
        f"Machine: {m['cpu_count']}-core {m['machine']} Linux ({m['cpu_model']}), {m['python']},"
        f" release build; {m['date']}; load average {m['load_average_at_start']} at the start.",
        "",
        f"In one process, {s['increments']} increments, median of {s['repeats']} runs:",
        "",
        "| Counter | Gathered (increments/s) | One by one (increments/s) |",
        "| --- | ---: | ---: |",
    ]
    for name, rates in results["in_process_module"].items():
        lines.append(f"| {name} | {rates['gathered']:,.0f} | {rates['one_by_one']:,.0f} |")
    if results["http"]:
        lines += [
            "",
            f"HTTP, `POST /counter/increment`, wrk `-t2 -c{s['connections']} -d{s['duration']}s`"
            ", a new connection per request:",
            "",
            "| Workers | Counter | Requests/s | Answered (wrk) | `GET /counter` after |",
            "| ---: | --- | ---: | ---: | ---: |",
        ]
        for h in results["http"]:
            lines.append(
                f"| {h['workers']} | {h['backend']} | {h['requests_per_s']:,.0f} "
                f"| {h['answered']:,} | {h['get_counter']:,} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
