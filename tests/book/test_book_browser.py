"""The built book in a real browser: chapters render their listings, and search answers.

Runs against ``book/build`` (``just book-check`` builds it first) in Debian's headless
Chromium, driven by Selenium through Debian's ``chromedriver``; nothing is downloaded.
The book is served over HTTP from a local port, as a reader's browser would load it.
A screenshot of the step 01 chapter is kept in ``book/build/screenshots/`` for CI.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from ..servers import serve_http_in_thread

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "book" / "build"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
# The book mirrors the steps: steps/step-NN-name/ has the chapter NN-name.
STEP_CHAPTERS = sorted(f"{d.name.removeprefix('step-')}.html" for d in ROOT.glob("steps/step-*"))
WAIT_S = 15


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The built book, served on a free local port for the module's tests."""
    if not (BUILD / "index.html").is_file():
        pytest.fail(f"no built book in {BUILD}; run `just book-check`")
    handler = functools.partial(QuietHandler, directory=str(BUILD))
    with serve_http_in_thread(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        yield f"{url}/"


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a fresh profile, closed after the module's tests."""
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not os.access(binary, os.X_OK):
            pytest.fail(f"{binary} is missing; `just book-check` installs it with apt-get")
    profile = tempfile.mkdtemp(prefix="book-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_every_step_has_its_chapter() -> None:
    assert len(STEP_CHAPTERS) >= 11, STEP_CHAPTERS
    missing = [chapter for chapter in STEP_CHAPTERS if not (BUILD / chapter).is_file()]
    assert missing == [], f"steps without a chapter in book/build: {missing}"


@pytest.mark.parametrize("chapter", STEP_CHAPTERS)
def test_step_chapter_renders_its_listings_highlighted(
    browser: webdriver.Chrome, base_url: str, chapter: str
) -> None:
    browser.get(base_url + chapter)
    title = browser.find_element(By.CSS_SELECTOR, "main h1").text
    assert title.startswith("Step"), title
    # highlight.js marks each listing it processed with .hljs and wraps tokens in spans.
    WebDriverWait(browser, WAIT_S).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "pre code.hljs .hljs-keyword")
    )
    listings = browser.find_elements(By.CSS_SELECTOR, "pre code.hljs")
    assert len(listings) >= 2, chapter
    assert "{{#include" not in browser.find_element(By.TAG_NAME, "main").text


def test_step_01_chapter_screenshot_is_kept(browser: webdriver.Chrome, base_url: str) -> None:
    browser.get(base_url + "01-basic-future.html")
    WebDriverWait(browser, WAIT_S).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "code.language-rust.hljs .hljs-keyword")
    )
    shots = BUILD / "screenshots"
    shots.mkdir(exist_ok=True)
    target = shots / "01-basic-future.png"
    assert browser.save_screenshot(str(target))
    assert target.read_bytes().startswith(b"\x89PNG")


def test_generated_step_diff_renders_as_a_highlighted_diff(
    browser: webdriver.Chrome, base_url: str
) -> None:
    browser.get(base_url + "02-concurrency.html")
    WebDriverWait(browser, WAIT_S).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "code.language-diff .hljs-addition")
    )
    table = browser.find_element(By.XPATH, "//table[.//code[text()='src/batch.rs']]")
    assert "added" in table.text


def test_search_finds_the_chapter_that_introduces_a_term(
    browser: webdriver.Chrome, base_url: str
) -> None:
    browser.get(base_url + "index.html")
    browser.find_element(By.ID, "mdbook-search-toggle").click()
    searchbar = browser.find_element(By.ID, "mdbook-searchbar")
    WebDriverWait(browser, WAIT_S).until(lambda d: searchbar.is_displayed())
    searchbar.send_keys("JoinSet")
    results = WebDriverWait(browser, WAIT_S).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#mdbook-searchresults li a")
    )
    targets = [link.get_attribute("href") or "" for link in results]
    assert any("02-concurrency.html" in href for href in targets), targets
    header = browser.find_element(By.ID, "mdbook-searchresults-header").text
    assert "JoinSet" in header, header


def test_search_for_nonsense_says_no_results(browser: webdriver.Chrome, base_url: str) -> None:
    browser.get(base_url + "index.html")
    browser.find_element(By.ID, "mdbook-search-toggle").click()
    searchbar = browser.find_element(By.ID, "mdbook-searchbar")
    WebDriverWait(browser, WAIT_S).until(lambda d: searchbar.is_displayed())
    searchbar.send_keys("zqxjkvw")
    searchbar.send_keys(Keys.ENTER)
    header = browser.find_element(By.ID, "mdbook-searchresults-header")
    WebDriverWait(browser, WAIT_S).until(lambda d: "No search results" in header.text)
    assert browser.find_elements(By.CSS_SELECTOR, "#mdbook-searchresults li") == []
