"""Injection (issue 9, test 7): no parameter value, however hostile, changes a query's algebra or the store.

Parameters are bound by the engine (pyoxigraph substitutions) or as a VALUES block of terms that
pyoxigraph serialised (remote endpoints, the killable worker, and variables pyoxigraph cannot
substitute). Hypothesis throws values made of SPARQL's own syntax (quotes, braces, escapes, comments,
`\\u` sequences, keywords, line separators) at every parameter of every named query: the bound
query's algebra, as rdflib's SPARQL parser reads it, must equal the algebra of the same query bound
with a harmless value, and the VALUES term must read back as exactly the value given. The values
then run through every query path (embedded, worker, CLI, a remote endpoint that is `aflm-graph
serve`): each answer echoes the value as data and the build's files are byte for byte unchanged.
A second property checks the lexical guard itself: a query with SERVICE hidden by escapes, strings or
comments either is refused or never reaches the canary.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aflm_graph.cli import cli
from aflm_graph.sparql.catalogue import NamedQuery, Param, QueryError, bind_values, check_safe, named_queries, to_term
from aflm_graph.sparql.engine import run_embedded
from aflm_graph.sparql.run import run
from hostile import Recorder, Served, record_figure, serve_process
from test_competency import FIXTURES, QUERIES

CATALOGUE = named_queries(QUERIES)
PARAMETERISED = [(query, param) for query in CATALOGUE.values() for param in query.params]
TEXT_PARAMETERS = [(query, param) for query, param in PARAMETERISED if param.type == "string"]
SPARQL_BITS = [
    '"', "'", '"""', "'''", "\\", '\\"', "\\u0022", "\\U0000007D", "\\u005C", "}", "{", "#", "\n", "\r", "<", ">",
    "?s", "$o", " . ", " ; ", "UNION", "SERVICE", "INSERT DATA", "DROP ALL", "LOAD", "FILTER(", ")", "^^",
    "@en", "<http://127.0.0.1:9/x>", "\u2028", "\u202e", "\x00", "\t", "é", "🐘", "%00", "%22", "&lt;", "*", "|",
]
HOSTILE_VALUES = (
    st.lists(st.sampled_from(SPARQL_BITS) | st.text(max_size=4), max_size=8).map("".join)
    | st.text(max_size=30)
    | st.sampled_from(['"} UNION { ?s ?p ?o } #', "x\" . ?s ?p ?o . FILTER(\"", "') } ; DROP ALL ; { ('",
                       "health-care> } SERVICE <http://127.0.0.1:9/", "theme:health-care", "file:///etc/passwd",
                       "urn:x:a> <urn:x:b", "javascript:alert(1)", "Viet Nam\"} #"])
)
REFERENCE = {  # a harmless value of every parameter type
    "string": "x", "integer": "1", "decimal": "1.5", "boolean": "true", "date": "2020-01-01",
    "iri": "urn:x:reference", "theme": "health-care", "actor": "governments", "group": "domestic-workers",
    "instrument": "ilo-c189", "member-state": "Cambodia", "document": "a",
}
COUNTS = {"values": 0, "refused": 0}


