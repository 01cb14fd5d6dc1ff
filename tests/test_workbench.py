"""The query page at / of `aflm-graph serve`, in Debian's Chromium driven by Playwright (no browser download).

A real `serve` on a free loopback port over a build of the seeds plus one hostile document; every request
to anything but that server is blocked and recorded (and must not happen); no console error, no dialog.
At 1440x900: pick a named query in the gallery, fill its parameter from the picker, run it, see the rows,
the row count and the time; download CSV; follow an IRI; see a document's `<script>` text literally; see
an invalid query's error inline with its line and column; reopen the question from the URL; draw a
network. The screenshots go to test-output/screenshots/ and the README's to docs/images/query-page.png.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, SEEDS, free_port, watch_page
from servers import stop, wait_until_ready

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1440, "height": 900}
SCREENSHOTS = ROOT / "test-output" / "screenshots"
README_IMAGE = ROOT / "docs" / "images" / "query-page.png"
HOSTILE_TEXT = "<script>alert(1)</script>"
HOSTILE_DOCUMENT = f"""Viet Nam National Recommendations for the 13th ASEAN Forum on Migrant Labour

14 September 2020

Sub-theme 1: Hostile text {HOSTILE_TEXT}

1. Protect migrant workers {HOSTILE_TEXT} and ensure access to health care for all migrant workers.

2. Strengthen cooperation with trade unions <img src=x onerror=alert(2)> on fair recruitment.
"""
FIND_HOSTILE = """PREFIX aflm: <https://w3id.org/aflm/ontology#>
SELECT ?recommendation ?text WHERE {
  ?recommendation aflm:text ?text .
  FILTER(CONTAINS(?text, "<script>"))
}"""
INVALID = "PREFIX aflm: <https://w3id.org/aflm/ontology#>\nSELECT ?x WHERE {\n  ?x aflm:text ?t ..\n}"


@dataclass(frozen=True)
class Served:
    base: str
    pid: int
    build: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`aflm-graph serve` over the seeds plus a document whose text holds script tags."""
    from aflm_graph.publish.pipeline import build

    folder = tmp_path_factory.mktemp("workbench")
    corpus = folder / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "900_hostile.txt").write_text(HOSTILE_DOCUMENT, encoding="utf-8")
    out = folder / "build"
    build([corpus], out)
    port = free_port()
    log = folder / "serve.log"
    exe = Path(sys.executable).with_name("aflm-graph")
    with log.open("wb") as sink:
        process = subprocess.Popen([str(exe), "serve", "--build", str(out), "--host", "127.0.0.1", "--port", str(port),
                                    "--workers", "2", "--timeout", "20"], stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/sparql", process, seconds=60, log=log)
        yield Served(f"http://127.0.0.1:{port}", process.pid, out)
    finally:
        stop(process)




@dataclass
class Opened:
    page: Any
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.dialogs == [], self.dialogs
        assert self.blocked == [], self.blocked


@pytest.fixture
def open_page(browser: Any, served: Served) -> Iterator[Any]:
    contexts: list[Any] = []

    def opener(path: str = "/") -> Opened:
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page)

        def route(request_route: Any) -> None:
            url = request_route.request.url
            if url == served.base or url.startswith(served.base + "/"):
                request_route.continue_()
            else:  # the network is off: only the server under test answers
                opened.blocked.append(url)
                request_route.abort()

        context.route("**/*", route)
        watch_page(page, opened.errors, opened.dialogs)
        page.goto(served.base + path)
        page.wait_for_function("() => window.aflmPage && window.aflmPage.ready === true", timeout=15_000)
        return opened

    yield opener
    for context in contexts:
        context.close()


def _rows_header(base: str, query: str) -> int:
    with urllib.request.urlopen(f"{base}/api/run?{query}", timeout=30) as response:
        return int(response.headers["X-Result-Rows"])


