"""tools/exercises.py: the exercises' runner (`just exercises`, `exercise`, `test-exercises`).

Most tests feed the runner's parsing and reporting canned input. A few run pytest on a tiny
fake exercise written in Python (no Rust to build), and one asks cargo for the real
exercises' metadata; none builds a crate.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tools import exercises as ex
from tools.exercises import (
    Build,
    Exercise,
    ExerciseError,
    Failure,
    Outcome,
    Statuses,
    SuiteRun,
    Verdict,
)


def package(folder: str, module: str, description: str = "") -> dict[str, Any]:
    return {
        "name": f"exercise-{folder}",
        "manifest_path": f"/x/exercises/{folder}/Cargo.toml",
        "description": description,
        "targets": [{"name": module, "kind": ["cdylib"]}],
    }


def metadata(order: list[str], folders: list[str]) -> dict[str, Any]:
    return {
        "metadata": {"exercises": {"order": order}},
        "packages": [package(f, f"ex_{f.replace('-', '_')}", f"about {f}") for f in folders],
    }


def exercise(root: Path, name: str, files: dict[str, str]) -> Exercise:
    """A fake exercise folder under ``root`` with the given files."""
    folder = root / name
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return Exercise(name, folder, f"exercise-{name}", f"ex_{name[3:]}", f"about {name}")


def outcome(*, built: bool = True, code: int = 0, total: int = 3, failed: int = 0) -> Outcome:
    failures = [Failure(f"test_{i}", "wrong") for i in range(failed)]
    build = Build(library=Path("lib.so") if built else None)
    runs = [SuiteRun("pytest", code, total, failures, "")] if built else []
    return Outcome(build, runs)


# --------------------------------------------------------------------------- discovery


def test_exercises_come_in_the_order_the_workspace_gives() -> None:
    found = ex.exercises_from_metadata(metadata(["02-b", "01-a"], ["01-a", "02-b"]))
    assert [e.name for e in found] == ["02-b", "01-a"]
    assert found[1].module == "ex_01_a"
    assert found[1].package == "exercise-01-a"
    assert found[1].summary == "about 01-a"
    assert found[1].folder == Path("/x/exercises/01-a")


@pytest.mark.parametrize(
    ("order", "folders"),
    [(["01-a"], ["01-a", "02-b"]), (["01-a", "02-b"], ["01-a"]), (["01-a", "01-a"], ["01-a"])],
)
def test_the_order_must_name_each_folder_once(order: list[str], folders: list[str]) -> None:
    with pytest.raises(ExerciseError, match="must name each exercise folder once"):
        ex.exercises_from_metadata(metadata(order, folders))


def test_a_workspace_without_an_order_is_an_error() -> None:
    with pytest.raises(ExerciseError, match=r"\[workspace.metadata.exercises\]"):
        ex.exercises_from_metadata({"metadata": None, "packages": []})


def test_unknown_names_get_suggestions(tmp_path: Path) -> None:
    known = [exercise(tmp_path, n, {}) for n in ["01-echo-after", "02-lengths"]]
    assert ex.find(known, "exercises/02-lengths/").name == "02-lengths"
    with pytest.raises(ExerciseError, match=r"Did you mean 01-echo-after\?"):
        ex.find(known, "01-echo")
    with pytest.raises(ExerciseError, match="There is no exercise 'zzz'"):
        ex.find(known, "zzz")


def test_the_real_exercises_are_complete() -> None:
    found = ex.discover(ex.EXERCISES)
    assert len(found) >= 14
    assert [e.name[:2] for e in found] == sorted(e.name[:2] for e in found)
    for each in found:
        assert ex.layout_problems(each) == [], each.name
        assert each.module.startswith("ex"), each.name
        assert "fastapi_async" not in each.module


def test_an_unknown_exercise_exits_with_2_and_names_the_others(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert ex.main(["check", "no-such-exercise"]) == 2
    assert "There is no exercise 'no-such-exercise'" in capsys.readouterr().err


# --------------------------------------------------------------------------- parsing


def test_cargo_messages_give_each_crate_its_library_and_diagnostics(tmp_path: Path) -> None:
    first = exercise(tmp_path, "01-a", {"Cargo.toml": ""})
    second = exercise(tmp_path, "02-b", {"Cargo.toml": ""})
    manifest = str(first.folder / "Cargo.toml")

    def diagnostic(level: str, message: str) -> str:
        body = {"level": level, "message": message, "rendered": f"{level}: {message}\n"}
        return json.dumps(
            {"reason": "compiler-message", "manifest_path": manifest, "message": body}
        )

    lines = [
        "not json: cargo may print other lines",
        json.dumps({"reason": "compiler-artifact", "manifest_path": "/elsewhere/Cargo.toml"}),
        diagnostic("warning", "unused variable: `x`"),
        diagnostic("warning", "1 warning emitted"),
        json.dumps(
            {
                "reason": "compiler-artifact",
                "manifest_path": manifest,
                "target": {"kind": ["cdylib"]},
                "filenames": ["/t/debug/libex_a.so"],
            }
        ),
    ]
    builds = ex.parse_cargo_messages(lines, [first, second])
    assert builds["01-a"].library == Path("/t/debug/libex_a.so")
    assert builds["01-a"].diagnostics == ["warning: unused variable: `x`\n"]
    assert builds["01-a"].warnings == 1
    assert builds["02-b"].library is None, "no artifact: the crate did not compile"


def test_junit_failures_keep_the_test_s_own_message(tmp_path: Path) -> None:
    xml = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite>
      <testcase classname="t" name="test_ok"/>
      <testcase classname="t" name="test_assert">
        <failure message="AssertionError: got 3: count characters&#10;assert 3 == 2">tb</failure>
      </testcase>
      <testcase classname="t" name="test_stub">
        <failure message="Failed: still the starter's todo!()">tb</failure>
      </testcase>
      <testcase classname="t" name="test_fixture">
        <error message='failed on setup with "Failed: still a stub"'>tb</error>
      </testcase>
      <testcase classname="t" name="test_fixture"><error message="teardown">tb</error></testcase>
    </testsuite></testsuites>"""
    total, failures = ex.parse_junit(xml)
    assert total == 4
    assert failures == [
        Failure("test_assert", "got 3: count characters"),
        Failure("test_stub", "still the starter's todo!()"),
        Failure("test_fixture", "still a stub"),
    ]


