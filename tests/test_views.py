"""The network views and the analytics, without a browser: graphs, escaping, offline pages, determinism, CLI.

The browser half (the page really loads, searches, shows tooltips, fires no dialog) is in
test_views_browser.py. The fixture is a hand-written build (tests/data/views/) plus the seed build.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import math
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from aflm_graph import __version__
from aflm_graph.cli import cli
from aflm_graph.sparql.engine import Result, Term, open_store
from aflm_graph.terms.namespaces import GRAPH_ONTOLOGY, GRAPH_REFERENCE
from aflm_graph.views import network as views
from aflm_graph.views.stats import compute, concept_centrality, member_state_similarity, theme_communities, write_stats

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "data" / "views"
HOSTILE = ("<img src=x onerror=alert(1)> href", "</script><script>alert(2)</script>")
T = "https://w3id.org/aflm/vocab/theme/"
DOC = "https://w3id.org/aflm/id/document/"


def fixture_store(*, hostile: bool = True) -> ox.Store:
    """The hand-written build in memory: ontology and reference graphs plus tests/data/views/*.trig."""
    store = ox.Store()
    store.load(path=str(ROOT / "ontology" / "aflm.ttl"), format=ox.RdfFormat.TURTLE,
               to_graph=ox.NamedNode(GRAPH_ONTOLOGY))
    store.load(path=str(ROOT / "ontology" / "reference.ttl"), format=ox.RdfFormat.TURTLE,
               to_graph=ox.NamedNode(GRAPH_REFERENCE))
    names = ["corpus.trig", "hostile.trig"] if hostile else ["corpus.trig"]
    for name in names:
        store.load(path=str(FIXTURES / name), format=ox.RdfFormat.TRIG)
    return store


def fixture_build(folder: Path) -> Path:
    """The fixture as a build folder (aflm.nq + manifest), as the CLI reads it."""
    folder.mkdir(parents=True, exist_ok=True)
    data = fixture_store().dump(format=ox.RdfFormat.N_QUADS)
    (folder / "aflm.nq").write_bytes(data)
    checksum = hashlib.sha256(data).hexdigest()
    manifest = {"version": "0.1.0", "files": {"aflm.nq": {"bytes": len(data), "sha256": checksum}}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture(scope="module")
def corpus() -> views.Corpus:
    return views.load_corpus(fixture_store())


class _Page(HTMLParser):
    """What a reader sees and what a browser would fetch: text, ids, external references, script bodies."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.fetches: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(found["id"] or "")
        for key in ("src", "href"):
            if found.get(key):
                self.fetches.append(f"{tag} {key}={found[key]}")
        if tag == "link":
            self.fetches.append(f"link {found}")
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _payload(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="view-data">(.*?)</script>', html, re.DOTALL)
    assert match, "the page carries its data in a JSON script element"
    return json.loads(match.group(1))


# --- the graphs


def test_overview_graph_has_every_kind_linked_as_the_ontology_says(corpus: views.Corpus) -> None:
    view = views.overview_view(corpus)
    g = view.graph
    kinds = {k: sorted(n for n, kk in g.nodes(data="kind") if kk == k) for k in views.NODE_STYLES}
    assert len(kinds["member-state"]) == 3  # Cambodia, Thailand, Viet Nam; the online meeting names none
    assert len(kinds["document"]) == 4
    assert len(kinds["recommendation"]) == 14
    assert [len(kinds[k]) for k in ("theme", "actor", "group", "instrument")] == [6, 3, 2, 2]
    edge_kinds = [d["kind"] for _a, _b, d in g.edges(data=True)]
    assert edge_kinds.count("issued") == 3
    assert edge_kinds.count("contains") == 14
    assert edge_kinds.count("duplicate") == 1 and edge_kinds.count("similar") == 1
    # a recommendation is shown by its printed label (qualified by its sub-theme), its text on hover
    rec = f"{DOC}kh-2020/recommendation/2.3"
    assert g.nodes[rec]["label"] == "2.3"
    assert g.nodes[rec]["tip"]["body"] == ["Promote fair recruitment and zero recruitment fees, with employers "
                                           "bearing the cost of recruitment."]
    # an annotation edge carries the evidence that justifies it (two mentions of one concept: both quoted)
    evidence = g.edges[f"{DOC}kh-2020/recommendation/2.1", f"{T}fair-recruitment"]["tip"]["quotes"]
    assert evidence == ["fair recruitment", "zero recruitment fees"]
    assert view.notices == []


def test_member_state_view_is_the_neighbourhood_of_one_state(corpus: views.Corpus) -> None:
    view = views.member_state_view(corpus, "Kingdom of Cambodia")
    g = view.graph
    assert view.name == "member-state-cambodia"
    recs = [n for n, k in g.nodes(data="kind") if k == "recommendation"]
    assert len(recs) == 6 and all("/kh-2020/" in r for r in recs)
    assert {k for _n, k in g.nodes(data="kind")} == {"member-state", "document", "recommendation", "theme",
                                                     "actor", "group", "instrument"}
    assert f"{T}access-to-justice" not in g  # only Thailand and the online meeting mention it
    with pytest.raises(views.ViewError, match="no document of Lao PDR"):
        views.member_state_view(corpus, "Laos")
    with pytest.raises(views.ViewError, match="not an ASEAN member state"):
        views.member_state_view(corpus, "Atlantis")


@pytest.mark.parametrize(("kind", "slug_", "recommendations"), [
    ("theme", "health-care", 5), ("actor", "trade-unions", 3), ("instrument", "ilo-c189", 1),
    ("group", "women-migrant-workers", 2),
])
def test_concept_views_gather_the_recommendations_that_mention_it(
    corpus: views.Corpus, kind: str, slug_: str, recommendations: int
) -> None:
    view = views.concept_view(corpus, kind, slug_)
    g = view.graph
    focus = f"https://w3id.org/aflm/vocab/{kind}/{slug_}"
    recs = sorted(n for n, k in g.nodes(data="kind") if k == "recommendation")
    assert recs == sorted(n for n in g.neighbors(focus))
    assert len(recs) == recommendations
    # every recommendation is tied to its document, and documents to their member state
    assert all(any(g.nodes[d]["kind"] == "document" for d in g.neighbors(r)) for r in recs)
    assert view.name == f"{kind}-{slug_}"


def test_concept_view_of_an_unknown_slug_names_close_ones(corpus: views.Corpus) -> None:
    with pytest.raises(views.ViewError, match="health-care"):
        views.concept_view(corpus, "theme", "health")


def test_compare_joins_member_states_through_themes_with_counts(corpus: views.Corpus) -> None:
    view = views.compare_view(corpus)
    g = view.graph
    cambodia = "https://w3id.org/aflm/id/member-state/cambodia"
    assert g.edges[cambodia, f"{T}fair-recruitment"]["weight"] == 2  # 2.1 and its verbatim repeat 2.3
    assert g.edges[f"{DOC}online-2020", f"{T}health-care"]["weight"] == 2  # unknown issuer: the document itself
    assert {g.nodes[n]["kind"] for n in g} == {"member-state", "document", "theme"}
    table = view.table
    assert table is not None
    assert table.rows[0] == "Cambodia"  # most theme mentions first
    assert table.counts[("Cambodia", "Fair recruitment")] == 2
    assert table.counts[("Thailand", "Social protection")] == 0
    # the grid and the graph say the same thing
    for (row, column), n in table.counts.items():
        row_node = next(x for x in g if g.nodes[x]["label"] == row and g.nodes[x]["kind"] != "theme")
        col_node = next(x for x in g if g.nodes[x]["label"] == column and g.nodes[x]["kind"] == "theme")
        assert (g.edges[row_node, col_node]["weight"] if g.has_edge(row_node, col_node) else 0) == n


def _term(value: str, kind: str = "uri") -> Term:
    return Term(kind, value)


def test_select_with_source_and_target_becomes_a_view(corpus: views.Corpus) -> None:
    rec = f"{DOC}th-2020/recommendation/1"
    result = Result("select", columns=["source", "target", "sourceLabel", "weight", "kind"], rows=[
        [_term(rec), _term(f"{T}health-care"), _term("Thai 1", "literal"), _term("3", "literal"),
         _term("about", "literal")],
        [_term(rec), _term("free testing", "literal"), None, None, _term("says", "literal")],
    ])
    view = views.query_view(corpus, result, name="my.rq", summary="My question")
    g = view.graph
    assert g.number_of_nodes() == 3 and g.number_of_edges() == 2
    # known to the build: label (member state and printed label, never the query's), kind and tooltip come from it
    assert g.nodes[rec]["label"] == "Thailand 1"
    assert g.nodes[rec]["kind"] == "recommendation"
    assert g.nodes[f"{T}health-care"]["label"] == "Health care"
    assert g.edges[rec, f"{T}health-care"]["weight"] == 3.0
    assert set(view.edge_styles) == {"about", "says"}
    assert view.title == "My question"


def test_construct_becomes_a_view_with_literals_in_the_tooltips(corpus: views.Corpus) -> None:
    label = "http://www.w3.org/2004/02/skos/core#prefLabel"
    rec = f"{DOC}th-2020/recommendation/1"
    result = Result("graph", columns=["subject", "predicate", "object"], rows=[
        [_term("http://example.org/a"), _term("http://example.org/linksTo"), _term(rec)],
        [_term("http://example.org/a"), _term(label), _term("Node A", "literal")],
        [_term("http://example.org/a"), _term("http://example.org/note"), _term("a note", "literal")],
    ])
    g = views.query_view(corpus, result, name="c.rq").graph
    assert g.number_of_nodes() == 2 and g.number_of_edges() == 1
    assert g.nodes["http://example.org/a"]["label"] == "Node A"
    assert "http://example.org/note: a note" in g.nodes["http://example.org/a"]["tip"]["body"]


def test_query_views_name_nodes_by_member_state_and_predicates_by_their_rdfs_label(corpus: views.Corpus) -> None:
    store = fixture_store()
    view = views.make_view(views.load_corpus(store), "query", "theme-network", store=store,
                           params={"theme": "health-care"})
    g = view.graph
    recs = [n for n in g if g.nodes[n]["kind"] == "recommendation"]
    assert recs and not [n for n in g if ".txt" in g.nodes[n]["label"]]  # theme-network's labels name files
    assert g.nodes[f"{DOC}kh-2020/recommendation/1.1"]["label"] == "Cambodia 1.1"
    assert {"in document", "has theme"} <= set(view.edge_styles), view.edge_styles
    assert not [k for k in view.edge_styles if k.startswith("aflm:")]
    legend = re.search(r'<ul class="legend" id="edge-legend">(.*?)</ul>', views.render(view, version="v").html, re.S)
    assert legend and "in document" in legend.group(1) and "aflm:inDocument" not in legend.group(1)


def test_query_without_source_and_target_is_refused_with_the_columns_it_has(corpus: views.Corpus) -> None:
    result = Result("select", columns=["a", "b"], rows=[])
    with pytest.raises(views.ViewError, match=r"\?source and \?target.*\?a, \?b"):
        views.query_view(corpus, result, name="x")
    with pytest.raises(views.ViewError, match="ASK"):
        views.query_view(corpus, Result("ask", boolean=True), name="x")


def _big_corpus(recommendations: int) -> views.Corpus:
    """A synthetic corpus far beyond what one can read as single dots."""
    docs = {f"{DOC}d{i}": views.Document(f"{DOC}d{i}", f"d{i}", f"Doc {i}", f"d{i}.txt", "2020-01-01",
                                         None, None, None) for i in range(40)}
    themes = {f"{T}t{i}": views.Concept(f"{T}t{i}", "theme", f"Theme {i}", "") for i in range(60)}
    recs, mentions = {}, {}
    for i in range(recommendations):
        iri = f"{DOC}d{i % 40}/recommendation/{i}"
        recs[iri] = views.Recommendation(iri, f"{DOC}d{i % 40}", str(i), None, None, i, f"text {i}")
        for t in (i % 60, (i * 7) % 60):
            mentions[(iri, f"{T}t{t}")] = [f"theme {t}"]
    return views.Corpus(documents=docs, recommendations=recs, concepts=themes, mentions=dict(sorted(mentions.items())),
                        links=[])


def test_a_big_corpus_is_collapsed_per_document_and_the_view_says_so() -> None:
    corpus = _big_corpus(views.MAX_RECOMMENDATIONS * 3)
    view = views.overview_view(corpus)
    g = view.graph
    assert not [n for n, k in g.nodes(data="kind") if k == "recommendation"]
    assert g.number_of_nodes() == 100
    # a document-theme link counts that document's recommendations on the theme
    assert sum(d["weight"] for _a, _b, d in g.edges(data=True)) == sum(
        1 for _ in corpus.mentions
    )
    assert any("too many to draw one by one" in n for n in view.notices)
    rendered = views.render(view, version="big")
    assert "too many to draw one by one" in rendered.html
    assert _payload(rendered.html)["physics"] is True


def test_many_documents_are_collapsed_into_their_member_states(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "MAX_DOCUMENTS", 10)
    corpus = _big_corpus(views.MAX_RECOMMENDATIONS * 3)
    view = views.overview_view(corpus)
    g = view.graph
    # none of the 40 documents names a member state: one node stands in for all of them
    assert [g.nodes[n]["label"] for n, k in g.nodes(data="kind") if k == "document"] == [
        "Documents of unknown issuer (40)"]
    assert sum(d["weight"] for _a, _b, d in g.edges(data=True)) == len(corpus.mentions)
    assert any("40 documents are too many" in n for n in view.notices)


def test_the_edge_cap_keeps_the_strongest_links(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "MAX_EDGES", 100)
    view = views.overview_view(_big_corpus(views.MAX_RECOMMENDATIONS * 3))
    weights = sorted((d["weight"] for _a, _b, d in view.graph.edges(data=True)), reverse=True)
    assert len(weights) == 100
    assert any("strongest of" in n for n in view.notices)
    assert all(view.graph.degree(n) > 0 for n in view.graph)


def test_the_node_cap_keeps_the_most_connected_and_says_how_many_were_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "MAX_NODES", 50)
    view = views.overview_view(_big_corpus(views.MAX_RECOMMENDATIONS * 3))
    assert view.graph.number_of_nodes() == 50
    assert any("most connected of 100 nodes" in n for n in view.notices)


# --- the pages


@pytest.fixture(scope="module")
def rendered(corpus: views.Corpus) -> dict[str, views.Rendered]:
    made = [views.overview_view(corpus), views.compare_view(corpus), views.member_state_view(corpus, "Viet Nam"),
            views.concept_view(corpus, "theme", "health-care")]
    return {v.name: views.render(v, version="aflm-graph 0.1.0 build, data checksum 0123456789ab") for v in made}


def test_pages_are_self_contained_and_never_reach_the_network(rendered: dict[str, views.Rendered]) -> None:
    for name, page in rendered.items():
        parsed = _page(page.html)
        assert parsed.fetches == [], f"{name}: the page would fetch {parsed.fetches}"
        assert "vis.Network" in page.html and ".vis-network" in page.html, f"{name}: vis-network is not inlined"
        assert "default-src 'none'" in page.html  # the browser itself refuses any fetch
        assert not re.search(r"cdn\.|bootstrap|unpkg|jsdelivr", page.html), f"{name}: a CDN is named"


def test_every_page_has_title_description_version_legend_search_and_filters(
    rendered: dict[str, views.Rendered],
) -> None:
    for name, page in rendered.items():
        parsed = _page(page.html)
        assert {"title", "description", "legend", "search", "reset", "graph", "details"} <= parsed.ids, name
        assert "data checksum 0123456789ab" in page.html
        assert page.html.count('class="kind-filter"') == len({n["kind"] for n in _payload(page.html)["nodes"]})
    assert "origin" in _page(rendered["overview"].html).ids  # several member states: a filter by state
    assert "matrix" in _page(rendered["compare"].html).ids  # compare has its heat-map table


def test_page_data_matches_the_networkx_graph(corpus: views.Corpus, rendered: dict[str, views.Rendered]) -> None:
    view = views.overview_view(corpus)
    data = _payload(rendered["overview"].html)
    assert len(data["nodes"]) == view.graph.number_of_nodes() == rendered["overview"].nodes
    assert len(data["edges"]) == view.graph.number_of_edges() == rendered["overview"].edges
    assert {n["id"] for n in data["nodes"]} == set(view.graph.nodes)
    assert {frozenset((e["from"], e["to"])) for e in data["edges"]} == {frozenset(e) for e in view.graph.edges}
    # nothing for pyvis's HTML tooltips: the page builds them from `tip` as text
    assert not any("title" in n for n in data["nodes"]) and not any("title" in e for e in data["edges"])


def test_hostile_text_is_escaped_everywhere_and_survives_as_text(rendered: dict[str, views.Rendered]) -> None:
    for name, page in rendered.items():
        html = page.html
        assert "<img src=x" not in html, name
        assert "<b onmouseover" not in html, name
        assert "alert(2)</script>" not in html, name
        # three script elements and no others: the data's "</script>" never closes one
        assert len(re.findall(r"</script", html, re.IGNORECASE)) == 3, name
        assert "\u2028" not in _page(html).scripts[0], name
    data = _payload(rendered["member-state-viet-nam"].html)
    rec = next(n for n in data["nodes"] if n["kind"] == "recommendation")
    assert HOSTILE[0] in rec["tip"]["body"][0] and HOSTILE[1] in rec["tip"]["body"][0]
    assert "\u2028" in rec["tip"]["body"][0]
    doc = next(n for n in data["nodes"] if n["kind"] == "document")
    assert doc["tip"]["heading"].startswith(HOSTILE[0])
    # the compare table's header shows the hostile concept label as text
    assert "&lt;b onmouseover=alert(3)&gt;Bold&lt;/b&gt; theme" in rendered["compare"].html


def test_script_json_cannot_break_out_of_its_element() -> None:
    text = views.script_json({"t": "</script><!-- \u2028 \u2029 & <b>"})
    assert not re.search(r"[<>&\u2028\u2029]", text)
    assert json.loads(text) == {"t": "</script><!-- \u2028 \u2029 & <b>"}


def test_same_build_same_bytes(corpus: views.Corpus) -> None:
    first = views.build_views(fixture_store(), version="v")
    second = views.build_views(fixture_store(), version="v")
    assert set(first) == {"overview.html", "compare.html", "member-state-cambodia.html",
                          "member-state-thailand.html", "member-state-viet-nam.html"}
    for name in first:
        assert first[name].html == second[name].html, name
    today = datetime.date.today()
    for stamp in (today.isoformat(), f"{today.day} {today:%B} {today.year}", f"{today.day} {today:%b} {today.year}"):
        assert stamp not in first["overview.html"].html  # no timestamp: nothing changes from one day to the next



def test_a_view_above_the_cluster_threshold_carries_communities_laid_out_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above CLUSTER_NODES each node carries its community (what the page collapses into clusters), the
    communities are laid out apart, and the same view gives the same bytes; below it nothing is clustered."""
    view = views.overview_view(_big_corpus(views.MAX_RECOMMENDATIONS * 3))  # 40 documents, 60 themes
    small = _payload(views.render(view, version="v").html)
    assert not [n for n in small["nodes"] if "cluster" in n] and small["physics"] is True
    assert small["clusterAbove"] == views.CLUSTER_NODES

    monkeypatch.setattr(views, "CLUSTER_NODES", 50)
    html = views.render(view, version="v").html
    assert html == views.render(view, version="v").html
    data = _payload(html)
    assert data["physics"] is False  # the layout is final: clusters are drawn where their nodes are
    clusters = {n["id"]: n["cluster"] for n in data["nodes"]}
    assert set(clusters) == set(view.graph) and len(set(clusters.values())) >= 3
    assert clusters == views._communities(view.graph)
    assert _intruders({n["id"]: (n["x"], n["y"]) for n in data["nodes"]}, clusters) == 0

    # communities that share hubs: a layout of the whole graph mixes them in the middle, ours keeps them apart
    hubs = nx.Graph()
    for c in range(8):
        members = [f"c{c}n{i}" for i in range(15)]
        for i, a in enumerate(members):
            hubs.add_edges_from((a, b) for b in members[i + 1 : i + 4])
            hubs.add_edge(a, f"hub{(i + c) % 3}")
    communities = views._communities(hubs)
    assert _intruders(views._layout(hubs), communities) > 50
    assert _intruders(views._community_layout(hubs, communities), communities) == 0


def _intruders(places: dict[str, tuple[float, float]], communities: dict[str, int]) -> int:
    """How many times a node lies inside the circle around another community (its middle, its farthest node)."""
    circles = {}
    for c in set(communities.values()):
        inside = [places[n] for n in communities if communities[n] == c]
        middle = (sum(x for x, _ in inside) / len(inside), sum(y for _, y in inside) / len(inside))
        circles[c] = (middle, max(math.dist(middle, p) for p in inside))
    return sum(1 for n, own in communities.items() for c, (middle, radius) in circles.items()
               if c != own and math.dist(places[n], middle) < radius)


# --- cost: a view reads and builds only what it shows


def test_words_are_read_only_for_the_recommendations_a_view_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    eager = views.load_corpus(fixture_store())
    lazy = views.load_corpus(fixture_store(), details=False)
    assert {r.text for r in lazy.recommendations.values()} == {""} and lazy.links == []
    assert all(evidence == [] for evidence in lazy.mentions.values())
    # a view that draws one member state's recommendations reads the words of those, and only those
    viet_nam = views.member_state_view(lazy, "Viet Nam")
    drawn = {n for n, k in viet_nam.graph.nodes(data="kind") if k == "recommendation"}
    assert drawn and all(lazy.recommendations[r].text == eager.recommendations[r].text for r in drawn)
    assert all(lazy.recommendations[r].text == "" for r in set(lazy.recommendations) - drawn)
    # ...and shows exactly what the fully read corpus shows
    same = views.member_state_view(eager, "Viet Nam")
    assert views.render(viet_nam, version="v").html == views.render(same, version="v").html
    # read one by one or all at once, the words are the same as those read up front
    for share in (0.0, 1.0):
        monkeypatch.setattr(views, "_LOOKUP_SHARE", share)
        corpus = views.load_corpus(fixture_store(), details=False)
        corpus.require_details(sorted(corpus.recommendations)[:3])
        corpus.require_details()
        assert corpus == eager, share


def test_lazy_and_eager_corpora_give_the_same_pages_of_every_kind() -> None:
    store = fixture_store()
    made = [("overview", None), ("compare", None), ("member-state", "Cambodia"), ("theme", "health-care"),
            ("actor", "trade-unions"), ("query", "theme-network")]
    for kind, arg in made:
        pages = [views.render(views.make_view(views.load_corpus(store, details=details), kind, arg, store=store,
                                              params={"theme": "health-care"}), version="v").html
                 for details in (True, False)]
        assert pages[0] == pages[1], kind


def test_a_collapsed_view_reads_no_words_and_builds_no_corpus_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "MAX_RECOMMENDATIONS", 3)
    corpus = views.load_corpus(fixture_store(), details=False)
    view = views.overview_view(corpus)
    assert not [n for n, k in view.graph.nodes(data="kind") if k == "recommendation"]
    assert {r.text for r in corpus.recommendations.values()} == {""}  # nothing drawn, nothing read
    assert corpus._graph is None  # made at its size: never the whole corpus graph first
    big = _big_corpus(views.MAX_RECOMMENDATIONS * 3)
    views.overview_view(big)
    views.concept_view(big, "theme", "t1")
    assert big._graph is None


def test_build_views_on_the_on_disk_store_matches_the_in_memory_one(tmp_path: Path) -> None:
    store = fixture_store()
    disk = ox.Store(str(tmp_path / "store"))
    disk.bulk_load(store.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
    disk.flush()
    in_memory = views.build_views(store, version="v")
    on_disk = views.build_views(disk, version="v")
    assert {n: r.html for n, r in on_disk.items()} == {n: r.html for n, r in in_memory.items()}


# --- analytics


def test_stats_rank_concepts_find_communities_and_similar_states(corpus: views.Corpus) -> None:
    concepts = concept_centrality(corpus)
    top = dict(zip(concepts.columns, concepts.rows[0], strict=True))
    assert top["concept"] == "health-care" and top["degree"] == 5 and top["member_states"] == 3
    assert float(top["betweenness"]) > 0
    assert len(concepts.rows) == len(corpus.concepts)

    communities = theme_communities(corpus)
    by_theme = {row[1]: row[0] for row in communities.rows}
    assert by_theme["health-care"] == by_theme["hostile-theme"]  # mentioned together in one recommendation
    assert len(by_theme) == 6

    similarity = member_state_similarity(corpus)
    assert len(similarity.rows) == 6  # four origins, every pair once
    assert [float(r[2]) for r in similarity.rows] == sorted((float(r[2]) for r in similarity.rows), reverse=True)
    pair = next(r for r in similarity.rows if {r[0], r[1]} == {"Cambodia", "Thailand"})
    assert pair[3] == 2  # fair recruitment, health care


def test_stats_are_written_as_csv(tmp_path: Path) -> None:
    tables = compute(fixture_store())
    sizes = write_stats(tables, tmp_path)
    assert set(sizes) == {"concepts.csv", "theme-communities.csv", "member-state-similarity.csv"}
    rows = list(csv.DictReader(io.StringIO((tmp_path / "concepts.csv").read_text())))
    assert rows[0]["concept"] == "health-care" and rows[0]["degree"] == "5"


# --- command line


def test_cli_view_and_stats_on_a_build(tmp_path: Path) -> None:
    build = fixture_build(tmp_path / "build")
    runner = CliRunner()
    out = tmp_path / "health.html"
    result = runner.invoke(cli, ["view", "theme", "health-care", "--build", str(build), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert re.match(r"Wrote .*health\.html: 16 nodes, \d+ links, [\d,]+ bytes", result.output)
    assert "data checksum" in out.read_text()

    result = runner.invoke(cli, ["view", "theme", "no-such-theme", "--build", str(build), "--out", str(out)])
    assert result.exit_code != 0 and "no theme 'no-such-theme'" in result.output

    result = runner.invoke(cli, ["view", "member-state", "--build", str(build)])
    assert result.exit_code != 0 and "needs a member state's name" in result.output

    result = runner.invoke(cli, ["stats", "--build", str(build), "--top", "3"])
    assert result.exit_code == 0, result.output
    assert "Health care" in result.output and (build / "stats" / "member-state-similarity.csv").is_file()


def test_cli_query_view_binds_parameters(tmp_path: Path) -> None:
    build = fixture_build(tmp_path / "build")
    query = tmp_path / "links.rq"
    query.write_text(
        "PREFIX aflm: <https://w3id.org/aflm/ontology#>\n"
        "SELECT ?source ?target (\"similar\" AS ?kind) WHERE { ?source aflm:similarTo ?target }\n"
    )
    out = tmp_path / "q.html"
    result = CliRunner().invoke(cli, ["view", "query", str(query), "--build", str(build), "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = _payload(out.read_text())
    assert len(data["nodes"]) == 2 and len(data["edges"]) == 1


# --- the seed build (needs the parser and the vocabularies)


def test_build_writes_the_views_into_the_build(seed_build: Path) -> None:
    folder = seed_build / "views"
    names = sorted(p.name for p in folder.glob("*.html"))
    assert names == ["compare.html", "member-state-cambodia.html", "overview.html"]
    manifest = json.loads((seed_build / "manifest.json").read_text())
    assert {f"views/{n}" for n in names} <= set(manifest["files"])
    for name in names:
        html = (folder / name).read_text(encoding="utf-8")
        assert _page(html).fetches == [], name
        assert f"data checksum {manifest['files']['aflm.nq']['sha256'][:12]}" in html


def test_cli_view_reproduces_the_build_views_byte_for_byte(seed_build: Path, tmp_path: Path) -> None:
    out = tmp_path / "overview.html"
    result = CliRunner().invoke(cli, ["view", "overview", "--build", str(seed_build), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == (seed_build / "views" / "overview.html").read_bytes()


def test_seed_overview_counts(seed_build: Path) -> None:
    corpus = views.load_corpus(open_store(seed_build))
    g = views.overview_view(corpus).graph
    assert sum(1 for _n, k in g.nodes(data="kind") if k == "recommendation") == 47
    assert sum(1 for _n, k in g.nodes(data="kind") if k == "document") == 2
    assert all(g.degree(n) > 0 for n in g)


def test_seed_overview_draws_each_text_link_as_what_it_is(seed_build: Path) -> None:
    """Recurrence links are not "similar text"; a pair linked both ways keeps one edge, the closer relation."""
    g = views.overview_view(views.load_corpus(open_store(seed_build))).graph
    kinds = Counter(d["kind"] for _a, _b, d in g.edges(data=True))
    assert kinds["duplicate"] == 3 and kinds["similar"] == 4 and kinds["recurrence"] >= 15
    for _a, _b, d in g.edges(data=True):
        if d["kind"] == "recurrence":
            assert d["tip"]["sub"].startswith("The same call in other words (recurrence, score 0.")
        elif d["kind"] == "similar":
            assert d["tip"]["sub"].startswith("Similar text (score 0.")


def test_hostile_document_through_the_pipeline_is_shown_as_text(tmp_path: Path) -> None:
    from aflm_graph.publish.pipeline import build

    out = tmp_path / "hostile-build"
    build([FIXTURES / "hostile.txt"], out)
    texts = [r.text for r in views.load_corpus(open_store(out)).recommendations.values()]
    assert any(HOSTILE[0] in t and HOSTILE[1] in t for t in texts)
    for path in sorted((out / "views").glob("*.html")):
        html = path.read_text(encoding="utf-8")
        assert "<img src=x" not in html and "alert(2)</script>" not in html, path.name
        assert len(re.findall(r"</script", html, re.IGNORECASE)) == 3, path.name


def _views_both_ways(build: Path) -> tuple[dict[str, bytes], dict[str, bytes], int, int, int]:
    """build_views on the whole dump, and as a build draws them: from the store of what they read but the
    words, with the words in a store of their own made when a view first draws a recommendation.
    (Views of the whole, views of the parts, quads in the whole, in the views' store, in the words' store.)"""
    from aflm_graph.graph.statements import Statements

    whole = ox.Store()
    whole.bulk_load(path=str(build / "aflm.nq"), format=ox.RdfFormat.N_QUADS)
    statements = Statements.from_quads(whole)
    scratch = build.parent / f".{build.name}.views.nt"
    part = ox.Store()
    views.load_views_store(part, statements, scratch=scratch)
    make_words = views.words_store(statements, scratch=scratch)
    made: list[ox.Store] = []

    def details() -> ox.Store:  # the build's factory, watched
        made.append(make_words())
        return made[-1]

    full = {k: v.html.encode() for k, v in views.build_views(whole, version="v").items()}
    reduced = {k: v.html.encode() for k, v in views.build_views(part, version="v", details=details).items()}
    assert not scratch.exists(), "the scratch file is removed"
    assert len(made) <= 1, "the words' store is made once at most"
    return full, reduced, len(whole), len(part), sum(len(store) for store in made)


def test_the_views_store_of_a_build_leaves_out_only_what_the_views_never_read(seed_build: Path, tmp_path: Path
                                                                             ) -> None:
    from aflm_graph.publish.pipeline import build
    from synth import write_corpus

    write_corpus(tmp_path / "corpus", documents=30, seed=4)
    synthetic = tmp_path / "synthetic-build"
    build([tmp_path / "corpus"], synthetic, validate=False)
    for folder in (seed_build, synthetic, fixture_build(tmp_path / "fixture")):
        full, reduced, whole, part, words = _views_both_ways(folder)
        assert full and full == reduced, folder.name
        assert words, f"{folder.name}: its views draw recommendations, so the words were loaded"
        assert part + words < 0.8 * whole or folder.name == "fixture", (folder.name, part, words, whole)


def test_a_big_build_draws_its_views_without_loading_the_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    """Past what a view draws one by one, the words are never read: their store is not even made."""
    from aflm_graph.publish.pipeline import build
    from synth import write_corpus

    monkeypatch.setattr(views, "MAX_RECOMMENDATIONS", 5)  # every document has 10 or more: each view collapses
    write_corpus(tmp_path / "corpus", documents=12, seed=4)
    out = tmp_path / "build"
    build([tmp_path / "corpus"], out, validate=False)
    full, reduced, _whole, part, words = _views_both_ways(out)
    assert full == reduced and part and words == 0


def test_the_views_a_build_writes_are_those_of_its_whole_graph(seed_build: Path) -> None:
    full, *_ = _views_both_ways(seed_build)
    written = {p.name: p.read_bytes() for p in (seed_build / "views").iterdir()}
    digest = json.loads((seed_build / "manifest.json").read_text())["files"]["aflm.nq"]["sha256"]
    version = views.version_note(__version__, digest)
    expected = {k: v.html.encode() for k, v in views.build_views(open_store(seed_build), version=version).items()}
    assert written == expected and set(written) == set(full)
