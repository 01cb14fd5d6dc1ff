"""Validation: the seeds conform; each hand-broken fixture fails with the message that names its fault."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from aflm_graph.cli import cli
from aflm_graph.validate.check import validate_build
from aflm_graph.validate.shacl import (
    ValidationError,
    load_shapes,
    validate_quads,
    violation_queries,
)

ROOT = Path(__file__).resolve().parents[1]
SHAPES_FIXTURES = Path(__file__).resolve().parent / "data" / "shapes"
VALID = sorted(SHAPES_FIXTURES.glob("S*-valid*.trig"))
INVALID = sorted(SHAPES_FIXTURES.glob("S*-invalid-*.trig"))
EXPECT = re.compile(r"^# expect: ([\w-]+): (.+)$", re.MULTILINE)


def expectations(path: Path) -> list[tuple[str, str]]:
    """The `# expect: SOURCE: MESSAGE FRAGMENT` lines of a fixture."""
    return EXPECT.findall(path.read_text(encoding="utf-8"))


def test_fixtures_are_found() -> None:
    assert len(VALID) >= 2
    assert len(INVALID) >= 4
    for path in INVALID:
        assert expectations(path), f"{path.name} says nothing about what it expects"


def test_the_seed_build_conforms(seed_build: Path) -> None:
    report = validate_build(seed_build)
    assert report.conforms, report.text()
    assert report.triples > 1000 and report.shapes >= 8 and report.queries >= 5


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixture_conforms(path: Path) -> None:
    report = validate_build(path)
    assert report.conforms, report.text()
    assert not report.findings, report.text()


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_fixture_fails_with_the_expected_messages(path: Path) -> None:
    report = validate_build(path)
    assert not report.conforms, f"{path.name} conforms but should not"
    expected = expectations(path)
    sources = {("shapes" if f.source == "shapes" else f.source) for f in report.violations}
    assert sources == {source for source, _ in expected}, report.text()
    for source, fragment in expected:
        messages = [f.message for f in report.violations if f.source == source]
        assert any(fragment in m for m in messages), f"{path.name}: no {source} message contains {fragment!r}\n" + (
            report.text()
        )
    assert all(f.focus for f in report.violations), "every finding names the resource at fault"


def test_every_violation_query_is_exercised_by_a_fixture() -> None:
    """A check that no fixture trips could be matching nothing at all."""
    queries = violation_queries()
    assert len(queries) >= 5
    tripped = {source for path in INVALID for source, _ in expectations(path)}
    assert set(queries) - tripped == set()


def test_shapes_have_targets_and_messages() -> None:
    from rdflib import RDF, Namespace

    sh = Namespace("http://www.w3.org/ns/shacl#")
    shapes = load_shapes()
    node_shapes = list(shapes.subjects(RDF.type, sh.NodeShape))
    assert len(node_shapes) >= 8
    for shape in node_shapes:
        assert any(shapes.objects(shape, p) for p in (sh.targetClass, sh.targetNode)), f"{shape} has no target"
        property_shapes = list(shapes.objects(shape, sh.property))
        for prop in property_shapes:
            assert shapes.value(prop, sh.message) is not None, f"a property shape of {shape} has no sh:message"
        if not property_shapes:
            assert shapes.value(shape, sh.message) is not None or list(shapes.objects(shape, sh.sparql))


def test_the_report_is_readable() -> None:
    report = validate_build(SHAPES_FIXTURES / "S02-invalid-missing-text.trig")
    text = report.text()
    assert text.startswith("Does not conform:")
    assert "id:document/kh-2020/recommendation/1.2 aflm:text [RecommendationShape]" in text
    assert "a recommendation has exactly one aflm:text" in report.summary()


def test_validate_command_exit_status() -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["validate", "--build", str(VALID[0])])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("Conforms:")
    bad = runner.invoke(cli, ["validate", "--build", str(SHAPES_FIXTURES / "S05-invalid-wrong-datatype.trig")])
    assert bad.exit_code == 1
    assert "aflm:position" in bad.output and "xsd:integer" in bad.output
    missing = runner.invoke(cli, ["validate", "--build", "/nonexistent/build"])
    assert missing.exit_code == 1 and "no build here" in missing.output


# --- shapes that would reach the network


def _shapes_with(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "shapes.ttl"
    path.write_text((ROOT / "ontology" / "shapes.ttl").read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def test_shapes_with_service_are_refused(tmp_path: Path) -> None:
    shapes = _shapes_with(tmp_path, '''
aflmsh:Remote a sh:NodeShape ;
    sh:targetClass aflm:Recommendation ;
    sh:sparql [ sh:select """SELECT $this WHERE { SERVICE <http://127.0.0.1:9/sparql> { $this ?p ?o } }""" ] .
''')
    with pytest.raises(ValidationError, match="refused: SERVICE"):
        load_shapes(shapes)


def test_owl_imports_in_shapes_are_not_fetched(tmp_path: Path) -> None:
    """pySHACL runs with do_owl_imports=False: an unreachable import does not stop (or slow) validation."""
    from aflm_graph.validate.shacl import load_quads

    shapes = _shapes_with(tmp_path, "\n<https://w3id.org/aflm/shapes> owl:imports <http://127.0.0.1:9/more.ttl> .\n")
    report = validate_quads(load_quads(VALID[0]), shapes_path=shapes)
    assert report.conforms, report.text()


# --- the build runs validation


def test_a_build_that_violates_the_shapes_fails_and_keeps_the_previous_build(
    seed_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aflm_graph.publish.pipeline import BuildError, build
    from aflm_graph.validate import shacl as validate

    out = tmp_path / "build"
    shutil.copytree(seed_build, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    strict = _shapes_with(tmp_path, '''
aflmsh:ShortTexts a sh:NodeShape ;
    sh:targetClass aflm:Recommendation ;
    sh:property [ sh:path aflm:text ; sh:maxLength 5 ; sh:message "texts longer than five characters"@en ] .
''')
    original = validate.load_shapes
    monkeypatch.setattr(validate, "load_shapes", lambda path=None: original(strict))
    with pytest.raises(BuildError, match="texts longer than five characters"):
        build([ROOT / "seeds"], out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before, "a failed build must leave the previous build whole"
    report = build([ROOT / "seeds"], tmp_path / "unchecked", validate=False)
    assert "validate" not in report.stages
    assert (tmp_path / "unchecked" / "aflm.nq").is_file()


@pytest.mark.parametrize("name", ["S01-valid.trig", "S03-invalid-offsets-outside-text.trig",
                                  "S12-invalid-evidence-mismatch.trig"])
def test_sparql_constraints_on_pyoxigraph_agree_with_pyshacl(name: str) -> None:
    """validate.py runs sh:sparql itself (pySHACL through rdflib is ~100x slower); both must report the same."""
    import pyoxigraph as ox

    from aflm_graph.validate.shacl import (
        SHACL_GRAPHS,
        _rdflib_graph,
        load_quads,
        shacl_findings,
        sparql_findings,
    )

    quads = load_quads(SHAPES_FIXTURES / name)
    shapes = load_shapes()
    shapes.parse(SHAPES_FIXTURES / "sparql-constraint.ttl", format="turtle")  # our only sh:sparql: a fixture
    store = ox.Store()
    store.bulk_extend(quads)
    ours = {(f.focus, f.value, f.message) for f in sparql_findings(store, shapes)}
    theirs = {(f.focus, f.value, f.message) for f in shacl_findings(_rdflib_graph(quads, SHACL_GRAPHS), shapes)
              if f.shape == "EvidenceOffsetsShape"}
    assert ours == theirs
    assert bool(ours) == ("invalid" in name)


def test_the_shipped_shapes_define_no_check_twice() -> None:
    """The evidence offsets are checked by queries/mention-offsets-violation.rq alone: no sh:sparql twin in
    ontology/shapes.ttl (the build paid 1.3 s of 1,000 documents for the same findings twice)."""
    from rdflib import URIRef

    assert not list(load_shapes().subject_objects(URIRef("http://www.w3.org/ns/shacl#sparql")))
