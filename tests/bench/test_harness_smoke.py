"""Smoke test of the benchmark harness: ``bench/run.py --quick`` runs every in-process
scenario and writes a complete, positive report.

It measures nothing worth quoting (tiny sizes, no HTTP, no cargo); it only keeps the
harness working as the stages grow. Run it against the newest stage (``--stage NN``).
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, Path]:
    """The harness module, and the folder where one quick run wrote its reports."""
    harness = load_harness()
    out = tmp_path_factory.mktemp("bench")
    harness.main(["--quick", "--no-http", "--no-cargo", "--out", str(out)])
    return harness, out


def test_quick_run_reports_every_scenario_with_positive_numbers(
    quick_run: tuple[ModuleType, Path],
) -> None:
    harness, out = quick_run
    expected = {s.id for s in harness.scenarios(harness.QUICK)}

    results = json.loads((out / "results.json").read_text())
    assert {s["id"] for s in results["scenarios"]} == expected
    for scenario in results["scenarios"]:
        for side in ("rust", "python"):
            samples = scenario[side]["samples_s"]
            assert len(samples) == scenario["repeats"], scenario["id"]
            assert all(math.isfinite(t) and t > 0 for t in samples), scenario["id"]
            assert 0 < scenario[side]["median_s"] <= scenario[side]["p90_s"], scenario["id"]
        assert scenario["ratio"] > 0
    machine = results["machine"]
    assert machine["cpu_count"] >= 1
    assert machine["pyo3"] != "unknown"
    assert machine["tokio"] != "unknown"
    assert results["settings"]["quick"] is True


def test_quick_run_writes_a_table_row_and_a_chart_bar_per_scenario(
    quick_run: tuple[ModuleType, Path],
) -> None:
    _, out = quick_run
    results: dict[str, Any] = json.loads((out / "results.json").read_text())

    table = (out / "results.md").read_text()
    svg = ET.parse(out / "chart.svg").getroot()  # well-formed XML
    bars = [e for e in svg.iter("{http://www.w3.org/2000/svg}rect") if e.get("fill") != "white"]
    assert len(bars) == len(results["scenarios"])
    for scenario in results["scenarios"]:
        assert f"| {scenario['ratio']:.2f} |" in table
