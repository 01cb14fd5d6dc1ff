"""A page for every IRI: `aflm-graph serve` answers /id/..., /vocab/..., /ontology and /graph/... (a real process).

What users rely on: each IRI of the build, at its path, gives an HTML page or its RDF description in the form the
Accept header (or ?format=) asks for; every form parses and holds the resource's own statements; the page names
the resource and its type, groups its statements, links to related pages that answer; a recommendation's
evidence is marked in its text; a concept lists its recommendations; an unknown IRI is a 404 page; text from a
document (script tags included) shows as text.
"""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import RDF, URIRef

from aflm_graph.serve.pages import highlight, href, iri_candidates
from aflm_graph.sparql.resource import Mention, Node
from hostile import http_request, serve_process

BASE = "https://w3id.org/aflm/"
AFLM = rdflib.Namespace(BASE + "ontology#")
SKOS = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DOC = "id/document/000_c29556925cd8fb24"
REC = DOC + "/recommendation/1.11"
CONCEPT = "vocab/theme/fair-recruitment"
TITLE = "Cambodia National Recommendations for the 13th ASEAN Forum on Migrant Labour"
RESOURCES = {  # path -> (an rdf:type it has, a statement of its own: (predicate, object) in the RDF forms)
    DOC: (AFLM.RecommendationsDocument, (DCTERMS.title, rdflib.Literal(TITLE))),
    REC: (AFLM.Recommendation, (AFLM.hasTheme, URIRef(BASE + CONCEPT))),
    CONCEPT: (SKOS.Concept, (SKOS.prefLabel, None)),
    "ontology": (rdflib.OWL.Ontology, (DCTERMS.title, rdflib.Literal("AFML recommendations ontology", lang="en"))),
    "graph/data": (VOID.Dataset, (VOID.triples, None)),
}
RDF_TYPES = {  # media type -> rdflib parser
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}
HOSTILE_TEXT = '<script>alert(1)</script> & "their"'
HOSTILE_DOCUMENT = f"""Cambodia National Recommendations <b onmouseover=alert(3)>bold</b> for the 13th ASEAN \
Forum on Migrant Labour

14 September 2020

Sub-theme 1: Impact </title><script>alert(2)</script> on migrant workers

1. Protect migrant workers {HOSTILE_TEXT} families through fair recruitment.

2. Ensure access to health care for migrant workers.
"""


