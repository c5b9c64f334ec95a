"""Step 02: ``process_batch_async``, its spawn-per-item twin, and ``aggregate_async``."""

import asyncio
import time
import unicodedata
from collections.abc import Awaitable, Callable

import pytest

import fastapi_async

BatchFunction = Callable[[list[str]], Awaitable[list[str]]]
BATCH_FUNCTIONS = [
    fastapi_async.process_batch_async,
    fastapi_async.process_batch_spawn_per_item_async,
]


def unidata_version() -> tuple[int, ...]:
    return tuple(int(part) for part in unicodedata.unidata_version.split("."))


# ANCHOR: order
@pytest.mark.parametrize("process", BATCH_FUNCTIONS)
async def test_batch_upper_cases_every_item_in_order(process: BatchFunction) -> None:
    items = [f"item-{i}-é" for i in range(10_000)]
    results = await process(items)
    assert results == [item.upper() for item in items]


# ANCHOR_END: order


async def test_batch_returns_an_asyncio_future() -> None:
    future = fastapi_async.process_batch_async(["a"])
    assert isinstance(future, asyncio.Future)
    assert await future == ["A"]


@pytest.mark.parametrize("process", BATCH_FUNCTIONS)
async def test_empty_batch_gives_empty_list(process: BatchFunction) -> None:
    assert await process([]) == []


# ANCHOR: unicode
# Full case mappings that existed long before Unicode 14 (CPython 3.11's version): one
# character may become several, and Greek final sigma upper-cases like any sigma.
# ("\u0131" is the dotless i of Turkish.)
TRICKY = ["straße", "ẞ", "ﬁ", "ﬃ", "λόγος", "ς", "ǆ", "ǅ", "ŉ", "ΐ", "ǰ", "\u0131", "ᾳ", "ᾼ", "և"]


async def test_batch_matches_python_upper_on_non_ascii() -> None:
    mixed = [*TRICKY, "i̇", "😀 ok", "日本語", "", "İstanbul"]
    assert await fastapi_async.process_batch_async(mixed) == [s.upper() for s in mixed]
    assert await fastapi_async.process_batch_async(["straße", "ﬁ"]) == ["STRASSE", "FI"]


async def test_batch_follows_rusts_unicode_version_not_pythons() -> None:
    # U+019B "ƛ" gained an upper-case form (U+A7DC) in Unicode 16. Rust's standard library
    # has Unicode 16 since Rust 1.83; CPython 3.11 (Unicode 14) leaves the letter unchanged.
    assert await fastapi_async.process_batch_async(["ƛ"]) == ["\ua7dc"]
    expected_in_python = "\ua7dc" if unidata_version() >= (16, 0, 0) else "ƛ"
    assert "ƛ".upper() == expected_in_python


# ANCHOR_END: unicode


# ANCHOR: bounds
@pytest.mark.parametrize("process", BATCH_FUNCTIONS)
async def test_batch_accepts_exactly_max_batch_items(process: BatchFunction) -> None:
    assert fastapi_async.MAX_BATCH_ITEMS == 100_000
    results = await process(["x"] * fastapi_async.MAX_BATCH_ITEMS)
    assert len(results) == 100_000
    assert results[-1] == "X"


@pytest.mark.parametrize("process", BATCH_FUNCTIONS)
def test_batch_over_the_limit_raises_value_error_naming_items(process: BatchFunction) -> None:
    # Checked before any future exists, so no event loop is needed to see it.
    with pytest.raises(
        ValueError, match=r"^items must hold between 0 and 100000 strings, got 100001$"
    ):
        process(["x"] * (fastapi_async.MAX_BATCH_ITEMS + 1))


# ANCHOR_END: bounds


