"""The query catalogue, parameter binding and the refusals that keep the embedded engine off the network."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from aflm_graph.sparql.catalogue import (
    DocumentEntry,
    NamedQuery,
    Param,
    ParameterError,
    QueryError,
    Resolver,
    bind_values,
    bindings_for,
    check_safe,
    named_queries,
    parse_header,
    query_form,
    to_term,
)
from aflm_graph.sparql.engine import run_embedded, to_csv, to_json, to_tsv

QUERIES = Path(__file__).resolve().parents[1] / "queries"


def test_every_named_query_has_a_header_and_parses() -> None:
    catalogue = named_queries(QUERIES)
    assert {"documents", "recommendations"} <= set(catalogue)
    store = ox.Store()
    for name, q in catalogue.items():
        assert q.summary, f"{name}: no summary"
        assert q.description, f"{name}: no description"
        assert q.tags, f"{name}: no tags"
        for p in q.params:
            assert p.example is not None, f"{name}: parameter {p.name} has no example"
        # parses and runs on an empty store
        run_embedded(store, q.text)


def test_header_yaml_errors_name_the_file() -> None:
    with pytest.raises(QueryError, match=r"x\.rq"):
        parse_header("#+ summary: [unclosed\nSELECT * {}", source="x.rq")


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "select * where { service silent <http://x> { ?s ?p ?o } }",
        "SELECT * WHERE { \\u0053ERVICE <http://x> { ?s ?p ?o } }",
        "SELECT * FROM <http://example.org/remote> WHERE { ?s ?p ?o }",
        "SELECT * FROM NAMED <http://example.org/remote> WHERE { GRAPH ?g { ?s ?p ?o } }",
        "LOAD <http://example.org/data.ttl>",
        "INSERT DATA { <http://a> <http://b> <http://c> }",
        "DELETE WHERE { ?s ?p ?o }",
        "CLEAR ALL",
    ],
)
def test_network_and_update_forms_are_refused(text: str) -> None:
    with pytest.raises(QueryError, match="refused"):
        check_safe(text)


@pytest.mark.parametrize(
    "text",
    [
        'SELECT * WHERE { ?s ?p "SERVICE <http://x>" }',
        "SELECT * WHERE { ?s <http://example.org/LOAD> ?o } # SERVICE in a comment",
        "SELECT ?service WHERE { ?service ?p ?o }",
        "SELECT * FROM <https://w3id.org/aflm/graph/data> WHERE { ?s ?p ?o }",
    ],
)
def test_look_alikes_are_not_refused(text: str) -> None:
    check_safe(text)


def test_forms() -> None:
    assert query_form("PREFIX a: <http://a#> SELECT * {}") == "select"
    assert query_form("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }") == "construct"
    assert query_form("ASK {}") == "ask"
    with pytest.raises(QueryError):
        query_form("# nothing")


def _store() -> ox.Store:
    store = ox.Store()
    ex = "http://example.org/"
    for i, name in enumerate(['plain', 'with "quotes"', "} UNION { ?s ?p ?o }", "new\nline"]):
        store.add(ox.Quad(ox.NamedNode(f"{ex}s{i}"), ox.NamedNode(f"{ex}name"), ox.Literal(name)))
    return store


QUERY = NamedQuery(
    name="by-name",
    text="SELECT ?s WHERE { ?s <http://example.org/name> ?name }",
    params=(Param("name", "string", example="plain"),),
)


@pytest.mark.parametrize("value", ["plain", 'with "quotes"', "} UNION { ?s ?p ?o }", "new\nline"])
def test_bound_values_match_exactly_on_both_paths(value: str) -> None:
    store = _store()
    bindings = bindings_for(QUERY, {"name": value})
    embedded = run_embedded(store, QUERY.text, bindings)
    remote_style = run_embedded(store, bind_values(QUERY.text, bindings))
    assert len(embedded.rows) == 1
    assert embedded.rows == remote_style.rows


def test_unbound_optional_parameter_matches_everything() -> None:
    assert len(run_embedded(_store(), QUERY.text, bindings_for(QUERY, {})).rows) == 4


def test_parameter_errors() -> None:
    with pytest.raises(QueryError, match="unknown parameter 'nme'"):
        bindings_for(QUERY, {"nme": "x"})
    required = NamedQuery("q", QUERY.text, params=(Param("name", required=True, example="x"),))
    with pytest.raises(QueryError, match="required"):
        bindings_for(required, {})
    with pytest.raises(QueryError, match="integer"):
        to_term(Param("n", "integer"), "1; DROP")
    with pytest.raises(QueryError, match="member state"):
        to_term(Param("m", "member-state"), "Atlantis")
    with pytest.raises(QueryError, match="IRI"):
        to_term(Param("i", "iri"), "not an iri")


def test_typed_parameters() -> None:
    assert to_term(Param("m", "member-state"), "Vietnam").value.endswith("/member-state/viet-nam")
    assert to_term(Param("m", "member-state"), "lao pdr").value.endswith("/member-state/lao-pdr")
    assert to_term(Param("t", "theme"), "fair-recruitment").value == "https://w3id.org/aflm/vocab/theme/fair-recruitment"
    assert to_term(Param("t", "instrument"), "instrument:ilo-c189").value.endswith("/instrument/ilo-c189")
    assert to_term(Param("d", "date"), "2020-11-09").value == "2020-11-09"


def test_bind_values_goes_into_the_where_group_of_a_construct() -> None:
    text = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    bound = bind_values(text, {"s": ox.NamedNode("http://example.org/s0")})
    assert bound.index("VALUES") > bound.index("WHERE")
    store = _store()
    assert len(run_embedded(store, bound).rows) == 1


def test_result_formats() -> None:
    result = run_embedded(_store(), "SELECT ?s ?name WHERE { ?s <http://example.org/name> ?name } ORDER BY ?s")
    csv_text = to_csv(result)
    assert csv_text.splitlines()[0] == "s,name"
    assert '"with ""quotes"""' in csv_text
    tsv = to_tsv(result)
    assert tsv.splitlines()[0] == "?s\t?name"
    assert '"new\\nline"' in tsv
    import json

    doc = json.loads(to_json(result))
    assert doc["head"]["vars"] == ["s", "name"]
    assert doc["results"]["bindings"][0]["s"] == {"type": "uri", "value": "http://example.org/s0"}


