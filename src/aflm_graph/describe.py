"""Say what the dataset is, for machines: VoID + DCAT in Turtle (`void.ttl`) and schema.org Dataset JSON-LD.

Every count comes from the build's quads and every size and checksum from the files beside the
description, so the description can never drift from the dumps it describes. Nothing depends on
the clock: the dates come from the ontology and vocabulary headers (see `release_dates`), so two
builds of the same input give the same bytes. The description is a file of its own, not part of
the dumps: a dump cannot state its own checksum.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .namespaces import (
    AFLM,
    BASE,
    DATA,
    DCTERMS,
    GRAPH_DATA,
    GRAPH_ONTOLOGY,
    GRAPH_REFERENCE,
    GRAPH_VOCAB,
    ONTOLOGY,
    PREFIXES,
    RDF,
    RDFS,
    SKOS,
    XSD,
)

if TYPE_CHECKING:
    import pyoxigraph as ox

DATASET = BASE + "dataset"
HOMEPAGE = BASE.rstrip("/")
SPARQL_ENDPOINT = BASE + "sparql"  # the w3id redirect reserved for the public endpoint (`aflm-graph serve` locally)
RELEASE_BASE = BASE + "release/{version}/"  # where a release bundle's files are published
PUBLISHER = BASE + "publisher"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
TITLE = "AFML recommendations knowledge graph"
DESCRIPTION = (
    "The recommendations on migrant workers adopted by ASEAN member states and the ASEAN Forum on Migrant "
    "Labour (AFML), one resource per recommendation with its full text, position and document, linked to "
    "controlled vocabularies of themes, actors, target groups and instruments (each link with the source words "
    "that justify it), and to Wikidata, the UN SDG KOS and ILO NORMLEX."
)
RIGHTS = (
    "The structured data (this dataset) is published under CC BY 4.0. The recommendation texts are quoted from "
    "source documents issued by ASEAN member states and AFML meetings; those documents remain the work of their "
    "issuers and keep their own terms. Each document's source file and checksum are recorded in its provenance "
    "(prov:wasDerivedFrom)."
)
KEYWORDS = ("ASEAN", "AFML", "migrant workers", "labour migration", "recommendations", "knowledge graph")
CITATION = (
    "aflm-graph developers ({year}). {title}, version {version}. https://w3id.org/aflm. Licensed under CC BY 4.0."
)

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
FOAF = "http://xmlns.com/foaf/0.1/"
SPDX = "http://spdx.org/rdf/terms#"
OWL_VERSION_INFO = "http://www.w3.org/2002/07/owl#versionInfo"
DESCRIPTION_PREFIXES = {**{p: ns for p, ns in PREFIXES.items() if p != "id"}, "void": VOID, "dcat": DCAT, "spdx": SPDX}

# Datasets our link predicates point into, by IRI prefix of the object: (dataset IRI, title).
LINK_TARGETS: dict[str, tuple[str, str]] = {
    "http://www.wikidata.org/entity/": ("http://www.wikidata.org/", "Wikidata"),
    "https://www.wikidata.org/wiki/": ("http://www.wikidata.org/", "Wikidata"),
    "http://metadata.un.org/sdg/": ("http://metadata.un.org/sdg/", "UN SDG KOS"),
    "https://metadata.un.org/sdg/": ("http://metadata.un.org/sdg/", "UN SDG KOS"),
    "https://normlex.ilo.org/": ("https://normlex.ilo.org/", "ILO NORMLEX"),
    "http://www.ilo.org/": ("https://www.ilo.org/", "International Labour Organization"),
    "https://www.ilo.org/": ("https://www.ilo.org/", "International Labour Organization"),
}
LINK_PREDICATES = (
    "http://www.w3.org/2002/07/owl#sameAs",
    SKOS.exactMatch,
    SKOS.NS + "closeMatch",
    SKOS.NS + "broadMatch",
    SKOS.NS + "narrowMatch",
    SKOS.NS + "relatedMatch",
    RDFS.seeAlso,  # the ILO instruments' NORMLEX pages
)


@dataclass
class Statistics:
    """VoID statistics of one graph (or of the merged graph)."""

    triples: int = 0
    entities: int = 0
    classes: int = 0
    properties: int = 0
    distinct_subjects: int = 0
    distinct_objects: int = 0
    class_entities: dict[str, int] = field(default_factory=dict)
    property_triples: dict[str, int] = field(default_factory=dict)


def statistics(triples: Iterable[Any]) -> Statistics:
    """Counts over distinct triples (or the quads of one graph): entities are the IRI subjects in our own IRI space
    (VoID's void:entities). Terms are compared as pyoxigraph objects, never turned into strings: linear and cheap."""
    import pyoxigraph as ox

    count = 0
    subjects: set[Any] = set()
    objects: set[Any] = set()
    typed: dict[str, set[Any]] = {}
    per_property: Counter[str] = Counter()
    rdf_type = ox.NamedNode(RDF.type)
    for t in triples:
        count += 1
        subject, predicate, obj = t.subject, t.predicate, t.object
        subjects.add(subject)
        objects.add(obj)
        per_property[predicate.value] += 1
        if predicate == rdf_type and isinstance(obj, ox.NamedNode):
            typed.setdefault(obj.value, set()).add(subject)
    entities = sum(1 for s in subjects if isinstance(s, ox.NamedNode) and s.value.startswith(BASE))
    return Statistics(
        triples=count,
        entities=entities,
        classes=len(typed),
        properties=len(per_property),
        distinct_subjects=len(subjects),
        distinct_objects=len(objects),
        class_entities={c: len(members) for c, members in sorted(typed.items())},
        property_triples=dict(sorted(per_property.items())),
    )


def namespace_of(iri: str) -> str:
    """The namespace part of a term IRI: up to the last '#' or '/'."""
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1] if cut > 0 else iri