def _set_query(opened: Opened, text: str) -> None:
    opened.page.evaluate("""(text) => { const e = window.aflmPage.editor;
        e.dispatch({changes: {from: 0, to: e.state.doc.length, insert: text}}); }""", text)


def _run(opened: Opened) -> None:
    runs = opened.page.evaluate("() => window.aflmPage.runs")
    opened.page.click("#run")
    opened.page.wait_for_function("(n) => window.aflmPage.runs > n", arg=runs, timeout=30_000)


def _shoot(opened: Opened, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    opened.page.screenshot(path=str(path))
    return path


def _has_route(base: str, path: str) -> bool:
    try:
        with urllib.request.urlopen(base + path, timeout=30) as response:
            return response.status == 200 and "html" in response.headers.get("content-type", "")
    except (urllib.error.HTTPError, urllib.error.URLError):
        return False


def test_named_query_with_a_picked_parameter_runs_and_links(open_page: Any, served: Served) -> None:
    opened = open_page()
    page = opened.page
    assert page.locator("#gallery .card").count() >= 20
    page.fill("#filter", "theme")
    page.click('#gallery .card[data-name="recommendations-by-theme"]')
    assert "#+ summary: Recommendations that are about a policy theme" in page.locator(".cm-content").inner_text()
    picker = page.locator("#param-theme")
    assert picker.locator('option[value="health-care"]').count() == 1
    picker.select_option("health-care")
    _run(opened)
    expected = _rows_header(served.base, "name=recommendations-by-theme&p.theme=health-care")
    assert expected > 0
    assert page.locator("#result-table tbody tr").count() == expected
    status = page.locator("#status").inner_text()
    assert status.startswith(f"{expected} rows in ") and status.endswith("ms")
    # the question is in the URL: the name and the parameter, never the bound text
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert query == {"name": ["recommendations-by-theme"], "p.theme": ["health-care"]}
    # sortable: the label column, descending on a second click
    header = page.locator("#result-table th").filter(has_text=re.compile(r"^label\b"))  # not member_state_label
    header.click()
    header.click()
    assert header.get_attribute("aria-sort") == "descending"
    page.locator("#result-table th").filter(has_text=re.compile(r"^date\b")).click()
    README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(README_IMAGE))
    _shoot(opened, "query-page")
    # an IRI is a link to its page on this server
    link = page.locator("#result-table tbody tr").first.locator("a").first
    href = link.get_attribute("href")
    assert href is not None and href.startswith("/id/document/") and "/recommendation/" in href
    assert link.get_attribute("title") == "https://w3id.org/aflm" + href
    if _has_route(served.base, href):  # the resource pages (serve/pages.py) answer: follow one of their links
        link.click()
        page.wait_for_load_state("load")
        assert urllib.parse.urlsplit(page.url).path == href
        onward = page.locator('a[href^="/"]').first
        target = onward.get_attribute("href")
        onward.click()
        page.wait_for_load_state("load")
        assert urllib.parse.urlsplit(page.url).path == urllib.parse.urlsplit(target).path
        _shoot(opened, "followed-link")
    opened.clean()


def test_csv_download(open_page: Any, served: Served) -> None:
    opened = open_page("/?name=recommendations-by-member-state&p.member_state=Cambodia")
    page = opened.page
    page.wait_for_selector("#result-table tbody tr")
    rows = page.locator("#result-table tbody tr").count()
    with page.expect_download() as info:
        page.click('#downloads a[data-format="csv"]')
    download = info.value
    assert download.suggested_filename == "result.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    lines = text.strip("\r\n").split("\r\n") if "\r\n" in text else text.strip("\n").split("\n")
    assert lines[0].startswith("document_title,")
    assert len(lines) >= rows + 1  # a text cell may hold line breaks
    assert [a.inner_text() for a in page.locator("#downloads a").all()] == ["CSV", "TSV", "JSON"]
    opened.clean()


