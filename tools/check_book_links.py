"""Fail when a link inside the built book points nowhere.

Runs after ``mdbook build``, on the HTML in ``book/build``. Every internal link (``href``
or ``src`` without a scheme) must resolve to a file of the build, and when it carries a
``#fragment``, that file must have an element with that ``id`` (or an ``<a name>``).
External links (``http:``, ``https:``, ``mailto:``...) are listed, never fetched: the
check needs no network and gives the same answer every time.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

LINK_ATTRIBUTES = frozenset({"href", "src"})


@dataclass
class Page:
    """What one HTML file offers (its ids) and asks for (its links)."""

    ids: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)
    base: str | None = None


class PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.page.ids.add(value)
            elif tag == "base" and name == "href":
                self.page.base = value
            elif name in LINK_ATTRIBUTES:
                self.page.links.append(value)

    handle_startendtag = handle_starttag


def parse(path: Path) -> Page:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser.page


def is_external(link: str) -> bool:
    parts = urlsplit(link)
    return bool(parts.scheme) or link.startswith("//")


def resolve(root: Path, page_path: Path, base: str | None, link: str) -> tuple[Path, str]:
    """The file and fragment a link of ``page_path`` points to."""
    # Resolve as URLs under a fake origin, so "..", "/" and <base href> behave as in a browser.
    origin = "http://book.invalid/"
    page_url = origin + page_path.relative_to(root).as_posix()
    # A bare "#fragment" is checked against its own page, even under a <base href>: mdBook's
    # 404 page sets <base href="/"> and links its heading to itself.
    if base is not None and not link.startswith("#"):
        page_url = urljoin(page_url, base)
    target = urlsplit(urljoin(page_url, link))
    relative = unquote(target.path).lstrip("/")
    file = root / relative
    if relative == "" or relative.endswith("/") or file.is_dir():
        file = file / "index.html"
    return file, unquote(target.fragment)


def check(root: Path) -> tuple[list[str], set[str], int]:
    """The broken links (as messages), the external links, and how many links were checked."""
    pages = {path: parse(path) for path in sorted(root.rglob("*.html"))}
    broken: list[str] = []
    external: set[str] = set()
    checked = 0
    for path, page in pages.items():
        for link in page.links:
            if link.startswith(("javascript:", "data:")):
                continue
            if is_external(link):
                external.add(link)
                continue
            checked += 1
            target, fragment = resolve(root, path, page.base, link)
            where = f"{path.relative_to(root)}: {link}"
            if not target.is_file():
                broken.append(f"{where}: no file {target.relative_to(root)}")
            elif fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if fragment not in ids:
                    broken.append(f"{where}: no id {fragment!r} in {target.relative_to(root)}")
    return broken, external, checked


def main(root: Path) -> int:
    if not root.is_dir():
        print(f"no built book at {root}; run `just book-build` first", file=sys.stderr)
        return 2
    broken, external, checked = check(root)
    for link in sorted(external):
        print(f"external (not fetched): {link}")
    for problem in broken:
        print(f"broken: {problem}", file=sys.stderr)
    print(
        f"checked {checked} internal links in {root}: {len(broken)} broken; "
        f"{len(external)} distinct external links listed above"
    )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("book/build")))
