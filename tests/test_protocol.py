"""A standard SPARQL 1.1 endpoint: the dataset rule (FROM, FROM NAMED, default-graph-uri, named-graph-uri),
every result format, CORS, the service description, and the clients people use (SPARQLWrapper with its defaults,
rdflib's SPARQLStore) against a real `aflm-graph serve` on loopback; and `aflm_graph.load()`'s union default graph.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import urllib.parse
import xml.dom.minidom
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import SPARQLWrapper

import aflm_graph
from aflm_graph.serve.endpoint import GRAPH_TYPES, RESULT_TYPES
from aflm_graph.sparql.catalogue import OUR_GRAPHS, QueryDataset, QueryError, check_safe
from aflm_graph.sparql.engine import dataset_options
from aflm_graph.sparql.run import run
from aflm_graph.terms.namespaces import AFLM, GRAPH_DATA, GRAPH_ONTOLOGY, GRAPH_VOCAB, RDF
from test_endpoint import Served, serving

SD = "http://www.w3.org/ns/sparql-service-description#"
COUNT = "SELECT (COUNT(*) AS ?n) {from_} WHERE {{ {pattern} }}"
RECOMMENDATIONS = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s a <{AFLM.Recommendation}> }}"
# one forum edition of the 18 that the reference data holds
FORUM = ("CONSTRUCT { ?f <https://w3id.org/aflm/ontology#forumNumber> ?n } WHERE { "
         "VALUES ?f { <https://w3id.org/aflm/id/forum/13> } ?f <https://w3id.org/aflm/ontology#forumNumber> ?n }")
DESCRIBE = "DESCRIBE <https://w3id.org/aflm/id/forum/13>"


@pytest.fixture(scope="module")
def endpoint(seed_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(seed_build, tmp_path_factory.mktemp("protocol")) as served:
        yield served


def raw(url: str, *, method: str = "GET", body: bytes | None = None,
        headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One HTTP exchange, redirects not followed: (status, lower-cased headers, body)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def get(url: str, params: list[tuple[str, str]], accept: str = "application/sparql-results+json"
        ) -> tuple[int, dict[str, str], bytes]:
    return raw(f"{url}?{urllib.parse.urlencode(params)}", headers={"Accept": accept})


def count(body: bytes) -> int:
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def embedded_count(build: Path, text: str) -> int:
    value = run(text, build=build).records()[0]["n"]
    assert value is not None
    return int(value)


def graph_count(build: Path, graph: str) -> int:
    """The triples of one named graph, counted with GRAPH (which never depended on the dataset rule)."""
    return embedded_count(build, COUNT.format(from_="", pattern=f"GRAPH <{graph}> {{ ?s ?p ?o }}"))


# --- the dataset: no FROM -> the union; FROM -> exactly those graphs (embedded and served alike)


def test_check_safe_reads_the_dataset_clauses_from_the_parse() -> None:
    assert check_safe("SELECT * WHERE { ?s ?p ?o }") == QueryDataset()
    text = (f"SELECT * FROM <{GRAPH_VOCAB}> # a comment between the clauses\n FROM <{GRAPH_ONTOLOGY}> "
            f"FROM NAMED <{GRAPH_DATA}> WHERE {{ ?s ?p ?o }}")
    assert check_safe(text) == QueryDataset((GRAPH_ONTOLOGY, GRAPH_VOCAB), (GRAPH_DATA,))
    # the rule is unchanged for other graphs: refused before anything runs
    with pytest.raises(QueryError, match="refused: FROM"):
        check_safe("SELECT * FROM <http://127.0.0.1:9/x.ttl> WHERE { ?s ?p ?o }")
    # a FROM inside a string is no dataset clause
    assert check_safe('SELECT * WHERE { ?s ?p "FROM <x>" }') == QueryDataset()


def test_dataset_options_follow_sparql_and_the_protocol() -> None:
    assert dataset_options(QueryDataset()) == {"use_default_graph_as_union": True}
    assert dataset_options(QueryDataset((GRAPH_ONTOLOGY,))) == {
        "default_graph": [ox.NamedNode(GRAPH_ONTOLOGY)], "named_graphs": []}
    assert dataset_options(QueryDataset((), (GRAPH_DATA,))) == {  # FROM NAMED alone: an empty default graph
        "default_graph": [], "named_graphs": [ox.NamedNode(GRAPH_DATA)]}
    # the protocol's parameters replace the query's clauses
    assert dataset_options(QueryDataset((GRAPH_ONTOLOGY,)), QueryDataset((GRAPH_DATA,))) == {
        "default_graph": [ox.NamedNode(GRAPH_DATA)], "named_graphs": []}
    assert dataset_options(QueryDataset((GRAPH_ONTOLOGY,)), QueryDataset()) == {
        "default_graph": [ox.NamedNode(GRAPH_ONTOLOGY)], "named_graphs": []}
    with pytest.raises(QueryError, match="not one of this build's graphs"):
        dataset_options(QueryDataset(), QueryDataset(("http://127.0.0.1:9/g",)))


def test_from_names_exactly_its_graphs_embedded(seed_build: Path) -> None:
    union = embedded_count(seed_build, COUNT.format(from_="", pattern="?s ?p ?o"))
    ontology_alone = graph_count(seed_build, GRAPH_ONTOLOGY)
    measured = COUNT.format(from_=f"FROM <{GRAPH_ONTOLOGY}>", pattern="?s ?p ?o")
    # the example: it answered the union (4,877) where SPARQL says the ontology graph alone (345)
    assert embedded_count(seed_build, measured) == ontology_alone
    assert 0 < ontology_alone < union
    vocab_alone = graph_count(seed_build, GRAPH_VOCAB)
    both = COUNT.format(from_=f"FROM <{GRAPH_ONTOLOGY}> FROM <{GRAPH_VOCAB}>", pattern="?s ?p ?o")
    assert embedded_count(seed_build, both) == ontology_alone + vocab_alone
    # FROM NAMED alone: the default graph is empty, GRAPH sees only the graphs named
    named = f"FROM NAMED <{GRAPH_ONTOLOGY}>"
    assert embedded_count(seed_build, COUNT.format(from_=named, pattern="?s ?p ?o")) == 0
    assert embedded_count(seed_build, COUNT.format(from_=named, pattern="GRAPH ?g { ?s ?p ?o }")) == ontology_alone
    # FROM alone: no named graphs
    assert embedded_count(seed_build, COUNT.format(from_=f"FROM <{GRAPH_ONTOLOGY}>",
                                                   pattern="GRAPH ?g { ?s ?p ?o }")) == 0
    # the killable worker (a timeout) and the Python API follow the same rule
    assert int(run(measured, build=seed_build, timeout=30).records()[0]["n"] or -1) == ontology_alone
    assert int(aflm_graph.query(measured, build=seed_build).records()[0]["n"] or -1) == ontology_alone
    assert embedded_count(seed_build, RECOMMENDATIONS) == 47


def test_served_dataset_follows_from_and_the_graph_parameters(endpoint: Served, seed_build: Path) -> None:
    ontology_alone = graph_count(seed_build, GRAPH_ONTOLOGY)
    data_alone = graph_count(seed_build, GRAPH_DATA)
    union = embedded_count(seed_build, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    plain = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    measured = f"SELECT (COUNT(*) AS ?n) FROM <{GRAPH_ONTOLOGY}> {{ ?s ?p ?o }}"
    status, _, body = get(endpoint.url, [("query", plain)])
    assert status == 200 and count(body) == union
    status, _, body = get(endpoint.url, [("query", measured)])
    assert status == 200 and count(body) == ontology_alone
    # default-graph-uri: the build's graphs are accepted; with FROM too, the parameter wins
    status, _, body = get(endpoint.url, [("query", plain), ("default-graph-uri", GRAPH_ONTOLOGY)])
    assert status == 200 and count(body) == ontology_alone
    status, _, body = get(endpoint.url, [("query", measured), ("default-graph-uri", GRAPH_DATA)])
    assert status == 200 and count(body) == data_alone
    status, _, body = get(endpoint.url, [("query", plain), ("default-graph-uri", GRAPH_ONTOLOGY),
                                         ("default-graph-uri", GRAPH_DATA)])
    assert status == 200 and count(body) == ontology_alone + data_alone
    # named-graph-uri alone: those named graphs, an empty default graph
    graphs = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    status, _, body = get(endpoint.url, [("query", graphs), ("named-graph-uri", GRAPH_DATA)])
    assert status == 200 and count(body) == 1
    status, _, body = get(endpoint.url, [("query", plain), ("named-graph-uri", GRAPH_DATA)])
    assert status == 200 and count(body) == 0
    # POSTed forms carry them as well
    form = urllib.parse.urlencode([("query", plain), ("default-graph-uri", GRAPH_ONTOLOGY)]).encode()
    status, _, body = raw(endpoint.url, method="POST", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"})
    assert status == 200 and count(body) == ontology_alone
    # another graph: 400, saying which graphs there are
    for key in ("default-graph-uri", "named-graph-uri"):
        status, _, body = get(endpoint.url, [("query", plain), (key, "http://127.0.0.1:9/remote")])
        assert status == 400 and GRAPH_DATA.encode() in body and key.encode() in body


# --- result formats: each content type, checked by parsing what came


@pytest.mark.parametrize("media", ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                                   "text/tab-separated-values"])
@pytest.mark.parametrize("form", ["select", "ask"])
def test_select_and_ask_in_each_result_format(endpoint: Served, media: str, form: str) -> None:
    query = (f"SELECT ?n WHERE {{ <https://w3id.org/aflm/id/forum/13> <{AFLM.forumNumber}> ?n }}" if form == "select"
             else f"ASK {{ ?f <{AFLM.forumNumber}> 13 }}")
    accept = media
    assert media in RESULT_TYPES
    status, headers, body = get(endpoint.url, [("query", query)], accept=accept)
    assert status == 200, body
    assert headers["content-type"].split(";")[0] == accept
    assert "accept" in headers["vary"].lower()
    text = body.decode()
    if accept == "application/sparql-results+json":
        doc = json.loads(text)
        value = doc["boolean"] if form == "ask" else doc["results"]["bindings"][0]["n"]["value"]
    elif accept == "application/sparql-results+xml":
        dom = xml.dom.minidom.parseString(body)
        node = dom.getElementsByTagName("boolean" if form == "ask" else "literal")[0]
        value = node.firstChild.data  # type: ignore[union-attr]
    elif accept == "text/csv":
        value = list(csv.reader(io.StringIO(text)))[1][0]
    else:
        value = text.splitlines()[1]
    integer = '"13"^^<http://www.w3.org/2001/XMLSchema#integer>'
    expected: set[object] = {"13", integer} if form == "select" else {True, "true"}
    assert value in expected


RDF_PARSE = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
             "application/ld+json": ox.RdfFormat.JSON_LD, "application/rdf+xml": ox.RdfFormat.RDF_XML}


@pytest.mark.parametrize("accept", sorted(RDF_PARSE))
@pytest.mark.parametrize("query", [FORUM, DESCRIBE], ids=["construct", "describe"])
def test_construct_and_describe_in_each_rdf_format(endpoint: Served, accept: str, query: str) -> None:
    status, headers, body = get(endpoint.url, [("query", query)], accept=accept)
    assert status == 200, body
    assert headers["content-type"].split(";")[0] == accept
    triples = {str(t) for t in ox.parse(body, format=RDF_PARSE[accept])}
    _, _, reference = get(endpoint.url, [("query", query)], accept="application/n-triples")
    assert triples == {str(t) for t in ox.parse(reference, format=ox.RdfFormat.N_TRIPLES)}
    assert any("forum/13" in t for t in triples)
    if accept == "application/ld+json":  # the build's writer: an inline @context, never a remote one
        assert isinstance(json.loads(body)["@context"], dict)


def test_the_format_parameter_and_unknown_types(endpoint: Served) -> None:
    for value, media in [("xml", "application/rdf+xml"), ("json-ld", "application/ld+json"),
                         ("application/rdf+xml", "application/rdf+xml"), ("nt", "application/n-triples")]:
        status, headers, _ = get(endpoint.url, [("query", FORUM), ("format", value)], accept="")
        assert status == 200 and headers["content-type"].startswith(media), value
    status, headers, _ = get(endpoint.url, [("query", RECOMMENDATIONS), ("format", "xml")], accept="")
    assert status == 200 and headers["content-type"].startswith("application/sparql-results+xml")
    assert get(endpoint.url, [("query", FORUM), ("format", "csv")])[0] == 406
    assert get(endpoint.url, [("query", FORUM)], accept="image/png")[0] == 406
    assert get(endpoint.url, [("query", RECOMMENDATIONS)], accept="application/rdf+xml")[0] == 406


def test_a_browser_is_sent_to_the_query_page(endpoint: Served) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    params = [("query", RECOMMENDATIONS), ("default-graph-uri", GRAPH_DATA)]
    status, headers, _ = get(endpoint.url, params, accept=browser)
    assert status == 303
    location = urllib.parse.urlsplit(headers["location"])
    assert location.path == "/" and urllib.parse.parse_qsl(location.query) == params
    form = urllib.parse.urlencode({"query": FORUM}).encode()
    status, headers, _ = raw(endpoint.url, method="POST", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"})
    assert status == 303 and urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["location"]).query) == [
        ("query", FORUM)]
    # even a query that is no query: the page says what is wrong with it
    status, headers, _ = get(endpoint.url, [("query", "hello")], accept="text/html")
    assert status == 303
    assert get(endpoint.url, [("query", "hello")])[0] == 400
    # /sparql with no query, in a browser: the page itself
    status, headers, _ = raw(endpoint.url, headers={"Accept": browser})
    assert status == 303 and headers["location"] == "/"


# --- CORS


def test_cors_on_get_post_errors_and_the_preflight(endpoint: Served) -> None:
    origin = {"Origin": "https://example.org"}
    status, headers, _ = get(endpoint.url, [("query", RECOMMENDATIONS)])
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    assert "x-result-rows" in headers["access-control-expose-headers"].lower()
    form = urllib.parse.urlencode({"query": RECOMMENDATIONS}).encode()
    status, headers, _ = raw(endpoint.url, method="POST", body=form, headers={
        **origin, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    status, headers, _ = get(endpoint.url, [("query", "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")])
    assert status == 403 and headers["access-control-allow-origin"] == "*"  # a page can read why
    status, headers, body = raw(endpoint.url, method="OPTIONS", headers={
        **origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert status == 204 and body == b""
    assert headers["access-control-allow-origin"] == "*"
    assert {"GET", "POST"} <= {m.strip() for m in headers["access-control-allow-methods"].split(",")}
    assert "content-type" in headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in headers
    # a preflight cannot be used to write: the update that follows is still refused
    status, headers, _ = raw(endpoint.url, method="POST", body=b"CLEAR ALL", headers={
        **origin, "Content-Type": "application/sparql-update"})
    assert status == 403 and headers["access-control-allow-origin"] == "*"


# --- the service description


@pytest.mark.parametrize("accept", ["", *sorted(RDF_PARSE)])
def test_get_without_a_query_describes_the_service(endpoint: Served, accept: str) -> None:
    status, headers, body = raw(endpoint.url, headers={"Accept": accept} if accept else {})
    assert status == 200
    media = headers["content-type"].split(";")[0]
    assert media == (accept or "text/turtle")
    parsed = list(ox.parse(body, format=RDF_PARSE[media]))
    assert not any(isinstance(term, ox.BlankNode) for t in parsed for term in t)  # every node named
    graph = {(t.subject.value, t.predicate.value, t.object.value) for t in parsed}
    service = endpoint.url
    assert (service, RDF.type, SD + "Service") in graph
    assert (service, SD + "endpoint", service) in graph
    assert (service, SD + "supportedLanguage", SD + "SPARQL11Query") in graph
    assert (service, SD + "feature", SD + "UnionDefaultGraph") in graph
    formats = {o for s, p, o in graph if s == service and p == SD + "resultFormat"}
    assert formats == {"http://www.w3.org/ns/formats/" + name for name in (
        "SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
        "Turtle", "N-Triples", "JSON-LD", "RDF_XML")}
    dataset = next(o for s, p, o in graph if s == service and p == SD + "defaultDataset")
    named = {o for s, p, o in graph if s == dataset and p == SD + "namedGraph"}
    assert {o for s, p, o in graph if s in named and p == SD + "name"} == OUR_GRAPHS
    assert any(s == dataset and p == SD + "defaultGraph" for s, p, _ in graph)


def test_the_graph_media_types_are_all_offered() -> None:
    assert {"text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"} <= set(GRAPH_TYPES)


# --- clients, with their defaults


def test_sparqlwrapper_with_its_defaults(endpoint: Served) -> None:
    client = SPARQLWrapper(endpoint.url)  # returns XML unless told; CONSTRUCT and DESCRIBE ask for RDF/XML
    client.setQuery(f"SELECT ?s WHERE {{ ?s a <{AFLM.Recommendation}> }}")
    select = client.queryAndConvert()
    assert isinstance(select, xml.dom.minidom.Document)
    assert len(select.getElementsByTagName("result")) == 47
    client.setQuery(f"ASK {{ ?s a <{AFLM.Recommendation}> }}")
    ask = client.queryAndConvert()
    assert isinstance(ask, xml.dom.minidom.Document)
    assert ask.getElementsByTagName("boolean")[0].firstChild.data == "true"  # type: ignore[union-attr]
    client.setQuery(FORUM)
    construct = client.queryAndConvert()
    assert isinstance(construct, rdflib.Graph) and len(construct) == 1
    assert (rdflib.URIRef("https://w3id.org/aflm/id/forum/13"), rdflib.URIRef(AFLM.forumNumber),
            rdflib.Literal(13)) in construct
    client.setQuery(DESCRIBE)
    describe = client.queryAndConvert()
    assert isinstance(describe, rdflib.Graph) and len(describe) > 1
    assert {str(s) for s in describe.subjects()} >= {"https://w3id.org/aflm/id/forum/13"}
    client.setQuery(f"SELECT (COUNT(*) AS ?n) FROM <{GRAPH_ONTOLOGY}> WHERE {{ ?s ?p ?o }}")
    client.setReturnFormat("json")
    answer = client.queryAndConvert()
    assert isinstance(answer, dict)
    assert int(answer["results"]["bindings"][0]["n"]["value"]) < 1000  # the ontology alone, not the union


def test_rdflib_sparqlstore(endpoint: Served, seed_build: Path) -> None:
    store = SPARQLStore(query_endpoint=endpoint.url)
    graph = rdflib.Graph(store)
    rows = list(graph.query(f"SELECT ?s WHERE {{ ?s a <{AFLM.Recommendation}> }}"))
    assert len(rows) == 47
    typed = list(graph.triples((None, rdflib.RDF.type, rdflib.URIRef(AFLM.Recommendation))))
    assert len(typed) == 47
    constructed = graph.query(FORUM)
    assert len(constructed.graph) == 1  # type: ignore[arg-type]
    assert bool(graph.query(f"ASK {{ ?s a <{AFLM.Recommendation}> }}").askAnswer) is True
    # a Graph named after one of the build's graphs queries that graph alone (default-graph-uri)
    ontology = rdflib.Graph(store, identifier=rdflib.URIRef(GRAPH_ONTOLOGY))
    alone = graph_count(seed_build, GRAPH_ONTOLOGY)
    (n,) = next(iter(ontology.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))  # type: ignore[misc]
    assert int(n) == alone


# --- the Python API: load() gives the union as the default graph


@pytest.mark.parametrize("store", ["Oxigraph", "default"])
def test_load_default_graph_is_the_union(seed_build: Path, store: str) -> None:
    dataset = aflm_graph.load(seed_build, store=store)
    recommendation = rdflib.URIRef(AFLM.Recommendation)
    (n,) = next(iter(dataset.query(  # type: ignore[misc]
        "PREFIX aflm: <https://w3id.org/aflm/ontology#> SELECT (COUNT(*) AS ?n) { ?s a aflm:Recommendation }")))
    assert int(n) == 47
    assert sum(1 for _ in dataset.triples((None, rdflib.RDF.type, recommendation))) == 47
    assert len(set(dataset.subjects(rdflib.RDF.type, recommendation))) == 47
    assert len(set(dataset.triples((None, None, None)))) == len(dataset) > 4000
    # labels from the vocabulary graph and recommendations from the data graph meet in one default graph
    joined = dataset.query(f"SELECT ?label WHERE {{ ?r <{AFLM.hasTheme}> ?t . "
                           "?t <http://www.w3.org/2004/02/skos/core#prefLabel> ?label } LIMIT 1")
    assert len(list(joined)) == 1
    turtle = dataset.serialize(format="turtle")
    reread = rdflib.Graph().parse(data=turtle, format="turtle")
    assert len(set(reread.subjects(rdflib.RDF.type, recommendation))) == 47
    ontology = dataset.graph(rdflib.URIRef(GRAPH_ONTOLOGY))
    assert 0 < len(ontology) < len(dataset)


# --- issue 19: a parameter value that names nothing known is a 400 with the CLI's message


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([("name", "recommendations-by-theme"), ("p.theme", "women")], b"did you mean gender?"),
        ([("name", "annotations"), ("p.kind", "instruments")], b"did you mean instrument?"),
        ([("name", "recommendations"), ("p.document", "Thailand")], b"no document of the build is issued by Thailand"),
    ],
)
def test_a_bad_named_query_parameter_is_a_400(endpoint: Served, params: list[tuple[str, str]], message: bytes) -> None:
    base = endpoint.url.rsplit("/sparql", 1)[0]
    status, _, body = get(f"{base}/api/run", params)
    assert status == 400 and message in body, body


def test_a_document_named_by_its_member_state_runs(endpoint: Served) -> None:
    base = endpoint.url.rsplit("/sparql", 1)[0]
    status, _, body = get(f"{base}/api/run", [("name", "recommendations"), ("p.document", "Cambodia")])
    assert status == 200, body
    assert body.count(b'"000_c29556925cd8fb24.txt"') == 26 and b"002_71c0a65de23b0458" not in body
