"""The compiled shapes (shacl_stream.py) report exactly what pySHACL reports, so big builds validate the same way."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from aflm_graph.graph.statements import Statements
from aflm_graph.validate.shacl import (
    SHACL_GRAPHS,
    _rdflib_graph,
    core_shapes,
    load_quads,
    load_shapes,
    shacl_findings,
    shape_predicates,
)
from aflm_graph.validate.stream import (
    Unsupported,
    compile_shapes,
    sample_statements,
    stream_findings,
    validate_statements,
)

SHAPES_FIXTURES = Path(__file__).resolve().parent / "data" / "shapes"
AFLM = "https://w3id.org/aflm/ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
DATA = ox.NamedNode("https://w3id.org/aflm/graph/data")
DOC = "https://w3id.org/aflm/id/document/000_c29556925cd8fb24"
REC = f"{DOC}/recommendation/1.1"


def _key(findings: list) -> set[tuple[str, ...]]:
    """Findings without blank-node labels (rdflib and pyoxigraph name blank nodes differently)."""
    return {
        tuple(re.sub(r"_:\w+", "_:b", x) for x in (f.severity, f.focus, f.path, f.message, f.shape, f.value))
        for f in findings
    }


def _both(quads: list[ox.Quad]) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
    shapes = load_shapes()
    compiled = _key(stream_findings(Statements.from_quads(quads), shapes))
    reference = _key(shacl_findings(_rdflib_graph(quads, SHACL_GRAPHS, shape_predicates(shapes)), core_shapes(shapes)))
    return compiled, reference


@pytest.mark.parametrize("fixture", sorted(p.name for p in SHAPES_FIXTURES.glob("*.trig")))
def test_compiled_shapes_agree_with_pyshacl_on_every_fixture(fixture: str) -> None:
    compiled, reference = _both(load_quads(SHAPES_FIXTURES / fixture))
    assert compiled == reference


def _q(s: str, p: str, o: ox.NamedNode | ox.Literal | ox.BlankNode) -> ox.Quad:
    return ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, DATA)


def _int(n: str) -> ox.Literal:
    return ox.Literal(n, datatype=ox.NamedNode(XSD + "integer"))


def test_compiled_shapes_agree_with_pyshacl_on_a_seed_build_broken_in_every_way(seed_build: Path) -> None:
    quads = load_quads(seed_build)
    drop = {
        (REC, AFLM + "text"),  # minCount
        (f"{DOC}/recommendation/1.2", AFLM + "position"),
    }
    quads = [q for q in quads if (q.subject.value, q.predicate.value) not in drop]
    mention = f"{REC}/mention/theme/health-care/18"
    quads += [
        _q(REC, AFLM + "printedLabel", ox.Literal("one")),  # maxCount
        _q(f"{DOC}/recommendation/1.3", AFLM + "position", _int("x7")),  # ill-typed integer
        _q(f"{DOC}/recommendation/1.4", AFLM + "position", _int("0")),  # below minInclusive (and maxCount)
        _q(f"{DOC}/recommendation/1.5", AFLM + "sourceStart", _int("999999")),  # not lessThan sourceEnd
        _q(mention, AFLM + "mentionKind", ox.Literal("topic")),  # sh:in
        _q(mention, AFLM + "evidence", ox.Literal("")),  # minLength (and maxCount)
        _q(DOC, AFLM + "issuedBy", ox.NamedNode("https://w3id.org/aflm/id/forum/13")),  # sh:or
        _q(DOC, AFLM + "sha256", ox.Literal("XYZ")),  # pattern
        _q(DOC, AFLM + "sourceFormat", ox.Literal("text", language="en")),  # sh:in on a tagged literal
        _q(REC, AFLM + "hasTheme", ox.Literal("health")),  # nodeKind and class
        _q(REC, AFLM + "similarTo", ox.NamedNode("https://w3id.org/aflm/id/forum/13")),  # class
        _q("https://w3id.org/aflm/vocab/theme/health-care", "http://www.w3.org/2004/02/skos/core#prefLabel",
           ox.Literal("Soins", language="EN")),  # uniqueLang (case-insensitive)
        _q("https://w3id.org/aflm/id/document/lonely", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
           ox.NamedNode(AFLM + "RecommendationsDocument")),  # Warning (inverse path) + many minCounts
        _q("https://w3id.org/aflm/id/document/a/b", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
           ox.NamedNode(AFLM + "RecommendationsDocument")),  # the IRI pattern of a node shape
        _q("https://w3id.org/aflm/id/link/similar/abc", AFLM + "score",
           ox.Literal("1.5", datatype=ox.NamedNode(XSD + "decimal"))),  # maxInclusive (through its type below)
        _q("https://w3id.org/aflm/id/link/similar/abc", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
           ox.NamedNode(AFLM + "TextLink")),
    ]
    compiled, reference = _both(quads)
    assert len(reference) > 20
    assert compiled == reference
    kinds = {f[5] for f in reference if f[5]}  # the values reported, so every kind of constraint was hit
    assert {'"x7"^^xsd:integer', '"topic"', '"XYZ"', '""', '"health"'} <= kinds


def test_unsupported_shapes_are_refused_rather_than_guessed(tmp_path: Path) -> None:
    shapes_file = tmp_path / "shapes.ttl"
    shapes_file.write_text("""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix aflm: <https://w3id.org/aflm/ontology#> .
<urn:s> a sh:NodeShape ; sh:targetClass aflm:Recommendation ; sh:closed true ; sh:message "closed" .
""")
    with pytest.raises(Unsupported):
        compile_shapes(load_shapes(shapes_file))


def test_a_big_build_validates_with_the_compiled_shapes_and_reports_the_same(seed_build: Path) -> None:
    quads = [q for q in load_quads(seed_build) if q.predicate.value != AFLM + "text" or q.subject.value != REC]
    statements = Statements.from_quads(quads)
    small = validate_statements(statements)  # pySHACL: the seeds are under the limit
    big = validate_statements(statements, pyshacl_limit=0)
    assert not small.conforms
    assert _key(small.findings) == _key(big.findings)
    assert small.sampled is None


def test_above_the_limit_the_sparql_checks_run_on_a_sample_of_whole_documents(seed_build: Path) -> None:
    statements = Statements.from_quads(load_quads(seed_build))
    sample, chosen, total = sample_statements(statements, size=len(statements) // 2)
    assert total == 2 and chosen >= 1
    assert len(sample) < len(statements)
    report = validate_statements(statements, pyshacl_limit=0, full_query_limit=0)
    assert report.conforms and report.sampled is not None
