"""The ontology's terms are written once in Turtle; the Python namespace must declare exactly the same set."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from aflm_graph.terms.namespaces import AFLM, OWL, RDF, RDFS, recommendation_iri, slug

ONTOLOGY = Path(__file__).resolve().parents[1] / "ontology" / "aflm.ttl"
SKOS_DEFINITION = "http://www.w3.org/2004/02/skos/core#definition"
DECLARING_TYPES = {
    OWL.NS + t for t in ("Class", "ObjectProperty", "DatatypeProperty", "AnnotationProperty", "NamedIndividual")
}


def _triples() -> list[ox.Triple]:
    return list(ox.parse(path=str(ONTOLOGY)))


def test_python_and_turtle_declare_the_same_terms() -> None:
    declared = {
        t.subject.value[len(AFLM.NS):]
        for t in _triples()
        if t.predicate.value == RDF.type and t.object.value in DECLARING_TYPES and t.subject.value.startswith(AFLM.NS)
    }
    assert len(declared) > 30
    python = AFLM.terms()
    assert python - declared == set(), "in Python but not declared in ontology/aflm.ttl"
    assert declared - python == set(), "declared in ontology/aflm.ttl but missing from namespaces.AFLM"


def test_every_term_has_label_definition_and_is_defined_by() -> None:
    triples = _triples()
    by_subject: dict[str, set[str]] = {}
    for t in triples:
        by_subject.setdefault(t.subject.value, set()).add(t.predicate.value)
    terms = [s for s in by_subject if s.startswith(AFLM.NS)]
    assert terms
    for term in terms:
        missing = {RDFS.label, SKOS_DEFINITION, RDFS.isDefinedBy} - by_subject[term]
        assert not missing, f"{term} lacks {missing}"


def test_ontology_header_carries_what_documentation_tools_read() -> None:
    header = {t.predicate.value for t in _triples() if t.subject.value == "https://w3id.org/aflm/ontology"}
    for needed in ("title", "description", "license", "creator", "created", "modified"):
        assert "http://purl.org/dc/terms/" + needed in header
    assert OWL.NS + "versionIRI" in header
    assert "http://purl.org/vocab/vann/preferredNamespacePrefix" in header


def test_iris_come_from_stable_keys() -> None:
    assert slug("000_C29556925cd8fb24") == "000_c29556925cd8fb24"
    assert recommendation_iri("doc", "2", "13") == "https://w3id.org/aflm/id/document/doc/recommendation/2.13"
    assert recommendation_iri("doc", None, "a") == "https://w3id.org/aflm/id/document/doc/recommendation/a"
    assert recommendation_iri("doc", "I", "3", occurrence=2).endswith("/recommendation/I.3~2")
    # characters that are not safe in an IRI are percent-encoded, never dropped
    assert recommendation_iri("doc", None, "a b>").endswith("/recommendation/a%20b%3E")