def release_dates(quads: Sequence[ox.Quad]) -> tuple[str, str]:
    """(issued, modified): the ontology's dcterms:issued (else created), and the latest dcterms:modified among
    the ontology and vocabulary headers. Taken from edited sources, never the clock, so builds are reproducible."""
    created = issued = None
    modified: list[str] = []
    for q in quads:
        if q.graph_name.value not in (GRAPH_ONTOLOGY, GRAPH_VOCAB):
            continue
        p = q.predicate.value
        if q.subject.value == ONTOLOGY and p == DCTERMS.NS + "created":
            created = q.object.value
        elif q.subject.value == ONTOLOGY and p == DCTERMS.issued:
            issued = q.object.value
        elif p == DCTERMS.NS + "modified" and re.fullmatch(r"\d{4}-\d\d-\d\d", q.object.value):
            modified.append(q.object.value)
    first = issued or created or (min(modified) if modified else "1970-01-01")
    return first, max([first, *modified])


@dataclass(frozen=True)
class Distribution:
    file: str
    media_type: str
    w3c_format: str
    byte_size: int
    sha256: str

    @property
    def key(self) -> str:
        return self.file.replace(".", "-")


def distributions(folder: Path) -> list[Distribution]:
    """The dumps present in `folder`, with their sizes and SHA-256 checksums."""
    from .export import FORMATS

    out = []
    for spec in FORMATS.values():
        path = folder / spec.file
        if path.is_file():
            data = path.read_bytes()
            out.append(
                Distribution(spec.file, spec.media_type, spec.w3c_format, len(data), hashlib.sha256(data).hexdigest())
            )
    return out


class _Triples:
    """Collects the description's triples (IRIs and literals from plain strings)."""

    def __init__(self) -> None:
        self.items: list[ox.Triple] = []

    def iri(self, s: str, p: str, o: str) -> None:
        import pyoxigraph as ox

        self.items.append(ox.Triple(ox.NamedNode(s), ox.NamedNode(p), ox.NamedNode(o)))

    def lit(self, s: str, p: str, value: str | int, datatype: str | None = None, language: str | None = None) -> None:
        import pyoxigraph as ox

        if isinstance(value, int):
            literal = ox.Literal(str(value), datatype=ox.NamedNode(datatype or XSD.integer))
        elif language:
            literal = ox.Literal(value, language=language)
        elif datatype:
            literal = ox.Literal(value, datatype=ox.NamedNode(datatype))
        else:
            literal = ox.Literal(value)
        self.items.append(ox.Triple(ox.NamedNode(s), ox.NamedNode(p), literal))


def _slug(iri: str) -> str:
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns) and re.fullmatch(r"[A-Za-z0-9_\-]+", iri[len(ns):]):
            return f"{prefix}-{iri[len(ns):]}"
    return hashlib.sha256(iri.encode()).hexdigest()[:12]


