"""Smoke test of the benchmark harness: ``bench/run.py --quick`` runs every row in every
column against the installed stage and writes a complete, positive report.

It measures nothing worth quoting (tiny sizes, one round, one-second loads); it keeps the
harness working as the stages grow. Run it against the newest stage (``--stage NN``), with
redis-server and wrk installed (`just test` installs both before it runs).
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .conftest import load_bench_module


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, dict[str, Any], Path]:
    """The harness's workloads module, the results of one quick run, and its folder."""
    harness = load_bench_module("run")
    out = tmp_path_factory.mktemp("bench")
    harness.main(["--quick", "--installed", "--no-cargo", "--rounds", "1", "--out", str(out)])
    results = json.loads((out / "results.json").read_text())
    return load_bench_module("workloads"), results, out


# The whole quick run (about a minute, most of it wrk) happens once, in the fixture.
pytestmark = pytest.mark.timeout(300)


def test_every_row_is_measured_in_every_column_with_positive_numbers(
    quick_run: tuple[ModuleType, dict[str, Any], Path],
) -> None:
    workloads, results, _ = quick_run
    columns = results["settings"]["columns"]
    assert list(columns) == ["asyncio", "uvloop", "installed"]
    expected = [row.id for row in workloads.rows(workloads.QUICK) if not row.bridges]
    assert [row["id"] for row in results["rows"]] == expected
    for row in results["rows"]:
        assert set(row["columns"]) == set(columns), row["id"]
        for figures in row["columns"].values():
            (child,) = figures["children"]  # one round: one child process
            samples = child["samples_s"]
            assert samples, row["id"]
            assert all(math.isfinite(t) and t > 0 for t in samples), row["id"]
            assert figures["range"][0] <= figures["median"] <= figures["range"][1]
            if row["io"]:
                assert 0 < figures["p99"]["median"] < 60, row["id"]
        assert set(row["ratios"]) == {"uvloop", "installed"}
        assert all(ratio > 0 for ratio in row["ratios"].values())
    # The newest stage has the hand-written bridge: one future through both of its bridges.
    bridges = results["bridges"]
    assert bridges is not None, "the installed stage has no bridge of its own: `just step NN`"
    assert set(bridges["columns"]) == {"library", "installed"}
    assert bridges["ratio"] > 0
    machine = results["machine"]
    assert machine["pyo3"] != "unknown"
    assert machine["packages"]["redis"] != "not installed"


def test_every_server_serves_every_endpoint_of_both_apps(
    quick_run: tuple[ModuleType, dict[str, Any], Path],
) -> None:
    _, results, _ = quick_run
    seen = {(entry["server"], entry["endpoint"]) for entry in results["servers"]}
    assert seen == {
        (server, endpoint)
        for server in ("uvicorn", "uvicorn-uvloop", "granian")
        for endpoint in ("ready", "woken", "cpu")
    }
    for entry in results["servers"]:
        for app in ("twin", "installed"):
            figures = entry["apps"][app]
            assert figures["requests_per_s"] > 0, (entry["server"], entry["endpoint"], app)
            assert figures["p99_ms"] >= figures["p50_ms"] > 0
        assert entry["ratios"]["installed"] > 0


def test_the_report_has_a_decision_row_per_row_and_a_chart_bar_per_ratio(
    quick_run: tuple[ModuleType, dict[str, Any], Path],
) -> None:
    _, results, out = quick_run
    report = load_bench_module("report")
    table = (out / "results.md").read_text()
    decision = table.split("<!-- ANCHOR: decision -->")[1].split("<!-- ANCHOR_END: decision -->")[0]
    for row in results["rows"]:
        assert f"| {row['title']} | {report.fmt_ratio(row['ratios']['uvloop'])} (" in decision
    served = [line for line in decision.splitlines() if line.startswith("| served by uvicorn")]
    assert len(served) == 3
    svg = ET.parse(out / "chart.svg").getroot()  # well-formed XML
    rects = [e for e in svg.iter("{http://www.w3.org/2000/svg}rect") if e.get("height") == "10"]
    # Two columns beside the baseline, for each row and each endpoint served by uvicorn.
    assert len(rects) == 2 * (len(results["rows"]) + 3)