def test_a_bare_assert_keeps_pytest_s_explanation() -> None:
    message = "assert [1, 2] == [1, 3]\n  At index 1 diff: 2 != 3"
    assert ex.clean_message(message) == message


def test_libtest_output_gives_each_failure_its_last_panic() -> None:
    output = """
running 3 tests
test fine ... ok
test skipped ... ignored
test broken ... FAILED

failures:

---- broken stdout ----

thread 'broken' (7) panicked at src/lib.rs:3:5:
not yet implemented: write it
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

thread 'broken' (7) panicked at tests/t.rs:9:9:
still the starter's todo!(): write it.


failures:
    broken

test result: FAILED. 1 passed; 1 failed; 1 ignored
"""
    total, failures = ex.parse_libtest("\x1b[31m" + output + "\x1b[0m")
    assert total == 3
    assert failures == [Failure("broken", "still the starter's todo!(): write it.")]


def test_a_run_that_could_not_test_says_why() -> None:
    assert SuiteRun("pytest", -6, 0, [], "").problem == "the pytest process was killed by SIGABRT"
    assert "could not run the tests" in (SuiteRun("pytest", 2, 0, [], "").problem or "")
    assert "did not build" in (SuiteRun("cargo test", 101, 0, [], "").problem or "")
    assert SuiteRun("pytest", 1, 3, [Failure("t", "m")], "").problem is None
    assert SuiteRun("pytest", 0, 3, [], "").passed


# --------------------------------------------------------------------------- statuses


def test_the_digest_sees_the_reader_s_files_but_not_the_solution(tmp_path: Path) -> None:
    one = exercise(tmp_path, "01-a", {"src/lib.rs": "start", "solution/src/lib.rs": "answer"})
    shared = [tmp_path / "Cargo.toml"]
    before = ex.digest(one, shared)
    (one.folder / "solution" / "src" / "lib.rs").write_text("another answer")
    (one.folder / "target").mkdir()
    (one.folder / "target" / "libex.so").write_text("build output")
    assert ex.digest(one, shared) == before
    (one.folder / "src" / "lib.rs").write_text("edited")
    assert ex.digest(one, shared) != before
    edited = ex.digest(one, shared)
    (tmp_path / "Cargo.toml").write_text("[workspace]")
    assert ex.digest(one, shared) != edited


