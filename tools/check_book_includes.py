"""Fail when a ``{{#include path:anchor}}`` in the book would render an empty listing.

mdBook reports a missing file, but an anchor that does not exist (or encloses nothing)
silently renders as an empty code block. This script checks every include in
``book/src`` before the book is built: the file exists, and the anchor, when given, has
at least one non-blank line between ``ANCHOR: name`` and ``ANCHOR_END: name``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

INCLUDE = re.compile(r"\{\{#include\s+([^\s:}]+)(?::([A-Za-z0-9_-]+))?\s*\}\}")


def anchored_lines(text: str, anchor: str) -> list[str] | None:
    """The lines between the anchor's start and end markers, or None if either is missing."""
    start = re.search(rf"ANCHOR:\s*{re.escape(anchor)}\b.*\n", text)
    end = re.search(rf"ANCHOR_END:\s*{re.escape(anchor)}\b", text)
    if start is None or end is None or end.start() < start.end():
        return None
    return text[start.end() : end.start()].splitlines()


def problems_in(chapter: Path) -> list[str]:
    problems = []
    for match in INCLUDE.finditer(chapter.read_text(encoding="utf-8")):
        target, anchor = chapter.parent / match.group(1), match.group(2)
        where = f"{chapter}: {match.group(0)}"
        if not target.is_file():
            problems.append(f"{where}: no file {target}")
            continue
        text = target.read_text(encoding="utf-8")
        lines = anchored_lines(text, anchor) if anchor else text.splitlines()
        if lines is None:
            problems.append(f"{where}: no ANCHOR/ANCHOR_END pair named {anchor!r}")
        elif not any(line.strip() for line in lines):
            problems.append(f"{where}: the included text is empty")
    return problems


def main(book_src: Path) -> int:
    chapters = sorted(book_src.rglob("*.md"))
    problems = [p for chapter in chapters for p in problems_in(chapter)]
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"checked the includes of {len(chapters)} chapters: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("book/src")))
