"""Bad input to the Python API: every function and class, each parameter wrong in every
usual way. Each call must raise the documented exception at once, in the caller's frame,
with a message or note that names the parameter (and, for a value out of range, the
range); never a panic, a hang or a future that fails later.

Range checks are the extension's own (``limits.rs``): their messages say
"<name> must be between <min> and <max>". Values that are not even the right type (a
float for an int, an int past 64 bits) fail in PyO3's conversion, whose message is
Python's ("Python int too large to convert to C long"); PyO3 0.30 names the argument in a
note on the exception, ``while processing '<name>'``, which tracebacks print.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

import fastapi_async as fa

NAN = float("nan")
PAST_I64 = 2**63
PAST_U64 = 2**64


@dataclass
class BadCall:
    call: Callable[[], object]
    raises: type[BaseException]
    names: str  # must appear in the message or in a note


def text_of(error: BaseException) -> str:
    return " ".join([str(error), *getattr(error, "__notes__", [])])


# ANCHOR: table
BAD_CALLS = {
    # ANCHOR: table_fetch
    # fetch_data_async(id, delay_ms)
    "fetch delay negative": BadCall(
        lambda: fa.fetch_data_async(1, -1), ValueError, "delay_ms must be between 0 and 60000"
    ),
    "fetch delay too long": BadCall(
        lambda: fa.fetch_data_async(1, fa.MAX_DELAY_MS + 1), ValueError, "between 0 and 60000"
    ),
    "fetch delay past i64": BadCall(
        lambda: fa.fetch_data_async(1, PAST_I64), OverflowError, "'delay_ms'"
    ),
    "fetch delay NaN": BadCall(lambda: fa.fetch_data_async(1, NAN), TypeError, "'delay_ms'"),  # type: ignore[arg-type]
    "fetch id past i64": BadCall(lambda: fa.fetch_data_async(PAST_I64), OverflowError, "'id'"),
    "fetch id below i64": BadCall(
        lambda: fa.fetch_data_async(-PAST_I64 - 1), OverflowError, "'id'"
    ),
    "fetch id a string": BadCall(lambda: fa.fetch_data_async("1"), TypeError, "'id'"),  # type: ignore[arg-type]
    # ANCHOR_END: table_fetch
    # process_batch_async(items) and its per-item twin
    "batch not a list": BadCall(lambda: fa.process_batch_async("abc"), TypeError, "'items'"),  # type: ignore[arg-type]
    "batch a tuple": BadCall(lambda: fa.process_batch_async(("a",)), TypeError, "'items'"),  # type: ignore[arg-type]
    "batch of ints": BadCall(
        lambda: fa.process_batch_async(["a", 1]),  # type: ignore[list-item]
        TypeError,
        "items[1] must be str, got int",
    ),
    "batch too long": BadCall(
        lambda: fa.process_batch_async(["x"] * (fa.MAX_BATCH_ITEMS + 1)),
        ValueError,
        "items must hold between 0 and 100000 strings",
    ),
    "batch lone surrogate": BadCall(
        lambda: fa.process_batch_async(["ok", "\ud800"]), UnicodeEncodeError, "'items[1]'"
    ),
    "per-item batch too long": BadCall(
        lambda: fa.process_batch_spawn_per_item_async(["x"] * (fa.MAX_BATCH_ITEMS + 1)),
        ValueError,
        "items must hold between 0 and 100000",
    ),
    # aggregate_async(sources, latency_ms)
    "aggregate too many": BadCall(
        lambda: fa.aggregate_async(["s"] * (fa.MAX_AGGREGATE_SOURCES + 1)),
        ValueError,
        "sources must hold between 0 and 1000",
    ),
    "aggregate a None": BadCall(
        lambda: fa.aggregate_async([None]),  # type: ignore[list-item]
        TypeError,
        "sources[0] must be str",
    ),
    "aggregate latency negative": BadCall(
        lambda: fa.aggregate_async(["a"], -1), ValueError, "latency_ms must be between 0 and"
    ),
    "aggregate latency past i64": BadCall(
        lambda: fa.aggregate_async(["a"], PAST_I64), OverflowError, "'latency_ms'"
    ),
    # AsyncCounter(), ConcurrencyStats(), ProgressUpdate: no arguments to give
    "counter with an argument": BadCall(lambda: fa.AsyncCounter(5), TypeError, "argument"),  # type: ignore[call-arg]
    "stats with an argument": BadCall(lambda: fa.ConcurrencyStats(5), TypeError, "argument"),  # type: ignore[call-arg]
    "progress update built by hand": BadCall(
        lambda: fa.ProgressUpdate(),
        TypeError,
        "ProgressUpdate",
    ),
    # compute_with_progress(n, on_progress) and compute_progress_stream(n)
    "compute n negative": BadCall(
        lambda: fa.compute_with_progress(-1), ValueError, "n must be between 0 and 1000000000"
    ),
    "compute n too large": BadCall(
        lambda: fa.compute_with_progress(fa.MAX_COMPUTE_N + 1), ValueError, "between 0 and"
    ),
    "compute n past u64": BadCall(lambda: fa.compute_with_progress(PAST_U64), OverflowError, "'n'"),
    "compute n a float": BadCall(lambda: fa.compute_with_progress(1.5), TypeError, "'n'"),  # type: ignore[arg-type]
    "compute callback not callable": BadCall(
        lambda: fa.compute_with_progress(10, 5),  # type: ignore[arg-type]
        TypeError,
        "on_progress must be a callable or None, got int",
    ),
    "stream n negative": BadCall(
        lambda: fa.compute_progress_stream(-1), ValueError, "n must be between 0 and"
    ),
    "stream n past i64": BadCall(
        lambda: fa.compute_progress_stream(PAST_I64), OverflowError, "'n'"
    ),
    # api_call_with_timeout(endpoint, timeout_ms, latency_ms)
    "api endpoint empty": BadCall(
        lambda: fa.api_call_with_timeout("", 100), ValueError, "endpoint"
    ),
    "api endpoint too long": BadCall(
        lambda: fa.api_call_with_timeout("e" * (fa.MAX_ENDPOINT_LEN + 1), 100),
        ValueError,
        "endpoint",
    ),
    "api endpoint None": BadCall(
        lambda: fa.api_call_with_timeout(None, 100),  # type: ignore[arg-type]
        TypeError,
        "'endpoint'",
    ),
    "api endpoint lone surrogate": BadCall(
        lambda: fa.api_call_with_timeout("\udc00", 100), UnicodeEncodeError, "'endpoint'"
    ),
    "api timeout zero": BadCall(
        lambda: fa.api_call_with_timeout("x", 0),
        ValueError,
        "timeout_ms must be between 1 and 60000",
    ),
    "api timeout past i64": BadCall(
        lambda: fa.api_call_with_timeout("x", PAST_I64), OverflowError, "'timeout_ms'"
    ),
    "api latency negative": BadCall(
        lambda: fa.api_call_with_timeout("x", 100, -1), ValueError, "latency_ms must be between"
    ),
    # process_with_concurrency(items, max_concurrent, latency_ms, *, stats)
    "numbers a string": BadCall(
        lambda: fa.process_with_concurrency("abc"),  # type: ignore[arg-type]
        TypeError,
        "'items'",
    ),
    "numbers of strings": BadCall(
        lambda: fa.process_with_concurrency(["1.5"]),  # type: ignore[list-item]
        TypeError,
        "'items'",
    ),
    "numbers int past float": BadCall(
        lambda: fa.process_with_concurrency([10**400]), OverflowError, "'items'"
    ),
    "numbers too many": BadCall(
        lambda: fa.process_with_concurrency([1.0] * (fa.MAX_BATCH_ITEMS + 1)),
        ValueError,
        "items must hold at most 100000 values",
    ),
    "numbers max_concurrent zero": BadCall(
        lambda: fa.process_with_concurrency([1.0], 0),
        ValueError,
        "max_concurrent must be between 1 and 1000",
    ),
    "numbers max_concurrent too high": BadCall(
        lambda: fa.process_with_concurrency([1.0], fa.MAX_CONCURRENT + 1),
        ValueError,
        "max_concurrent must be between 1 and 1000",
    ),
    "numbers max_concurrent past i64": BadCall(
        lambda: fa.process_with_concurrency([1.0], PAST_I64), OverflowError, "'max_concurrent'"
    ),
    "numbers latency negative": BadCall(
        lambda: fa.process_with_concurrency([1.0], 1, -1), ValueError, "latency_ms must be"
    ),
    "numbers stats not stats": BadCall(
        lambda: fa.process_with_concurrency([1.0], stats="x"),  # type: ignore[arg-type]
        TypeError,
        "'stats'",
    ),
    # fetch_with_retry(url, max_retries, *, allowed_hosts)
    "retry url empty": BadCall(lambda: fa.fetch_with_retry(""), ValueError, "url"),
    "retry url another scheme": BadCall(
        lambda: fa.fetch_with_retry("ftp://127.0.0.1/"), ValueError, "url"
    ),
    "retry url too long": BadCall(
        lambda: fa.fetch_with_retry("http://h/" + "a" * fa.MAX_URL_LEN), ValueError, "2048"
    ),
    "retry url None": BadCall(lambda: fa.fetch_with_retry(None), TypeError, "'url'"),  # type: ignore[arg-type]
    "retry max_retries negative": BadCall(
        lambda: fa.fetch_with_retry("http://h/", -1),
        ValueError,
        "max_retries must be between 0 and 10",
    ),
    "retry max_retries too many": BadCall(
        lambda: fa.fetch_with_retry("http://h/", fa.MAX_RETRIES + 1),
        ValueError,
        "max_retries must be between 0 and 10",
    ),
    "retry max_retries past i64": BadCall(
        lambda: fa.fetch_with_retry("http://h/", PAST_I64), OverflowError, "'max_retries'"
    ),
    "retry hosts a string": BadCall(
        lambda: fa.fetch_with_retry("http://h/", allowed_hosts="h"),  # type: ignore[arg-type]
        TypeError,
        "'allowed_hosts'",
    ),
    "retry hosts of ints": BadCall(
        lambda: fa.fetch_with_retry("http://h/", allowed_hosts=[1]),  # type: ignore[list-item]
        TypeError,
        "'allowed_hosts'",
    ),
    "retry hosts too many": BadCall(
        lambda: fa.fetch_with_retry("http://h/", allowed_hosts=["h"] * 101),
        ValueError,
        "allowed_hosts must hold between 0 and 100 hosts",
    ),
    "retry hosts a URL": BadCall(
        lambda: fa.fetch_with_retry("http://h/", allowed_hosts=["http://h"]),
        ValueError,
        "allowed_hosts[0] must be a host or host:port",
    ),
}
# ANCHOR_END: table


@pytest.mark.parametrize("name", BAD_CALLS)
async def test_bad_argument_raises_at_the_call_naming_the_parameter(name: str) -> None:
    bad = BAD_CALLS[name]
    with pytest.raises(bad.raises) as raised:
        bad.call()
    assert type(raised.value) is bad.raises
    assert bad.names in text_of(raised.value)
