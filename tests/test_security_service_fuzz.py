"""Fuzzing the SERVICE guard (issue 15): generated spellings of federation never reach a real listener.

Hypothesis writes queries that call a loopback canary through SERVICE in many spellings: keyword case
and `\\u` escapes, comments and odd white space around it, the empty prefix, IRIs relative to BASE,
a variable bound by VALUES, nesting (OPTIONAL, EXISTS, a sub-select, UNION, MINUS, GRAPH), and noise
before it that fooled the old token scan (prefixed names ending in an escape, strings with escapes).
The oracle is the canary, not our own reading of the query: whatever `check_safe` lets through is run
by pyoxigraph on an empty store, and the canary must still count zero hits. A control run proves the
generated queries are real threats: without the guard, pyoxigraph calls the canary for them.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aflm_graph.sparql.catalogue import MAX_QUERY_CHARS, QueryError, check_safe
from hostile import Recorder

KEYWORD = "SERVICE"


@st.composite
def keyword_spelling(draw: st.DrawFn) -> str:
    """SERVICE with each letter in either case, some of them as \\u or \\U escapes."""
    out = []
    for letter in KEYWORD:
        char = letter if draw(st.booleans()) else letter.lower()
        how = draw(st.sampled_from(["plain", "plain", "plain", "u", "U"]))
        out.append(char if how == "plain" else (f"\\u{ord(char):04X}" if how == "u" else f"\\U{ord(char):08x}"))
    return "".join(out)


GAP = st.sampled_from([" ", "\t", "\n", "  \r\n ", " # a comment\n", "#\n", "\n#SERVICE\n"])
NOISE = st.sampled_from([
    "", "BIND(ex:x\\# AS ?z) ", "BIND(ex:x\\' AS ?z) ", 'BIND(ex:x\\" AS ?z) ', "BIND(ex:a\\.b AS ?z) ",
    'BIND("\\"" AS ?z) ', "BIND('\\'' AS ?z) ", 'BIND("""x""" AS ?z) ', "BIND(<urn:x#y> AS ?z) ",
    "BIND(ex:x%23 AS ?z) ", "?a ex:p\\#q ?b . ",
    # a \\u escape is a character inside a string or IRI to pyoxigraph, never a quote that ends it
    'BIND("\\u0022" AS ?z) ', "BIND('\\u0027' AS ?z) ", 'BIND("a\\u0022, " AS ?z) ', "BIND(<urn:x\\u003E> AS ?z) ",
    'BIND("""\\u0022\\u0022\\u0022""" AS ?z) ', "# \\u000A\n",
])


@st.composite
def hostile_query(draw: st.DrawFn, url: str) -> str:
    base, _, last = url.rpartition("/")
    silent = draw(st.sampled_from(["", " SILENT", " silent"]))
    target_form = draw(st.sampled_from(["iri", "empty-prefix", "prefixed", "relative", "variable"]))
    prologue = "PREFIX ex: <http://example.org/> "
    values = ""
    if target_form == "iri":
        target = f"<{url}>"
    elif target_form == "empty-prefix":
        prologue += f"PREFIX : <{url}> "
        target = ":"
    elif target_form == "prefixed":
        prologue += f"PREFIX c: <{base}/> "
        target = f"c:{last}"
    elif target_form == "relative":
        prologue = f"BASE <{base}/> " + prologue
        target = f"<{last}>"
    else:
        target = "?endpoint"
        values = f"VALUES ?endpoint {{ <{url}> }} "
    gap = draw(GAP)
    tight = draw(st.booleans()) and target_form in {"empty-prefix", "iri", "relative"}
    call = f"{draw(keyword_spelling())}{silent}{'' if tight else draw(GAP)}{target}{gap}{{ ?a ?b ?c }}"
    wrap = draw(st.sampled_from([
        "{call}", "OPTIONAL {{ {call} }}", "FILTER EXISTS {{ {call} }}", "{{ SELECT ?a WHERE {{ {call} }} }}",
        "{{ ?x ?y ?z }} UNION {{ {call} }}", "?x ?y ?z MINUS {{ {call} }}", "GRAPH ?g {{ {call} }}",
    ])).format(call=call)
    form = draw(st.sampled_from(["SELECT ?a WHERE", "ASK", "CONSTRUCT { ?a ?b ?c } WHERE", "DESCRIBE ?a WHERE"]))
    return f"{prologue}\n{form} {{ {values}{draw(NOISE)}{wrap} }}"


def _run_unguarded(text: str) -> None:
    """What the engine would do with a query the guard let through (an empty store: only SERVICE can act)."""
    try:
        answer = ox.Store().query(text)
        if not isinstance(answer, ox.QueryBoolean):
            list(answer)  # type: ignore[call-overload]
    except (RuntimeError, OSError, SyntaxError, ValueError):
        pass


EXAMPLES = 300


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_generated_service_spellings_are_refused_and_never_reach_the_canary(target: Recorder, data: st.DataObject
                                                                             ) -> None:
    text = data.draw(hostile_query(target.url("/sparql")))
    before = len(target.hits)
    try:
        check_safe(text)
    except QueryError as exc:
        assert "refused" in str(exc) or "syntax error" in str(exc), str(exc)
    else:
        _run_unguarded(text)  # let through: the canary decides whether that was safe
        assert len(target.hits) == before, f"the guard let through a query that reached the network:\n{text}"
        pytest.fail(f"a SERVICE query was not refused:\n{text}")
    assert len(target.hits) == before


def test_the_generated_queries_are_real_threats(target: Recorder) -> None:
    """Control: without the guard, pyoxigraph itself calls the canary for the spellings that fooled the scan."""
    url = target.url("/sparql")
    base, _, last = url.rpartition("/")
    spellings = [
        f"PREFIX ex: <http://example.org/>\nSELECT ?a WHERE {{ BIND(ex:x\\# AS ?z) SERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"PREFIX : <{url}>\nSELECT ?a WHERE {{ SERVICE: {{ ?a ?b ?c }} }}",
        f"BASE <{base}/> SELECT ?a WHERE {{ SERVICE <{last}> {{ ?a ?b ?c }} }}",
    ]
    for text in spellings:
        before = len(target.hits)
        _run_unguarded(text)
        assert len(target.hits) == before + 1, f"pyoxigraph did not call the canary for:\n{text}"
        with pytest.raises(QueryError, match=r"refused|syntax error"):
            check_safe(text)
    target.hits.clear()


def test_look_alikes_still_run() -> None:
    """The word service as data, a variable or a prefix-free name is not federation and is not refused."""
    for text in [
        'SELECT * WHERE { ?s ?p "SERVICE <http://x/>" }',
        "SELECT ?service WHERE { ?service ?p ?o }",
        "PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ex:service ?o } # SERVICE <http://x/>",
        'SELECT * WHERE { ?s ?p ?o FILTER(CONTAINS(?o, "public service")) }',
        'SELECT * WHERE { ?s ?p "caf\\u00e9 \\u0022SERVICE\\u0022 \\U0001F600" }',  # escapes inside a string
    ]:
        check_safe(text)


def test_a_huge_query_is_refused_before_it_is_parsed() -> None:
    text = 'SELECT * WHERE { BIND("' + "a" * MAX_QUERY_CHARS + '" AS ?x) }'
    with pytest.raises(QueryError, match=r"refused: the query is 1,000,0\d\d characters long; the limit is 1,000,000"):
        check_safe(text)
