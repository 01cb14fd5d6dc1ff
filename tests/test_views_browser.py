"""The views in a real browser: Debian's Chromium, headless, offline, driven by Playwright (no browser download).

For each view: it loads from file:// with the network off and zero console errors; the page holds as
many nodes and edges as the networkx graph; physics settles and stops; search focuses the right node;
hovering shows the recommendation's own words (and, on an annotation edge, the evidence); hostile text
fires no dialog and reads literally. The overview of the seed build is saved as a screenshot under
build/ for a person to look at.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aflm_graph.sparql.engine import open_store
from aflm_graph.views import network as views
from conftest import ROOT, require_executable
from test_views import FIXTURES, HOSTILE, fixture_store

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 900}
FIXTURE_VIEWS = [
    ("overview", None), ("compare", None), ("member-state", "Viet Nam"), ("member-state", "Cambodia"),
    ("theme", "health-care"), ("actor", "trade-unions"), ("group", "women-migrant-workers"),
    ("instrument", "ilo-c189"), ("query", "theme-network"), ("query", "similar-links.rq"),
]
SIMILAR_LINKS = """PREFIX aflm: <https://w3id.org/aflm/ontology#>
SELECT ?source ?target ?weight ("similar text" AS ?kind) WHERE {
  ?l aflm:linkSource ?source ; aflm:linkTarget ?target ; aflm:score ?weight .
}"""
SEED_VIEWS = ["overview.html", "compare.html", "member-state-cambodia.html"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the session; Playwright gives it a fresh temporary profile."""
    executable = require_executable("chromium", why="the view tests open the pages in a real browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Opened:
    """A view loaded in a page, with everything that went wrong on the way."""

    page: Any
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)


@pytest.fixture
def open_view(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def opener(path: Path) -> Opened:
        context = browser.new_context(viewport=VIEWPORT, offline=True)
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page)

        def route(request_route: Any) -> None:
            url = request_route.request.url
            if url.startswith("file://"):
                request_route.continue_()
            else:
                opened.blocked.append(url)
                request_route.abort()

        page.route("**/*", route)
        page.on("console", lambda message: opened.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: opened.errors.append(str(error)))

        def on_dialog(dialog: Any) -> None:
            opened.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(path.as_uri())
        page.wait_for_function("() => window.aflmView && window.aflmView.stable === true", timeout=30_000)
        return opened

    yield opener
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def fixture_views(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, views.View]]:
    """The fixture's views (hostile document included) written as files."""
    folder = tmp_path_factory.mktemp("views")
    (folder / "similar-links.rq").write_text(SIMILAR_LINKS)
    store = fixture_store()
    corpus = views.load_corpus(store)
    out: dict[str, tuple[Path, views.View]] = {}
    for kind, arg in FIXTURE_VIEWS:
        query = str(folder / arg) if arg and arg.endswith(".rq") else arg
        params = {"theme": "health-care"} if arg == "theme-network" else {}
        view = views.make_view(corpus, kind, query, store=store, params=params)
        path = folder / f"{view.name}.html"
        path.write_text(views.render(view, version="fixture").html, encoding="utf-8")
        out[view.name] = (path, view)
    return out


def _norm(text: str) -> str:
    return " ".join(text.split())


def _dom_point(opened: Opened, node: str) -> tuple[float, float]:
    """Where a node is on the page, in CSS pixels."""
    return tuple(opened.js(
        """(id) => { const v = window.aflmView; const p = v.network.canvasToDOM(v.network.getPositions([id])[id]);
                     const r = document.getElementById('graph').getBoundingClientRect();
                     return [r.left + p.x, r.top + p.y]; }""", node))  # type: ignore[return-value]


def _tooltip(opened: Opened, x: float, y: float) -> str:
    opened.page.mouse.move(x - 40, y - 40)
    opened.page.mouse.move(x, y, steps=4)
    tooltip = opened.page.locator("div.vis-tooltip")
    tooltip.wait_for(state="visible", timeout=5_000)
    return str(tooltip.inner_text())