def _stats_triples(out: _Triples, node: str, stats: Statistics) -> None:
    out.lit(node, VOID + "triples", stats.triples)
    out.lit(node, VOID + "entities", stats.entities)
    out.lit(node, VOID + "classes", stats.classes)
    out.lit(node, VOID + "properties", stats.properties)
    out.lit(node, VOID + "distinctSubjects", stats.distinct_subjects)
    out.lit(node, VOID + "distinctObjects", stats.distinct_objects)


@dataclass(frozen=True)
class DatasetFacts:
    """What the description states, computed once from the quads and the files."""

    merged: Statistics
    graphs: dict[str, Statistics]
    issued: str
    modified: str
    vocabularies: list[str]
    examples: list[str]
    sources: list[str]
    dates: list[str]
    links: dict[tuple[str, str], int]  # (link predicate, target dataset) -> triples
    files: list[Distribution]


def dataset_facts(folder: Path, quads: Sequence[ox.Quad], triples: Sequence[ox.Triple]) -> DatasetFacts:
    import pyoxigraph as ox

    names = (GRAPH_DATA, GRAPH_ONTOLOGY, GRAPH_REFERENCE, GRAPH_VOCAB)
    by_graph: dict[str, list[ox.Quad]] = {g: [] for g in names}
    for q in quads:  # canonical quads are distinct, so each graph's quads are its distinct triples
        by_graph.setdefault(q.graph_name.value, []).append(q)
    graphs = {g: statistics(by_graph[g]) for g in names}
    merged = statistics(triples)
    vocabularies = sorted(
        {namespace_of(p) for p in merged.property_triples} | {namespace_of(c) for c in merged.class_entities}
    )
    vocabularies = [v for v in vocabularies if not v.startswith(DATA)]
    first: dict[str, str] = {}
    sources: set[str] = set()
    dates: set[str] = set()
    links: Counter[tuple[str, str]] = Counter()
    wanted = {AFLM.RecommendationsDocument, AFLM.Recommendation, AFLM.ConceptMention, SKOS.Concept}
    documents: set[str] = set()
    for q in quads:
        if q.graph_name.value == GRAPH_DATA and q.predicate.value == RDF.type:
            kind = q.object.value
            if kind in wanted and isinstance(q.subject, ox.NamedNode) and kind not in first:
                first[kind] = q.subject.value  # quads are sorted: the first is the smallest IRI
            if kind == AFLM.RecommendationsDocument:
                documents.add(q.subject.value)
        elif q.graph_name.value == GRAPH_VOCAB and q.predicate.value == RDF.type and q.object.value == SKOS.Concept:
            first.setdefault(SKOS.Concept, q.subject.value)
        if q.predicate.value == "http://www.w3.org/ns/prov#wasDerivedFrom" and q.graph_name.value == GRAPH_DATA:
            sources.add(q.object.value)
    for t in triples:
        if t.predicate.value == DCTERMS.date and t.subject.value in documents:
            dates.add(t.object.value)
        if t.predicate.value in LINK_PREDICATES and isinstance(t.object, ox.NamedNode):
            for prefix, (target, _) in LINK_TARGETS.items():
                if t.object.value.startswith(prefix):
                    links[(t.predicate.value, target)] += 1
                    break
    issued, modified = release_dates(quads)
    examples = [first[k] for k in (AFLM.RecommendationsDocument, AFLM.Recommendation, AFLM.ConceptMention,
                                   SKOS.Concept) if k in first]
    return DatasetFacts(
        merged=merged,
        graphs=graphs,
        issued=issued,
        modified=modified,
        vocabularies=vocabularies,
        examples=examples,
        sources=sorted(sources),
        dates=sorted(dates),
        links=dict(sorted(links.items())),
        files=distributions(folder),
    )


