"""The exercises' runner: list them, check one, prove them all.

    python tools/exercises.py list          # `just exercises`
    python tools/exercises.py check NAME    # `just exercise NAME`
    python tools/exercises.py prove         # `just test-exercises`

Each exercise under ``exercises/`` is a small crate that builds a Python module of its own
(``exercises/Cargo.toml`` is their workspace and gives their order). ``check`` builds the
reader's crate in debug mode with plain cargo (no maturin, nothing installed anywhere),
copies the library into ``target/exercises/python/`` as ``<module>.so`` and runs the
exercise's tests with that folder on ``PYTHONPATH``: ``tests/test_*.py`` with pytest, and
``tests/*.rs`` with ``cargo test`` when there are any. All exercises share one target
folder, so after the first build a check takes seconds. ``list`` checks every exercise the
same way, except that it reuses the last result of an exercise whose files have not changed.

``prove`` does the same on a copy of ``exercises/`` under ``target/exercises-prove/``, with
a target folder of its own: once with the starters (each must build, and its tests must
fail without crashing), once with every solution copied over its starter (each must build
without warnings and pass). It never reads or writes the reader's builds.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EXERCISES = REPO / "exercises"
# The reader's builds, test reports and statuses (`list`, `check`).
READER_TARGET = REPO / "target" / "exercises"
# `prove`'s copy of exercises/ and its own builds: nothing there is the reader's.
PROVE_TARGET = REPO / "target" / "exercises-prove"
# The pytest settings of the repository (strict markers, warnings as errors, asyncio mode).
PYPROJECT = REPO / "pyproject.toml"

# Where each exercise keeps the reference version of the files the reader edits.
SOLUTION = "solution"
# Files of the workspace that every exercise's result depends on.
SHARED_FILES = ("Cargo.toml", "Cargo.lock", "conftest.py", ".cargo/config.toml")
IGNORED_DIRS = frozenset(
    {"target", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv"}
)
IGNORED_SUFFIXES = (".so", ".pyd", ".pyc", ".dylib")
LIBRARY_SUFFIXES = (".so", ".dylib", ".dll")

# rustc's own tallies, sent as messages too; they are not diagnostics about the code.
TALLY = re.compile(r"^(\d+ warnings? emitted|aborting due to .*|\d+ warnings? and \d+ errors?.*)$")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# pytest, then `os._exit`: no interpreter finalization. The exercises use the plain
# pyo3-async-runtimes bridge of steps 01-06, which can abort a process as it exits
# (pyo3-async-runtimes issue #40, the subject of the book's "Exiting cleanly"). By then the
# results are written; a crash after them would only hide them.
PYTEST_MAIN = (
    "import os, sys, pytest; code = pytest.main(sys.argv[1:]); "
    "sys.stdout.flush(); sys.stderr.flush(); os._exit(int(code))"
)


class ExerciseError(Exception):
    """A problem with the exercises themselves or the command line, not with the reader's code."""


# --------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class Exercise:
    """One exercise: a folder of ``exercises/`` with its crate, tests, task and solution."""

    name: str  # the folder's name, e.g. "01-echo-after"
    folder: Path
    package: str  # the Cargo package, e.g. "exercise-01-echo-after"
    module: str  # the library's name: the Python module its tests import
    summary: str  # the package's description: one line for `list`

    @property
    def readme(self) -> Path:
        return self.folder / "README.md"

    def solution_files(self) -> list[str]:
        """The files the reader writes, relative to the folder: those under ``solution/``."""
        return sorted(files_under(self.folder / SOLUTION))

    def has_rust_tests(self) -> bool:
        return any((self.folder / "tests").glob("*.rs"))

    def has_python_tests(self) -> bool:
        return any((self.folder / "tests").glob("test_*.py"))


def ignored(relative: Path) -> bool:
    """Build outputs and caches: never part of an exercise."""
    return bool(IGNORED_DIRS.intersection(relative.parts)) or relative.suffix in IGNORED_SUFFIXES