def _check_view(opened: Opened, view: views.View) -> None:
    g = view.graph
    assert opened.errors == [], opened.errors
    assert opened.dialogs == [], opened.dialogs
    assert opened.blocked == [], opened.blocked
    counts = opened.js("() => [window.aflmView.nodes.length, window.aflmView.edges.length]")
    assert counts == [g.number_of_nodes(), g.number_of_edges()]
    assert opened.js("() => window.aflmView.network.physics.options.enabled") is False
    before = opened.js("() => window.aflmView.network.getPositions()")
    opened.page.wait_for_timeout(300)
    assert opened.js("() => window.aflmView.network.getPositions()") == before, "the layout still moves"

    # search: a node's label typed in the box selects that node and brings it to the middle
    labels = [g.nodes[n]["label"] for n in g]
    target = max((n for n in g if labels.count(g.nodes[n]["label"]) == 1),
                 key=lambda n: (g.nodes[n]["kind"] != "recommendation", g.degree(n), n))
    opened.page.fill("#search", g.nodes[target]["label"])
    opened.page.press("#search", "Enter")
    assert opened.js("() => window.aflmView.network.getSelectedNodes()") == [target]
    x, y = _dom_point(opened, target)
    box = opened.page.locator("#graph").bounding_box()
    assert math.hypot(x - (box["x"] + box["width"] / 2), y - (box["y"] + box["height"] / 2)) < 30
    assert _norm(g.nodes[target]["tip"]["heading"]) in _norm(opened.page.inner_text("#details"))

    # hover: a recommendation's tooltip shows its own words
    recs = sorted(n for n in g if g.nodes[n]["kind"] == "recommendation")
    node = recs[0] if recs else target
    opened.js("(id) => window.aflmView.focusNode(id)", node)
    text = _norm(_tooltip(opened, *_dom_point(opened, node)))
    tip = g.nodes[node]["tip"]
    assert _norm(tip["heading"]) in text
    for paragraph in tip.get("body", []):
        assert _norm(paragraph) in text


@pytest.mark.parametrize("name", [
    "overview", "compare", "member-state-viet-nam", "member-state-cambodia", "theme-health-care",
    "actor-trade-unions", "group-women-migrant-workers", "instrument-ilo-c189", "query-theme-network",
    "query-similar-links",
])
def test_fixture_view_in_the_browser(name: str, fixture_views: dict[str, tuple[Path, views.View]],
                                     open_view: Any) -> None:
    path, view = fixture_views[name]
    _check_view(open_view(path), view)


def test_annotation_edge_tooltip_shows_the_evidence(fixture_views: dict[str, tuple[Path, views.View]],
                                                    open_view: Any) -> None:
    path, view = fixture_views["theme-health-care"]
    opened = open_view(path)
    g = view.graph
    rec = "https://w3id.org/aflm/id/document/th-2020/recommendation/1"
    concept = "https://w3id.org/aflm/vocab/actor/governments"
    # a point of the edge where vis-network itself finds that edge and no other edge or node
    point = opened.js(
        """([a, b]) => {
             const v = window.aflmView, n = v.network;
             const id = v.edges.get().find((e) => (e.from === a && e.to === b) || (e.from === b && e.to === a)).id;
             n.focus(a, {scale: 2.0, animation: false});
             const p = n.getPositions([a, b]);
             const r = document.getElementById('graph').getBoundingClientRect();
             for (let t = 0.1; t < 0.95; t += 0.025) {
               const dom = n.canvasToDOM({x: p[a].x + t * (p[b].x - p[a].x), y: p[a].y + t * (p[b].y - p[a].y)});
               if (dom.x < 5 || dom.y < 5 || dom.x > r.width - 5 || dom.y > r.height - 5) continue;
               if (n.getEdgeAt(dom) === id && n.getNodeAt(dom) === undefined) return [r.left + dom.x, r.top + dom.y];
             }
             return null; }""",
        [rec, concept],
    )
    assert point is not None, "no free point on the edge to hover"
    text = _norm(_tooltip(opened, *point))
    assert "Governments" in text and "“Governments”" in text
    assert g.edges[rec, concept]["tip"]["quotes"] == ["Governments"]


