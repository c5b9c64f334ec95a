"""Step 07: the runtime the module owns, configured at import and started on first use."""

import os
import subprocess
import sys
import textwrap

import pytest

import fastapi_async as fa


async def test_runtime_info_reports_the_configured_threads_and_a_started_runtime() -> None:
    await fa.fetch_data_async(1, 0)
    info = fa.runtime_info()
    assert 1 <= info["worker_threads"] <= fa.MAX_WORKER_THREADS
    assert info["max_blocking_threads"] == 16
    assert info["started"] is True


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_worker_threads_variable_sets_the_runtime_and_stays_lazy() -> None:
    code = "import fastapi_async as fa; print(fa.runtime_info())"
    done = run_python(code, FASTAPI_ASYNC_WORKER_THREADS="3")
    assert done.returncode == 0, done.stderr
    assert "'worker_threads': 3" in done.stdout
    assert "'started': False" in done.stdout


@pytest.mark.parametrize("bad", ["0", "65", "many"])
def test_a_bad_worker_threads_value_fails_the_import_naming_the_range(bad: str) -> None:
    done = run_python("import fastapi_async", FASTAPI_ASYNC_WORKER_THREADS=bad)
    assert done.returncode != 0
    assert "ValueError: FASTAPI_ASYNC_WORKER_THREADS must be an integer between 1 and 64" in (
        done.stderr
    )


# ANCHOR: fork_test
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_clear_error_instead_of_a_dead_runtime() -> None:
    # os._exit everywhere: no interpreter finalization (see pyo3-async-runtimes issue #40).
    code = """
        import asyncio, os, sys
        import fastapi_async as fa

        async def fetch():
            return await fa.fetch_data_async(1, 0)

        asyncio.run(fetch())  # the runtime starts in the parent
        pid = os.fork()
        if pid == 0:
            try:
                asyncio.run(fetch())
            except RuntimeError as exc:
                print("child:", exc, flush=True)
                os._exit(0)
            os._exit(1)
        _, status = os.waitpid(pid, 0)
        print("parent:", asyncio.run(fetch()), flush=True)
        os._exit(os.waitstatus_to_exitcode(status))
    """
    done = run_python(code)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is a fork of it" in done.stdout
    assert "parent: Data for ID 1" in done.stdout


# ANCHOR_END: fork_test
