"""Does a bridge keep asyncio's contract? The same six cases on two stages, side by side.

Run it with ``just bench-contract`` (stage 10, on pyo3-async-runtimes, against the newest
stage, the hand-written bridge), or ``just bench-contract 10 11`` for other stages. Each
stage is built once into ``target/bench/stages/NN`` (``bench/stages.py``) and each case runs
in a fresh process per round, alternating between the stages, three rounds; the table gives
the median and the range. The cases (what a caller of the library relies on, and the bridge
must not break):

- ``polling``: a task polls ``await counter.get_count_async() < 3`` while another task
  increments; how long until it ends (given up after 1 000 000 spins: "never ends");
- ``timer``: how late a 10 ms ``call_later`` fires during 300 000 ready awaits;
- ``stall_spawn`` / ``stall_batch``: the longest the loop goes without running a 1 ms
  heartbeat, during ``process_batch_spawn_per_item_async`` of 100 000 items and
  ``process_batch_async`` of 100 000 strings of 100 characters;
- ``context``: whether a request's ``contextvars`` state is freed once the request ends and
  ``gc.collect()`` has run;
- ``descriptors``: the file descriptors left open by 200 asyncio loops never closed.

Writes ``contract.md`` and ``contract.json`` into ``--out`` (default ``target/bench``).
Never part of ``just test``: it measures, it does not check.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import stages
from run import machine

ROOT = Path(__file__).resolve().parent.parent
GIVE_UP_SPINS = 1_000_000


# ---- the cases, run in a child process against the importable `fastapi_async` ----


async def polling() -> float | None:
    """Milliseconds until the polling task ends; ``None``: it never let the other run."""
    import fastapi_async as fa

    counter = fa.AsyncCounter()

    async def poll() -> bool:
        spins = 0
        while await counter.get_count_async() < 3:
            spins += 1
            if spins == GIVE_UP_SPINS:
                return False
        return True

    async def increment() -> None:
        for _ in range(3):
            await counter.increment_async()

    started = time.perf_counter()
    ended, _ = await asyncio.gather(poll(), increment())
    return (time.perf_counter() - started) * 1000 if ended else None


async def timer() -> float:
    """How many milliseconds late a 10 ms timer fires during 300 000 ready awaits."""
    import fastapi_async as fa

    loop = asyncio.get_running_loop()
    fired: list[float] = []
    due = loop.time() + 0.01
    loop.call_at(due, lambda: fired.append(loop.time()))
    for i in range(300_000):
        await fa.fetch_data_async(i, 0)
    await asyncio.sleep(0.02)  # the timer has surely fired by now, late or not
    return (fired[0] - due) * 1000


async def worst_stall(call: Callable[[], Awaitable[object]]) -> float:
    """The longest gap, in ms, between beats of a 1 ms heartbeat while ``call()`` runs."""
    gaps: list[float] = []
    running = True

    async def heartbeat() -> None:
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    beating = asyncio.ensure_future(heartbeat())
    await asyncio.sleep(0.01)  # the heartbeat is going
    gaps.clear()
    await call()
    running = False
    await beating
    return max(gaps) * 1000


async def stall_spawn() -> float:
    import fastapi_async as fa

    items = [f"item-{i}" for i in range(100_000)]
    return await worst_stall(lambda: fa.process_batch_spawn_per_item_async(items))


async def stall_batch() -> float:
    import fastapi_async as fa

    items = ["x" * 100 for _ in range(100_000)]
    return await worst_stall(lambda: fa.process_batch_async(items))


REQUEST_STATE: contextvars.ContextVar[object] = contextvars.ContextVar("request_state")


class RequestState:
    pass


def context() -> bool:
    """Whether a request's context is freed once the request ends (on a new loop)."""
    import fastapi_async as fa

    def serve() -> weakref.ref[RequestState]:
        state = RequestState()

        async def request() -> None:
            REQUEST_STATE.set(state)
            await fa.fetch_data_async(1, 5)

        event_loop.run_until_complete(request())
        return weakref.ref(state)

    event_loop = asyncio.new_event_loop()
    state_alive = serve()
    gc.collect()
    released = state_alive() is None
    event_loop.close()
    return released