# --- issue 19: every value is checked against the vocabularies and the data before the query runs

def test_concepts_by_slug_label_or_alternative_label_in_any_case() -> None:
    theme = "https://w3id.org/aflm/vocab/theme/"
    assert to_term(Param("theme", "theme"), "Health care").value == theme + "health-care"
    assert to_term(Param("theme", "theme"), "HEALTH-CARE").value == theme + "health-care"
    assert to_term(Param("theme", "theme"), "gender-equality").value == theme + "gender"  # alt label "gender equality"
    assert to_term(Param("actor", "actor"), "employers").value.endswith("/actor/employer")  # its label "Employers"
    assert to_term(Param("i", "instrument"), "ilo-c100").value.endswith("/instrument/ilo-c100")  # minted by a pattern
    assert to_term(Param("m", "member-state"), "KHM").value.endswith("/member-state/cambodia")  # ISO code


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (Param("theme", "theme"), "women", "'women' is not a theme of the vocabulary .*did you mean gender"),
        (Param("theme", "theme"), "helth-care", "did you mean health-care"),
        (Param("theme", "theme"), "theme:no-such-theme", "is not a theme"),
        (Param("theme", "theme"), "https://w3id.org/aflm/vocab/actor/employer", "is not a theme"),
        (Param("actor", "actor"), "employerz", "did you mean employer"),
        (Param("kind", choices=("theme", "actor", "group", "instrument")), "instruments",
         "not one of theme, actor, group, instrument; did you mean instrument"),
        (Param("m", "member-state"), "Cambodja", "did you mean Cambodia"),
        (Param("g", "instrument-group"), "ILO convention", "did you mean ilo-conventions"),
    ],
)
def test_unknown_values_are_parameter_errors_with_close_matches(param: Param, value: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message) as info:
        to_term(param, value)
    assert "\n" not in str(info.value)


def test_the_kind_parameter_of_the_named_queries_is_checked() -> None:
    annotations = named_queries(QUERIES)["annotations"]
    assert bindings_for(annotations, {"kind": "Instrument"})["kind"] == ox.Literal("instrument")
    with pytest.raises(ParameterError, match="did you mean instrument"):
        bindings_for(annotations, {"kind": "instruments"})


DOCS = (
    DocumentEntry("https://w3id.org/aflm/id/document/000_c2", "Recommendations of Cambodia on COVID-19", "000_c2.txt",
                  "https://w3id.org/aflm/id/member-state/cambodia"),
    DocumentEntry("https://w3id.org/aflm/id/document/002_71", "Recommendations of the national consultation",
                  "002_71.txt", None),
    DocumentEntry("https://w3id.org/aflm/id/document/003_aa", "Thai recommendations", "003_aa.txt",
                  "https://w3id.org/aflm/id/member-state/thailand"),
    DocumentEntry("https://w3id.org/aflm/id/document/004_bb", "More Thai recommendations", "004_bb.txt",
                  "https://w3id.org/aflm/id/member-state/thailand"),
)


@pytest.mark.parametrize(
    ("value", "document"),
    [("000_c2", "000_c2"), ("002_71.txt", "002_71"), ("id:document/003_aa", "003_aa"), ("Cambodia", "000_c2"),
     ("KHM", "000_c2"), ("national consultation", "002_71"), ("more thai", "004_bb")],
)
def test_documents_by_id_file_title_words_or_member_state(value: str, document: str) -> None:
    resolver = Resolver(lambda: DOCS)
    assert to_term(Param("document", "document"), value, resolver).value.endswith("/" + document)


@pytest.mark.parametrize(
    ("value", "message"),
    [("Thailand", "is the member state of 2 documents .*003_aa, 004_bb"), ("recommendations", "title words of 4"),
     ("Viet Nam", "no document of the build is issued by Viet Nam"), ("000_c3", "did you mean 000_c2"),
     ("id:document/nope", "is not a document of the build")],
)
def test_documents_that_are_unknown_or_not_unique_are_refused(value: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        to_term(Param("document", "document"), value, Resolver(lambda: DOCS))


def test_without_a_document_list_a_document_is_an_id_or_iri() -> None:
    assert to_term(Param("document", "document"), "000_c2").value.endswith("/document/000_c2")
    assert to_term(Param("document", "document"), "000_c2", Resolver(lambda: None)).value.endswith("/000_c2")
