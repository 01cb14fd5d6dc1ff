"""Build validation in forked processes (shacl_stream.py) reports exactly what it reports in one.

The compiled shapes run over ranges of subjects, one per process; on every hand-broken fixture and on a
seed build broken in many ways, the findings must be those of `workers=1`.
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
from aflm_graph.terms.namespaces import AFLM, GRAPH_DATA, XSD
from aflm_graph.validate.shacl import Finding, load_quads, load_shapes
from aflm_graph.validate.stream import _parallel, _ranges, stream_findings, validate_statements

SHAPES_FIXTURES = Path(__file__).resolve().parent / "data" / "shapes"
DATA = ox.NamedNode(GRAPH_DATA)
DOC = "https://w3id.org/aflm/id/document/000_c29556925cd8fb24"
REC = f"{DOC}/recommendation/1.1"


def _key(findings: list[Finding]) -> list[tuple[str, ...]]:
    """Findings without blank-node labels (a store loaded from N-Quads names blank nodes afresh every time)."""
    return sorted(tuple(re.sub(r"_:\w+", "_:b", x) for x in astuple(f)) for f in findings)


def _same(statements: Statements) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """(findings with the shapes in two processes, in one), both with the streamed shapes."""
    two = validate_statements(statements, pyshacl_limit=0, workers=2)
    one = validate_statements(statements, pyshacl_limit=0, workers=1)
    return _key(two.findings), _key(one.findings)


FIXTURES = sorted(p.name for p in SHAPES_FIXTURES.glob("S*.trig"))


def test_there_are_shapes_fixtures() -> None:
    assert FIXTURES


@pytest.mark.parametrize("fixture", FIXTURES)
def test_two_processes_report_what_one_reports_on_every_fixture(fixture: str) -> None:
    two, one = _same(Statements.from_quads(load_quads(SHAPES_FIXTURES / fixture)))
    assert two == one
    if "invalid" in fixture:
        assert one


def _q(s: str, p: str, o: ox.NamedNode | ox.Literal | ox.BlankNode, g: ox.NamedNode = DATA) -> ox.Quad:
    return ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, g)


def _int(n: str) -> ox.Literal:
    return ox.Literal(n, datatype=ox.NamedNode(XSD.integer))


def _broken(seed_build: Path) -> list[ox.Quad]:
    """The seed build with a fault for every violation query and many shapes, spread over both documents."""
    quads = load_quads(seed_build)
    mention = next(q.subject.value for q in quads if q.predicate.value == AFLM.NS + "mentionIn"
                   and q.object.value == REC)
    other = next(q.subject.value for q in quads if q.predicate.value == AFLM.NS + "inDocument"
                 and q.object.value != DOC)
    return [*quads,
            _q(REC, AFLM.NS + "text", ox.Literal("a second text\x01")),  # maxCount, offsets, a control character
            _q(mention, AFLM.NS + "evidenceStart", _int("-3")),  # minInclusive, lessThan, offsets
            _q(mention, AFLM.NS + "mentionKind", ox.Literal("actor")),  # maxCount, mention-kind
            _q(other, AFLM.NS + "position", _int("1")),  # position clash (maybe), maxCount
            _q(other, AFLM.NS + "inSubTheme", ox.NamedNode(f"{DOC}/subtheme/1")),  # subtheme of another document
            _q(REC, AFLM.NS + "hasTheme", ox.NamedNode("https://w3id.org/aflm/vocab/theme/no-such-theme")),
            _q(REC, AFLM.NS + "undeclaredThing", ox.Literal("x")),  # undeclared-term
            ox.Quad(ox.BlankNode("b1"), ox.NamedNode(AFLM.NS + "text"), ox.Literal("blank"), DATA),
            _q(f"{DOC}/recommendation/1.3", AFLM.NS + "position", _int("x7"))]


def test_two_processes_report_what_one_reports_on_a_broken_seed_build(seed_build: Path) -> None:
    two, one = _same(Statements.from_quads(_broken(seed_build)))
    assert two == one
    sources = {f[4] for f in one}
    assert {"shapes", "mention-offsets-violation", "mention-kind-violation", "xml-character-violation",
            "unlabelled-concept-violation", "undeclared-term-violation", "blank-node-violation",
            "subtheme-document-violation"} <= sources


def test_positions_that_the_store_reads_as_one_number_clash(seed_build: Path) -> None:
    """The store compares numbers by value: "01" and "+1" clash with "1" though their texts differ."""
    quads = load_quads(seed_build)
    recs = sorted({q.subject.value for q in quads if q.predicate.value == AFLM.NS + "inDocument"
                   and q.object.value == DOC})
    quads = [q for q in quads if not (q.predicate.value == AFLM.NS + "position" and q.subject.value in recs[:3])]
    quads += [_q(recs[0], AFLM.NS + "position", _int("01")), _q(recs[1], AFLM.NS + "position", _int("1")),
              _q(recs[2], AFLM.NS + "position", _int("+1"))]
    two, one = _same(Statements.from_quads(quads))
    assert two == one
    assert any(f[4] == "recommendation-position-violation" for f in one)


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
