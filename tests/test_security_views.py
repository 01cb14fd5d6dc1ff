"""Hostile text in the HTML views (issue 9, test 9), in headless Chromium: no script runs, the text shows literally.

A query view puts text we do not control in every place a view has: the page title and heading (the
query's summary), the description (the query file's own name), the legend (the query's ?kind), node
labels and the search box's suggestions (?sourceLabel / ?targetLabel), tooltips and the side panel
(a literal ?target), and what a reader types into the search box. The payloads try every way out:
markup with event handlers, a `</script>` break-out, attribute quotes, `javascript:` URLs, template
syntax and line separators. Inline event handlers would pass the page's Content-Security-Policy
(`script-src 'unsafe-inline'`), so escaping is what has to hold: no dialog, no page error,
`window.__pwned` never set, no element injected, and each payload read back as the same text.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aflm_graph.views import network as views
from conftest import CHROMIUM_ARGS, require_executable
from test_views import fixture_store
from test_views_browser import VIEWPORT, Opened, _dom_point, _tooltip, open_in

pytestmark = pytest.mark.browser

PAYLOADS = {
    "img": '<img src=x onerror="window.__pwned=1;alert(1)">',
    "script": "</script><script>window.__pwned=2;alert(2)</script>",
    "svg": "<svg onload=window.__pwned=3>",
    "attribute": '" autofocus onfocus="window.__pwned=4" x="',
    "template": "{{7*7}} ${window.__pwned=5} <%= 5 %>",
    "url": "javascript:window.__pwned=6",
    "comment": "<!-- ]]> \u2028 \u2029 -->",
}
SUMMARY = "Hostile view </title><b onmouseover=window.__pwned=8>bold</b> & co"
FILE_NAME = "<i onclick=window.__pwned=9>q &amp; \"quoted\".rq"  # no slash: a file name


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hostile_query() -> str:
    rows = []
    for i, (name, payload) in enumerate(sorted(PAYLOADS.items())):
        rows.append(f"(<urn:x:source-{i}> {_literal(payload + ' value')} {_literal(payload + ' label')} "
                    f"{_literal(payload + ' target')} {_literal(name + ' ' + payload)})")
    header = f"#+ summary: '{SUMMARY}'\n"
    return (header + "SELECT ?source ?target ?sourceLabel ?targetLabel ?kind WHERE {\n  VALUES (?source ?target "
            "?sourceLabel ?targetLabel ?kind) {\n    " + "\n    ".join(rows) + "\n  }\n}\n")


@pytest.fixture(scope="module")
def hostile_view(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, views.View]:
    folder = tmp_path_factory.mktemp("hostile-views")
    rq = folder / FILE_NAME
    rq.write_text(hostile_query(), encoding="utf-8")
    store = fixture_store(hostile=True)
    view = views.make_view(views.load_corpus(store), "query", str(rq), store=store)
    path = folder / "hostile.html"
    path.write_text(views.render(view, version="fixture </script>").html, encoding="utf-8")
    return path, view


def _nothing_ran(opened: Any) -> None:
    opened.page.wait_for_timeout(150)
    assert opened.dialogs == [], opened.dialogs
    assert opened.errors == [], opened.errors
    assert opened.js("() => window.__pwned === undefined")
    injected = opened.js("""() => document.querySelectorAll(
        'img, iframe, object, embed, i, b, svg:not(.swatch), [onerror], [onload], [onfocus], [onclick], '
        + '[onmouseover], [autofocus], a[href^="javascript"]').length""")
    assert injected == 0
    assert opened.js("() => document.scripts.length") == 3  # the data, vis-network, the page's own script


def in_browser(body: Callable[[Callable[[Path], Opened]], None]) -> None:
    """Run `body(open_view)` with its own headless Chromium, in a thread of its own.

    Playwright's sync API refuses to start where an event loop runs, as it does in this process while
    tests/test_views_browser.py holds its session browser: a fresh thread has no loop.
    """
    executable = require_executable("chromium", why="the view tests open the pages in a real browser")

    def run() -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport=VIEWPORT, offline=True)
            try:
                body(lambda path: open_in(context, path.as_uri()))
            finally:
                context.close()
                browser.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(run).result(timeout=300)


def test_hostile_text_everywhere_in_a_view_runs_nothing_and_reads_literally(
    hostile_view: tuple[Path, views.View],
) -> None:
    in_browser(lambda open_view: check_hostile_view(open_view, *hostile_view))


def check_hostile_view(open_view: Callable[[Path], Opened], path: Path, view: views.View) -> None:
    opened = open_view(path)
    assert opened.blocked == []
    _nothing_ran(opened)
    page = opened.page

    # heading, page title, description
    assert page.inner_text("#title") == SUMMARY
    assert page.title() == SUMMARY
    assert Path(FILE_NAME).stem in page.inner_text("#description")
    # legend: every ?kind, as text
    legend = page.inner_text("#edge-legend")
    for name, payload in PAYLOADS.items():
        assert f"{name} {payload}".strip() in legend.replace("\u2028", " ").replace("\u2029", " ") or (
            name == "comment" and "<!-- ]]>" in legend), name
    # node labels and the search box's suggestions
    suggestions = opened.js("() => Array.from(document.querySelectorAll('#labels option')).map((o) => o.value)")
    labels = {n["label"] for n in opened.js("() => window.aflmView.nodes.get()")}
    for payload in PAYLOADS.values():
        assert any(payload + " label" in s for s in suggestions), payload
        assert any(" ".join((payload + " label").split())[:16] in " ".join(label.split()) for label in labels), payload

    # tooltips: hover each literal target; the tooltip holds the payload as text
    g = view.graph
    for payload in PAYLOADS.values():
        node = next(n for n in g if g.nodes[n]["kind"] == "value" and payload in n)
        opened.js("(id) => window.aflmView.focusNode(id)", node)
        text = _tooltip(opened, *_dom_point(opened, node))
        assert (payload + " value")[:40] in text.replace("\u2028", "\n").replace("\u2029", "\n") or (
            "\u2028" in payload), (payload, text)
        _nothing_ran(opened)

    # the search box: what a reader types is text too; the node is found and described literally
    for payload in (PAYLOADS["img"], PAYLOADS["script"], PAYLOADS["attribute"]):
        page.fill("#search", payload + " target")
        page.press("#search", "Enter")
        selected = opened.js("() => window.aflmView.network.getSelectedNodes()")
        assert len(selected) == 1 and g.nodes[selected[0]]["label"] == payload + " target"
        assert payload + " value" in page.inner_text("#details")  # the literal's own text, in the side panel
        _nothing_ran(opened)
    page.fill("#search", PAYLOADS["svg"] + " nowhere")
    page.press("#search", "Enter")
    assert PAYLOADS["svg"] in page.inner_text("#search-status")
    _nothing_ran(opened)