@pytest.fixture(scope="module")
def site(seed_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_process(seed_build, tmp_path_factory.mktemp("pages")) as served:
        yield served.url.removesuffix("/sparql")


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from aflm_graph.publish.pipeline import build

    folder = tmp_path_factory.mktemp("hostile-pages")
    (folder / "in").mkdir()
    (folder / "in" / "hostile_doc.txt").write_text(HOSTILE_DOCUMENT, encoding="utf-8")
    build([folder / "in"], folder / "build")
    with serve_process(folder / "build", folder, "--max-rows", "60") as served:
        yield served.url.removesuffix("/sparql")


def get(url: str, accept: str | None = None) -> tuple[int, dict[str, str], bytes]:
    return http_request(url, headers={"Accept": accept} if accept else {})


def page(site: str, path: str) -> str:
    status, headers, body = get(f"{site}/{path}", "text/html")
    assert status == 200, (path, body[:300])
    assert headers["content-type"].startswith("text/html"), headers
    return body.decode("utf-8")


def parse(body: bytes, parser: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data=body, format=parser)
    return graph


# --- the forms


@pytest.mark.parametrize("media", sorted(RDF_TYPES))
@pytest.mark.parametrize("path", sorted(RESOURCES))
def test_each_rdf_form_parses_and_holds_its_own_statements(site: str, path: str, media: str) -> None:
    status, headers, body = get(f"{site}/{path}", media)
    assert status == 200, body[:300]
    assert headers["content-type"].split(";")[0] == media
    assert "Accept" in headers.get("vary", "")
    graph = parse(body, RDF_TYPES[media])
    subject = URIRef(BASE + path)
    rdf_type, (predicate, obj) = RESOURCES[path]
    assert (subject, RDF.type, rdf_type) in graph
    assert list(graph.objects(subject, predicate)), (path, predicate)
    if obj is not None:
        assert (subject, predicate, obj) in graph


def test_the_rdf_forms_hold_the_same_triples(site: str) -> None:
    graphs = [parse(get(f"{site}/{REC}", media)[2], parser) for media, parser in RDF_TYPES.items()]
    triples = [{(s, p, o.toPython() if isinstance(o, rdflib.Literal) else o) for s, p, o in g} for g in graphs]
    assert all(t == triples[0] for t in triples[1:])


def test_a_recommendation_description_holds_its_mentions_and_the_labels_it_links_to(site: str) -> None:
    graph = parse(get(f"{site}/{REC}", "text/turtle")[2], "turtle")
    rec = URIRef(BASE + REC)
    mentions = set(graph.subjects(AFLM.mentionIn, rec))
    assert len(mentions) == 4
    evidence = {str(graph.value(m, AFLM.evidence)) for m in mentions}
    assert {"fair recruitment", "recruitment agencies"} <= evidence
    assert all(graph.value(m, AFLM.evidenceStart) is not None for m in mentions)
    assert str(graph.value(URIRef(BASE + CONCEPT), SKOS.prefLabel)) == "Fair recruitment"
    assert graph.value(URIRef(BASE + DOC), DCTERMS.title) is not None


def test_the_ontology_document_holds_every_term(site: str) -> None:
    graph = parse(get(f"{site}/ontology", "text/turtle")[2], "turtle")
    assert (AFLM.text, RDF.type, rdflib.OWL.DatatypeProperty) in graph
    assert graph.value(AFLM.Recommendation, rdflib.RDFS.label) is not None


def test_format_parameter_wins_over_accept(site: str) -> None:
    for value, media in [("ttl", "text/turtle"), ("turtle", "text/turtle"), ("jsonld", "application/ld+json"),
                         ("nt", "application/n-triples"), ("rdfxml", "application/rdf+xml"), ("html", "text/html")]:
        status, headers, body = get(f"{site}/{CONCEPT}?format={value}", "text/html" if media != "text/html"
                                    else "text/turtle")
        assert status == 200, (value, body[:200])
        assert headers["content-type"].split(";")[0] == media, value
    assert get(f"{site}/{CONCEPT}?format=pdf")[0] == 406


def test_accept_header_negotiation(site: str) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert get(f"{site}/{DOC}", browser)[1]["content-type"].startswith("text/html")
    assert get(f"{site}/{DOC}")[1]["content-type"].startswith("text/html")  # no Accept: the page
    picked = get(f"{site}/{DOC}", "text/turtle;q=0.5, application/ld+json")[1]["content-type"]
    assert picked.startswith("application/ld+json")
    assert get(f"{site}/{DOC}", "image/png")[0] == 406


# --- the page


def test_page_shows_label_type_and_grouped_statements(site: str) -> None:
    html = page(site, DOC)
    assert re.search(r"<h1>Cambodia National Recommendations for the 13th ASEAN Forum on Migrant Labour</h1>", html)
    assert re.search(r'<p class="types"><a href="/ontology#RecommendationsDocument">recommendations document</a>',
                     html)
    assert BASE + DOC in html
    statements = html.split('<section id="statements">', 1)[1].split("</section>", 1)[0]
    # dcterms:title shows the label aflm.ttl documents it with ("title"), linked to its Dublin Core IRI
    for label in ("issued by", "forum edition", "title", "meeting place"):
        assert f">{label}</a></th>" in statements, label
    assert '<a href="http://purl.org/dc/terms/title"' in statements
    assert statements.count('>in document</a></th>') == 0  # inverse links are apart
    inverse = html.split('<section id="inverse">', 1)[1]
    assert inverse.count(f'href="/{DOC}/recommendation/') >= 20  # the document's recommendations link here


def test_page_headers_allow_nothing_remote(site: str) -> None:
    status, headers, body = get(f"{site}/{REC}", "text/html")
    assert status == 200
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "http" not in csp and "script-src" not in csp
    style = re.search(rb"<style>(.*?)</style>", body, re.DOTALL)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1)).digest()).decode()
    assert f"'sha256-{digest}'" in csp  # the inline style is the one the policy allows
    assert headers["x-content-type-options"] == "nosniff"