def descriptors() -> int:
    """The descriptors 200 asyncio loops, each used once and never closed, leave open."""
    import fastapi_async as fa

    async def use() -> None:
        await fa.fetch_data_async(1, 1)

    asyncio.run(use())  # the runtime's own descriptors are open before counting
    before = len(os.listdir("/proc/self/fd"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        for _ in range(200):
            asyncio.new_event_loop().run_until_complete(use())
        gc.collect()
    return len(os.listdir("/proc/self/fd")) - before


CASES: dict[str, Callable[[], Any]] = {
    "polling": lambda: asyncio.run(polling()),
    "timer": lambda: asyncio.run(timer()),
    "stall_spawn": lambda: asyncio.run(stall_spawn()),
    "stall_batch": lambda: asyncio.run(stall_batch()),
    "context": context,
    "descriptors": descriptors,
}

# How each case reads in the table, and the unit of its number.
ROWS = {
    "polling": "a task polls `while await counter.get_count_async() < 3` beside an incrementer",
    "timer": "lateness of a 10 ms `call_later` during 300 000 ready awaits",
    "stall_spawn": "worst loop stall, `process_batch_spawn_per_item_async` of 100 000 items",
    "stall_batch": "worst loop stall, `process_batch_async` of 100 000 strings of 100 characters",
    "context": "a request's `contextvars` state, once the request ended and `gc.collect()` ran",
    "descriptors": "descriptors left by 200 asyncio loops never closed",
}


# ---- the driver: build each stage, run each case in a child, alternate, summarise ----


def measure(stage_path: Path, case: str) -> Any:
    """Runs ``case`` in a fresh process whose ``fastapi_async`` is the one in ``stage_path``."""
    done = subprocess.run(
        [sys.executable, __file__, "--case", case],
        env=stages.env_for(stage_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def shown(case: str, values: list[Any]) -> str:
    if case == "context":
        return "released" if all(values) else "still held"
    if case == "polling" and any(v is None for v in values):
        return "never ends"
    if case == "descriptors":
        return f"+{statistics.median(values):.0f}"
    med = statistics.median(values)
    return f"{med:.1f} ms ({min(values):.1f} to {max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stages", nargs="*", help="two-digit stages (default: 10 and the newest)")
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "bench")
    args = parser.parse_args()
    if args.case:  # a child process: one case, its result as JSON on the last line
        print(json.dumps(CASES[args.case]()))
        return
    chosen = args.stages or [stages.app_stage(), stages.newest_stage()]
    paths = {}
    for stage in chosen:
        print(f"building stage {stage} into {stages.BUILDS_DIR / stage}", flush=True)
        paths[stage] = stages.build(stage)
    results: dict[str, dict[str, list[Any]]] = {s: {c: [] for c in CASES} for s in chosen}
    for round_ in range(args.rounds):
        order = chosen if round_ % 2 == 0 else chosen[::-1]
        for case in CASES:
            for stage in order:
                results[stage][case].append(measure(paths[stage], case))
                print(f"round {round_ + 1}, stage {stage}, {case}: {results[stage][case][-1]}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "contract.json").write_text(json.dumps(results, indent=2) + "\n")
    header = " | ".join(f"stage {s}" for s in chosen)
    m = machine()
    lines = [
        f"{args.rounds} rounds, each case in a fresh process, stages alternating; "
        f"median (range). {m['cpu_count']}-core {m['machine']} ({m['cpu_model']}), "
        f"{m['python']}, release builds; {m['date'][:10]}.",
        "",
        f"| case | {header} |",
        "| --- |" + " ---: |" * len(chosen),
    ]
    for case, row in ROWS.items():
        cells = " | ".join(shown(case, results[s][case]) for s in chosen)
        lines.append(f"| {row} | {cells} |")
    (args.out / "contract.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
