"""Ontology documentation, the alignments and ontology/README.md: complete, offline, deterministic."""

from __future__ import annotations

import html
import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from aflm_graph.cli import cli
from aflm_graph.publish.docs import class_diagram, write_docs
from aflm_graph.terms.namespaces import AFLM, OWL, RDF, SKOS
from aflm_graph.terms.vocab import load_vocabulary

ONTOLOGY = Path(__file__).resolve().parents[1] / "ontology"
VOCABULARIES = sorted((ONTOLOGY / "vocab").glob("*.ttl"))


def _triples(path: Path) -> list[ox.Triple]:
    return list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "docs"
    write_docs(out)
    return out


def test_docs_cover_the_ontology_and_every_vocabulary(docs: Path) -> None:
    assert len(VOCABULARIES) >= 4
    for name in ("index.html", "ontology.html", "diagram.svg"):
        assert (docs / name).stat().st_size > 1000, name
    pages = sorted(p.stem for p in (docs / "vocab").glob("*.html"))
    assert pages == [p.stem for p in VOCABULARIES]
    index = (docs / "index.html").read_text(encoding="utf-8")
    for stem in pages:
        assert f'href="vocab/{stem}.html"' in index
    ontology = (docs / "ontology.html").read_text(encoding="utf-8")
    assert "<title>AFML recommendations ontology</title>" in ontology
    classes = [t.subject.value for t in _triples(ONTOLOGY / "aflm.ttl")
               if t.predicate.value == RDF.type and t.object.value == OWL.NS + "Class"]
    assert len(classes) >= 8
    for iri in classes:
        assert iri in ontology, f"{iri} is not documented"


def test_docs_open_offline(docs: Path) -> None:
    for page in docs.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=\"https?:", text), f"{page.name} loads a remote script"
        assert not re.search(r"<link[^>]+href=\"https?:[^\"]*\"[^>]*stylesheet", text), f"{page.name}: remote CSS"


