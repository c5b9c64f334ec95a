"""tools/step_diff.py: the generated "What changed since the last step" pages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.step_diff import main, write_all


def make_step(root: Path, name: str, files: dict[str, str | bytes]) -> Path:
    folder = root / "steps" / name
    for relative, content in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


@pytest.fixture
def two_steps(tmp_path: Path) -> Path:
    """Two neighbouring stages: lib.rs changed, a module added, a file removed, junk."""
    make_step(
        tmp_path,
        "step-01-first",
        {
            "src/lib.rs": "mod a;\nfn one() {}\n",
            "app.py": "x = 1\n",
            "notes.txt": "gone\nin step 02\n",
            "target/release/big.rlib": "old build output\n",
        },
    )
    make_step(
        tmp_path,
        "step-02-second",
        {
            "src/lib.rs": "mod a;\nmod b;\nfn one() {}\nfn two() {}\n",
            "src/b.rs": "pub fn b() {}\n",
            "app.py": "x = 1\n",
            "target/release/big.rlib": "new build output\n",
            "__pycache__/app.cpython-311.pyc": b"\x00\xff",
            "fastapi_async.abi3.so": b"\x7fELF\x00\xff",
        },
    )
    return tmp_path


def test_writes_one_page_per_stage_with_a_predecessor(two_steps: Path) -> None:
    written = write_all(two_steps / "steps", two_steps / "out")
    assert [p.name for p in written] == ["02-changes.md"]


def test_table_lists_added_removed_and_changed_files_with_line_counts(two_steps: Path) -> None:
    write_all(two_steps / "steps", two_steps / "out")
    page = (two_steps / "out" / "02-changes.md").read_text(encoding="utf-8")
    assert "| `src/lib.rs` | changed | +2 -0 |" in page
    assert "| `src/b.rs` | added | +1 |" in page
    assert "| `notes.txt` | removed | -2 |" in page
    assert "1 unchanged" in page
    assert "`app.py` |" not in page


def test_build_outputs_and_caches_are_ignored(two_steps: Path) -> None:
    write_all(two_steps / "steps", two_steps / "out")
    page = (two_steps / "out" / "02-changes.md").read_text(encoding="utf-8")
    assert "target/" not in page
    assert "__pycache__" not in page
    assert ".so" not in page


def test_teaching_files_are_diffed_and_new_sources_only_listed(two_steps: Path) -> None:
    write_all(two_steps / "steps", two_steps / "out")
    page = (two_steps / "out" / "02-changes.md").read_text(encoding="utf-8")
    assert "```diff\n--- step-01-first/src/lib.rs\n+++ step-02-second/src/lib.rs\n" in page
    assert "+mod b;\n" in page
    assert "+fn two() {}\n" in page
    assert "New files (the chapter shows the parts that matter): `src/b.rs`." in page
    assert "pub fn b()" not in page
    assert "gone" not in page


def test_fence_is_longer_than_backticks_inside_the_diff(tmp_path: Path) -> None:
    make_step(tmp_path, "step-01-a", {"app.py": '"""Doc."""\n'})
    make_step(tmp_path, "step-02-b", {"app.py": '"""Doc with\n```sh\ncurl\n```\n"""\n'})
    write_all(tmp_path / "steps", tmp_path / "out")
    page = (tmp_path / "out" / "02-changes.md").read_text(encoding="utf-8")
    assert "````diff\n" in page
    assert page.count("````\n") == 1


def test_unchanged_output_is_not_rewritten(two_steps: Path) -> None:
    out = two_steps / "out"
    (page,) = write_all(two_steps / "steps", out)
    os.utime(page, ns=(0, 0))  # a rewrite would set a current mtime
    write_all(two_steps / "steps", out)
    assert page.stat().st_mtime_ns == 0


def test_command_line_writes_into_the_given_folder(two_steps: Path) -> None:
    assert main(["--steps", str(two_steps / "steps"), "--out", str(two_steps / "gen")]) == 0
    assert (two_steps / "gen" / "02-changes.md").is_file()
