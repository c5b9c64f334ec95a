"""From step 07 on: a script that awaits Rust futures and exits at once must exit cleanly.

With pyo3-async-runtimes' plain ``future_into_py`` (steps 01-06), a Tokio thread still
delivering a result when the interpreter finalizes is stopped by CPython in a way Rust
cannot survive, and the process aborts (pyo3-async-runtimes issue #40; ``tests/pitfalls``
reproduces it). Step 07's exit guard (``crates/exit-guard``) closes the bridge from an
``atexit`` hook, before finalization starts.
"""

import asyncio
import sys
from pathlib import Path

import pytest

# ANCHOR: scripts
SCRIPTS = {
    # The last results are delivered while the script is already on its way out.
    "awaited": """
import asyncio
import fastapi_async

async def main():
    return await asyncio.gather(*(fastapi_async.fetch_data_async(i, 0) for i in range(3)))

assert asyncio.run(main()) == [f"Data for ID {i}" for i in range(3)]
""",
    # 50 futures are left pending: their 1-3 ms timers fire while the interpreter finalizes.
    "left pending": """
import asyncio
import fastapi_async

async def main():
    left_pending = [fastapi_async.fetch_data_async(i, 1 + i % 3) for i in range(50)]
    awaited = await asyncio.gather(*(fastapi_async.fetch_data_async(i, 1) for i in range(3)))
    return awaited, left_pending

assert asyncio.run(main())[0] == [f"Data for ID {i}" for i in range(3)]
""",
}
# ANCHOR_END: scripts

RUNS = 100
AT_ONCE = 4


async def run_script(path: Path, limit: asyncio.Semaphore, *args: str) -> int:
    async with limit:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(path),
            *args,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return await process.wait()


async def failed_exit_codes(script: Path, runs: int, *args: str) -> list[int]:
    """Runs ``python script *args`` ``runs`` times (``AT_ONCE`` at a time) and returns the
    exit codes that were not 0. A negative code is the signal that killed the process: -6 is
    SIGABRT."""
    limit = asyncio.Semaphore(AT_ONCE)
    codes = await asyncio.gather(*(run_script(script, limit, *args) for _ in range(runs)))
    return [code for code in codes if code != 0]


@pytest.mark.parametrize("name", SCRIPTS)
async def test_a_script_exits_cleanly_every_time(tmp_path: Path, name: str) -> None:
    script = tmp_path / "exit_right_after_await.py"
    script.write_text(SCRIPTS[name])
    failures = await failed_exit_codes(script, RUNS)
    assert failures == [], f"{len(failures)} of {RUNS} runs failed, exit codes {set(failures)}"