def files_under(root: Path) -> dict[str, Path]:
    """Every file under ``root`` except build outputs, keyed by its POSIX path."""
    if not root.is_dir():
        return {}
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not ignored(relative):
            found[relative.as_posix()] = path
    return found


def cargo_metadata(root: Path) -> dict[str, Any]:
    command = ["cargo", "metadata", "--no-deps", "--format-version", "1"]
    command += ["--manifest-path", str(root / "Cargo.toml")]
    try:
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ExerciseError("cargo is not on PATH: install Rust (https://rustup.rs)") from None
    if done.returncode != 0:
        raise ExerciseError(f"`cargo metadata` failed in {root}:\n{done.stderr}")
    metadata: dict[str, Any] = json.loads(done.stdout)
    return metadata


def exercises_from_metadata(metadata: dict[str, Any]) -> list[Exercise]:
    """The exercises of a workspace's ``cargo metadata``, in the order its Cargo.toml gives."""
    table = (metadata.get("metadata") or {}).get("exercises") or {}
    order = table.get("order")
    if not isinstance(order, list) or not all(isinstance(name, str) for name in order):
        raise ExerciseError(
            "exercises/Cargo.toml must list every exercise, in order, as "
            "`order = [...]` under [workspace.metadata.exercises]"
        )
    found: dict[str, Exercise] = {}
    for package in metadata["packages"]:
        folder = Path(package["manifest_path"]).parent
        libraries = [t for t in package["targets"] if "cdylib" in t["kind"]]
        if len(libraries) != 1:
            raise ExerciseError(f"{folder}: the crate must build one cdylib, its Python module")
        found[folder.name] = Exercise(
            name=folder.name,
            folder=folder,
            package=package["name"],
            module=libraries[0]["name"],
            summary=package.get("description") or "",
        )
    missing = [name for name in order if name not in found]
    unlisted = [name for name in found if name not in order]
    if missing or unlisted or len(set(order)) != len(order):
        raise ExerciseError(
            "[workspace.metadata.exercises] order must name each exercise folder once; "
            f"not a folder: {missing}, not in the order: {unlisted}"
        )
    return [found[name] for name in order]


def discover(root: Path) -> list[Exercise]:
    return exercises_from_metadata(cargo_metadata(root))


def find(exercises: Sequence[Exercise], name: str) -> Exercise:
    """The exercise called ``name``, or an error that names the closest ones."""
    name = name.strip().rstrip("/").split("/")[-1]
    for exercise in exercises:
        if exercise.name == name:
            return exercise
    names = [e.name for e in exercises]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if not close:
        close = [n for n in names if name and name in n]
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise ExerciseError(
        f"There is no exercise {name!r}.{hint} `just exercises` lists them: {', '.join(names)}"
    )


# --------------------------------------------------------------------------- building


@dataclass
class Build:
    """What cargo made of one exercise's crate."""

    library: Path | None = None  # the built extension module, when the crate compiled
    diagnostics: list[str] = field(default_factory=list)  # rendered compiler messages
    warnings: int = 0
    errors: int = 0


def cargo_env(extension_module: bool) -> dict[str, str]:
    env = dict(os.environ)
    # The interpreter PyO3 builds for: the one running this script (.venv's), which runs
    # the tests too. Always the same value, so cargo never rebuilds PyO3 for a change.
    env["PYO3_PYTHON"] = sys.executable
    if extension_module:
        # What maturin sets for an extension module: do not link libpython; the
        # interpreter that imports the module provides its symbols.
        env["PYO3_BUILD_EXTENSION_MODULE"] = "1"
    else:
        # `cargo test` runs Rust test binaries, which embed the interpreter.
        env.pop("PYO3_BUILD_EXTENSION_MODULE", None)
    return env