def algebra(text: str, name: str) -> tuple[Any, list[Any]]:
    """rdflib's algebra of a query with the terms of the parameter's VALUES block masked, and those terms."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import Variable

    found: list[Any] = []

    def shape(node: Any) -> Any:
        if isinstance(node, CompValue):
            rows = node.get("res") if node.name == "values" else None
            if rows and all(set(row) == {Variable(name)} for row in rows):  # the block that binds the parameter
                found.extend(row[Variable(name)] for row in rows)
                return ("values", "⟨value⟩")
            return (node.name, tuple(sorted(((k, shape(v)) for k, v in node.items() if not k.startswith("_")),
                                            key=repr)))
        if isinstance(node, dict):
            return ("{}", tuple(sorted(((repr(k), shape(v)) for k, v in node.items()), key=repr)))
        if isinstance(node, list | tuple):
            return tuple(shape(v) for v in node)
        if isinstance(node, set | frozenset):
            return frozenset(shape(v) for v in node)
        return repr(node)

    return shape(translateQuery(parseQuery(text)).algebra), found


@functools.cache
def reference_algebra(query: str, param: str) -> Any:
    named = CATALOGUE[query]
    spec = next(p for p in named.params if p.name == param)
    return algebra(bind_values(named.text, {param: to_term(spec, REFERENCE[spec.type])}), param)[0]


def same_term(rdflib_term: Any, term: ox.NamedNode | ox.Literal) -> bool:
    """The term rdflib read back is exactly the one bound (lexical value, datatype, kind)."""
    from rdflib import Literal, URIRef

    if isinstance(term, ox.NamedNode):
        return isinstance(rdflib_term, URIRef) and str(rdflib_term) == term.value
    datatype = term.datatype.value
    read = str(rdflib_term.datatype) if rdflib_term.datatype else "http://www.w3.org/2001/XMLSchema#string"
    if "\\u" in term.value.lower():
        # SPARQL lets an engine apply \u escapes to the whole text before parsing (rdflib does, pyoxigraph
        # does not), so a value that holds a backslash-u sequence reads differently there; it stays one literal
        # either way (pyoxigraph doubles every backslash, so a decoded escape always lands inside the string).
        return isinstance(rdflib_term, Literal) and read == datatype
    return isinstance(rdflib_term, Literal) and str(rdflib_term) == term.value and read == datatype


@pytest.fixture(scope="module")
def fixture_store() -> ox.Store:
    store = ox.Store()
    store.load(path=str(FIXTURES / "fixture.trig"), format=ox.RdfFormat.TRIG)
    return store


def _digest(store: ox.Store) -> str:
    return hashlib.sha256("\n".join(sorted(str(q) for q in store)).encode()).hexdigest()


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_value_changes_the_algebra_of_any_named_query(data: st.DataObject) -> None:
    # half the draws on free-text parameters: typed ones refuse most hostile values before any query is made
    query, param = data.draw(st.sampled_from(TEXT_PARAMETERS) | st.sampled_from(PARAMETERISED), label="parameter")
    value = data.draw(HOSTILE_VALUES, label="value")
    COUNTS["values"] += 1
    try:
        term = to_term(param, value)
    except QueryError:
        COUNTS["refused"] += 1
        return  # refused with a message: nothing reached a query
    bound = bind_values(query.text, {param.name: term})
    try:
        bound_shape, bound_terms = algebra(bound, param.name)
    except Exception:  # pyparsing's ParseException: rdflib turned `\\U0000007D` into `\}`, an invalid escape
        assert "\\u" in value.lower(), (query.name, param.name, value)
        echo = bind_values("SELECT ?v WHERE { }", {"v": term})
        assert [row["v"] for row in ox.Store().query(echo)] == [term]  # type: ignore[index, union-attr]
        return  # an engine that reads it so refuses the query: nothing was injected
    assert bound_shape == reference_algebra(query.name, param.name), (query.name, param.name, value)
    assert len(bound_terms) == 1 and same_term(bound_terms[0], term), (bound_terms, term)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(value=HOSTILE_VALUES)
def test_bound_values_are_data_on_the_store_and_change_nothing(value: str, fixture_store: ox.Store) -> None:
    before = _digest(fixture_store)
    echo = NamedQuery("echo", "SELECT ?value ?count WHERE { { SELECT (COUNT(*) AS ?count) WHERE { ?s ?p ?o } } }",
                      params=(Param("value", "string"),))
    term = ox.Literal(value)
    substituted = run_embedded(fixture_store, echo.text, {"value": term})  # pyoxigraph substitution
    values = run_embedded(fixture_store, bind_values(echo.text, {"value": term}))  # a VALUES block
    for result in (substituted, values):
        assert [row[0].value for row in result.rows] == [value]  # type: ignore[union-attr]
    assert _digest(fixture_store) == before


# --- the values through every query path of a real build


PATH_VALUES = [
    '"} UNION { ?s ?p ?o } #', "') } ; DROP ALL ; { ('", "x\\u0022 } INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }",
    "line\nbreak\r\n\u2028#", "\\", "LOAD <http://127.0.0.1:9/x>", "SERVICE <http://127.0.0.1:9/x> {}", "🐘 \u202e",
]
ECHO_TEXT = "#+ params:\n#+   value: {type: string}\nSELECT ?value WHERE { ?d a ?class } LIMIT 1\n"


def _files(build: Path) -> dict[str, str]:
    return {str(p.relative_to(build)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(build.rglob("*")) if p.is_file() and not p.name.startswith("LOG")}


@pytest.fixture(scope="module")
def served(small_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve_process(small_build, tmp_path_factory.mktemp("serve-injection"), "--timeout", "10") as served:
        yield served


def test_hostile_values_through_every_query_path(small_build: Path, served: Served, tmp_path: Path) -> None:
    before = _files(small_build)
    echo = NamedQuery("echo", ECHO_TEXT, params=(Param("value", "string"),))
    rq = tmp_path / "echo.rq"
    rq.write_text(ECHO_TEXT, encoding="utf-8")
    for value in PATH_VALUES:
        answers = [
            run(echo, build=small_build, params={"value": value}),  # embedded: substitution
            run(echo, build=small_build, params={"value": value}, timeout=20),  # worker: VALUES block
            run(echo, params={"value": value}, endpoint=served.url, timeout=20),  # remote (serve): VALUES over HTTP
        ]
        for result in answers:
            assert result.records() == [{"value": value}], (value, result.records())
        cli_result = CliRunner().invoke(cli, ["query", str(rq), "--build", str(small_build), "--param",
                                              f"value={value}", "--format", "json"])
        assert cli_result.exit_code == 0, cli_result.output
        assert json.loads(cli_result.stdout)["results"]["bindings"] == [{"value": {"type": "literal",
                                                                                    "value": value}}]
    assert _files(small_build) == before


# --- the lexical guard: SERVICE hidden any way either is refused or never goes out


DISGUISES = ["\\u0053ERVICE", "SERVICE", "service", "SeRvIcE", "\\u0073ervice", "SERV\\u0049CE"]
NOISE = ['"', "'", '"""', "\\u0022", "\\u0027", "#", "\\u0023", "\n", "\\u000A", "<", ">", "\\u003C", "\\u003E",
         "\\\\", "\\", "{", "}", " ", "?x", "BIND(\"a\" AS ?b)", "'''", "#>", "\\u0020"]


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(before=st.lists(st.sampled_from(NOISE), max_size=5), keyword=st.sampled_from(DISGUISES),
       after=st.lists(st.sampled_from(NOISE), max_size=5))
def test_service_in_disguise_is_refused_or_never_reaches_the_network(
    before: list[str], keyword: str, after: list[str], target: Recorder,
) -> None:
    text = f"SELECT * WHERE {{ {''.join(before)} {keyword} <{target.url('/sparql')}> {{ ?s ?p ?o }} {''.join(after)} }}"
    try:
        check_safe(text)
    except QueryError:
        COUNTS["refused-service"] = COUNTS.get("refused-service", 0) + 1
        return
    hits = len(target.hits)
    with contextlib.suppress(SyntaxError, RuntimeError, OSError, ValueError):
        list(ox.Store().query(text))  # type: ignore[call-overload]
    assert len(target.hits) == hits, f"check_safe let through a query that reached the network: {text!r}"


def test_zz_record_how_many_values_were_tried() -> None:
    record_figure("injection.values_tried", dict(COUNTS))
