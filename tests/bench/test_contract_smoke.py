"""Smoke test of ``bench/contract.py``: each case runs in a child process against the
installed stage and answers in the shape the table expects.

It checks the harness, not the bridge (``tests/step_11`` and ``tests/step_12`` do that);
the two cheap cases stand for the rest, which take seconds each.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .conftest import load_bench_module


def test_each_case_has_a_row_and_the_cheap_ones_run_in_a_child() -> None:
    contract = load_bench_module("contract")
    assert set(contract.ROWS) == set(contract.CASES)
    installed = Path(sys.executable).parent  # no module here: the venv's own is imported
    assert contract.measure(installed, "context") is True
    descriptors = contract.measure(installed, "descriptors")
    assert isinstance(descriptors, int)
    assert contract.shown("descriptors", [descriptors]) == f"+{descriptors}"