def test_docs_are_deterministic(docs: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    write_docs(again)
    files = sorted(p.relative_to(docs) for p in docs.rglob("*") if p.is_file())
    assert len(files) >= 7
    for name in files:
        assert (again / name).read_bytes() == (docs / name).read_bytes(), name


def test_the_diagram_shows_every_class_and_object_property() -> None:
    svg = class_diagram()
    root = ET.fromstring(svg)
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    triples = _triples(ONTOLOGY / "aflm.ttl")
    for t in triples:
        if t.predicate.value == RDF.type and t.subject.value.startswith(AFLM.NS) and t.object.value in (
            OWL.NS + "Class", OWL.NS + "ObjectProperty"
        ):
            local = t.subject.value[len(AFLM.NS):]
            assert local in texts, f"{local} is missing from the diagram"


def test_docs_do_not_depend_on_the_hash_seed(docs: Path, tmp_path: Path) -> None:
    """pyLODE writes its embedded JSON-LD in set order: another PYTHONHASHSEED gave another ontology page."""
    import os
    import subprocess
    import sys

    out = tmp_path / "seeded"
    code = f"from aflm_graph.publish.docs import write_docs; write_docs(__import__('pathlib').Path({str(out)!r}))"
    for seed in ("1", "2"):
        subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONHASHSEED": seed})
        for name in ("ontology.html", "vocab/instruments.html", "vocab/themes.html"):
            assert (out / name).read_bytes() == (docs / name).read_bytes(), f"{name}, PYTHONHASHSEED={seed}"
        html_text = (out / "ontology.html").read_text(encoding="utf-8")
        block = re.search(r'type="application/ld\+json">(.*?)</script>', html_text, re.DOTALL)
        assert block is not None and '"@id": "https://w3id.org/aflm/ontology"' in block.group(1)


def test_docs_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["docs", "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "index.html").is_file()


# --- the ontology folder and its alignments


def test_readme_lists_every_file_in_the_ontology_folder() -> None:
    readme = (ONTOLOGY / "README.md").read_text(encoding="utf-8")
    files = sorted(p.relative_to(ONTOLOGY).as_posix() for p in ONTOLOGY.rglob("*") if p.is_file())
    assert len(files) >= 8
    for name in files:
        assert f"`{name}`" in readme, f"ontology/README.md does not list {name}"


def test_alignments_point_at_declared_terms() -> None:
    """Every aflm term aligned is declared in aflm.ttl; every concept aligned is in a vocabulary; targets are IRIs."""
    declared = {t.subject.value for t in _triples(ONTOLOGY / "aflm.ttl") if t.predicate.value == RDF.type}
    concepts = {t.subject.value for path in VOCABULARIES for t in _triples(path)
                if t.predicate.value == RDF.type and t.object.value == SKOS.Concept}
    alignments = _triples(ONTOLOGY / "alignments.ttl")
    assert len(alignments) >= 20
    for t in alignments:
        subject = t.subject.value
        if subject.startswith(AFLM.NS):
            assert subject in declared, f"{subject} is aligned but not declared in aflm.ttl"
        else:
            assert subject in concepts, f"{subject} is aligned but no vocabulary declares it"
        assert isinstance(t.object, ox.NamedNode) and not t.object.value.startswith("https://w3id.org/aflm/"), t


def test_the_build_holds_the_alignments(seed_build: Path) -> None:
    from aflm_graph.graph.export import load_build_quads
    from aflm_graph.terms.namespaces import GRAPH_ONTOLOGY

    quads = {str(ox.Triple(q.subject, q.predicate, q.object)) for q in load_build_quads(seed_build)
             if q.graph_name.value == GRAPH_ONTOLOGY}
    for t in _triples(ONTOLOGY / "alignments.ttl"):
        assert str(t) in quads, f"{t} is not in the ontology graph of the build"


def test_the_readme_model_walkthrough_is_what_the_build_says(seed_build: Path) -> None:
    """The Turtle under README's "## Model" is an excerpt of the seed build, not an invented example."""
    from aflm_graph.graph.export import load_build_quads

    readme = (ONTOLOGY.parent / "README.md").read_text(encoding="utf-8")
    model = readme[readme.index("## Model"):]
    block = re.search(r"```turtle\n(.*?)```", model, re.DOTALL)
    assert block is not None, "README's Model section has no Turtle block"
    excerpt = list(ox.parse(block.group(1).encode("utf-8"), format=ox.RdfFormat.TURTLE))
    assert len(excerpt) >= 30
    built = {str(ox.Triple(q.subject, q.predicate, q.object)) for q in load_build_quads(seed_build)}
    missing = [str(t) for t in excerpt if str(t) not in built]
    assert not missing, "README states triples the build does not have:\n" + "\n".join(missing)


# --- what a linked-data consumer found (issue 17)


def test_pages_name_every_namespace(docs: Path) -> None:
    """pyLODE calls a namespace without a prefix ns1, ns2 ...: every namespace of the sources is bound."""
    pages = list(docs.rglob("*.html"))
    assert len(pages) >= 6
    for page in pages:
        found = re.findall(r"\bns\d+\b", page.read_text(encoding="utf-8"))
        assert not found, f"{page.name}: unnamed namespaces {sorted(set(found))}"


def test_docs_leave_the_callers_logging_alone(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                              caplog: pytest.LogCaptureFixture) -> None:
    """pyLODE logs progress on the root logger (and configures it when imported): nothing of it reaches the
    caller's handlers or the terminal, and the root logger is as the caller left it."""
    root = logging.getLogger()
    caplog.set_level(logging.INFO)
    before = (root.level, list(root.handlers))
    write_docs(tmp_path / "docs")
    assert (root.level, list(root.handlers)) == before
    assert not [r for r in caplog.records if "background ontologies" in r.getMessage()]
    out, err = capfd.readouterr()
    assert "INFO" not in out + err and "background ontologies" not in out + err


def test_the_diagram_shows_every_datatype_property_and_the_dublin_core_ones() -> None:
    """Properties without a domain are drawn too (on owl:Thing), and the reused Dublin Core properties where used."""
    root = ET.fromstring(class_diagram())
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    attributes = {line.split(":", 1)[0] if not line.startswith("dcterms:") else ":".join(line.split(":")[:2])
                  for line in texts}
    declared = [t.subject.value[len(AFLM.NS):] for t in _triples(ONTOLOGY / "aflm.ttl")
                if t.predicate.value == RDF.type and t.object.value == OWL.NS + "DatatypeProperty"]
    assert len(declared) > 15
    for local in declared:
        assert local in attributes, f"{local} is missing from the diagram"
    for term in ("dcterms:title", "dcterms:date", "dcterms:identifier"):
        assert term in attributes, term
    assert "owl:Thing (no domain)" in texts


def test_the_ontology_page_documents_the_dublin_core_properties_documents_carry(docs: Path) -> None:
    page = html.unescape((docs / "ontology.html").read_text(encoding="utf-8"))
    notes = {t.subject.value: t.object.value for t in _triples(ONTOLOGY / "aflm.ttl")
             if t.predicate.value == SKOS.NS + "scopeNote"}
    for local in ("title", "date", "identifier"):
        note = notes.get("http://purl.org/dc/terms/" + local)
        assert note, f"aflm.ttl does not document dcterms:{local}"
        assert note in page, f"dcterms:{local} is not documented on the ontology page"


def _entries(page: str) -> list[tuple[str, str]]:
    """(anchor, heading) of each concept entry of a vocabulary page, in page order."""
    concepts = page[page.index('<div id="concepts">'):]
    concepts = concepts[:concepts.index('<div id="concept-patterns">')] if "concept-patterns" in concepts else concepts
    return [(a, html.unescape(h)) for a, h in re.findall(r'<h3 id="([^"]+)">([^<]*)</h3>', concepts)]


@pytest.mark.parametrize("path", VOCABULARIES, ids=lambda p: p.stem)
def test_vocabulary_pages_list_concepts_by_label_with_their_triggers(docs: Path, path: Path) -> None:
    page = (docs / "vocab" / f"{path.stem}.html").read_text(encoding="utf-8")
    text = html.unescape(page)
    vocabulary = load_vocabulary([path])
    concepts = list(vocabulary)
    assert len(concepts) >= 10
    entries = _entries(page)
    labels = [label for _, label in entries]
    assert labels == sorted(labels, key=lambda label: (label.casefold(), label)), "not in label order"
    assert sorted(labels) == sorted(c.pref_label for c in concepts)
    for concept in concepts:
        assert f"<code>{concept.slug}</code>" in page, concept.slug
        for trigger in (*concept.alt_labels, *concept.hidden_labels, *concept.trigger_patterns,
                        *concept.exclusion_patterns):
            assert trigger in text, f"{concept.slug}: trigger or exclusion {trigger!r} is not on the page"
    for pattern in vocabulary.patterns:
        assert pattern.pref_label in text and pattern.slug_template in text
        for regex in pattern.trigger_patterns:
            assert regex in text, f"{pattern.iri}: its pattern is not on the page"