def parse_cargo_messages(lines: Iterable[str], exercises: Sequence[Exercise]) -> dict[str, Build]:
    """Each exercise's build, from cargo's ``--message-format json`` output."""
    by_manifest = {(e.folder / "Cargo.toml").resolve(): e.name for e in exercises}
    builds = {e.name: Build() for e in exercises}
    for line in lines:
        if not line.startswith("{"):
            continue
        message = json.loads(line)
        name = by_manifest.get(Path(message.get("manifest_path", "")).resolve())
        if name is None:
            continue
        build = builds[name]
        if message.get("reason") == "compiler-artifact" and "cdylib" in message["target"]["kind"]:
            for filename in message["filenames"]:
                if filename.endswith(LIBRARY_SUFFIXES):
                    build.library = Path(filename)
        elif message.get("reason") == "compiler-message":
            diagnostic = message["message"]
            if TALLY.match(diagnostic.get("message", "")):
                continue
            build.diagnostics.append(diagnostic.get("rendered") or diagnostic["message"])
            if diagnostic.get("level") == "warning":
                build.warnings += 1
            elif diagnostic.get("level") == "error":
                build.errors += 1
    return builds


def build(
    root: Path, target: Path, exercises: Sequence[Exercise], *, echo: bool
) -> tuple[dict[str, Build], str]:
    """Builds the exercises' crates (debug) in one cargo run; also returns cargo's stderr
    when it was captured (``echo=False``). A crate that fails to compile stops no other."""
    color = sys.stdout.isatty() and echo
    command = ["cargo", "build", "--manifest-path", str(root / "Cargo.toml")]
    command += ["--target-dir", str(target), "--keep-going"]
    command += ["--message-format", "json-diagnostic-rendered-ansi" if color else "json"]
    for exercise in exercises:
        command += ["-p", exercise.package]
    done = subprocess.run(
        command,
        cwd=root,  # for exercises/.cargo/config.toml
        env=cargo_env(extension_module=True),
        stdout=subprocess.PIPE,
        stderr=None if echo else subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        check=False,
    )
    return parse_cargo_messages(done.stdout.splitlines(), exercises), done.stderr or ""


def install(library: Path, module: str, folder: Path) -> Path:
    """Copies a built library into ``folder`` under the name Python imports it by."""
    folder.mkdir(parents=True, exist_ok=True)
    destination = folder / (module + (".pyd" if os.name == "nt" else ".so"))
    partial = destination.with_name(destination.name + ".partial")
    shutil.copyfile(library, partial)
    # A new file, renamed into place: a process that has the old one loaded keeps it intact.
    os.replace(partial, destination)
    return destination


# --------------------------------------------------------------------------- running tests


@dataclass(frozen=True)
class Failure:
    test: str
    message: str


@dataclass
class SuiteRun:
    """One run of an exercise's tests (pytest, or cargo test for its Rust tests)."""

    kind: str  # "pytest" or "cargo test"
    code: int  # the process's exit status; negative: killed by that signal
    total: int
    failures: list[Failure]
    output: str

    @property
    def passed(self) -> bool:
        return self.code == 0 and self.total > 0 and not self.failures

    @property
    def problem(self) -> str | None:
        """Why this run says nothing about the code's correctness, if it does not."""
        if self.code < 0:
            try:
                name = signal.Signals(-self.code).name
            except ValueError:
                name = f"signal {-self.code}"
            return f"the {self.kind} process was killed by {name}"
        if self.kind == "pytest" and self.code not in (0, 1):
            return f"pytest could not run the tests (exit status {self.code}; see its output)"
        if self.kind == "cargo test" and self.code != 0 and self.total == 0:
            return "the Rust tests did not build against your code (see cargo's output)"
        if self.code == 0 and self.total == 0:
            return f"{self.kind} found no tests"
        return None


def run(command: Sequence[str], *, cwd: Path, env: dict[str, str], echo: bool) -> tuple[int, str]:
    """Runs ``command`` with stdout and stderr merged, echoing each line when ``echo``."""
    lines = []
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    ) as process:
        assert process.stdout is not None  # stdout=PIPE
        for line in process.stdout:
            lines.append(line)
            if echo:
                sys.stdout.write(line)
                sys.stdout.flush()
        code = process.wait()
    return code, "".join(lines)


