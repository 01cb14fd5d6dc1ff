"""The query catalogue, parameter binding and the refusals that keep the embedded engine off the network."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from aflm_graph.sparql.catalogue import (
    NamedQuery,
    Param,
    QueryError,
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
