"""The fast path of build validation (shacl_stream.py) reports exactly what the plain path reports.

Two things make it fast: the shapes run over two forked processes (each a range of subjects), and the
SPARQL screens prove, on the way, that a violation query (or the evidence-offsets sh:sparql constraint)
has nothing to report, so it is not run. A screen may only err towards running its check, so on every
hand-broken fixture, on a seed build broken in many ways and on graphs that put the screens' joins out
of their reach, the findings must be those of `fast=False, workers=1` (every check run, one process).
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import astuple
from pathlib import Path

import pyoxigraph as ox
import pytest

from aflm_graph.graph.statements import Statements
from aflm_graph.validate import stream as shacl_stream
from aflm_graph.validate.shacl import Finding, load_quads, load_shapes, violation_queries
from aflm_graph.validate.stream import (
    SCREENED,
    Facts,
    _evidence_constraints,
    _parallel,
    _ranges,
    fingerprint,
    stream_findings,
    validate_statements,
)

SHAPES_FIXTURES = Path(__file__).resolve().parent / "data" / "shapes"
AFLM = "https://w3id.org/aflm/ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
DATA = ox.NamedNode("https://w3id.org/aflm/graph/data")
ONTOLOGY = ox.NamedNode("https://w3id.org/aflm/graph/ontology")
DOC = "https://w3id.org/aflm/id/document/000_c29556925cd8fb24"
REC = f"{DOC}/recommendation/1.1"


def _key(findings: list[Finding]) -> list[tuple[str, ...]]:
    """Findings without blank-node labels (a store loaded from N-Quads names blank nodes afresh every time)."""
    return sorted(tuple(re.sub(r"_:\w+", "_:b", x) for x in astuple(f)) for f in findings)


def _same(statements: Statements) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """(fast findings in two processes, plain findings in one), both with the streamed shapes."""
    fast = validate_statements(statements, pyshacl_limit=0, workers=2)
    plain = validate_statements(statements, pyshacl_limit=0, fast=False, workers=1)
    return _key(fast.findings), _key(plain.findings)


@pytest.mark.parametrize("fixture", sorted(p.name for p in SHAPES_FIXTURES.glob("S*.trig")))
def test_the_fast_path_reports_what_the_plain_path_reports_on_every_fixture(fixture: str) -> None:
    fast, plain = _same(Statements.from_quads(load_quads(SHAPES_FIXTURES / fixture)))
    assert fast == plain
    if "invalid" in fixture:
        assert plain


def _q(s: str, p: str, o: ox.NamedNode | ox.Literal | ox.BlankNode, g: ox.NamedNode = DATA) -> ox.Quad:
    return ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, g)


def _int(n: str) -> ox.Literal:
    return ox.Literal(n, datatype=ox.NamedNode(XSD + "integer"))


def _broken(seed_build: Path) -> list[ox.Quad]:
    """The seed build with a fault for every screen and many shapes, spread over both documents."""
    quads = load_quads(seed_build)
    mention = next(q.subject.value for q in quads if q.predicate.value == AFLM + "mentionIn"
                   and q.object.value == REC)
    other = next(q.subject.value for q in quads if q.predicate.value == AFLM + "inDocument"
                 and q.object.value != DOC)
    return [*quads,
            _q(REC, AFLM + "text", ox.Literal("a second text\x01")),  # maxCount, offsets, a control character
            _q(mention, AFLM + "evidenceStart", _int("-3")),  # minInclusive, lessThan, offsets
            _q(mention, AFLM + "mentionKind", ox.Literal("actor")),  # maxCount, mention-kind
            _q(other, AFLM + "position", _int("1")),  # position clash (maybe), maxCount
            _q(other, AFLM + "inSubTheme", ox.NamedNode(f"{DOC}/subtheme/1")),  # subtheme of another document
            _q(REC, AFLM + "hasTheme", ox.NamedNode("https://w3id.org/aflm/vocab/theme/no-such-theme")),
            _q(REC, AFLM + "undeclaredThing", ox.Literal("x")),  # undeclared-term
            ox.Quad(ox.BlankNode("b1"), ox.NamedNode(AFLM + "text"), ox.Literal("blank"), DATA),
            _q(f"{DOC}/recommendation/1.3", AFLM + "position", _int("x7"))]


def test_the_fast_path_reports_what_the_plain_path_reports_on_a_broken_seed_build(seed_build: Path) -> None:
    fast, plain = _same(Statements.from_quads(_broken(seed_build)))
    assert fast == plain
    sources = {f[4] for f in plain}
    assert {"shapes", "mention-offsets-violation", "mention-kind-violation", "xml-character-violation",
            "unlabelled-concept-violation", "undeclared-term-violation", "blank-node-violation",
            "subtheme-document-violation"} <= sources


def test_a_good_seed_build_runs_no_sparql_check(seed_build: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    statements = Statements.from_quads(load_quads(seed_build))

    def no_store(*args: object, **kwargs: object) -> None:
        raise AssertionError("the screens should have proved every SPARQL check empty")

    monkeypatch.setattr(shacl_stream, "query_store", no_store)
    report = validate_statements(statements, pyshacl_limit=0, workers=2, full_query_limit=0)
    assert report.conforms and not report.findings
    assert report.sampled is not None and report.sampled[0] == report.sampled[1] == 2


def test_a_screened_predicate_outside_the_shapes_graphs_turns_every_screen_off(seed_build: Path) -> None:
    """The queries see every graph, the screens only SHACL_GRAPHS: a join through another graph is run, not screened."""
    quads = [*load_quads(seed_build),
             _q(REC, AFLM + "text", ox.Literal("another text"), ONTOLOGY),
             _q(f"{REC}/mention/theme/x/0", AFLM + "mentionIn", ox.NamedNode(REC), ONTOLOGY)]
    statements = Statements.from_quads(quads)
    fast, plain = _same(statements)
    assert fast == plain
    _, facts = shacl_stream._stream(statements, load_shapes(), shacl_stream.SHACL_GRAPHS, workers=1, screen=True)
    assert facts is not None and set(SCREENED) <= facts.flagged


def test_positions_that_the_store_reads_as_one_number_are_left_to_the_query(seed_build: Path) -> None:
    """The store compares numbers by value: "01" and "+1" clash with "1" though their texts differ."""
    quads = load_quads(seed_build)
    recs = sorted({q.subject.value for q in quads if q.predicate.value == AFLM + "inDocument"
                   and q.object.value == DOC})
    quads = [q for q in quads if not (q.predicate.value == AFLM + "position" and q.subject.value in recs[:3])]
    quads += [_q(recs[0], AFLM + "position", _int("01")), _q(recs[1], AFLM + "position", _int("1")),
              _q(recs[2], AFLM + "position", _int("+1"))]
    fast, plain = _same(Statements.from_quads(quads))
    assert fast == plain
    assert any(f[4] == "recommendation-position-violation" for f in plain)


def test_an_evidence_typed_otherwise_is_left_to_the_query(seed_build: Path) -> None:
    """STR() of a typed literal is its canonical form in the store ("05" is "5"): not screened."""
    quads = load_quads(seed_build)
    mention = next(q.subject for q in quads if q.predicate.value == AFLM + "evidence")
    quads = [q for q in quads if not (q.subject == mention and q.predicate.value.startswith(AFLM + "evidence"))]
    quads += [_q(mention.value, AFLM + "evidence", _int("05")), _q(mention.value, AFLM + "evidenceStart", _int("0")),
              _q(mention.value, AFLM + "evidenceEnd", _int("2"))]
    fast, plain = _same(Statements.from_quads(quads))
    assert fast == plain


def test_two_processes_give_the_findings_of_one(seed_build: Path) -> None:
    statements = Statements.from_quads(_broken(seed_build))
    shapes = load_shapes()
    one = stream_findings(statements, shapes, workers=1)
    assert one
    for workers in (2, 3, 7):
        assert stream_findings(statements, shapes, workers=workers) == one


def test_the_ranges_cut_between_subjects_and_cover_everything() -> None:
    items = sorted(f"<urn:s{i // 3}> <urn:p> \"{i}\"" for i in range(30))
    for n in (1, 2, 3, 4, 29, 40):
        ranges = _ranges(items, n)
        assert ranges[0][0][0] == 0 and ranges[-1][0][1] == len(items)
        assert ranges[0][1][0] is None and ranges[-1][1][1] is None
        for ((_, stop), (_, high)), ((start, _), (low, _)) in itertools.pairwise(ranges):
            assert stop == start and high == low
            assert items[start - 1].split(" ")[0] != items[start].split(" ")[0]
    assert _ranges([], 2) == [((0, 0), (None, None))]


def test_a_failed_child_is_redone_here() -> None:
    parent = os.getpid()

    def only_here() -> int:
        if os.getpid() != parent:
            raise RuntimeError("fails in the child")
        return 2

    assert _parallel([lambda: 1, only_here, lambda: 3]) == [1, 2, 3]


def test_a_position_clash_between_two_ranges_is_seen() -> None:
    first, second = Facts(positions={1, 2}), Facts(positions={3, 2})
    merged = Facts()
    merged.merge(first)
    assert not merged.flagged
    merged.merge(second)
    assert merged.flagged == {"recommendation-position-violation"}


def test_every_shipped_sparql_check_has_a_screen() -> None:
    """An edited query (or constraint) is run rather than screened: this says which screen to revisit."""
    for name, text in violation_queries().items():
        assert SCREENED.get(name) == fingerprint(text), f"{name}.rq changed: check its screen in shacl_stream.py"
    assert len(_evidence_constraints(load_shapes())) == 1, "the evidence-offsets sh:sparql changed: check its screen"
