"""Smoke test of ``bench/contract.py``: each case runs in a child process against the
installed stage and answers in the shape the table expects.

It checks the harness, not the bridge (``tests/step_11`` and ``tests/step_12`` do that);
the two cheap cases stand for the rest, which take seconds each.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_contract() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_contract", ROOT / "bench" / "contract.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_each_case_has_a_row_and_the_cheap_ones_run_in_a_child() -> None:
    contract = load_contract()
    assert set(contract.ROWS) == set(contract.CASES)
    installed = Path(sys.executable).parent  # no module here: the venv's own is imported
    assert contract.measure(installed, "context") is True
    descriptors = contract.measure(installed, "descriptors")
    assert isinstance(descriptors, int)
    assert contract.shown("descriptors", [descriptors]) == f"+{descriptors}"