def clean_message(message: str, limit: int = 12) -> str:
    """The reader's part of a pytest message: the test's words, not pytest's restatement."""
    setup = re.match(r'^failed on (?:setup|teardown) with "(.*)"$', message, re.DOTALL)
    if setup:
        message = setup.group(1)
    for prefix in ("Failed: ", "AssertionError: "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
            break
    kept: list[str] = []
    for line in message.strip().splitlines():
        # pytest adds `assert <expression>` after the test's own message; keep the message.
        if kept and line.startswith("assert "):
            break
        kept.append(line.rstrip())
    if len(kept) > limit:
        kept = [*kept[:limit], "..."]
    return "\n".join(kept)


def parse_junit(text: str) -> tuple[int, list[Failure]]:
    """The number of tests and the failed ones (with messages), from pytest's junit XML."""
    root = ET.fromstring(text)
    seen: dict[tuple[str, str], Failure | None] = {}
    for case in root.iter("testcase"):
        key = (case.get("classname", ""), case.get("name", "?"))
        for child in case:
            if child.tag in ("failure", "error") and seen.get(key) is None:
                seen[key] = Failure(key[1], clean_message(child.get("message", "")))
                break
        else:
            seen.setdefault(key, None)
    return len(seen), [failure for failure in seen.values() if failure is not None]


def run_pytest(
    exercise: Exercise, *, root: Path, target: Path, echo: bool, color: bool = False
) -> SuiteRun:
    report = target / "reports" / f"{exercise.name}.xml"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    command = [sys.executable, "-c", PYTEST_MAIN, "-c", str(PYPROJECT)]
    # Only the plugins the settings need: a virtual environment may hold others (.venv has
    # hypothesis and schemathesis), and loading them costs about a second per run.
    command += ["-p", "pytest_asyncio.plugin", "-p", "pytest_timeout"]
    # Only exercises/conftest.py and the exercise's own tests: not the repository's tests/.
    command += ["--rootdir", str(root), "--confcutdir", str(root), "-p", "no:cacheprovider"]
    command += ["--junitxml", str(report), "-q", "--color", "yes" if color else "no"]
    command.append(str(exercise.folder / "tests"))
    env = dict(os.environ)
    # The built module first; then the exercise's folder, for the Python a reader writes.
    paths = [str(target / "python"), str(exercise.folder), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the reader's folders
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    # A panic's message and location say what went wrong; a backtrace through the bridge
    # and the interpreter only buries them.
    env["RUST_BACKTRACE"] = "0"
    # From the repository, so that the paths pytest shows are the ones the reader opens.
    code, output = run(command, cwd=REPO, env=env, echo=echo)
    total, failures = 0, list[Failure]()
    if report.is_file():
        total, failures = parse_junit(report.read_text(encoding="utf-8"))
    return SuiteRun("pytest", code, total, failures, output)


def parse_libtest(output: str) -> tuple[int, list[Failure]]:
    """The number of tests and the failed ones (with panic messages), from ``cargo test``."""
    output = ANSI.sub("", output)
    results = re.findall(r"^test (\S+) \.\.\. (ok|FAILED|ignored)", output, re.MULTILINE)
    messages: dict[str, str] = {}
    for name, body in re.findall(
        r"^---- (\S+) stdout ----\n(.*?)(?=^---- |^failures:$|\Z)", output, re.MULTILINE | re.DOTALL
    ):
        lines = body.strip().splitlines()
        # The last panic is the test's verdict (a test may catch a panic and raise its own).
        starts = [i + 1 for i, line in enumerate(lines) if " panicked at " in line]
        start = starts[-1] if starts else 0
        kept = []
        for line in lines[start:]:
            if line.startswith("note: ") or line.startswith("stack backtrace:"):
                break
            kept.append(line)
        messages[name] = "\n".join(kept).strip()
    failures = [
        Failure(name, messages.get(name, "")) for name, outcome in results if outcome == "FAILED"
    ]
    return len(results), failures


def run_rust_tests(exercise: Exercise, *, root: Path, target: Path, echo: bool) -> SuiteRun:
    command = ["cargo", "test", "--manifest-path", str(root / "Cargo.toml"), "-p", exercise.package]
    # A target folder of their own: test binaries link libpython, the modules do not, and
    # one folder for both would rebuild PyO3 at each switch.
    command += ["--target-dir", str(target / "rust-tests"), "--tests"]
    command += ["--color", "always" if echo and sys.stdout.isatty() else "never"]
    env = cargo_env(extension_module=False)
    env["RUST_BACKTRACE"] = "0"  # the panic's message and location are what the reader needs
    code, output = run(command, cwd=root, env=env, echo=echo)
    total, failures = parse_libtest(output)
    return SuiteRun("cargo test", code, total, failures, output)


@dataclass
class Outcome:
    """An exercise checked: built or not, and each of its test runs."""

    build: Build
    runs: list[SuiteRun] = field(default_factory=list)

    @property
    def built(self) -> bool:
        return self.build.library is not None

    @property
    def done(self) -> bool:
        return self.built and bool(self.runs) and all(r.passed for r in self.runs)

    @property
    def total(self) -> int:
        return sum(r.total for r in self.runs)

    @property
    def failures(self) -> list[Failure]:
        return [failure for r in self.runs for failure in r.failures]

    @property
    def problems(self) -> list[str]:
        return [p for r in self.runs if (p := r.problem) is not None]


def evaluate(exercise: Exercise, built: Build, *, root: Path, target: Path, echo: bool) -> Outcome:
    """Runs the tests of an exercise whose crate was built (Rust tests first, if any)."""
    outcome = Outcome(built)
    if built.library is None:
        return outcome
    install(built.library, exercise.module, target / "python")
    if exercise.has_rust_tests():
        if echo:
            print(f"== {exercise.name}: the Rust tests (cargo test)", flush=True)
        outcome.runs.append(run_rust_tests(exercise, root=root, target=target, echo=echo))
    if echo:
        print(f"== {exercise.name}: the Python tests (pytest)", flush=True)
    color = echo and sys.stdout.isatty()
    outcome.runs.append(run_pytest(exercise, root=root, target=target, echo=echo, color=color))
    return outcome


# --------------------------------------------------------------------------- statuses


def digest(exercise: Exercise, shared: Iterable[Path]) -> str:
    """A fingerprint of everything an exercise's result depends on (not its solution)."""
    hasher = hashlib.sha256()
    files = {f"shared/{path.as_posix()}": path for path in shared if path.is_file()}
    files.update(
        (relative, path)
        for relative, path in files_under(exercise.folder).items()
        if not relative.startswith(f"{SOLUTION}/")
    )
    for relative in sorted(files):
        hasher.update(relative.encode() + b"\0" + files[relative].read_bytes() + b"\0")
    return hasher.hexdigest()


def shared_files(root: Path) -> list[Path]:
    return [*(root / name for name in SHARED_FILES), PYPROJECT, Path(__file__).resolve()]


class Statuses:
    """The last result of each exercise, keyed by the digest of its files."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}
        self.entries: dict[str, dict[str, Any]] = loaded if isinstance(loaded, dict) else {}

    def get(self, name: str, fingerprint: str) -> bool | None:
        """Whether the exercise was done when its files last had this digest (None: unknown)."""
        entry = self.entries.get(name)
        if isinstance(entry, dict) and entry.get("digest") == fingerprint:
            return bool(entry.get("done"))
        return None

    def set(self, name: str, fingerprint: str, done: bool) -> None:
        self.entries[name] = {"digest": fingerprint, "done": done}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(self.entries, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(partial, self.path)


def next_pending(
    exercises: Sequence[Exercise], done: dict[str, bool], after: str
) -> Exercise | None:
    """The first exercise after ``after`` that is not done, else the first before it."""
    names = [e.name for e in exercises]
    start = names.index(after) + 1 if after in names else 0
    for exercise in [*exercises[start:], *exercises[:start]]:
        if exercise.name != after and not done.get(exercise.name, False):
            return exercise
    return None


# --------------------------------------------------------------------------- commands


def shown(path: Path) -> str:
    """``path`` relative to the repository (where `just` runs), when it is inside it."""
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return str(path)


def indent(text: str, prefix: str = "      ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def grouped(failures: Sequence[Failure]) -> list[tuple[str, list[str]]]:
    """The failures' messages, each with the tests that failed with it, in order."""
    groups: dict[str, list[str]] = {}
    for failure in failures:
        groups.setdefault(failure.message, []).append(failure.test)
    return list(groups.items())


def check_report(
    exercise: Exercise, outcome: Outcome, following: Exercise | None, *, max_failures: int = 3
) -> str:
    """What `just exercise NAME` says at the end: the verdict and what to do next."""
    command = f"`just exercise {exercise.name}`"
    edit = " and ".join(shown(exercise.folder / f) for f in exercise.solution_files())
    hint = f'  Stuck? The hint is in {shown(exercise.readme)} (open "Hint").'
    lines = []
    if not outcome.built:
        lines.append(f"✗ {exercise.name} does not build yet: the compiler's errors are above.")
        lines.append(f"  Fix them in {edit}, then run {command} again.")
        lines.append(hint)
        return "\n".join(lines)
    if outcome.done:
        lines.append(f"✓ {exercise.name}: all {outcome.total} tests pass. Well done!")
        if outcome.build.warnings:
            lines.append(
                f"  The compiler still warns {outcome.build.warnings} time(s) about your code "
                "(above): worth a look."
            )
        if following is None:
            lines.append("  Every exercise is done.")
        else:
            lines.append(
                f"  Next: {following.name} ({following.summary}). The task is in "
                f"{shown(following.readme)}; check it with `just exercise {following.name}`."
            )
        return "\n".join(lines)
    failures = outcome.failures
    lines.append(f"✗ {exercise.name}: {len(failures)} of {outcome.total} tests fail.")
    lines.extend(f"  {problem}." for problem in outcome.problems)
    groups = grouped(failures)
    for message, tests in groups[:max_failures]:
        others = f" (and {len(tests) - 1} more)" if len(tests) > 1 else ""
        lines.append(f"  - {tests[0]}{others}")
        if message:
            lines.append(indent(message))
    if len(groups) > max_failures:
        more = sum(len(tests) for _, tests in groups[max_failures:])
        lines.append(f"  ... and {more} more (see the output above).")
    lines.append(f"  Edit {edit}, then run {command} again.")
    lines.append(hint)
    return "\n".join(lines)


def check(name: str, *, root: Path = EXERCISES, target: Path = READER_TARGET) -> int:
    exercises = discover(root)
    exercise = find(exercises, name)
    statuses = Statuses(target / "status.json")
    shared = shared_files(root)
    fingerprint = digest(exercise, shared)
    print(f"== {exercise.name}: building your code (debug)", flush=True)
    builds, _ = build(root, target, [exercise], echo=True)
    built = builds[exercise.name]
    for diagnostic in built.diagnostics:
        sys.stdout.write(diagnostic)
    outcome = evaluate(exercise, built, root=root, target=target, echo=True)
    statuses.set(exercise.name, fingerprint, outcome.done)
    done = {e.name: statuses.get(e.name, digest(e, shared)) is True for e in exercises}
    print()
    print(check_report(exercise, outcome, next_pending(exercises, done, exercise.name)))
    return 0 if outcome.done else 1


def list_exercises(*, root: Path = EXERCISES, target: Path = READER_TARGET) -> int:
    exercises = discover(root)
    statuses = Statuses(target / "status.json")
    shared = shared_files(root)
    fingerprints = {e.name: digest(e, shared) for e in exercises}
    unknown = [e for e in exercises if statuses.get(e.name, fingerprints[e.name]) is None]
    builds: dict[str, Build] = {}
    if unknown:
        print(
            f"Running the tests of {len(unknown)} exercise(s) whose files changed since their "
            "last check (the first build compiles PyO3 and Tokio: a minute or so)...",
            file=sys.stderr,
            flush=True,
        )
        builds, _ = build(root, target, unknown, echo=False)
    width = max(len(e.name) for e in exercises)
    done: dict[str, bool] = {}
    for exercise in exercises:
        status = statuses.get(exercise.name, fingerprints[exercise.name])
        if status is None:
            outcome = evaluate(
                exercise, builds[exercise.name], root=root, target=target, echo=False
            )
            status = outcome.done
            statuses.set(exercise.name, fingerprints[exercise.name], status)
        done[exercise.name] = status
        label = "done" if status else "pending"
        print(f"  {label:<8} {exercise.name:<{width}}  {exercise.summary}", flush=True)
    finished = sum(done.values())
    following = next_pending(exercises, done, "")
    print(f"\n{finished} of {len(exercises)} done.", end=" ")
    if following is None:
        print("Every exercise is done.")
    else:
        print(f"Next: `just exercise {following.name}` (the task: {shown(following.readme)}).")
    return 0


# --------------------------------------------------------------------------- prove


def write_if_changed(path: Path, data: bytes) -> bool:
    """Writes ``data`` unless the file already holds it, so cargo rebuilds only real changes
    (it compares modification times)."""
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def sync_tree(source: Path, tree: Path) -> None:
    """Makes ``tree`` a copy of ``source`` without build outputs, rewriting only what differs."""
    wanted = files_under(source)
    for relative, path in wanted.items():
        write_if_changed(tree / relative, path.read_bytes())
    for relative, path in files_under(tree).items():
        if relative not in wanted:
            path.unlink()


def apply_solution(exercise: Exercise) -> None:
    """Copies the exercise's solution over its starter (in a scratch copy, never the reader's)."""
    for relative in exercise.solution_files():
        data = (exercise.folder / SOLUTION / relative).read_bytes()
        write_if_changed(exercise.folder / relative, data)


def layout_problems(exercise: Exercise) -> list[str]:
    """What an exercise lacks to be one: a task with a hint, tests, a solution apart."""
    problems = []
    readme = exercise.readme.read_text(encoding="utf-8") if exercise.readme.is_file() else ""
    if "<details>" not in readme or "Hint" not in readme:
        problems.append("README.md needs the task and a hint in a <details> block")
    if f"just exercise {exercise.name}" not in readme:
        problems.append(f"README.md should give the command `just exercise {exercise.name}`")
    if not exercise.has_python_tests():
        problems.append("tests/ has no test_*.py")
    solution = exercise.solution_files()
    if not solution:
        problems.append("solution/ is empty: the reference solution goes there")
    problems += [
        f"solution/{f} replaces no file of the starter"
        for f in solution
        if not (exercise.folder / f).is_file()
    ]
    return problems


@dataclass
class Verdict:
    exercise: Exercise
    starter: Outcome
    solution: Outcome

    @property
    def starter_fails(self) -> bool:
        """The starter builds, and its tests run to the end and fail."""
        return self.starter.built and not self.starter.problems and not self.starter.done

    @property
    def solution_passes(self) -> bool:
        return self.solution.done and self.solution.build.warnings == 0

    def describe(self) -> list[str]:
        lines = []
        starter, solution = self.starter, self.solution
        if not starter.built:
            lines.append("starter does not build")
        elif starter.problems:
            lines.append("starter: " + "; ".join(starter.problems))
        elif starter.done:
            lines.append(f"starter PASSES all {starter.total} tests (it must fail)")
        else:
            lines.append(f"starter fails {len(starter.failures)} of {starter.total} tests")
        if not solution.built:
            lines.append("solution does not build")
        elif solution.done and solution.build.warnings:
            lines.append(f"solution passes, with {solution.build.warnings} compiler warnings")
        elif solution.done:
            lines.append(f"solution passes {solution.total} tests")
        else:
            details = solution.problems or [f.test for f in solution.failures]
            lines.append("solution FAILS: " + "; ".join(details))
        return lines


def summary_line(verdicts: Sequence[Verdict]) -> str:
    failing = sum(v.starter_fails for v in verdicts)
    passing = sum(v.solution_passes for v in verdicts)
    return f"exercises: {len(verdicts)} checked, {failing} starters fail, {passing} solutions pass"


def show_output(title: str, outcome: Outcome, cargo_stderr: str) -> None:
    print(f"---- {title}", file=sys.stderr)
    for diagnostic in outcome.build.diagnostics:
        sys.stderr.write(diagnostic)
    if not outcome.built and not outcome.build.diagnostics:
        sys.stderr.write(cargo_stderr)
    for suite_run in outcome.runs:
        sys.stderr.write(suite_run.output)
    print("----", file=sys.stderr)


def lint(tree: Path, target: Path, *, clippy: bool) -> list[str]:
    """``cargo fmt --check`` (and, for the solutions, ``cargo clippy -D warnings``) on the
    scratch tree: what the lint recipe checks for the steps. Returns the problems found."""
    commands = [["cargo", "fmt", "--all", "--check", "--manifest-path", str(tree / "Cargo.toml")]]
    if clippy:
        command = ["cargo", "clippy", "--workspace", "--all-targets", "--quiet"]
        command += ["--manifest-path", str(tree / "Cargo.toml"), "--target-dir", str(target)]
        commands.append([*command, "--", "-D", "warnings"])
    problems = []
    for command in commands:
        code, output = run(command, cwd=tree, env=cargo_env(extension_module=True), echo=False)
        if code != 0:
            sys.stderr.write(output)
            problems.append(f"`{' '.join(command[:2])}` failed (its output is above)")
    return problems


def prove(*, source: Path = EXERCISES, work: Path = PROVE_TARGET) -> int:
    started = time.monotonic()
    tree = work / "tree"
    sync_tree(source, tree)
    exercises = discover(tree)
    problems = {e.name: layout_problems(e) for e in exercises}

    print(f"== {len(exercises)} exercises: building the starters (debug, in {shown(work)})")
    lint_problems = [f"starters: {p}" for p in lint(tree, work, clippy=False)]
    builds, starter_stderr = build(tree, work, exercises, echo=False)
    print("== the starters' tests (each must fail)")
    starters = {}
    for exercise in exercises:
        starters[exercise.name] = evaluate(
            exercise, builds[exercise.name], root=tree, target=work, echo=False
        )

    for exercise in exercises:
        apply_solution(exercise)
    print("== building the solutions")
    builds, solution_stderr = build(tree, work, exercises, echo=False)
    lint_problems += [f"solutions: {p}" for p in lint(tree, work, clippy=True)]
    print("== the solutions' tests (each must pass)")
    verdicts = []
    width = max(len(e.name) for e in exercises)
    for exercise in exercises:
        solution = evaluate(exercise, builds[exercise.name], root=tree, target=work, echo=False)
        verdict = Verdict(exercise, starters[exercise.name], solution)
        verdicts.append(verdict)
        ok = verdict.starter_fails and verdict.solution_passes and not problems[exercise.name]
        mark = "ok  " if ok else "FAIL"
        described = ", ".join(verdict.describe() + problems[exercise.name])
        print(f"  {mark} {exercise.name:<{width}}  {described}")
        if not verdict.starter_fails:
            show_output(f"{exercise.name}, starter", verdict.starter, starter_stderr)
        if not verdict.solution_passes:
            show_output(f"{exercise.name}, solution", solution, solution_stderr)
    for problem in lint_problems:
        print(f"  FAIL {problem}")

    print(f"(took {time.monotonic() - started:.0f} s)")
    print(summary_line(verdicts))
    ok = all(v.starter_fails and v.solution_passes for v in verdicts)
    return 0 if ok and not any(problems.values()) and not lint_problems else 1


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list every exercise and whether it is done")
    checking = commands.add_parser("check", help="build one exercise and run its tests")
    checking.add_argument("name", help="the exercise, e.g. 01-echo-after")
    commands.add_parser("prove", help="prove every starter fails and every solution passes")
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        # Line by line, so that a log interleaves this script's lines and cargo's in order.
        sys.stdout.reconfigure(line_buffering=True)
    try:
        if args.command == "list":
            return list_exercises()
        if args.command == "check":
            return check(args.name)
        return prove()
    except ExerciseError as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