def test_every_local_link_of_a_page_answers(site: str) -> None:
    html = page(site, REC)
    links = sorted({urllib.parse.urljoin(f"{site}/{REC}", h).split("#")[0]
                    for h in re.findall(r'href="(/[^"]*|\?[^"]*)"', html)})
    assert len(links) >= 10, links
    assert any("/vocab/theme/" in link for link in links) and any(link.endswith("/ontology") for link in links)
    for link in links:
        status, _, body = get(link.replace("&amp;", "&"))
        assert status == 200, (link, body[:200])


def test_recommendation_evidence_is_marked(site: str) -> None:
    html = page(site, REC)
    text = html.split('<p class="text">', 1)[1].split("</p>", 1)[0]
    marks = re.findall(r'<mark class="(\w+)" title="([^"]*)">([^<]*)</mark>', text)
    assert ("theme", "theme: Fair recruitment", "fair recruitment") in marks
    assert ("actor", "actor: Recruitment agencies", "recruitment agencies") in marks
    assert len(marks) == 4
    assert re.sub(r"<[^>]+>", "", text).startswith("Increase and improving safe and regular migration channels")


def test_concept_lists_its_recommendations(site: str, seed_build: Path) -> None:
    store = ox.Store()
    store.bulk_load(path=str(seed_build / "aflm.nq"), format=ox.RdfFormat.N_QUADS)
    expected = {q.subject.value for q in store.quads_for_pattern(
        None, ox.NamedNode(str(AFLM.hasTheme)), ox.NamedNode(BASE + CONCEPT), None)}
    assert len(expected) >= 3
    html = page(site, CONCEPT)
    assert "<h1>Fair recruitment</h1>" in html
    section = html.split('<section id="recommendations">', 1)[1].split("</section>", 1)[0]
    listed = {BASE + h[1:] for h in re.findall(r'href="(/id/document/[^"]+)"', section)}
    assert listed == expected
    assert f"Recommendations ({len(expected)})" in section


def test_ontology_page_lists_terms_with_anchors(site: str) -> None:
    html = page(site, "ontology")
    for term in ("Recommendation", "ConceptMention", "hasTheme", "evidenceStart"):
        assert f'id="{term}"' in html, term


def test_graph_page(site: str) -> None:
    html = page(site, "graph/data")
    assert "AFML recommendations knowledge graph: data (named graph)" in html


@pytest.mark.parametrize("path", [f"{DOC}/nope", "id/nothing", "vocab/theme/no-such-theme", "graph/nope",
                                  "id/%3Cscript%3Ealert(1)%3C/script%3E"])
def test_unknown_iri_is_a_404_page(site: str, path: str) -> None:
    status, headers, body = get(f"{site}/{path}", "text/html")
    assert status == 404
    assert headers["content-type"].startswith("text/html")
    html = body.decode()
    assert "<h1>Not found</h1>" in html and "<script>" not in html
    assert get(f"{site}/{path}", "text/turtle")[0] == 404


# --- hostile text


def test_hostile_document_text_shows_literally(hostile_site: str) -> None:
    html = page(hostile_site, "id/document/hostile_doc/recommendation/1.1")
    assert "<script>" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;their&#34;" in html
    text = html.split('<p class="text">', 1)[1].split("</p>", 1)[0]
    assert '<mark class="theme" title="theme: Fair recruitment">fair recruitment</mark>' in text
    document = page(hostile_site, "id/document/hostile_doc")
    assert "<h1>Cambodia National Recommendations &lt;b onmouseover=alert(3)&gt;bold&lt;/b&gt;" in document
    assert "<b " not in document and "<script>" not in document
    graph = parse(get(f"{hostile_site}/id/document/hostile_doc/recommendation/1.1", "text/turtle")[2], "turtle")
    texts = [str(o) for o in graph.objects(None, AFLM.text)]
    assert any(HOSTILE_TEXT in t for t in texts)  # the data itself is kept whole


