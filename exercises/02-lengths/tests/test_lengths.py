"""Exercise 02-lengths: ``lengths_async`` copies a batch once and counts it in one future."""

import asyncio

import pytest
from ex02_lengths import MAX_ITEMS, lengths_async


async def test_counts_characters_as_len_does() -> None:
    items = ["", "a", "héllo", "日本語", "🦀🦀", "e\u0301"]  # the last: e + a combining accent
    lengths = await lengths_async(items)
    assert lengths == [len(item) for item in items], (
        f"got {lengths} for {items}: count characters (str::chars), as Python's len does, "
        "not the bytes of the UTF-8 form (str::len)"
    )


async def test_keeps_the_order_of_a_large_batch() -> None:
    items = ["x" * (i % 50) for i in range(MAX_ITEMS)]
    assert await lengths_async(items) == [i % 50 for i in range(MAX_ITEMS)]


async def test_returns_an_asyncio_future() -> None:
    pending = lengths_async(["abc"])
    assert isinstance(pending, asyncio.Future), (
        f"lengths_async returned a {type(pending).__name__}: return what future_into_py gives"
    )
    assert await pending == [3]


async def test_the_list_is_copied_at_the_call() -> None:
    items = ["a", "bb"]
    pending = lengths_async(items)
    # Changed after the call, before the future runs: the batch was copied already.
    items[0] = "changed"
    items.append("added")
    lengths = await pending
    assert lengths == [1, 2], (
        f"got {lengths}: the future read the list after the call returned. Copy it into "
        "Rust at the call (strings_from_list), before future_into_py"
    )


def test_too_many_items_raise_value_error_at_the_call() -> None:
    # No event loop runs here: only a check made before future_into_py can raise first.
    with pytest.raises(ValueError, match=r"^items must hold between 0 and 100000 strings, got"):
        lengths_async([""] * (MAX_ITEMS + 1))


def test_an_item_that_is_not_a_string_raises_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match=r"^items\[1\] must be str, got int$"):
        lengths_async(["fine", 1])