def test_hostile_text_fires_nothing_and_reads_literally(fixture_views: dict[str, tuple[Path, views.View]],
                                                        open_view: Any) -> None:
    path, view = fixture_views["member-state-viet-nam"]
    opened = open_view(path)
    g = view.graph
    rec = next(n for n in g if g.nodes[n]["kind"] == "recommendation")
    opened.js("(id) => window.aflmView.focusNode(id)", rec)
    text = _tooltip(opened, *_dom_point(opened, rec))
    assert HOSTILE[0] in text and HOSTILE[1] in text
    details = opened.page.inner_text("#details")
    assert HOSTILE[0] in details and "</script><script>alert(2)</script> protection" in details  # its sub-theme
    doc = next(n for n in g if g.nodes[n]["kind"] == "document")
    opened.page.fill("#search", g.nodes[doc]["label"])
    opened.page.press("#search", "Enter")
    assert opened.page.inner_text("#details .tip-heading").startswith(HOSTILE[0])
    assert opened.js("() => document.querySelectorAll('img, b, #details script').length") == 0
    opened.page.wait_for_timeout(200)
    assert opened.dialogs == [] and opened.errors == []

    compare = open_view(fixture_views["compare"][0])
    headers = compare.page.locator("#matrix thead th").all_inner_texts()
    assert "<b onmouseover=alert(3)>Bold</b> theme" in headers
    assert compare.dialogs == []


def test_filters_hide_by_kind_and_by_member_state(fixture_views: dict[str, tuple[Path, views.View]],
                                                  open_view: Any) -> None:
    path, view = fixture_views["overview"]
    opened = open_view(path)
    g = view.graph
    hidden = "() => window.aflmView.nodes.get({filter: (n) => n.hidden === true}).map((n) => n.id).sort()"
    opened.page.uncheck('input.kind-filter[data-kind="recommendation"]')
    assert opened.js(hidden) == sorted(n for n in g if g.nodes[n]["kind"] == "recommendation")
    opened.page.click("#reset")
    assert opened.js(hidden) == []
    opened.page.select_option("#origin", "Thailand")
    assert opened.js(hidden) == sorted(n for n in g if "Thailand" not in g.nodes[n]["origins"])
    assert opened.errors == []


# --- the seed build: what `aflm-graph build` writes


@pytest.mark.parametrize("name", SEED_VIEWS)
def test_seed_build_view_in_the_browser(name: str, seed_build: Path, open_view: Any) -> None:
    corpus = views.load_corpus(open_store(seed_build))
    kind = name.removesuffix(".html")
    view = views.member_state_view(corpus, kind.removeprefix("member-state-")) if kind.startswith(
        "member-state-") else views.make_view(corpus, kind)
    _check_view(open_view(seed_build / "views" / name), view)


def test_seed_views_screenshots_for_a_person_to_look_at(seed_build: Path, open_view: Any) -> None:
    """build/screenshots/*.png: what a reader sees on opening the file (labels, legend, no hairball)."""
    shots = ROOT / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for name in ("overview", "compare"):
        opened = open_view(seed_build / "views" / f"{name}.html")
        # what is drawn is legible: the labels of the hubs are at least 9 screen pixels high
        scale = opened.js("() => window.aflmView.network.getScale()")
        biggest = max(n["font"]["size"] for n in opened.js("() => window.aflmView.nodes.get()"))
        assert biggest * scale >= 14, f"{name}: even the biggest label is {biggest * scale:.1f} px high"
        opened.page.screenshot(path=str(shots / f"{name}.png"))
        assert (shots / f"{name}.png").stat().st_size > 20_000


def test_hostile_document_built_by_the_pipeline_fires_no_dialog(tmp_path: Path, open_view: Any) -> None:
    from aflm_graph.publish.pipeline import build

    out = tmp_path / "hostile-build"
    build([FIXTURES / "hostile.txt"], out)
    corpus = views.load_corpus(open_store(out))
    pages = sorted((out / "views").glob("*.html"))
    assert len(pages) == 3  # overview, compare, member-state-viet-nam
    for path in pages:
        opened = open_view(path)
        assert opened.dialogs == [] and opened.errors == [], path.name
        rec = next((r for r in corpus.recommendations.values() if HOSTILE[0] in r.text), None)
        assert rec is not None
        if opened.js("(id) => window.aflmView.nodes.get(id) !== null", rec.iri):
            opened.js("(id) => window.aflmView.focusNode(id)", rec.iri)
            text = _tooltip(opened, *_dom_point(opened, rec.iri))
            assert HOSTILE[0] in text and HOSTILE[1] in text, path.name
        opened.page.wait_for_timeout(150)
        assert opened.dialogs == [], path.name