def test_hostile_text_shows_literally(open_page: Any) -> None:
    opened = open_page()
    page = opened.page
    _set_query(opened, FIND_HOSTILE)
    _run(opened)
    cells = page.locator("#result-table tbody td").all_inner_texts()
    assert any(HOSTILE_TEXT in cell for cell in cells), cells
    assert page.locator("#results script").count() == 0
    assert page.locator("#results img").count() == 0
    _shoot(opened, "hostile-text")
    opened.clean()


def test_invalid_query_shows_line_and_column_inline(open_page: Any) -> None:
    opened = open_page()
    page = opened.page
    _set_query(opened, INVALID)
    _run(opened)
    error = page.locator("#error")
    assert error.is_visible()
    message = error.inner_text()
    assert "syntax error at line 3, column" in message, message
    page.wait_for_selector(".cm-lintRange-error, .cm-lint-marker-error")
    assert page.locator(".cm-lint-marker-error").count() == 1
    _shoot(opened, "query-error")
    # the server's 400 shows in the console as a failed resource; nothing else may
    assert all("400" in e for e in opened.errors), opened.errors
    assert opened.dialogs == [] and opened.blocked == []


def test_the_url_reopens_the_same_question(open_page: Any, served: Served) -> None:
    first = open_page()
    first.page.click('#gallery .card[data-name="recommendations-by-actor"]')
    first.page.locator("#param-actor").select_option("trade-union")
    _run(first)
    rows = first.page.locator("#result-table tbody tr").count()
    url = first.page.url
    again = open_page(url[len(served.base):])
    again.page.wait_for_selector("#result-table tbody tr")
    assert again.page.locator("#param-actor").input_value() == "trade-union"
    assert again.page.locator(".card.selected").get_attribute("data-name") == "recommendations-by-actor"
    assert again.page.locator("#result-table tbody tr").count() == rows
    # free text too: /?query=... (where /sparql sends a browser) restores the editor and runs it
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    third = open_page("/?" + urllib.parse.urlencode({"query": text}))
    third.page.wait_for_selector("#result-table tbody tr")
    assert third.page.evaluate("() => window.aflmPage.editor.state.doc.toString()") == text
    for opened in (first, again, third):
        opened.clean()


def test_network_view_and_prefix_completion(open_page: Any) -> None:
    opened = open_page("/?name=theme-network&p.theme=health-care")
    page = opened.page
    page.wait_for_selector("#result-table tbody tr")
    assert page.locator("#show-network").is_enabled()
    page.click("#show-network")
    frame = page.frame_locator("#network")
    frame.locator("#graph").wait_for(timeout=15_000)
    handle = page.locator("#network").element_handle()
    assert handle is not None
    inner = handle.content_frame()
    inner.wait_for_function("() => window.aflmView && window.aflmView.stable === true", timeout=30_000)
    assert inner.evaluate("() => window.aflmView.nodes.length") > 1
    _shoot(opened, "network-view")
    # prefix completion: `the` offers `theme:` and declares the prefix
    _set_query(opened, "SELECT * WHERE { ?r ?p  }")
    page.click(".cm-content")
    page.keyboard.press("End")
    for _ in range(2):
        page.keyboard.press("ArrowLeft")
    page.keyboard.type("the")
    page.wait_for_selector(".cm-tooltip-autocomplete")
    option = page.locator(".cm-tooltip-autocomplete li", has_text="theme:").first
    option.click()
    text = page.evaluate("() => window.aflmPage.editor.state.doc.toString()")
    assert text.startswith("PREFIX theme: <https://w3id.org/aflm/vocab/theme/>\n")
    assert "?p theme: }" in text
    opened.clean()


def test_page_is_ready_quickly(open_page: Any) -> None:
    """Not the benchmark (bench/ measures it): a generous bound that catches a page gone badly slow."""
    opened = open_page()
    ready = opened.page.evaluate("() => performance.getEntriesByName('aflm-ready')[0].startTime")
    assert ready < 5_000
    opened.clean()