def test_statuses_survive_a_reload_and_forget_a_changed_digest(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    Statuses(path).set("01-a", "d1", True)
    reloaded = Statuses(path)
    assert reloaded.get("01-a", "d1") is True
    assert reloaded.get("01-a", "d2") is None
    assert reloaded.get("02-b", "d1") is None
    path.write_text("not json")
    assert Statuses(path).get("01-a", "d1") is None


def test_the_next_exercise_is_the_first_pending_one_after_this_one(tmp_path: Path) -> None:
    names = ["01-a", "01-b", "02-a", "02-b"]
    all_four = [exercise(tmp_path, n, {}) for n in names]
    done = {"01-a": True, "01-b": True, "02-a": False}

    def following(after: str) -> str | None:
        found = ex.next_pending(all_four, done, after)
        return None if found is None else found.name

    assert following("01-a") == "02-a"
    assert following("02-a") == "02-b"
    assert following("02-b") == "02-a", "wraps around to an earlier pending one"
    assert following("") == "02-a"
    assert ex.next_pending(all_four, dict.fromkeys(names, True), "02-b") is None


# --------------------------------------------------------------------------- reports


def test_a_build_failure_says_where_to_fix_it(tmp_path: Path) -> None:
    one = exercise(tmp_path, "01-a", {"src/lib.rs": "", "solution/src/lib.rs": "", "README.md": ""})
    report = ex.check_report(one, outcome(built=False), None)
    assert "does not build yet" in report
    assert f"Fix them in {one.folder / 'src' / 'lib.rs'}" in report
    assert "just exercise 01-a" in report
    assert 'open "Hint"' in report


def test_a_failure_report_groups_the_tests_by_message(tmp_path: Path) -> None:
    one = exercise(tmp_path, "01-a", {"solution/app.py": ""})
    failures = [Failure("test_a", "todo"), Failure("test_b", "todo"), Failure("test_c", "slow")]
    failed = Outcome(Build(library=Path("x.so")), [SuiteRun("pytest", 1, 5, failures, "")])
    report = ex.check_report(one, failed, None)
    assert "✗ 01-a: 3 of 5 tests fail." in report
    assert "  - test_a (and 1 more)\n      todo\n  - test_c\n      slow" in report
    assert f"Edit {one.folder / 'app.py'}, then run `just exercise 01-a` again." in report


def test_a_success_report_names_the_next_exercise(tmp_path: Path) -> None:
    one, two = exercise(tmp_path, "01-a", {}), exercise(tmp_path, "01-b", {})
    report = ex.check_report(one, outcome(), two)
    assert "✓ 01-a: all 3 tests pass." in report
    assert "Next: 01-b (about 01-b)" in report
    assert "`just exercise 01-b`" in report
    assert "Every exercise is done." in ex.check_report(one, outcome(), None)


def test_the_summary_line_counts_what_was_proven(tmp_path: Path) -> None:
    one = exercise(tmp_path, "01-a", {})
    verdicts = [
        Verdict(one, outcome(code=1, failed=2), outcome()),  # as it should be
        Verdict(one, outcome(), outcome()),  # the starter passes: not proven
        Verdict(one, outcome(code=-11, total=0), outcome()),  # the starter crashed
        Verdict(one, outcome(built=False), outcome(code=1, failed=1)),  # neither
    ]
    assert ex.summary_line(verdicts) == "exercises: 4 checked, 1 starters fail, 3 solutions pass"
    assert "starter PASSES all 3 tests (it must fail)" in verdicts[1].describe()
    warned = Verdict(one, outcome(code=1, failed=1), outcome())
    warned.solution.build.warnings = 2
    assert not warned.solution_passes, "a solution must build without warnings"


def test_layout_problems_name_what_an_exercise_lacks(tmp_path: Path) -> None:
    bare = exercise(tmp_path, "01-a", {"README.md": "Do it.", "solution/src/extra.rs": ""})
    problems = ex.layout_problems(bare)
    assert "README.md needs the task and a hint in a <details> block" in problems
    assert "tests/ has no test_*.py" in problems
    assert "solution/src/extra.rs replaces no file of the starter" in problems


# --------------------------------------------------------------------------- scratch copies


def test_sync_rewrites_only_what_differs_and_drops_the_rest(tmp_path: Path) -> None:
    source, tree = tmp_path / "source", tmp_path / "tree"
    exercise(source, "01-a", {"src/lib.rs": "new", "README.md": "same"})
    exercise(source, "target", {"debug/libex.so": "build output"})
    exercise(tree, "01-a", {"src/lib.rs": "old", "README.md": "same", "stale.rs": "gone"})
    os.utime(tree / "01-a" / "README.md", ns=(0, 0))
    ex.sync_tree(source, tree)
    assert (tree / "01-a" / "src" / "lib.rs").read_text() == "new"
    assert (tree / "01-a" / "README.md").stat().st_mtime_ns == 0, "unchanged: not rewritten"
    assert not (tree / "01-a" / "stale.rs").exists()
    assert not (tree / "target").exists()


def test_a_solution_is_copied_over_its_starter(tmp_path: Path) -> None:
    one = exercise(tmp_path, "01-a", {"src/lib.rs": "todo", "solution/src/lib.rs": "done"})
    assert one.solution_files() == ["src/lib.rs"]
    ex.apply_solution(one)
    assert (one.folder / "src" / "lib.rs").read_text() == "done"


def test_a_library_is_installed_under_its_module_name(tmp_path: Path) -> None:
    library = tmp_path / "libex_a.so"
    library.write_bytes(b"first")
    installed = ex.install(library, "ex_a", tmp_path / "python")
    assert installed == tmp_path / "python" / "ex_a.so"
    library.write_bytes(b"second")
    ex.install(library, "ex_a", tmp_path / "python")
    assert installed.read_bytes() == b"second"
    assert sorted(p.name for p in (tmp_path / "python").iterdir()) == ["ex_a.so"]


# --------------------------------------------------------------------------- a fake exercise

FAKE_MODULE = '''
class PanicException(BaseException):
    """Stands in for PyO3's exception of the same name."""


def stub() -> int:
    raise NotImplementedError("stub: return 42")


def todo() -> int:
    import sys
    print("thread 'main' (1) panicked at 99-fake/fake.py:12:5:", file=sys.stderr)
    print("not yet implemented: todo: return 42", file=sys.stderr)
    raise PanicException("not yet implemented: todo: return 42")


def answer() -> int:
    return 42
'''

FAKE_TESTS = """
import fake


def test_answer() -> None:
    assert fake.answer() == 42


def test_stub() -> None:
    assert fake.stub() == 42


def test_todo() -> None:
    assert fake.todo() == 42


def test_wrong() -> None:
    assert fake.answer() == 41, "the answer is off by one"
"""


def test_a_fake_exercise_runs_with_the_shared_conftest(tmp_path: Path) -> None:
    root = tmp_path / "exercises"
    fake = exercise(root, "99-fake", {"fake.py": FAKE_MODULE, "tests/test_fake.py": FAKE_TESTS})
    shutil.copy(ex.EXERCISES / "conftest.py", root / "conftest.py")
    run = ex.run_pytest(fake, root=root, target=tmp_path / "target", echo=False)
    assert run.code == 1, run.output
    assert run.total == 4
    messages = {failure.test: failure.message for failure in run.failures}
    assert sorted(messages) == ["test_stub", "test_todo", "test_wrong"]
    assert messages["test_stub"] == (
        "still the starter's placeholder (stub: return 42): write that part (see README.md)"
    )
    # The panic's location, relative to the folder pytest runs in (the repository).
    todo = messages["test_todo"]
    assert todo.startswith("still the starter's todo!() at "), todo
    assert todo.endswith("99-fake/fake.py:12:5: todo: return 42. Write that part (see README.md).")
    assert messages["test_wrong"] == "the answer is off by one"
    assert run.problem is None
    assert not list(fake.folder.rglob("__pycache__")), "no bytecode in the reader's folder"
