"""The dataset description says what the dump is, with counts, sizes and checksums that match the build."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from aflm_graph.graph.describe import DATASET, LICENSE, SPARQL_ENDPOINT, release_dates, statistics
from aflm_graph.graph.export import FORMATS, load_build_quads, merged_triples
from aflm_graph.sparql.engine import run_embedded
from aflm_graph.terms.namespaces import DEVELOPERS

PREFIXES = """
PREFIX void: <http://rdfs.org/ns/void#>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX spdx: <http://spdx.org/rdf/terms#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
"""


@pytest.fixture(scope="module")
def description(seed_build: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(seed_build / "void.ttl"), format=ox.RdfFormat.TURTLE)
    return store


def rows(store: ox.Store, query: str) -> list[dict[str, str | None]]:
    return run_embedded(store, PREFIXES + query).records()


def one(store: ox.Store, query: str) -> dict[str, str]:
    found = rows(store, query)
    assert len(found) == 1, f"expected one row, got {found}"
    return {k: v for k, v in found[0].items() if v is not None}


def test_void_and_dcat_say_what_the_dataset_is(description: ox.Store) -> None:
    row = one(description, f"""
        SELECT ?title ?description ?license ?publisher ?issued ?modified ?version ?endpoint ?citation WHERE {{
          <{DATASET}> a void:Dataset, dcat:Dataset ; dcterms:title ?title ; dcterms:description ?description ;
            dcterms:license ?license ; dcterms:publisher ?publisher ; dcterms:issued ?issued ;
            dcterms:modified ?modified ; dcat:version ?version ; void:sparqlEndpoint ?endpoint ;
            dcterms:bibliographicCitation ?citation .
        }}""")
    assert row["license"] == LICENSE
    assert row["endpoint"] == SPARQL_ENDPOINT
    assert row["version"] == "0.1.0"
    assert row["issued"] <= row["modified"]
    assert "AFML" in row["title"] and "CC BY 4.0" in row["citation"]


def test_counts_are_those_of_the_build(seed_build: Path, description: ox.Store) -> None:
    quads = load_build_quads(seed_build)
    triples = merged_triples(quads)
    lines = (seed_build / "aflm.nt").read_bytes().count(b"\n")
    row = one(description, f"""
        SELECT ?triples ?entities ?classes ?properties WHERE {{
          <{DATASET}> void:triples ?triples ; void:entities ?entities ; void:classes ?classes ;
            void:properties ?properties .
        }}""")
    assert int(row["triples"]) == len(triples) == lines
    store = ox.Store()
    store.bulk_extend(quads)
    counts = one(store, """
        SELECT (COUNT(DISTINCT ?c) AS ?classes) (COUNT(DISTINCT ?p) AS ?properties) WHERE {
          { ?x a ?c } UNION { ?s ?p ?o }
        }""")
    assert int(row["classes"]) == int(counts["classes"]) > 10
    assert int(row["properties"]) == int(counts["properties"]) > 30
    recommendations = one(description, f"""
        SELECT ?n WHERE {{
          <{DATASET}> void:classPartition [ void:class <https://w3id.org/aflm/ontology#Recommendation> ;
                                            void:entities ?n ]
        }}""")
    assert int(recommendations["n"]) == 47
    graphs = {str(r["g"]): int(str(r["n"])) for r in rows(description, f"""
        SELECT ?g ?n WHERE {{
          <{DATASET}> void:subset ?g . ?g void:triples ?n . FILTER NOT EXISTS {{ ?g a void:Linkset }}
        }}""")}
    by_graph: dict[str, int] = {}
    for q in quads:
        by_graph[q.graph_name.value] = by_graph.get(q.graph_name.value, 0) + 1
    assert graphs == by_graph


def test_every_dump_is_a_distribution_with_size_and_checksum(seed_build: Path, description: ox.Store) -> None:
    found = rows(description, f"""
        SELECT ?url ?media ?size ?sha WHERE {{
          <{DATASET}> dcat:distribution ?d ; void:dataDump ?url .
          ?d dcat:downloadURL ?url ; dcat:mediaType ?media ; dcat:byteSize ?size ;
             spdx:checksum [ spdx:algorithm spdx:checksumAlgorithm_sha256 ; spdx:checksumValue ?sha ] .
        }}""")
    assert len(found) == len(FORMATS) == 6
    media = {spec.file: spec.media_type for spec in FORMATS.values()}
    for row in found:
        name = str(row["url"]).rsplit("/", 1)[-1]
        data = (seed_build / name).read_bytes()
        assert int(str(row["size"])) == len(data), name
        assert row["sha"] == hashlib.sha256(data).hexdigest(), name
        assert str(row["media"]).endswith("/" + media[name]), name


def test_examples_vocabularies_and_links_are_real(seed_build: Path, description: ox.Store) -> None:
    quads = load_build_quads(seed_build)
    subjects = {q.subject.value for q in quads}
    examples = [r["e"] for r in rows(description, f"SELECT ?e WHERE {{ <{DATASET}> void:exampleResource ?e }}")]
    assert len(examples) >= 3 and set(examples) <= subjects
    vocabularies = {r["v"] for r in rows(description, f"SELECT ?v WHERE {{ <{DATASET}> void:vocabulary ?v }}")}
    assert {"https://w3id.org/aflm/ontology#", "http://www.w3.org/2004/02/skos/core#",
            "http://purl.org/dc/terms/"} <= vocabularies
    wikidata = one(description, """
        SELECT ?n WHERE { ?l a void:Linkset ; void:linkPredicate owl:sameAs ;
                              void:objectsTarget <http://www.wikidata.org/> ; void:triples ?n }""")
    same_as = {(q.subject.value, q.object.value) for q in quads
               if q.predicate.value.endswith("#sameAs") and q.object.value.startswith("http://www.wikidata.org/entity/")}
    assert int(wikidata["n"]) == len(same_as) >= 11


def test_the_description_parses_in_rdflib_too(seed_build: Path) -> None:
    graph = rdflib.Graph().parse(seed_build / "void.ttl", format="turtle")
    assert (rdflib.URIRef(DATASET), rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/dcat#Dataset")) in graph
    assert not any(isinstance(t, rdflib.BNode) for triple in graph for t in triple), "no blank nodes in the description"


def test_schema_org_dataset_for_search_engines(seed_build: Path) -> None:
    data = json.loads((seed_build / "dataset.jsonld").read_text(encoding="utf-8"))
    assert data["@type"] == "Dataset" and data["license"] == LICENSE
    for key in ("name", "description", "url", "version", "creator", "datePublished", "dateModified", "keywords"):
        assert data[key], key
    assert len(data["distribution"]) == 6
    for dist in data["distribution"]:
        size = (seed_build / dist["name"]).stat().st_size
        assert dist["contentSize"] == f"{size} B" and dist["encodingFormat"]
    # it is JSON-LD: with the schema.org context given inline (no network) it yields a schema:Dataset
    data["@context"] = {"@vocab": "https://schema.org/"}
    graph = rdflib.Graph().parse(data=json.dumps(data), format="json-ld")
    assert (rdflib.URIRef(DATASET), rdflib.RDF.type, rdflib.URIRef("https://schema.org/Dataset")) in graph


def test_creator_and_publisher_are_the_agent_the_ontology_describes(seed_build: Path, description: ox.Store) -> None:
    """Dublin Core's range for dcterms:creator / publisher is an agent: an IRI, the same in the ontology, the VoID
    description and schema.org (where it is an Organization object with that @id)."""
    row = one(description, f"""
        SELECT ?creator ?publisher ?name WHERE {{
          <{DATASET}> dcterms:creator ?creator ; dcterms:publisher ?publisher .
          ?creator a <http://xmlns.com/foaf/0.1/Organization> ; <http://xmlns.com/foaf/0.1/name> ?name .
        }}""")
    assert row["creator"] == row["publisher"] == DEVELOPERS
    assert row["name"] == "aflm-graph developers"
    ontology = {(t.predicate.value, t.object.value) for t in load_build_quads(seed_build)
                if t.subject.value == "https://w3id.org/aflm/ontology"}
    assert ("http://purl.org/dc/terms/creator", DEVELOPERS) in ontology
    assert ("http://purl.org/dc/terms/publisher", DEVELOPERS) in ontology
    schema = json.loads((seed_build / "dataset.jsonld").read_text(encoding="utf-8"))
    for key in ("creator", "publisher"):
        assert schema[key]["@type"] == "Organization" and schema[key]["@id"] == DEVELOPERS, key
        assert schema[key]["name"] == "aflm-graph developers"


def test_statistics_of_a_small_graph() -> None:
    ex = "https://w3id.org/aflm/id/"
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    cls = ox.NamedNode("https://w3id.org/aflm/ontology#Recommendation")
    triples = [
        ox.Triple(ox.NamedNode(ex + "a"), rdf_type, cls),
        ox.Triple(ox.NamedNode(ex + "b"), rdf_type, cls),
        ox.Triple(ox.NamedNode(ex + "a"), ox.NamedNode("https://w3id.org/aflm/ontology#text"), ox.Literal("x")),
        ox.Triple(ox.NamedNode("http://example.org/c"), ox.NamedNode("https://w3id.org/aflm/ontology#text"),
                  ox.Literal("x")),
    ]
    stats = statistics(triples)
    assert (stats.triples, stats.entities, stats.classes, stats.properties) == (4, 2, 1, 2)
    assert (stats.distinct_subjects, stats.distinct_objects) == (3, 2)
    assert stats.class_entities == {cls.value: 2}


def test_dates_come_from_the_sources_not_the_clock(seed_build: Path) -> None:
    issued, modified = release_dates(load_build_quads(seed_build))
    assert issued == "2026-11-23" and modified >= issued
