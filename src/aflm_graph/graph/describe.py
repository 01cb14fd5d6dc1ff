"""Say what the dataset is, for machines: VoID + DCAT in Turtle (`void.ttl`) and schema.org Dataset JSON-LD.

Every count comes from the build's quads and every size and checksum from the files beside the
description, so the description can never drift from the dumps it describes. Nothing depends on
the clock: the dates come from the ontology and vocabulary headers (see `release_dates`), so two
builds of the same input give the same bytes. The description is a file of its own, not part of
the dumps: a dump cannot state its own checksum.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .. import __version__
from ..terms.namespaces import (
    AFLM,
    BASE,
    CC_BY_4,
    DATA,
    DCAT,
    DCTERMS,
    DEVELOPERS,
    ENGLISH,
    FOAF,
    GRAPH_DATA,
    GRAPH_ONTOLOGY,
    GRAPH_REFERENCE,
    GRAPH_VOCAB,
    IANA_MEDIA_TYPES,
    LINK_TARGETS,
    ONTOLOGY,
    OWL,
    PREFIXES,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    SPARQL_PROTOCOL,
    SPDX,
    VOID,
    XSD,
)
from .export import FORMATS, turtle
from .statements import RDF_TYPE_TERM, Statements, file_digest, graph_term, iri_term, term_value

DATASET = BASE + "dataset"
HOMEPAGE = BASE.rstrip("/")
SPARQL_ENDPOINT = BASE + "sparql"  # the w3id redirect reserved for the public endpoint (`aflm-graph serve` locally)
RELEASE_BASE = BASE + "release/{version}/"  # where a release bundle's files are published
PUBLISHER = DEVELOPERS  # an agent with an IRI (Dublin Core's range for dcterms:creator and publisher)
LICENSE = CC_BY_4
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

DESCRIPTION_PREFIXES = {**{p: ns for p, ns in PREFIXES.items() if p != "id"}, "void": VOID.NS, "dcat": DCAT.NS,
                        "spdx": SPDX.NS}
LINK_PREDICATES = (
    OWL.sameAs,
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
        graph, subject, obj = q.graph_name, q.subject, q.object
        if not isinstance(graph, ox.NamedNode) or graph.value not in (GRAPH_ONTOLOGY, GRAPH_VOCAB):
            continue
        if isinstance(subject, ox.Triple) or isinstance(obj, ox.Triple):
            continue  # a triple term (RDF 1.2) states no header date
        p = q.predicate.value
        if subject.value == ONTOLOGY and p == DCTERMS.NS + "created":
            created = obj.value
        elif subject.value == ONTOLOGY and p == DCTERMS.issued:
            issued = obj.value
        elif p == DCTERMS.NS + "modified" and re.fullmatch(r"\d{4}-\d\d-\d\d", obj.value):
            modified.append(obj.value)
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


def distributions(folder: Path, known: dict[str, tuple[int, str]] | None = None) -> list[Distribution]:
    """The dumps present in `folder`, with their sizes and SHA-256 checksums (`known`: already computed ones)."""
    out = []
    for spec in FORMATS.values():
        path = folder / spec.file
        if path.is_file():
            size, digest = (known or {}).get(spec.file) or file_digest(path)
            out.append(Distribution(spec.file, spec.media_type, spec.w3c_format, size, digest))
    return out


class _Triples:
    """Collects the description's triples (IRIs and literals from plain strings)."""

    def __init__(self) -> None:
        self.items: list[ox.Triple] = []

    def iri(self, s: str, p: str, o: str) -> None:
        self.items.append(ox.Triple(ox.NamedNode(s), ox.NamedNode(p), ox.NamedNode(o)))

    def lit(self, s: str, p: str, value: str | int, datatype: str | None = None, language: str | None = None) -> None:
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
    out.lit(node, VOID.NS + "triples", stats.triples)
    out.lit(node, VOID.NS + "entities", stats.entities)
    out.lit(node, VOID.NS + "classes", stats.classes)
    out.lit(node, VOID.NS + "properties", stats.properties)
    out.lit(node, VOID.NS + "distinctSubjects", stats.distinct_subjects)
    out.lit(node, VOID.NS + "distinctObjects", stats.distinct_objects)


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


