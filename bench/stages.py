"""Stages side by side: each built once into a folder of its own, imported by child processes.

One interpreter can import one ``fastapi_async``, so a harness that compares two stages runs
each in its own process: ``build`` unpacks a stage's release wheel into
``target/bench/stages/NN``, and ``env_for`` puts that folder first on ``PYTHONPATH``, ahead
of whatever ``just step`` installed into ``.venv``. ``bench/run.py`` and
``bench/contract.py`` both work this way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS_DIR = ROOT / "steps"
BUILDS_DIR = ROOT / "target" / "bench" / "stages"


def stage_dir(stage: str) -> Path:
    """The folder of stage ``stage`` ("10"): ``steps/step-10-scaling-out``."""
    return next(STEPS_DIR.glob(f"step-{stage}-*"))


def all_stages() -> list[str]:
    return [d.name.split("-")[1] for d in sorted(STEPS_DIR.glob("step-[0-9][0-9]-*"))]


def has_bridge(stage: str) -> bool:
    """Whether stage ``stage`` has a bridge of its own (steps 11 on) instead of the library."""
    return (stage_dir(stage) / "src/bridge.rs").exists()


def app_stage() -> str:
    """The newest stage on pyo3-async-runtimes (no bridge of its own): what `just app` serves."""
    return [s for s in all_stages() if not has_bridge(s)][-1]


def newest_stage() -> str:
    """The newest stage of all: the hand-written bridge's last step."""
    return all_stages()[-1]


def build(stage: str) -> Path:
    """Builds stage ``stage`` in release mode, unpacks its module, and returns the folder."""
    into = BUILDS_DIR / stage
    with tempfile.TemporaryDirectory() as wheels:
        manifest = stage_dir(stage) / "Cargo.toml"
        maturin = Path(sys.executable).with_name("maturin")
        subprocess.run(
            [maturin, "build", "--release", "--quiet", "--manifest-path", manifest, "-o", wheels],
            check=True,
        )
        (wheel,) = Path(wheels).glob("*.whl")
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade"]
        subprocess.run([*pip, "--target", into, wheel], check=True)
    return into


def env_for(build_dir: Path | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment, with ``build_dir``'s ``fastapi_async`` imported first
    (``None``: the one installed in ``.venv``)."""
    env = {**os.environ, **(extra or {})}
    if build_dir is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(build_dir), env.get("PYTHONPATH")]))
    return env
