"""Shared by the tests of every exercise: a test that reaches a Rust panic says where.

A starter marks the part you write with ``todo!("...")`` (or, in Python, ``raise
NotImplementedError``). When a test gets there, Rust panics. In the call itself, PyO3
raises the panic as ``pyo3_runtime.PanicException``; inside a Tokio future,
pyo3-async-runtimes raises ``RustPanic``, whose message (in version 0.30) reads only
"rust future panicked: unknown error". Rust's own report of the panic, with its message and
location, goes to stderr, which pytest captures. From that report, a failing test then says
"still the starter's todo!()" and where, or where your code panicked, instead of showing a
traceback through the bridge.

Run the tests with ``just exercise NAME``: it builds the module they import first.
"""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Generator, Iterator

import pytest

# The exceptions that carry a Rust panic into Python.
PANICS = ("PanicException", "RustPanic")
# Rust's report of a panic, on stderr: "thread 'x' (id) panicked at src/lib.rs:3:5:\nmessage".
PANIC_REPORT = re.compile(
    r"panicked at (?P<where>[^\n]+?):\n(?P<message>.*?)(?=\nnote: |\nstack backtrace:|\n\n|\Z)",
    re.DOTALL,
)
TODO = "not yet implemented"


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, its causes and contexts, and the members of exception groups."""
    group = getattr(builtins, "BaseExceptionGroup", ())  # Python 3.11 and later
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if group and isinstance(current, group):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def panic_reports(item: pytest.Item) -> list[tuple[str, str]]:
    """The (location, message) of each Rust panic reported on stderr during this test."""
    captured = "\n".join(text for _, key, text in item._report_sections if key == "stderr")
    found = PANIC_REPORT.finditer(captured)
    return [(shown(item, m["where"]), m["message"].strip()) for m in found]


def shown(item: pytest.Item, where: str) -> str:
    """A panic's ``file:line:column``, with the file relative to where pytest runs (Rust
    reports it relative to the workspace, exercises/)."""
    file, _, line = where.partition(":")
    path = item.config.rootpath / file
    if not path.is_file():
        return where
    return f"{os.path.relpath(path, item.config.invocation_params.dir)}:{line}"


def explanation(item: pytest.Item, exc: BaseException) -> str | None:
    """What to tell the reader instead of a traceback, if ``exc`` comes from a panic or a
    starter's stub; None for any other failure."""
    for current in chain(exc):
        if isinstance(current, NotImplementedError):
            return f"still the starter's placeholder ({current}): write that part (see README.md)"
    panics = [e for e in chain(exc) if type(e).__name__ in PANICS]
    if not panics:
        return None
    reports = panic_reports(item)
    # PyO3 keeps the message of a panic in the call itself; the report adds the location.
    message = next((str(e) for e in panics if type(e).__name__ == "PanicException"), "")
    where = ""
    for location, reported in reports:
        if not message or reported == message:
            where, message = location, reported
    if not message:
        return None
    at = f" at {where}" if where else ""
    if message.startswith(TODO):
        todo = message[len(TODO) :].lstrip(": ")
        what = f": {todo}" if todo else ""
        return f"still the starter's todo!(){at}{what}. Write that part (see README.md)."
    return f"your Rust code panicked{at}: {message}"


def fail_with_explanation(item: pytest.Item, exc: BaseException) -> None:
    text = explanation(item, exc)
    if text is not None:
        raise pytest.fail.Exception(text, pytrace=False) from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    except BaseException as exc:
        fail_with_explanation(item, exc)
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    except BaseException as exc:
        fail_with_explanation(item, exc)
        raise