def dataset_facts(folder: Path, quads: Sequence[ox.Quad], triples: Sequence[ox.Triple] | None = None) -> DatasetFacts:
    """The facts of a build's quads (pyoxigraph objects); a build computes them from its statements."""
    return statement_facts(folder, Statements.from_quads(quads))


@dataclass
class _Scan:
    """What one pass over one graph's distinct statements collects."""

    count: int = 0
    subjects: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)
    typed: dict[str, set[str]] = field(default_factory=dict)
    per_property: Counter[str] = field(default_factory=Counter)
    first: dict[str, str] = field(default_factory=dict)  # class -> first (smallest) IRI subject typed with it
    dated: dict[str, set[str]] = field(default_factory=dict)  # subject -> dcterms:date values
    sources: set[str] = field(default_factory=set)
    links: Counter[tuple[str, str]] = field(default_factory=Counter)


_DATE = f"<{DCTERMS.date}>"
_DERIVED = iri_term(PROV.wasDerivedFrom)
_LINK_TERMS = {f"<{p}>" for p in LINK_PREDICATES}


def _link_target(o: str) -> str | None:
    if o[0] != "<" or o.startswith("<<"):
        return None
    for prefix, (target, _) in LINK_TARGETS.items():
        if o.startswith(prefix, 1):
            return target
    return None


def _scan(items: Sequence[str]) -> _Scan:
    scan = _Scan(count=len(items))
    subjects, objects, typed, first, dated = scan.subjects, scan.objects, scan.typed, scan.first, scan.dated
    counts: dict[str, int] = {}
    for statement in items:
        s, p, o = statement.split(" ", 2)
        subjects.add(s)
        objects.add(o)
        counts[p] = counts.get(p, 0) + 1
        if p == RDF_TYPE_TERM:
            if o[0] == "<" and o[1] != "<":
                members = typed.get(o)
                if members is None:
                    members = typed[o] = set()
                    if s[0] == "<" and s[1] != "<":
                        first[o] = s
                elif o not in first and s[0] == "<" and s[1] != "<":
                    first[o] = s
                members.add(s)
        elif p == _DATE:
            dated.setdefault(s, set()).add(term_value(o))
        elif p == _DERIVED:
            scan.sources.add(term_value(o))
        elif p in _LINK_TERMS:
            target = _link_target(o)
            if target is not None:
                scan.links[(p[1:-1], target)] += 1
    scan.per_property.update(counts)
    return scan


def _statistics(count: int, subjects: set[str], objects: set[str], typed: dict[str, set[str]],
                per_property: Counter[str]) -> Statistics:
    base = "<" + BASE
    return Statistics(
        triples=count,
        entities=sum(1 for s in subjects if s.startswith(base)),
        classes=len(typed),
        properties=len(per_property),
        distinct_subjects=len(subjects),
        distinct_objects=len(objects),
        class_entities={c[1:-1]: len(members) for c, members in sorted(typed.items())},
        property_triples=dict(sorted((p[1:-1], n) for p, n in per_property.items())),
    )


