"""The views in a real browser: Debian's Chromium, headless, offline, driven by Playwright (no browser download).

For each view: it loads from file:// with the network off and zero console errors; the page holds as
many nodes and edges as the networkx graph; physics settles and stops; search focuses the right node;
hovering shows the recommendation's own words (and, on an annotation edge, the evidence); hostile text
fires no dialog and reads literally. The overview of the seed build is saved as a screenshot under
build/ for a person to look at. Then what readers do (issue 18): the side panel, the hash, facets, search in
the words of recommendations, keyboard, exports, and the phone size.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import pytest

from aflm_graph.sparql.engine import open_store
from aflm_graph.views import network as views
from conftest import ROOT, watch_page
from test_views import DOC, FIXTURES, HOSTILE, fixture_store

pytestmark = pytest.mark.browser

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




@dataclass
class Opened:
    """A view loaded in a page, with everything that went wrong on the way."""

    page: Any
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)


def open_in(context: Any, url: str, *, html: str | None = None) -> Opened:
    """Open `url` (a view, file://) in a new page of `context`, offline: any other request is blocked and
    recorded, console errors and dialogs are collected; `html`, when given, is served as the page itself.
    Returns once the view says it is stable."""
    page = context.new_page()
    opened = Opened(page)

    def route(request_route: Any) -> None:
        request_url = request_route.request.url
        if html is not None and request_url.split("#")[0] == url.split("#")[0]:
            request_route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        elif request_url.startswith("file://"):
            request_route.continue_()
        else:
            opened.blocked.append(request_url)
            request_route.abort()

    page.route("**/*", route)
    watch_page(page, opened.errors, opened.dialogs)
    page.goto(url)
    page.wait_for_function("() => window.aflmView && window.aflmView.stable === true", timeout=30_000)
    return opened


@pytest.fixture
def open_view(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def opener(path: Path) -> Opened:
        context = browser.new_context(viewport=VIEWPORT, offline=True)
        contexts.append(context)
        return open_in(context, path.as_uri())

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
    """test-output/screenshots/*.png: what a reader sees on opening the file (labels, legend, no hairball)."""
    shots = ROOT / "test-output" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for name in ("overview", "compare"):
        opened = open_view(seed_build / "views" / f"{name}.html")
        # what is drawn is legible: the labels of the hubs are at least 9 screen pixels high
        scale = opened.js("() => window.aflmView.network.getScale()")
        biggest = max(opened.js("() => Object.values(window.aflmView.network.body.nodes)"
                                ".map((n) => n.options.font.size)"))
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


# --- reading, sharing and filtering (issue 18). At 1440x900: a selection writes the address's hash and
# the hash reopens it; the side panel reads a recommendation (document, sub-theme, highlighted evidence,
# concept chips, IRI link); facets change the legend's counts and re-fit; search finds a recommendation by
# the words of its body and names its document; keyboard; exports; hostile text reads literally. At 390x844
# the graph takes the whole width. Screenshots of both go to test-output/screenshots/, the README's to docs/images/.

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = ROOT / "test-output" / "screenshots"
README_SHOT = ROOT / "docs" / "images" / "view-selected-recommendation.png"
KH_11 = f"{DOC}kh-2020/recommendation/1.1"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fixture's views (the hostile document included), and an overview whose documents span two years."""
    folder = tmp_path_factory.mktemp("reader")
    store = fixture_store()
    corpus = views.load_corpus(store)
    out: dict[str, Path] = {}
    for view in (views.overview_view(corpus), views.member_state_view(corpus, "Cambodia"),
                 views.member_state_view(corpus, "Viet Nam"), views.concept_view(corpus, "theme", "health-care")):
        out[view.name] = folder / f"{view.name}.html"
        out[view.name].write_text(views.render(view, version="fixture").html, encoding="utf-8")
    store.update("""PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
        DELETE { GRAPH ?g { ?d dcterms:date ?old } } INSERT { GRAPH ?g { ?d dcterms:date "2018-10-01"^^xsd:date } }
        WHERE { GRAPH ?g { ?d dcterms:date ?old } FILTER(?d = <https://w3id.org/aflm/id/document/th-2020>) }""")
    years = views.overview_view(views.load_corpus(store))
    out["years"] = folder / "years.html"
    out["years"].write_text(views.render(years, version="fixture").html, encoding="utf-8")
    return out


@pytest.fixture
def opener(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_page(url: str, viewport: dict[str, int] = DESKTOP, *, html: str | None = None) -> Opened:
        context = browser.new_context(viewport=viewport, offline=True, accept_downloads=True)
        contexts.append(context)
        return open_in(context, url, html=html)

    yield open_page
    for context in contexts:
        context.close()


def _clean(opened: Opened) -> None:
    assert opened.errors == [], opened.errors
    assert opened.dialogs == [], opened.dialogs
    assert opened.blocked == [], opened.blocked


def _hash(opened: Opened) -> dict[str, list[str]]:
    return parse_qs(opened.js("() => location.hash.slice(1)"))


def _legend_counts(opened: Opened) -> dict[str, str]:
    return dict(opened.js("() => Array.from(document.querySelectorAll('#legend .count'))"
                          ".map((s) => [s.dataset.kind, s.textContent])"))


def test_a_selection_is_in_the_hash_and_the_hash_reopens_it(pages: dict[str, Path], opener: Any) -> None:
    opened = opener(pages["member-state-cambodia"].as_uri())
    opened.js("(id) => window.aflmView.focusNode(id)", KH_11)
    assert _hash(opened)["node"] == [KH_11]
    url = opened.js("() => location.href")
    assert unquote(url.split("#", 1)[1]).startswith("node=")

    again = opener(url)
    assert again.js("() => window.aflmView.network.getSelectedNodes()") == [KH_11]
    assert "Cambodia National Recommendations" in again.page.inner_text("#details")
    # outside the neighbourhood everything is dimmed
    dimmed = again.js("() => window.aflmView.nodes.get({filter: (n) => n.opacity === 0.2}).map((n) => n.id)")
    neighbours = set(again.js("(id) => window.aflmView.network.getConnectedNodes(id)", KH_11)) | {KH_11}
    assert dimmed and not set(dimmed) & neighbours
    again.page.keyboard.press("Escape")
    assert again.js("() => window.aflmView.network.getSelectedNodes()") == []
    assert "node" not in _hash(again)
    assert again.js("() => window.aflmView.nodes.get({filter: (n) => n.opacity === 0.2}).length") == 0
    _clean(opened)
    _clean(again)


def test_the_panel_reads_a_recommendation_with_its_document_and_working_links(
    pages: dict[str, Path], opener: Any,
) -> None:
    opened = opener(pages["member-state-cambodia"].as_uri())
    opened.js("(id) => window.aflmView.focusNode(id)", KH_11)
    panel = opened.page.inner_text("#details")
    for fact in ("Cambodia National Recommendations for the 13th ASEAN Forum on Migrant Labour", "Cambodia",
                 "14 September 2020", "13th AFML", "Sub-theme 1: Impact of COVID-19 on migrant workers",
                 "Extend affordable healthcare benefits"):
        assert fact in panel, fact
    # the evidence of each concept is highlighted in the text
    marks = opened.page.locator("#details mark").all_inner_texts()
    assert marks, "no evidence highlighted"
    assert all(m in panel for m in marks)
    # the IRI is a link to the w3id IRI (offline file), opening elsewhere
    link = opened.page.locator("#details a.iri")
    assert link.get_attribute("href") == KH_11 and link.get_attribute("rel") == "noopener noreferrer"
    # a concept chip opens that concept: selected, with its recommendations listed, each one clickable
    opened.page.locator("#details button.chip", has_text="Health care").click()
    assert opened.js("() => window.aflmView.network.getSelectedNodes()") == [
        "https://w3id.org/aflm/vocab/theme/health-care"]
    assert "Recommendations (" in opened.page.inner_text("#details")
    opened.page.locator("#details ul.items button").first.click()
    selected = opened.js("() => window.aflmView.network.getSelectedNodes()")
    assert len(selected) == 1 and "/recommendation/" in selected[0]
    assert opened.page.locator("#details a.iri").get_attribute("href") == selected[0]
    _clean(opened)


def test_served_from_aflm_graph_serve_the_iri_links_to_the_resource_page(pages: dict[str, Path], opener: Any) -> None:
    html = pages["member-state-cambodia"].read_text(encoding="utf-8")
    opened = opener("http://aflm.test/api/view?name=q", html=html)
    opened.js("(id) => window.aflmView.focusNode(id)", KH_11)
    link = opened.page.locator("#details a.iri")
    assert link.get_attribute("href") == "/id/document/kh-2020/recommendation/1.1"
    assert link.get_attribute("target") == "_top"
    _clean(opened)


def test_facets_change_the_legend_counts_refit_and_go_in_the_hash(pages: dict[str, Path], opener: Any) -> None:
    opened = opener(pages["member-state-cambodia"].as_uri())
    before = _legend_counts(opened)
    assert opened.page.locator("#facet-sub option").count() == 3  # all, and the two sub-themes of kh-2020
    scale = opened.js("() => window.aflmView.network.getScale()")
    opened.page.select_option("#facet-sub", "Sub-theme 2: Recovery and resilience")
    after = _legend_counts(opened)
    assert after != before and after["recommendation"].endswith(f" of {before['recommendation']}")
    assert opened.js("() => window.aflmView.network.getScale()") != scale  # re-fitted to what is left
    visible = opened.js("() => window.aflmView.nodes.get({filter: (n) => !n.hidden}).map((n) => n.id)")
    assert all("/recommendation/1." not in n for n in visible)
    assert _hash(opened)["sub"] == ["Sub-theme 2: Recovery and resilience"]

    # searching for a node the filter hides says so and leaves the filter alone
    opened.page.fill("#search", "affordable healthcare")
    assert "hidden by the filters" in opened.page.inner_text("#results")
    opened.page.press("#search", "Enter")
    assert opened.page.input_value("#facet-sub") == "Sub-theme 2: Recovery and resilience"
    assert "hidden by the filters" in opened.page.inner_text("#search-status")
    opened.page.click("#reset")
    assert _legend_counts(opened) == before
    _clean(opened)


def test_a_year_range_where_the_documents_span_years(pages: dict[str, Path], opener: Any) -> None:
    opened = opener(pages["years"].as_uri())
    assert opened.page.get_attribute("#year-from", "min") == "2018"
    before = _legend_counts(opened)
    opened.page.fill("#year-from", "2019")  # a range input takes fill() and fires change
    after = _legend_counts(opened)
    assert after["document"] != before["document"]
    hidden = opened.js("() => window.aflmView.nodes.get({filter: (n) => n.hidden}).map((n) => n.id)")
    assert f"{DOC}th-2020" in hidden and f"{DOC}kh-2020" not in hidden
    assert _hash(opened)["years"] == ["2019-2020"]
    _clean(opened)


def test_search_finds_a_recommendation_by_the_words_of_its_body(pages: dict[str, Path], opener: Any) -> None:
    opened = opener(pages["overview"].as_uri())
    opened.page.fill("#search", "COVID-19 testing")
    items = opened.page.locator("#results li[role=option]")
    assert items.count() >= 1
    first = items.first.inner_text()
    assert "recommendation 1.1" in first and "Cambodia National Recommendations" in first  # names its document
    opened.page.press("#search", "ArrowDown")
    assert items.first.get_attribute("aria-selected") == "true"
    opened.page.press("#search", "Enter")
    assert opened.js("() => window.aflmView.network.getSelectedNodes()") == [KH_11]
    assert _hash(opened)["q"] == ["COVID-19 testing"]
    # labels never grow past the cap after a search zooms in
    sizes = opened.js("""() => { const v = window.aflmView, s = v.network.getScale();
        return Object.values(v.network.body.nodes).map((n) => n.options.font.size * s); }""")
    assert max(sizes) <= views.MAX_LABEL_PX + 4 + 0.5
    _clean(opened)


def test_keyboard_zooms_moves_and_clears(pages: dict[str, Path], opener: Any) -> None:
    opened = opener(pages["overview"].as_uri())
    opened.page.focus("#graph .vis-network")
    scale = opened.js("() => window.aflmView.network.getScale()")
    opened.page.keyboard.down("+")
    opened.page.wait_for_timeout(250)
    opened.page.keyboard.up("+")
    assert opened.js("() => window.aflmView.network.getScale()") > scale
    where = opened.js("() => window.aflmView.network.getViewPosition()")
    opened.page.keyboard.down("ArrowLeft")  # vis-network moves the view while the key is held
    opened.page.wait_for_timeout(250)
    opened.page.keyboard.up("ArrowLeft")
    assert opened.js("() => window.aflmView.network.getViewPosition()") != where
    opened.js("() => window.aflmView.focusNode(window.aflmView.data.nodes[0].id)")
    opened.page.focus("#graph .vis-network")
    opened.page.keyboard.press("Escape")
    assert opened.js("() => window.aflmView.network.getSelectedNodes()") == []
    assert opened.page.inner_text("#details") == "Nothing selected."
    _clean(opened)


def test_exports_a_png_and_the_visible_nodes_as_csv(pages: dict[str, Path], opener: Any, tmp_path: Path) -> None:
    opened = opener(pages["overview"].as_uri())
    opened.page.uncheck('input.kind-filter[data-kind="recommendation"]')
    with opened.page.expect_download() as png:
        opened.page.click("#export-png")
    path = tmp_path / "view.png"
    png.value.save_as(path)
    assert png.value.suggested_filename == "overview.png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with opened.page.expect_download() as table:
        opened.page.click("#export-csv")
    table.value.save_as(tmp_path / "nodes.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "nodes.csv").read_text(encoding="utf-8"))))
    visible = opened.js("() => window.aflmView.nodes.get({filter: (n) => !n.hidden}).length")
    assert len(rows) == visible and not [r for r in rows if r["kind"] == "recommendation"]
    assert {"id", "kind", "label", "document"} <= set(rows[0])
    _clean(opened)


def test_hostile_text_reads_literally_in_the_reader(pages: dict[str, Path], opener: Any) -> None:
    opened = opener(pages["member-state-viet-nam"].as_uri())
    rec = f"{DOC}hostile/recommendation/1.1"
    opened.js("(id) => window.aflmView.focusNode(id)", rec)
    panel = opened.page.inner_text("#details")
    assert HOSTILE[0] in panel and HOSTILE[1] in panel
    assert "<img src=x onerror=alert(1)> href Viet Nam recommendations" in panel  # the document's title
    assert "</script><script>alert(2)</script> protection" in panel  # the sub-theme
    assert "<b onmouseover=alert(3)>Bold</b> theme" in opened.page.locator("#details .chips").inner_text()
    assert HOSTILE[1] in opened.page.locator("#details mark").all_inner_texts()
    assert opened.js("() => document.querySelectorAll('img, b, #details script').length") == 0
    opened.page.fill("#search", "onerror")
    assert HOSTILE[0] in opened.page.inner_text("#results")
    opened.page.wait_for_timeout(200)
    _clean(opened)


def test_screenshots_at_desktop_and_phone_sizes(seed_build: Path, opener: Any) -> None:
    """test-output/screenshots/reader-*.png for a person to look at; the README's picture in docs/images/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = seed_build / "views" / "member-state-cambodia.html"
    corpus = views.load_corpus(open_store(seed_build))
    rec = next(r.iri for r in corpus.recommendations.values()
               if r.document.endswith("000_c29556925cd8fb24") and r.display_label == "1.1")

    desktop = opener(f"{page.as_uri()}#node={rec}")
    assert desktop.js("() => window.aflmView.network.getSelectedNodes()") == [rec]
    assert "Cambodia" in desktop.page.inner_text("#details")
    desktop.page.screenshot(path=str(SHOTS / "reader-desktop.png"))
    README_SHOT.parent.mkdir(parents=True, exist_ok=True)
    desktop.page.screenshot(path=str(README_SHOT))
    _clean(desktop)

    phone = opener(f"{page.as_uri()}#node={rec}", PHONE)
    graph = phone.page.locator("#graph").bounding_box()
    assert graph["width"] >= 0.9 * PHONE["width"], graph
    assert graph["height"] >= 0.5 * PHONE["height"], graph
    legend = phone.page.locator("#legend").bounding_box()
    assert legend["y"] >= graph["y"] + graph["height"] - 1  # the legend and the reader are below the graph
    phone.page.screenshot(path=str(SHOTS / "reader-phone.png"))
    phone.page.screenshot(path=str(SHOTS / "reader-phone-full.png"), full_page=True)
    _clean(phone)


# --- a view too big to read node by node (issue 18, item 2): it opens collapsed into clusters (the graph's
# communities), a click opens one, search and the hash open the cluster of the node they select, facets
# re-cluster what they leave, CSV export lists the visible nodes, and far out the links are hidden.

MS = "https://w3id.org/aflm/id/member-state/"


@pytest.fixture(scope="module")
def big_view(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, views.View]:
    """About 800 nodes: 4 member states, 40 documents over two years, 700 recommendations, 60 themes."""
    theme = "https://w3id.org/aflm/vocab/theme/"
    states = {f"{MS}s{i}": f"State {i}" for i in range(4)}
    docs = {f"{DOC}d{i}": views.Document(f"{DOC}d{i}", f"d{i}", f"Document {i}", f"d{i}.txt",
                                         f"{2019 + i % 2}-10-0{1 + i % 9}", f"{MS}s{i % 4}", f"State {i % 4}",
                                         12 + i % 2) for i in range(40)}
    themes = {f"{theme}t{i}": views.Concept(f"{theme}t{i}", "theme", f"Theme {i}", "") for i in range(60)}
    recs, mentions = {}, {}
    for i in range(700):
        iri = f"{DOC}d{i % 40}/recommendation/{i}"
        words = "ratify the quixotic zebra convention" if i == 613 else f"protect workers, item {i}"
        recs[iri] = views.Recommendation(iri, f"{DOC}d{i % 40}", str(i), None, None, i, words)
        for t in ((i % 40) + (i % 3), 40 + i % 20):  # a document's recommendations share themes: communities
            mentions[(iri, f"{theme}t{t}")] = [f"item {i}"]
    corpus = views.Corpus(documents=docs, recommendations=recs, concepts=themes,
                          mentions=dict(sorted(mentions.items())), links=[], member_states=states)
    graph = views.corpus_graph(corpus)
    assert graph.number_of_nodes() > views.CLUSTER_NODES
    view = views.View(name="big", title="A big view", description="Synthetic.", graph=graph)
    path = tmp_path_factory.mktemp("big") / "big.html"
    path.write_text(views.render(view, version="fixture").html, encoding="utf-8")
    return path, view


def _drawn(opened: Opened) -> int:
    return int(opened.js("() => window.aflmView.network.body.nodeIndices.length"))


def _collapsed(opened: Opened) -> list[str]:
    return list(opened.js("() => Object.keys(window.aflmView.clusterState.collapsed)"))


def test_a_big_view_opens_in_clusters_that_search_the_hash_and_a_click_open(
    big_view: tuple[Path, views.View], opener: Any,
) -> None:
    path, view = big_view
    total = view.graph.number_of_nodes()
    rec = f"{DOC}d13/recommendation/613"
    opened = opener(path.as_uri())
    assert _drawn(opened) < total / 5 and len(_collapsed(opened)) >= 5
    assert opened.page.is_visible("#clusters") and "collapsed into" in opened.page.inner_text("#cluster-note")
    assert not opened.js("(id) => window.aflmView.network.body.nodeIndices.includes(id)", rec)
    SHOTS.mkdir(parents=True, exist_ok=True)
    opened.page.screenshot(path=str(SHOTS / "clustered-desktop.png"))

    # search by the words of a recommendation inside a collapsed cluster: its cluster opens, it is selected
    opened.page.fill("#search", "quixotic zebra")
    opened.page.press("#search", "Enter")
    assert opened.js("() => window.aflmView.network.getSelectedNodes()") == [rec]
    assert opened.js("(id) => window.aflmView.network.body.nodeIndices.includes(id)", rec)
    assert opened.js("(id) => window.aflmView.network.clustering.findNode(id).length", rec) == 1  # in no cluster
    assert _hash(opened)["node"] == [rec]
    opened.page.screenshot(path=str(SHOTS / "clustered-selected-desktop.png"))

    # the hash reopens it: the same node selected, its cluster open, the others still collapsed
    again = opener(opened.js("() => location.href"))
    assert again.js("() => window.aflmView.network.getSelectedNodes()") == [rec]
    assert "quixotic zebra" in again.page.inner_text("#details")
    assert len(_collapsed(again)) > 0 and _drawn(again) < total

    # a click on a cluster opens it and zooms to what it held
    cluster = _collapsed(again)[0]
    before = _drawn(again)
    x, y = _dom_point(again, f"cluster:{cluster}")
    again.page.mouse.click(x, y)
    assert cluster not in _collapsed(again) and _drawn(again) > before
    assert again.js("(id) => window.aflmView.network.body.nodes[id] === undefined", f"cluster:{cluster}")
    _clean(opened)
    _clean(again)


def test_a_big_view_filters_exports_and_hides_links_far_out(
    big_view: tuple[Path, views.View], opener: Any, tmp_path: Path,
) -> None:
    path, view = big_view
    total = view.graph.number_of_nodes()
    opened = opener(path.as_uri())
    clusters = len(_collapsed(opened))
    # a facet that leaves fewer nodes than the threshold: nothing collapsed; the legend counts follow
    opened.page.select_option("#facet-doc", f"{DOC}d5")
    assert _collapsed(opened) == [] and opened.page.is_hidden("#clusters")
    assert _legend_counts(opened)["recommendation"] == "18 of 700"
    with opened.page.expect_download() as table:
        opened.page.click("#export-csv")
    table.value.save_as(tmp_path / "nodes.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "nodes.csv").read_text(encoding="utf-8"))))
    visible = opened.js("() => window.aflmView.nodes.get({filter: (n) => !n.hidden}).map((n) => n.id)")
    assert sorted(r["id"] for r in rows) == sorted(visible) and len(rows) == _drawn(opened)
    # "Show all" brings the clusters back; the CSV then lists every node, also those inside clusters
    opened.page.click("#reset")
    assert len(_collapsed(opened)) == clusters
    with opened.page.expect_download() as table:
        opened.page.click("#export-csv")
    table.value.save_as(tmp_path / "all.csv")
    assert len(list(csv.DictReader(io.StringIO((tmp_path / "all.csv").read_text(encoding="utf-8"))))) == total

    # "Open all clusters": every node drawn, kept in the hash; far out the links are hidden, zooming in shows them
    opened.page.click("#clusters")
    assert _collapsed(opened) == [] and _drawn(opened) == total and _hash(opened)["clusters"] == ["open"]
    edge = opened.js("() => window.aflmView.data.edges[0].id")
    hidden = "(id) => window.aflmView.network.body.edges[id].options.hidden === true"
    zoom = "(share) => { const v = window.aflmView; v.network.moveTo({scale: v.fitScale * share}); v.rescale(true); }"
    opened.js(zoom, views.EDGE_HIDE_ZOOM / 2)
    assert opened.js(hidden, edge) and "Links hidden" in opened.page.inner_text("#progress")
    opened.page.focus("#graph .vis-network")
    opened.js(zoom, views.EDGE_HIDE_ZOOM * 0.9)
    assert opened.js(hidden, edge)
    opened.page.keyboard.down("+")  # the keyboard zooms in (vis-network's keys), past the scale where links come back
    opened.page.wait_for_timeout(200)
    opened.page.keyboard.up("+")
    opened.page.wait_for_timeout(100)
    assert not opened.js(hidden, edge) and opened.page.is_hidden("#progress")
    opened.page.keyboard.press("Escape")
    assert opened.js("() => window.aflmView.network.getSelectedNodes()") == []
    _clean(opened)


def test_a_big_view_on_a_phone(big_view: tuple[Path, views.View], opener: Any) -> None:
    path, _view = big_view
    phone = opener(path.as_uri(), PHONE)
    graph = phone.page.locator("#graph").bounding_box()
    assert graph["width"] >= 0.9 * PHONE["width"], graph
    assert len(_collapsed(phone)) >= 5
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.page.screenshot(path=str(SHOTS / "clustered-phone.png"))
    _clean(phone)
