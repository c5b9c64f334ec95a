"""The harnesses of bench/ are scripts that import each other as top-level modules
(``import stages``), as ``python bench/run.py`` does; the smoke tests load them the same way."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load_bench_module(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)
