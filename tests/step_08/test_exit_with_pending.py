"""Step 08: exiting while Tokio is still finishing futures is safe without any guard.

Step 01's clean-exit test awaits futures that, on this stage, are done at the call, so
Tokio never delivers anything there. This script leaves futures pending when it exits:
their 1-3 ms timers fire while the interpreter finalizes, and Tokio hands their results to
the loop's inbox. With step 07's bridge that delivery attached to the interpreter; here it
only writes to a socket, so the process must exit cleanly every time.
"""

from pathlib import Path

from ..step_01.test_clean_exit import failed_exit_codes

SCRIPT = """
import asyncio
import fastapi_async

async def main():
    left_pending = [fastapi_async.fetch_data_async(i, 1 + i % 3) for i in range(50)]
    awaited = await asyncio.gather(*(fastapi_async.fetch_data_async(i, 1) for i in range(3)))
    return awaited, left_pending

assert asyncio.run(main())[0] == [f"Data for ID {i}" for i in range(3)]
"""

RUNS = 100


async def test_exit_with_futures_still_pending_on_tokio_is_clean(tmp_path: Path) -> None:
    script = tmp_path / "exit_while_pending.py"
    script.write_text(SCRIPT)
    failures = await failed_exit_codes(script, RUNS)
    assert failures == [], f"{len(failures)} of {RUNS} runs failed, exit codes {set(failures)}"