@pytest.mark.parametrize("process", BATCH_FUNCTIONS)
def test_batch_item_that_is_not_str_raises_type_error_naming_it(process: BatchFunction) -> None:
    with pytest.raises(TypeError, match=r"^items\[2\] must be str, got int$"):
        process(["a", "b", 3, "d"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"items\[0\] must be str, got bytes"):
        process([b"a"])  # type: ignore[list-item]


@pytest.mark.parametrize("items", [("a", "b"), "ab", None])
def test_batch_that_is_not_a_list_raises_type_error_noting_items(items: object) -> None:
    with pytest.raises(TypeError) as raised:
        fastapi_async.process_batch_async(items)  # type: ignore[arg-type]
    assert "while processing 'items'" in raised.value.__notes__


def test_batch_item_with_a_lone_surrogate_raises_unicode_encode_error() -> None:
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        fastapi_async.process_batch_async(["fine", "\ud800"])


# ANCHOR: aggregate
async def test_aggregate_waits_about_one_latency_not_the_sum() -> None:
    sources = [f"source-{i}" for i in range(20)]
    started = time.perf_counter()
    aggregated = await fastapi_async.aggregate_async(sources, latency_ms=200)
    elapsed = time.perf_counter() - started
    assert aggregated == {s: f"Data from {s}" for s in sources}
    # Every fetch waits 200 ms, so the call cannot end sooner.
    assert elapsed >= 0.195
    # One after another: 20 x 200 ms = 4 s. Together: about 0.2 s.
    assert elapsed < 2.0, f"20 concurrent 200 ms fetches took {elapsed:.2f} s"


# ANCHOR_END: aggregate


async def test_aggregate_shorter_call_finishes_first() -> None:
    # Ordering, not a stopwatch: started first, the slow aggregation still ends last.
    finished: list[str] = []

    async def run(name: str, latency_ms: int) -> None:
        await fastapi_async.aggregate_async([name] * 3, latency_ms=latency_ms)
        finished.append(name)

    await asyncio.gather(run("slow", 600), run("fast", 50))
    assert finished == ["fast", "slow"]


async def test_aggregate_collapses_duplicates_in_first_seen_order() -> None:
    aggregated = await fastapi_async.aggregate_async(["b", "a", "b", "c", "a"], latency_ms=0)
    assert list(aggregated) == ["b", "a", "c"]
    assert aggregated == {"a": "Data from a", "b": "Data from b", "c": "Data from c"}


async def test_aggregate_of_no_sources_is_an_empty_dict() -> None:
    assert await fastapi_async.aggregate_async([], latency_ms=0) == {}


async def test_aggregate_accepts_exactly_max_sources() -> None:
    assert fastapi_async.MAX_AGGREGATE_SOURCES == 1_000
    sources = [str(i) for i in range(fastapi_async.MAX_AGGREGATE_SOURCES)]
    aggregated = await fastapi_async.aggregate_async(sources, latency_ms=0)
    assert list(aggregated) == sources


def test_aggregate_over_the_limit_raises_value_error_naming_sources() -> None:
    sources = [str(i) for i in range(fastapi_async.MAX_AGGREGATE_SOURCES + 1)]
    with pytest.raises(
        ValueError, match=r"^sources must hold between 0 and 1000 strings, got 1001$"
    ):
        fastapi_async.aggregate_async(sources)


@pytest.mark.parametrize("latency_ms", [-1, 60_001, -(2**63), 2**63 - 1])
def test_aggregate_latency_outside_range_raises_value_error(latency_ms: int) -> None:
    assert fastapi_async.MAX_LATENCY_MS == 60_000
    with pytest.raises(
        ValueError,
        match=rf"^latency_ms must be between 0 and 60000 \(milliseconds\), got {latency_ms}$",
    ):
        fastapi_async.aggregate_async(["a"], latency_ms=latency_ms)


def test_aggregate_source_that_is_not_str_raises_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match=r"^sources\[1\] must be str, got NoneType$"):
        fastapi_async.aggregate_async(["a", None])  # type: ignore[list-item]


async def test_aggregate_at_the_longest_latency_can_be_cancelled() -> None:
    future = fastapi_async.aggregate_async(["a", "b"], latency_ms=fastapi_async.MAX_LATENCY_MS)
    assert future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await future
