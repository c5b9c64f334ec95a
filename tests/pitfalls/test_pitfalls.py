"""The Troubleshooting page: each pitfall reproduced for real, then its fix shown to work.

The reproductions live next to this file (``no_running_loop.py``, ...), one per pitfall,
each with a ``broken`` and a ``fixed`` entry point; the book includes them. Those that hang
or that leave work running when a loop closes run in a subprocess with a time limit.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable
from pathlib import Path

import pitfalls
import pytest

import fastapi_async as fa

from ..step_07.test_clean_exit import failed_exit_codes
from . import different_loop, no_running_loop

HERE = Path(__file__).resolve().parent


def run_script(name: str, entry: str) -> subprocess.CompletedProcess[str]:
    """Runs ``python HERE/name entry``; a hang fails the test after 30 s at most."""
    return subprocess.run(
        [sys.executable, str(HERE / name), entry],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


# 1. RuntimeError: no running event loop


def test_calling_a_rust_async_function_without_a_running_loop_raises() -> None:
    with pytest.raises(RuntimeError, match=r"^no running event loop$"):
        no_running_loop.broken()


def test_calling_it_inside_a_coroutine_works(capsys: pytest.CaptureFixture[str]) -> None:
    no_running_loop.fixed()
    assert capsys.readouterr().out == "Data for ID 1\n"


# 2. Future attached to a different loop


async def test_an_awaitable_shared_with_another_loop_fails_there() -> None:
    here, there = await different_loop.demo(different_loop.shared_fetch)
    assert here == "Data for ID 1"
    assert isinstance(there, RuntimeError)
    assert str(there).endswith("attached to a different loop")


async def test_sharing_only_within_a_loop_serves_both_loops() -> None:
    results = await different_loop.demo(different_loop.shared_fetch_fixed)
    assert list(results) == ["Data for ID 1", "Data for ID 1"]


# 3. Event loop is closed


def test_a_result_arriving_after_its_loop_closed_prints_event_loop_is_closed() -> None:
    done = run_script("loop_closed.py", "broken")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Data for ID 2\n"
    # Printed by pyo3-async-runtimes on a Tokio thread; nothing is raised in the program.
    assert done.stderr.rstrip().endswith("RuntimeError: Event loop is closed"), done.stderr
    assert "call_soon_threadsafe" in done.stderr


def test_cancelling_the_future_before_the_loop_closes_prints_nothing() -> None:
    done = run_script("loop_closed.py", "fixed")
    assert (done.returncode, done.stdout, done.stderr) == (0, "Data for ID 2\n", "")


def test_exiting_while_a_guarded_rust_future_runs_drops_its_result_silently() -> None:
    # The steps' exit guard (runtime.rs): no delivery starts once the interpreter is exiting.
    done = run_script("loop_closed.py", "exit_while_running")
    assert (done.returncode, done.stdout, done.stderr) == (0, "exiting\n", "")


# 4. there is no reactor running


# ANCHOR: no_reactor_test
async def test_a_tokio_timer_built_outside_the_runtime_panics() -> None:
    with pytest.raises(BaseException, match="there is no reactor running") as caught:
        pitfalls.sleep_eager(10)
    # PyO3 turns the panic into pyo3_runtime.PanicException (a BaseException).
    assert type(caught.value).__name__ == "PanicException"
    await pitfalls.sleep_async(10)  # the fix: the timer is built inside the future


# ANCHOR_END: no_reactor_test


# 5. GIL deadlock


def test_blocking_on_a_task_that_needs_the_gil_while_holding_it_deadlocks() -> None:
    done = run_script("gil_deadlock.py", "broken")
    # faulthandler ended the deadlocked process: exit code 1, with the stuck call's line.
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("Timeout (0:00:03)!")
    assert "in broken" in done.stderr


def test_releasing_the_gil_while_blocking_lets_the_task_call_back() -> None:
    done = run_script("gil_deadlock.py", "fixed")
    assert (done.returncode, done.stdout) == (0, "called back\n"), done.stderr


# 6. A blocking call inside an async task


# ANCHOR: blocking_test
async def finishing_order(slow: Awaitable[None]) -> tuple[list[str], float]:
    """Awaits ``slow`` and a 50 ms Tokio sleep started just after it; returns which
    finished first, and how long the quick one took."""
    order: list[str] = []
    start = time.perf_counter()

    async def track(name: str, work: Awaitable[None]) -> float:
        await work
        order.append(name)
        return time.perf_counter() - start

    _, quick_s = await asyncio.gather(track("slow", slow), track("quick", pitfalls.sleep_async(50)))
    return order, quick_s


async def test_a_blocking_call_in_a_future_stalls_every_task_on_its_worker() -> None:
    order, quick_s = await finishing_order(pitfalls.blocking_sleep_async(500))
    assert order == ["slow", "quick"]
    assert quick_s >= 0.45  # the 50 ms sleep waited for the blocked worker


async def test_the_blocking_pool_keeps_the_worker_free() -> None:
    order, quick_s = await finishing_order(pitfalls.offloaded_sleep_async(500))
    assert order == ["quick", "slow"]
    assert quick_s < 0.45


# ANCHOR_END: blocking_test


@pytest.mark.parametrize("ms", [-1, pitfalls.MAX_MS + 1])
async def test_every_sleep_refuses_ms_outside_the_range(ms: int) -> None:
    for call in (
        pitfalls.sleep_eager,
        pitfalls.sleep_async,
        pitfalls.blocking_sleep_async,
        pitfalls.offloaded_sleep_async,
    ):
        with pytest.raises(ValueError, match=rf"^ms must be between 0 and 10000, got {ms}$"):
            call(ms)


# 7. A Tokio runtime started before a fork


def test_a_child_forked_after_the_runtime_started_hangs() -> None:
    done = run_script("fork_after_start.py", "broken")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "child exit code: 1\n"  # ended by faulthandler
    assert "Timeout (0:00:03)!" in done.stderr


def test_step_07_refuses_in_the_forked_child_with_a_runtime_error() -> None:
    done = run_script("fork_after_start.py", "refused")
    assert done.returncode == 0, done.stderr
    assert "child: RuntimeError: the Tokio runtime was started in process" in done.stdout
    assert "is a fork of it" in done.stdout
    assert done.stdout.endswith("child exit code: 0\n")


def test_forking_before_the_first_call_gives_each_process_its_runtime() -> None:
    done = run_script("fork_after_start.py", "fixed")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "child: slept\nchild exit code: 0\nparent: slept\n"


async def test_a_panic_inside_a_future_is_rust_panic_with_its_message() -> None:
    # pyo3-async-runtimes 0.30.0 alone would say "unknown error": the exit guard keeps it.
    with pytest.raises(Exception, match=r"^rust future panicked: index 3 out of range$") as e:
        await pitfalls.panic_async("index 3 out of range")
    assert type(e.value).__name__ == "RustPanic"


# 8. An abort at interpreter exit


# ANCHOR: exit_test
EXIT_RUNS = 100


async def test_without_the_exit_guard_some_runs_abort_at_exit() -> None:
    # About a quarter of the runs abort on this machine (17 of 60 once): no abort in 100
    # runs would be a chance far below one in a million.
    failures = await failed_exit_codes(HERE / "exit_abort.py", EXIT_RUNS, "broken")
    assert -signal.SIGABRT in failures, f"no abort in {EXIT_RUNS} runs: {failures}"


async def test_with_the_exit_guard_every_run_exits_cleanly() -> None:
    failures = await failed_exit_codes(HERE / "exit_abort.py", EXIT_RUNS, "fixed")
    assert failures == [], f"{len(failures)} of {EXIT_RUNS} runs failed: {set(failures)}"


# ANCHOR_END: exit_test


def test_the_pitfalls_run_against_the_app_stage() -> None:
    # The newest stage on pyo3-async-runtimes: a later stage has a bridge of its own.
    stages = sorted((HERE.parent.parent / "steps").glob("step-*"))
    app_stage = [d for d in stages if not (d / "src" / "bridge.rs").exists()][-1]
    assert f"step {app_stage.name.split('-')[1]}:" in (fa.__doc__ or "")
