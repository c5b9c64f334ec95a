"""Exercise 01-checked-greeting: ``greet_async`` refuses a bad name at the call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from ex01_checked_greeting import MAX_NAME_LEN, greet_async


def raised_by(call: Callable[[], object]) -> Exception | None:
    """The exception ``call()`` raises, or None. (A panic is no ``Exception``: it goes up.)"""
    try:
        call()
    except Exception as exc:
        return exc
    return None


async def test_greets_by_name() -> None:
    for name in ["Ada", "Zoë", "李", "x" * MAX_NAME_LEN]:
        greeting = await greet_async(name)
        assert greeting == f"Hello, {name}!", f"greet_async({name!r}) resolved to {greeting!r}"


def refusal(name: str, expected: str) -> None:
    """Calls ``greet_async(name)`` with no event loop running: only a check made before
    ``future_into_py`` can raise first."""
    error = raised_by(lambda: greet_async(name))
    if error is None:
        pytest.fail(f"greet_async accepted a name of {len(name)} characters", pytrace=False)
    if isinstance(error, RuntimeError):
        pytest.fail(
            f"greet_async({name[:10]!r}...) got as far as future_into_py ({error}): check the "
            "name before it, so that a bad name raises ValueError at the call",
            pytrace=False,
        )
    assert isinstance(error, ValueError), f"expected ValueError, got {error!r}"
    assert str(error) == expected, f"the ValueError's message should read {expected!r}"


def test_an_empty_name_raises_value_error_at_the_call() -> None:
    refusal("", "name must be between 1 and 64 characters long, got 0")


def test_a_name_too_long_raises_value_error_at_the_call() -> None:
    refusal("x" * (MAX_NAME_LEN + 1), "name must be between 1 and 64 characters long, got 65")


async def test_a_bad_name_raises_before_any_future_exists() -> None:
    # With an event loop running, future_into_py succeeds: a check inside the future would
    # hand back an awaitable that fails later, far from the call that was wrong.
    try:
        pending = greet_async("")
    except ValueError:
        return
    with pytest.raises(ValueError, match=r"^name must be"):
        await pending  # the check ran, but inside the future
    pytest.fail(
        "greet_async('') returned an awaitable that fails when awaited: the check runs "
        "inside the future; call it before future_into_py",
        pytrace=False,
    )


async def test_the_length_is_counted_in_characters() -> None:
    accented = "é" * MAX_NAME_LEN  # 64 characters, 128 bytes of UTF-8
    error = raised_by(lambda: greet_async(accented))
    if isinstance(error, ValueError):
        pytest.fail(
            f"a name of 64 characters ({len(accented.encode())} bytes) was refused ({error}): "
            "count characters (str::chars), not bytes (str::len)",
            pytrace=False,
        )
    assert await greet_async(accented) == f"Hello, {accented}!"
    refusal("é" * (MAX_NAME_LEN + 1), "name must be between 1 and 64 characters long, got 65")


async def test_calls_run_side_by_side() -> None:
    names = [f"guest {i}" for i in range(100)]
    greetings = await asyncio.gather(*(greet_async(name) for name in names))
    assert greetings == [f"Hello, {name}!" for name in names]
