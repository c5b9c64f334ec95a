"""tools/check_book_links.py: broken internal links in the built book fail the build."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.check_book_links import check, main


def write(root: Path, relative: str, body: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A tiny built book whose links all resolve."""
    write(
        tmp_path,
        "index.html",
        '<h1 id="top">Intro</h1>'
        '<a href="chapter.html">chapter</a>'
        '<a href="chapter.html#usage">usage</a>'
        '<a href="#top">self</a>'
        '<a href="sub/">folder index</a>'
        '<a href="https://pyo3.rs/v0.30/">external</a>'
        '<a href="mailto:someone@example.invalid">mail</a>'
        '<script src="book.js"></script>',
    )
    write(tmp_path, "chapter.html", '<h2 id="usage">Usage</h2><a href="sub/deep.html#x">deep</a>')
    write(tmp_path, "sub/index.html", '<a href="../index.html#top">up</a>')
    write(tmp_path, "sub/deep.html", '<a name="x"></a><img src="../img/pic.png">')
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "pic.png").write_bytes(b"\x89PNG")
    (tmp_path / "book.js").write_text("", encoding="utf-8")
    # mdBook's 404 page: a <base href="/"> and a heading that links to itself.
    write(tmp_path, "404.html", '<base href="/"><h1 id="nf"><a href="#nf">404</a></h1>')
    return tmp_path


def test_a_book_whose_links_resolve_passes(site: Path) -> None:
    broken, external, checked = check(site)
    assert broken == []
    assert checked == 9
    assert external == {"https://pyo3.rs/v0.30/", "mailto:someone@example.invalid"}
    assert main(site) == 0


def test_link_to_a_missing_file_is_reported(site: Path) -> None:
    write(site, "chapter.html", '<h2 id="usage"></h2><a href="missing.html">gone</a>')
    broken, _, _ = check(site)
    assert broken == ["chapter.html: missing.html: no file missing.html"]
    assert main(site) == 1


def test_link_to_a_missing_fragment_is_reported(site: Path) -> None:
    write(site, "sub/index.html", '<a href="../chapter.html#nowhere">up</a>')
    broken, _, _ = check(site)
    assert broken == ["sub/index.html: ../chapter.html#nowhere: no id 'nowhere' in chapter.html"]


def test_missing_fragment_on_the_same_page_is_reported(site: Path) -> None:
    write(site, "index.html", '<h1 id="top"></h1><a href="#absent">self</a>')
    broken, _, _ = check(site)
    assert broken == ["index.html: #absent: no id 'absent' in index.html"]


def test_external_links_are_listed_never_fetched(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(site) == 0
    out = capsys.readouterr().out
    assert "external (not fetched): https://pyo3.rs/v0.30/" in out


def test_missing_build_folder_is_an_error_not_a_pass(tmp_path: Path) -> None:
    assert main(tmp_path / "nothing") == 2
