"""Step 07's module on uvloop, the event loop ``uvicorn --loop uvloop`` (and gunicorn's
uvicorn workers, and granian, when uvloop is installed) run the app on.

pyo3-async-runtimes completes each future through the loop that was running when the
function was called (``call_soon_threadsafe`` from a Tokio thread), whatever that loop's
class. These tests make one of each kind of call on uvloop: a fetch, a gather, a batch, a
deadline, a cancellation, CPU work, the counter, the semaphore and a retry. The last one
runs scripts on ``uvloop.run`` that exit right after awaiting Rust futures (step 07's exit
guard).
"""

import asyncio
from pathlib import Path

import pytest
import uvloop

import fastapi_async as fa

from ...step_04.conditions import wait_until
from ..conftest import FlakyUpstream
from ..test_clean_exit import failed_exit_codes


async def test_these_tests_run_on_uvloop() -> None:
    assert isinstance(asyncio.get_running_loop(), uvloop.Loop)


async def test_a_fetch_and_a_gather_of_fetches() -> None:
    assert await fa.fetch_data_async(1, 1) == "Data for ID 1"
    results = await asyncio.gather(*(fa.fetch_data_async(i, 10) for i in range(100)))
    assert results == [f"Data for ID {i}" for i in range(100)]


async def test_a_batch_and_an_aggregate() -> None:
    assert await fa.process_batch_async(["a", "ß"]) == ["A", "SS"]
    assert await fa.aggregate_async(["x", "y"], 1) == {"x": "Data from x", "y": "Data from y"}


async def test_a_missed_deadline_raises_the_modules_timeout_error() -> None:
    with pytest.raises(fa.DeadlineExceededError, match="call to slow timed out after 10 ms"):
        await fa.api_call_with_timeout("slow", 10, 1_000)
    assert await fa.api_call_with_timeout("fast", 1_000, 1) == "Response from fast"


async def test_cancelling_the_awaiting_task_drops_the_rust_future() -> None:
    task = asyncio.ensure_future(fa.api_call_with_timeout("slow", 60_000, 60_000))
    await wait_until(lambda: fa.active_tasks() == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until(lambda: fa.active_tasks() == 0)


async def test_cpu_work_on_the_blocking_pool() -> None:
    assert await fa.compute_with_progress(1_000_000) == 1_000_000 * 1_000_001 // 2


async def test_concurrent_increments_add_up() -> None:
    counter = fa.AsyncCounter()
    await asyncio.gather(*(counter.increment_async() for _ in range(1_000)))
    assert await counter.get_count_async() == 1_000


async def test_the_semaphore_bounds_the_items_in_flight() -> None:
    stats = fa.ConcurrencyStats()
    items = [float(i) for i in range(50)]
    assert await fa.process_with_concurrency(items, 5, 5, stats=stats) == [2 * x for x in items]
    assert stats.peak_in_flight == 5
    assert stats.in_flight == 0


async def test_a_retry_over_real_http(upstream: FlakyUpstream) -> None:
    upstream.fail_first, upstream.failure = 2, "503"
    assert await fa.fetch_with_retry(upstream.url(), 3) == "ok: request 3 to /hello"


# 500 futures are left pending; their 0-39 ms timers fire while the interpreter exits.
# Against stage 06 (no exit guard), 25 of 200 runs of it died (SIGSEGV or SIGABRT).
EXIT_SCRIPT = """
import fastapi_async
import uvloop

async def main():
    left_pending = [fastapi_async.fetch_data_async(i, i % 40) for i in range(500)]
    return await fastapi_async.fetch_data_async(0, 1), left_pending

assert uvloop.run(main())[0] == "Data for ID 0"
"""
EXIT_RUNS = 30


async def test_a_script_on_uvloop_run_exits_cleanly_every_time(tmp_path: Path) -> None:
    script = tmp_path / "exit_on_uvloop.py"
    script.write_text(EXIT_SCRIPT)
    failures = await failed_exit_codes(script, EXIT_RUNS)
    assert failures == [], f"{len(failures)} of {EXIT_RUNS} runs failed: {set(failures)}"