def test_a_description_past_the_row_cap_is_refused(hostile_site: str) -> None:
    status, _, body = get(f"{hostile_site}/ontology", "text/turtle")  # 345 statements, cap 60
    assert status == 422 and b"60" in body


# --- the pieces


def test_highlight_escapes_every_piece_and_splits_overlaps() -> None:
    concept = Node("iri", BASE + "vocab/theme/x", label="X <i>")
    text = "a <b>safe migration</b> & more"
    mentions = [Mention("m1", concept, "theme", "safe migration", 5, 19),
                Mention("m2", concept, "actor", "migration", 10, 19),
                Mention("m3", concept, "theme", "bad", 25, 99)]  # out of range: not marked
    html = str(highlight(text, mentions))
    assert html == ('a &lt;b&gt;<mark class="theme" title="theme: X &lt;i&gt;">safe </mark>'
                    '<mark class="actor theme" title="theme: X &lt;i&gt;; actor: X &lt;i&gt;">migration</mark>'
                    '&lt;/b&gt; &amp; more')


def test_links_go_to_local_paths_and_never_to_other_schemes() -> None:
    assert href(BASE + "id/document/a") == "/id/document/a"
    assert href(BASE + "ontology#Recommendation") == "/ontology#Recommendation"
    assert href(BASE + "ontology/0.1.0") == BASE + "ontology/0.1.0"
    assert href("http://www.wikidata.org/entity/Q1") == "http://www.wikidata.org/entity/Q1"
    assert href("javascript:alert(1)") is None
    assert href("urn:x:y") is None


def test_request_paths_name_iris_as_minted() -> None:
    assert iri_candidates("/id/document/a%20b") == [BASE + "id/document/a%20b"]
    assert iri_candidates("/id/document/a b") == [BASE + "id/document/a%20b", BASE + "id/document/a b"]
    assert iri_candidates("/vocab/theme/x") == [BASE + "vocab/theme/x"]


def test_the_w3id_rules_keep_the_path_and_name_formats_the_server_knows() -> None:
    from aflm_graph.serve.pages import FORMAT_PARAM

    rules = (Path(__file__).resolve().parents[1] / "w3id" / ".htaccess").read_text(encoding="utf-8")
    targets = re.findall(r"^RewriteRule \^\(\.\*\)\$ (\S+) \[([^\]]+)\]$", rules, re.MULTILINE)
    assert len(targets) == 5, targets
    formats = []
    for target, flags in targets:
        match = re.fullmatch(r"https://aflm\.example\.org/\$1(?:\?format=(\w+))?", target)
        assert match, target
        assert "R=303" in flags and "NE" in flags and "L" in flags.split(","), flags
        formats.append(match.group(1))
    assert formats[-1] is None  # the last rule passes everything else through unchanged
    assert set(formats[:-1]) == {"turtle", "jsonld", "ntriples", "rdfxml"} <= set(FORMAT_PARAM)


def test_what_links_here_is_counted_up_to_the_cap_not_refused(seed_build: Path) -> None:
    from aflm_graph.sparql.resource import TooBig, describe

    store = ox.Store()
    store.bulk_load(path=str(seed_build / "aflm.nq"), format=ox.RdfFormat.N_QUADS)
    node = ox.NamedNode(BASE + CONCEPT)
    own = len({q.triple for q in store.quads_for_pattern(node, None, None, None)})
    whole = describe(store, BASE + CONCEPT, 10_000)
    assert whole is not None and not whole.capped and whole.recommendations is not None
    cut = describe(store, BASE + CONCEPT, own + 3)
    assert cut is not None and cut.capped
    listed = sum(len(g.values) for g in cut.inverse) + (len(cut.recommendations.values) if cut.recommendations else 0)
    assert listed <= 3
    with pytest.raises(TooBig):  # its own statements past the cap: refused (the page says 422)
        describe(store, BASE + CONCEPT, own - 1)