def void_dcat(facts: DatasetFacts, *, version: str = __version__) -> list[ox.Triple]:
    """The VoID and DCAT description of the dataset, its named graphs, distributions and SPARQL service."""
    out = _Triples()
    d = DATASET
    release = RELEASE_BASE.format(version=version)
    out.iri(d, RDF.type, VOID + "Dataset")
    out.iri(d, RDF.type, DCAT + "Dataset")
    out.lit(d, DCTERMS.title, TITLE, language="en")
    out.lit(d, DCTERMS.description, DESCRIPTION, language="en")
    out.iri(d, DCTERMS.license, LICENSE)
    out.lit(d, DCTERMS.NS + "rights", RIGHTS, language="en")
    out.iri(d, DCTERMS.NS + "publisher", PUBLISHER)
    out.iri(d, DCTERMS.NS + "creator", PUBLISHER)
    out.iri(PUBLISHER, RDF.type, FOAF + "Organization")
    out.lit(PUBLISHER, FOAF + "name", "aflm-graph developers")
    out.iri(PUBLISHER, FOAF + "homepage", HOMEPAGE)
    out.lit(d, DCTERMS.issued, facts.issued, XSD.date)
    out.lit(d, DCTERMS.NS + "modified", facts.modified, XSD.date)
    out.lit(d, DCAT + "version", version)
    out.lit(d, OWL_VERSION_INFO, version)
    out.lit(d, DCTERMS.NS + "bibliographicCitation", citation(facts, version=version))
    out.iri(d, DCTERMS.NS + "conformsTo", ONTOLOGY)
    out.iri(d, DCTERMS.NS + "language", "http://id.loc.gov/vocabulary/iso639-1/en")
    out.iri(d, DCAT + "landingPage", HOMEPAGE)
    out.iri(d, FOAF + "homepage", HOMEPAGE)
    for word in KEYWORDS:
        out.lit(d, DCAT + "keyword", word, language="en")
    if facts.dates:
        period = d + "#temporal"
        out.iri(d, DCTERMS.NS + "temporal", period)
        out.iri(period, RDF.type, DCTERMS.NS + "PeriodOfTime")
        out.lit(period, DCAT + "startDate", facts.dates[0], XSD.date)
        out.lit(period, DCAT + "endDate", facts.dates[-1], XSD.date)
    for source in facts.sources:
        out.iri(d, DCTERMS.source, source)
    # VoID: statistics, IRI space, vocabularies, examples, the endpoint and the dumps
    _stats_triples(out, d, facts.merged)
    out.lit(d, VOID + "uriSpace", DATA)
    out.iri(d, VOID + "rootResource", ONTOLOGY)
    out.iri(d, VOID + "sparqlEndpoint", SPARQL_ENDPOINT)
    for vocabulary in facts.vocabularies:
        out.iri(d, VOID + "vocabulary", vocabulary)
    for example in facts.examples:
        out.iri(d, VOID + "exampleResource", example)
    for cls, count in facts.merged.class_entities.items():
        node = f"{d}#class-{_slug(cls)}"
        out.iri(d, VOID + "classPartition", node)
        out.iri(node, VOID + "class", cls)
        out.lit(node, VOID + "entities", count)
    for prop, count in facts.merged.property_triples.items():
        node = f"{d}#property-{_slug(prop)}"
        out.iri(d, VOID + "propertyPartition", node)
        out.iri(node, VOID + "property", prop)
        out.lit(node, VOID + "triples", count)
    titles = {GRAPH_DATA: "data", GRAPH_ONTOLOGY: "ontology", GRAPH_REFERENCE: "reference data",
              GRAPH_VOCAB: "vocabularies"}
    for graph, stats in facts.graphs.items():
        out.iri(d, VOID + "subset", graph)
        out.iri(graph, RDF.type, VOID + "Dataset")
        out.lit(graph, DCTERMS.title, f"{TITLE}: {titles[graph]} (named graph)", language="en")
        _stats_triples(out, graph, stats)
    for (predicate, target), count in facts.links.items():
        name = dict(LINK_TARGETS.values())[target]
        node = f"{d}#links-{_slug(predicate)}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"
        out.iri(d, VOID + "subset", node)
        out.iri(node, RDF.type, VOID + "Linkset")
        out.iri(node, VOID + "linkPredicate", predicate)
        out.iri(node, VOID + "subjectsTarget", d)
        out.iri(node, VOID + "objectsTarget", target)
        out.iri(target, RDF.type, VOID + "Dataset")
        out.lit(target, DCTERMS.title, name, language="en")
        out.lit(node, VOID + "triples", count)
    # DCAT: the dumps as distributions, the endpoint as a data service
    service = d + "#sparql"
    out.iri(d, DCAT + "distribution", d + "#distribution-sparql")
    out.iri(d + "#distribution-sparql", RDF.type, DCAT + "Distribution")
    out.lit(d + "#distribution-sparql", DCTERMS.title, "SPARQL endpoint", language="en")
    out.iri(d + "#distribution-sparql", DCAT + "accessURL", SPARQL_ENDPOINT)
    out.iri(d + "#distribution-sparql", DCAT + "accessService", service)
    out.iri(d + "#distribution-sparql", DCTERMS.license, LICENSE)
    out.iri(service, RDF.type, DCAT + "DataService")
    out.lit(service, DCTERMS.title, "SPARQL endpoint of the AFML recommendations knowledge graph", language="en")
    out.iri(service, DCAT + "endpointURL", SPARQL_ENDPOINT)
    out.iri(service, DCAT + "servesDataset", d)
    out.iri(service, DCTERMS.NS + "conformsTo", "https://www.w3.org/TR/sparql11-protocol/")
    for dist in facts.files:
        node = f"{d}#distribution-{dist.key}"
        url = release + dist.file
        out.iri(d, DCAT + "distribution", node)
        out.iri(d, VOID + "dataDump", url)
        out.iri(d, VOID + "feature", dist.w3c_format)
        out.iri(node, RDF.type, DCAT + "Distribution")
        out.lit(node, DCTERMS.title, f"{TITLE} ({dist.file})", language="en")
        out.iri(node, DCAT + "downloadURL", url)
        out.iri(node, DCAT + "accessURL", release)
        out.iri(node, DCAT + "mediaType", f"https://www.iana.org/assignments/media-types/{dist.media_type}")
        out.iri(node, DCTERMS.NS + "format", dist.w3c_format)
        out.lit(node, DCAT + "byteSize", dist.byte_size, XSD.NS + "nonNegativeInteger")
        out.iri(node, DCTERMS.license, LICENSE)
        checksum = f"{node}-sha256"
        out.iri(node, SPDX + "checksum", checksum)
        out.iri(checksum, RDF.type, SPDX + "Checksum")
        out.iri(checksum, SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256")
        out.lit(checksum, SPDX + "checksumValue", dist.sha256, XSD.NS + "hexBinary")
    out.lit(d, RDFS.NS + "comment", "Counts are computed from the build; see aflm-graph (https://w3id.org/aflm).",
            language="en")
    return sorted(set(out.items), key=str)


def citation(facts: DatasetFacts, *, version: str = __version__) -> str:
    return CITATION.format(year=facts.modified[:4], title=TITLE, version=version)


def schema_org(facts: DatasetFacts, *, version: str = __version__) -> dict[str, object]:
    """A schema.org Dataset for dataset search engines (Google Dataset Search reads exactly this shape)."""
    release = RELEASE_BASE.format(version=version)
    doc: dict[str, object] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": DATASET,
        "name": TITLE,
        "description": DESCRIPTION,
        "url": HOMEPAGE,
        "identifier": DATASET,
        "version": version,
        "license": LICENSE,
        "isAccessibleForFree": True,
        "inLanguage": "en",
        "keywords": list(KEYWORDS),
        "creator": {"@type": "Organization", "@id": PUBLISHER, "name": "aflm-graph developers", "url": HOMEPAGE},
        "publisher": {"@type": "Organization", "@id": PUBLISHER, "name": "aflm-graph developers", "url": HOMEPAGE},
        "datePublished": facts.issued,
        "dateModified": facts.modified,
        "citation": citation(facts, version=version),
        "spatialCoverage": {"@type": "Place", "name": "ASEAN member states (Southeast Asia)"},
        "size": f"{facts.merged.triples} triples",
        "variableMeasured": ["recommendation text", "theme", "actor", "target group", "instrument"],
        "distribution": [
            {
                "@type": "DataDownload",
                "name": dist.file,
                "contentUrl": release + dist.file,
                "encodingFormat": dist.media_type,
                "contentSize": f"{dist.byte_size} B",
                "sha256": dist.sha256,
            }
            for dist in facts.files
        ],
    }
    if facts.dates:
        doc["temporalCoverage"] = f"{facts.dates[0]}/{facts.dates[-1]}"
    return doc


def describe_files(folder: Path, quads: Sequence[ox.Quad], *, triples: Sequence[ox.Triple]) -> dict[str, bytes]:
    """`void.ttl` (VoID + DCAT) and `dataset.jsonld` (schema.org) for the dumps present in `folder`."""
    from .export import turtle

    facts = dataset_facts(folder, quads, triples)
    description = turtle(void_dcat(facts), DESCRIPTION_PREFIXES)
    schema = json.dumps(schema_org(facts), ensure_ascii=False, indent=2) + "\n"
    return {"void.ttl": description, "dataset.jsonld": schema.encode("utf-8")}
