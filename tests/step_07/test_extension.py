"""Step 07: the runtime, the progress stream and the allowlist, called from Python."""

import os
import subprocess
import sys
import textwrap

import pytest

import fastapi_async as fa

from ..step_04.conditions import wait_until
from .conftest import FlakyUpstream


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


# ANCHOR: stream_test
async def test_the_stream_yields_increasing_progress_then_the_exact_sum() -> None:
    n = 1_000_000
    updates = [update async for update in fa.compute_progress_stream(n)]
    *progress, last = updates
    done = [u.done for u in progress]
    assert done == sorted(set(done))
    assert all(0 < d < n for d in done)
    assert all(u.total == n and u.sum is None for u in progress)
    assert (last.done, last.total, last.sum) == (n, n, n * (n + 1) // 2)


# ANCHOR_END: stream_test


async def test_the_stream_of_zero_is_only_the_sum() -> None:
    updates = [u async for u in fa.compute_progress_stream(0)]
    assert [(u.done, u.total, u.sum) for u in updates] == [(0, 0, 0)]


@pytest.mark.parametrize("n", [-1, fa.MAX_COMPUTE_N + 1])
def test_the_stream_refuses_n_outside_the_range_at_the_call(n: int) -> None:
    with pytest.raises(ValueError, match=rf"^n must be between 0 and 1000000000, got {n}$"):
        fa.compute_progress_stream(n)


async def test_closing_the_stream_stops_the_computation() -> None:
    assert fa.active_tasks() == 0
    stream = fa.compute_progress_stream(fa.MAX_COMPUTE_N)
    first = await stream.__anext__()
    assert first.sum is None
    assert fa.active_tasks() == 1  # the computation is running
    stream.close()
    # It stops at its next report (5 % of 10**9 items), far sooner than the whole sum.
    await wait_until(lambda: fa.active_tasks() == 0, within_s=5)
    # The updates sent before it stopped can still be read; no sum is ever sent.
    left = [update async for update in stream]
    assert all(update.sum is None for update in left)


async def test_a_host_off_the_list_is_refused_at_the_call(upstream: FlakyUpstream) -> None:
    with pytest.raises(fa.HostNotAllowedError, match=r"host 127\.0\.0\.1:"):
        fa.fetch_with_retry(upstream.url(), allowed_hosts=["example.com"])
    assert upstream.requests == 0
    assert issubclass(fa.HostNotAllowedError, PermissionError)


@pytest.mark.parametrize("spelling", ["2130706433", "0x7f.1", "127.1"])
async def test_numeric_spellings_of_an_allowed_host_are_the_same_host(
    upstream: FlakyUpstream, spelling: str
) -> None:
    port = upstream.base_url.rsplit(":", 1)[1]
    url = f"http://{spelling}:{port}/hello"
    assert await fa.fetch_with_retry(url, allowed_hosts=[f"127.0.0.1:{port}"]) == (
        "ok: request 1 to /hello"
    )


@pytest.mark.parametrize("host", ["localhost", "[::1]"])
def test_localhost_and_ipv6_loopback_are_refused_unless_listed(host: str) -> None:
    with pytest.raises(fa.HostNotAllowedError):
        fa.fetch_with_retry(f"http://{host}:8000/", allowed_hosts=["127.0.0.1"])


async def test_a_redirect_off_the_list_is_refused_and_never_sent(
    redirector: str, upstream: FlakyUpstream
) -> None:
    # The redirector is allowed on its port only; the upstream's port is not on the list.
    port = redirector.rsplit(":", 1)[1]
    future = fa.fetch_with_retry(
        f"{redirector}/?to={upstream.url()}", allowed_hosts=[f"127.0.0.1:{port}"]
    )
    with pytest.raises(fa.HostNotAllowedError, match="is not in allowed_hosts"):
        await future
    assert upstream.requests == 0


async def test_a_redirect_on_the_list_is_followed(redirector: str, upstream: FlakyUpstream) -> None:
    body = await fa.fetch_with_retry(
        f"{redirector}/?to={upstream.url()}", allowed_hosts=["127.0.0.1"]
    )
    assert body == "ok: request 1 to /hello"


def test_a_malformed_allowlist_entry_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match=r"^allowed_hosts\[0\] must be a host or host:port"):
        fa.fetch_with_retry("http://127.0.0.1/", allowed_hosts=["http://127.0.0.1/"])