def statement_facts(
    folder: Path | None, statements: Any, *, known: dict[str, tuple[int, str]] | None = None
) -> DatasetFacts:
    """The facts of a build from its statements (statements.Statements): one pass over each named graph.

    The dumps in `folder` are the facts' files; with no folder there are none yet (the pipeline
    computes the rest while the dumps are still being written, then adds them with `distributions`).

    The merged graph's figures are combined from the graphs' (sets are united; a statement held by
    several graphs is counted once), so the big data graph is read once.
    """
    names = (GRAPH_DATA, GRAPH_ONTOLOGY, GRAPH_REFERENCE, GRAPH_VOCAB)
    scans = {g: _scan(statements.graph(g)) for g in names}
    for g, items in statements.graphs.items():
        if g not in scans:
            scans[g] = _scan(items)
    graphs = {
        g: _statistics(scans[g].count, scans[g].subjects, scans[g].objects, scans[g].typed, scans[g].per_property)
        for g in names
    }
    # statements held by more than one graph (the merged graph holds them once)
    biggest = max(statements.graphs, key=lambda g: len(statements.graphs[g]), default=None)
    held: Counter[str] = Counter()
    for g, items in statements.graphs.items():
        if g != biggest:
            held.update(items)
    if biggest is not None:
        big = statements.graphs[biggest]
        for statement in list(held):
            i = bisect.bisect_left(big, statement)
            if i < len(big) and big[i] == statement:
                held[statement] += 1
    repeats = {st: n - 1 for st, n in held.items() if n > 1}

    subjects: set[str] = set()
    objects: set[str] = set()
    typed: dict[str, set[str]] = {}
    per_property: Counter[str] = Counter()
    links: Counter[tuple[str, str]] = Counter()
    dated: dict[str, set[str]] = {}
    count = 0
    for scan in sorted(scans.values(), key=lambda sc: -sc.count):  # the big sets are extended, not copied
        count += scan.count
        subjects |= scan.subjects
        objects |= scan.objects
        for c, members in scan.typed.items():
            typed.setdefault(c, set()).update(members)
        per_property.update(scan.per_property)
        links.update(scan.links)
        for subject, values in scan.dated.items():
            dated.setdefault(subject, set()).update(values)
    for statement, extra in repeats.items():
        _, p, o = statement.split(" ", 2)
        count -= extra
        per_property[p] -= extra
        if p in _LINK_TERMS:
            target = _link_target(o)
            if target is not None:
                links[(p[1:-1], target)] -= extra
    merged = _statistics(count, subjects, objects, typed, per_property)

    vocabularies = sorted(
        {namespace_of(p) for p in merged.property_triples} | {namespace_of(c) for c in merged.class_entities}
    )
    vocabularies = [v for v in vocabularies if not v.startswith(DATA)]
    data = scans[GRAPH_DATA]
    first: dict[str, str] = {}
    for kind in (AFLM.RecommendationsDocument, AFLM.Recommendation, AFLM.ConceptMention, SKOS.Concept):
        found = data.first.get(f"<{kind}>")
        if found is not None:
            first[kind] = found[1:-1]
    vocab_first = scans[GRAPH_VOCAB].first.get(f"<{SKOS.Concept}>")
    if vocab_first is not None:
        first.setdefault(SKOS.Concept, vocab_first[1:-1])
    documents = data.typed.get(f"<{AFLM.RecommendationsDocument}>", set())
    dates = {value for subject, values in dated.items() if subject in documents for value in values}
    issued, modified = release_dates(_small_quads(statements, (GRAPH_ONTOLOGY, GRAPH_VOCAB)))
    examples = [first[k] for k in (AFLM.RecommendationsDocument, AFLM.Recommendation, AFLM.ConceptMention,
                                   SKOS.Concept) if k in first]
    return DatasetFacts(
        merged=merged,
        graphs=graphs,
        issued=issued,
        modified=modified,
        vocabularies=vocabularies,
        examples=examples,
        sources=sorted(data.sources),
        dates=sorted(dates),
        links=dict(sorted((k, n) for k, n in links.items() if n > 0)),
        files=[] if folder is None else distributions(folder, known),
    )


def _small_quads(statements: Any, names: Sequence[str]) -> list[ox.Quad]:
    """pyoxigraph quads of some (small) graphs of a build's statements."""
    text = "".join(f"{st} {graph_term(g)} .\n" for g in names for st in statements.graph(g))
    return list(ox.parse(input=text.encode("utf-8"), format=ox.RdfFormat.N_QUADS))


def void_dcat(facts: DatasetFacts, *, version: str = __version__) -> list[ox.Triple]:
    """The VoID and DCAT description of the dataset, its named graphs, distributions and SPARQL service."""
    out = _Triples()
    d = DATASET
    release = RELEASE_BASE.format(version=version)
    out.iri(d, RDF.type, VOID.NS + "Dataset")
    out.iri(d, RDF.type, DCAT.NS + "Dataset")
    out.lit(d, DCTERMS.title, TITLE, language="en")
    out.lit(d, DCTERMS.description, DESCRIPTION, language="en")
    out.iri(d, DCTERMS.license, LICENSE)
    out.lit(d, DCTERMS.NS + "rights", RIGHTS, language="en")
    out.iri(d, DCTERMS.NS + "publisher", PUBLISHER)
    out.iri(d, DCTERMS.NS + "creator", PUBLISHER)
    out.iri(PUBLISHER, RDF.type, FOAF.NS + "Organization")
    out.lit(PUBLISHER, FOAF.NS + "name", "aflm-graph developers")
    out.iri(PUBLISHER, FOAF.NS + "homepage", HOMEPAGE)
    out.lit(d, DCTERMS.issued, facts.issued, XSD.date)
    out.lit(d, DCTERMS.NS + "modified", facts.modified, XSD.date)
    out.lit(d, DCAT.NS + "version", version)
    out.lit(d, OWL.versionInfo, version)
    out.lit(d, DCTERMS.NS + "bibliographicCitation", citation(facts, version=version))
    out.iri(d, DCTERMS.NS + "conformsTo", ONTOLOGY)
    out.iri(d, DCTERMS.NS + "language", ENGLISH)
    out.iri(d, DCAT.NS + "landingPage", HOMEPAGE)
    out.iri(d, FOAF.NS + "homepage", HOMEPAGE)
    for word in KEYWORDS:
        out.lit(d, DCAT.NS + "keyword", word, language="en")
    if facts.dates:
        period = d + "#temporal"
        out.iri(d, DCTERMS.NS + "temporal", period)
        out.iri(period, RDF.type, DCTERMS.NS + "PeriodOfTime")
        out.lit(period, DCAT.NS + "startDate", facts.dates[0], XSD.date)
        out.lit(period, DCAT.NS + "endDate", facts.dates[-1], XSD.date)
    for source in facts.sources:
        out.iri(d, DCTERMS.source, source)
    # VoID: statistics, IRI space, vocabularies, examples, the endpoint and the dumps
    _stats_triples(out, d, facts.merged)
    out.lit(d, VOID.NS + "uriSpace", DATA)
    out.iri(d, VOID.NS + "rootResource", ONTOLOGY)
    out.iri(d, VOID.NS + "sparqlEndpoint", SPARQL_ENDPOINT)
    for vocabulary in facts.vocabularies:
        out.iri(d, VOID.NS + "vocabulary", vocabulary)
    for example in facts.examples:
        out.iri(d, VOID.NS + "exampleResource", example)
    for cls, count in facts.merged.class_entities.items():
        node = f"{d}#class-{_slug(cls)}"
        out.iri(d, VOID.NS + "classPartition", node)
        out.iri(node, VOID.NS + "class", cls)
        out.lit(node, VOID.NS + "entities", count)
    for prop, count in facts.merged.property_triples.items():
        node = f"{d}#property-{_slug(prop)}"
        out.iri(d, VOID.NS + "propertyPartition", node)
        out.iri(node, VOID.NS + "property", prop)
        out.lit(node, VOID.NS + "triples", count)
    titles = {GRAPH_DATA: "data", GRAPH_ONTOLOGY: "ontology", GRAPH_REFERENCE: "reference data",
              GRAPH_VOCAB: "vocabularies"}
    for graph, stats in facts.graphs.items():
        out.iri(d, VOID.NS + "subset", graph)
        out.iri(graph, RDF.type, VOID.NS + "Dataset")
        out.lit(graph, DCTERMS.title, f"{TITLE}: {titles[graph]} (named graph)", language="en")
        _stats_triples(out, graph, stats)
    for (predicate, target), count in facts.links.items():
        name = dict(LINK_TARGETS.values())[target]
        node = f"{d}#links-{_slug(predicate)}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"
        out.iri(d, VOID.NS + "subset", node)
        out.iri(node, RDF.type, VOID.NS + "Linkset")
        out.iri(node, VOID.NS + "linkPredicate", predicate)
        out.iri(node, VOID.NS + "subjectsTarget", d)
        out.iri(node, VOID.NS + "objectsTarget", target)
        out.iri(target, RDF.type, VOID.NS + "Dataset")
        out.lit(target, DCTERMS.title, name, language="en")
        out.lit(node, VOID.NS + "triples", count)
    # DCAT: the dumps as distributions, the endpoint as a data service
    service = d + "#sparql"
    out.iri(d, DCAT.NS + "distribution", d + "#distribution-sparql")
    out.iri(d + "#distribution-sparql", RDF.type, DCAT.NS + "Distribution")
    out.lit(d + "#distribution-sparql", DCTERMS.title, "SPARQL endpoint", language="en")
    out.iri(d + "#distribution-sparql", DCAT.NS + "accessURL", SPARQL_ENDPOINT)
    out.iri(d + "#distribution-sparql", DCAT.NS + "accessService", service)
    out.iri(d + "#distribution-sparql", DCTERMS.license, LICENSE)
    out.iri(service, RDF.type, DCAT.NS + "DataService")
    out.lit(service, DCTERMS.title, "SPARQL endpoint of the AFML recommendations knowledge graph", language="en")
    out.iri(service, DCAT.NS + "endpointURL", SPARQL_ENDPOINT)
    out.iri(service, DCAT.NS + "servesDataset", d)
    out.iri(service, DCTERMS.NS + "conformsTo", SPARQL_PROTOCOL)
    for dist in facts.files:
        node = f"{d}#distribution-{dist.key}"
        url = release + dist.file
        out.iri(d, DCAT.NS + "distribution", node)
        out.iri(d, VOID.NS + "dataDump", url)
        out.iri(d, VOID.NS + "feature", dist.w3c_format)
        out.iri(node, RDF.type, DCAT.NS + "Distribution")
        out.lit(node, DCTERMS.title, f"{TITLE} ({dist.file})", language="en")
        out.iri(node, DCAT.NS + "downloadURL", url)
        out.iri(node, DCAT.NS + "accessURL", release)
        out.iri(node, DCAT.NS + "mediaType", IANA_MEDIA_TYPES + dist.media_type)
        out.iri(node, DCTERMS.NS + "format", dist.w3c_format)
        out.lit(node, DCAT.NS + "byteSize", dist.byte_size, XSD.NS + "nonNegativeInteger")
        out.iri(node, DCTERMS.license, LICENSE)
        checksum = f"{node}-sha256"
        out.iri(node, SPDX.NS + "checksum", checksum)
        out.iri(checksum, RDF.type, SPDX.NS + "Checksum")
        out.iri(checksum, SPDX.NS + "algorithm", SPDX.NS + "checksumAlgorithm_sha256")
        out.lit(checksum, SPDX.NS + "checksumValue", dist.sha256, XSD.NS + "hexBinary")
    out.lit(d, RDFS.comment, "Counts are computed from the build; see aflm-graph (https://w3id.org/aflm).",
            language="en")
    return sorted(set(out.items), key=str)


def citation(facts: DatasetFacts, *, version: str = __version__) -> str:
    return CITATION.format(year=facts.modified[:4], title=TITLE, version=version)


def schema_org(facts: DatasetFacts, *, version: str = __version__) -> dict[str, object]:
    """A schema.org Dataset for dataset search engines (Google Dataset Search reads exactly this shape)."""
    release = RELEASE_BASE.format(version=version)
    doc: dict[str, object] = {
        "@context": SCHEMA.NS,
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


def describe_files(folder: Path, quads: Sequence[ox.Quad], *, triples: Sequence[ox.Triple] | None = None
                   ) -> dict[str, bytes]:
    """`void.ttl` (VoID + DCAT) and `dataset.jsonld` (schema.org) for the dumps present in `folder`."""
    return describe_facts(dataset_facts(folder, quads))


def describe_facts(facts: DatasetFacts) -> dict[str, bytes]:
    """The two description files of some dataset facts."""
    description = turtle(void_dcat(facts), DESCRIPTION_PREFIXES)
    schema = json.dumps(schema_org(facts), ensure_ascii=False, indent=2) + "\n"
    return {"void.ttl": description, "dataset.jsonld": schema.encode("utf-8")}
