"""One IRI's description, for its page and its RDF forms (`aflm-graph serve` at /id/..., /vocab/..., /ontology).

Runs where the store is: in a query worker (sparql/workers.py, the "describe" job), under the worker's time,
memory and row limits. The IRI reaches the store only as a `NamedNode` value in pattern lookups, never as query
text. The RDF forms hold what the design promises (its own statements, the labels of what it links to, for a
recommendation its mentions; /ontology is the whole ontology document); the page gets more: the statements
grouped by predicate with labels, what links to the resource, a recommendation's text and its mentions with
their offsets, the ontology's terms.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import pyoxigraph as ox

from ..terms.namespaces import (
    AFLM,
    BASE,
    DCTERMS,
    FOAF,
    GRAPH_ONTOLOGY,
    ONTOLOGY,
    PREFIXES,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    XSD,
)
from .catalogue import QueryError
from .engine import RDF_FORMATS, graph_bytes

LABELS = (SKOS.prefLabel, RDFS.label, DCTERMS.title, FOAF.NS + "name", SCHEMA.name)  # the first one found names a thing
CONCEPT_LINKS = (AFLM.hasTheme, AFLM.addressesActor, AFLM.targetsGroup, AFLM.citesInstrument)
SHOWN = 200  # resources listed per inverse predicate on a page (the count says how many there are)
SNIPPET = 160  # characters of a recommendation's text shown beside its link
# Names for the page's predicates and types outside the build's vocabularies (the graphs' VoID description).
DISPLAY_PREFIXES = {**PREFIXES, "void": "http://rdfs.org/ns/void#", "dcat": "http://www.w3.org/ns/dcat#"}
_LABEL_NODES = tuple(ox.NamedNode(p) for p in LABELS)
_TYPE = ox.NamedNode(RDF.type)


class TooBig(Exception):
    """The description passes the row cap."""


@dataclass(frozen=True)
class Node:
    """A term as a page shows it: an IRI with its label (and, for a recommendation, a snippet), or a literal."""

    kind: str  # "iri" | "literal" | "bnode"
    value: str
    label: str = ""
    lang: str = ""
    datatype: str = ""  # a prefixed name when one fits; empty for xsd:string and language strings
    note: str = ""


@dataclass(frozen=True)
class Group:
    """The values of one predicate (or, for what links here, its subjects); `total` may pass len(values)."""

    predicate: Node
    values: tuple[Node, ...]
    total: int


@dataclass(frozen=True)
class Mention:
    """A concept mention in a recommendation's text: the words and their code-point offsets [start, end)."""

    iri: str
    concept: Node
    kind: str
    evidence: str
    start: int
    end: int


@dataclass(frozen=True)
class Entry:
    """An ontology term on the ontology's page (`anchor` is its fragment)."""

    iri: str
    anchor: str
    label: str
    types: tuple[Node, ...]
    statements: tuple[Group, ...]


@dataclass(frozen=True)
class Description:
    """What a resource page shows."""

    iri: str
    label: str
    types: tuple[Node, ...]
    statements: tuple[Group, ...]
    inverse: tuple[Group, ...]
    recommendations: Group | None = None  # a concept's recommendations
    text: str | None = None  # a recommendation's text
    mentions: tuple[Mention, ...] = ()
    terms: tuple[Entry, ...] = ()  # the ontology's terms
    capped: bool = False  # what links here passed the row cap: the counts are lower bounds


def prefixed(iri: str) -> str:
    """`skos:prefLabel` for an IRI in a known namespace (a simple local name), else the IRI."""
    for prefix, ns in DISPLAY_PREFIXES.items():
        if iri.startswith(ns) and prefix not in {"id", "theme", "actor", "group", "instrument"}:
            local = iri[len(ns):]
            if local and all(c.isalnum() or c in "_-" for c in local):
                return f"{prefix}:{local}"
    return iri


def fallback_label(iri: str) -> str:
    """A name for an IRI with no label: a recommendation by its number and document, else its path."""
    if iri.startswith(BASE):
        path = iri[len(BASE):]
        parts = path.split("/")
        if len(parts) == 5 and parts[0] == "id" and parts[1] == "document" and parts[3] == "recommendation":
            return f"Recommendation {unquote(parts[4])} of {unquote(parts[2])}"
        return unquote(path)
    return prefixed(iri)


class _Reader:
    """Lookups on one store, with the labels it found remembered (the same IRIs recur on a page)."""

    def __init__(self, store: ox.Store, max_rows: int | None) -> None:
        self.store = store
        self.max_rows = max_rows
        self.rows = 0
        self._labels: dict[str, str] = {}

    def count(self, n: int = 1) -> None:
        self.rows += n
        if self.max_rows is not None and self.rows > self.max_rows:
            raise TooBig

    def triples(self, subject: ox.NamedNode | ox.BlankNode | None, predicate: ox.NamedNode | None = None,
                obj: ox.NamedNode | ox.Literal | ox.BlankNode | None = None) -> list[ox.Triple]:
        """The distinct triples of a pattern over every graph, counted against the cap."""
        seen: dict[ox.Triple, None] = {}
        for quad in self.store.quads_for_pattern(subject, predicate, obj, None):
            triple = quad.triple
            if triple not in seen:
                seen[triple] = None
                self.count()
        return list(seen)

    def label_statement(self, node: ox.NamedNode) -> ox.Triple | None:
        """The label of a resource: the first label property it has, English or untagged preferred."""
        for predicate in _LABEL_NODES:
            found = [q.object for q in self.store.quads_for_pattern(node, predicate, None, None)
                     if isinstance(q.object, ox.Literal)]
            if found:
                best = sorted(found, key=lambda lit: (lit.language not in {None, "en"}, lit.value))[0]
                return ox.Triple(node, predicate, best)
        return None

    def label(self, iri: str) -> str:
        if iri not in self._labels:
            statement = self.label_statement(ox.NamedNode(iri))
            found = statement.object if statement is not None else None
            self._labels[iri] = found.value if isinstance(found, ox.Literal) else fallback_label(iri)
        return self._labels[iri]

    def node(self, term: Any, *, snippet: bool = False) -> Node:
        if isinstance(term, ox.NamedNode):
            note = ""
            if snippet:
                text = self.first_literal(term, AFLM.text)
                note = text if len(text) <= SNIPPET else text[:SNIPPET].rstrip() + "…"
            return Node("iri", term.value, label=self.label(term.value), note=note)
        if isinstance(term, ox.Literal):
            datatype = term.datatype.value
            shown = "" if term.language or datatype in {XSD.string, RDF.langString} else prefixed(datatype)
            return Node("literal", term.value, lang=term.language or "", datatype=shown)
        if isinstance(term, ox.BlankNode):
            return Node("bnode", term.value, label=f"_:{term.value}")
        return Node("literal", str(term))

    def first_literal(self, subject: ox.NamedNode, predicate: str) -> str:
        for quad in self.store.quads_for_pattern(subject, ox.NamedNode(predicate), None, None):
            if isinstance(quad.object, ox.Literal):
                return quad.object.value
        return ""

    def groups(self, triples: Iterable[ox.Triple]) -> tuple[Group, ...]:
        """Statements grouped by predicate: rdf:type first, then by the predicate's label; values sorted."""
        by_predicate: dict[str, list[Any]] = {}
        for triple in triples:
            by_predicate.setdefault(triple.predicate.value, []).append(triple.object)
        out = []
        for predicate, objects in by_predicate.items():
            values = sorted((self.node(o) for o in objects), key=lambda n: (n.kind, (n.label or n.value).lower()))
            out.append(Group(self.node(ox.NamedNode(predicate)), tuple(values), len(values)))
        return tuple(sorted(out, key=lambda g: (g.predicate.value != RDF.type, g.predicate.label.lower())))


def exists(store: ox.Store, node: ox.NamedNode) -> bool:
    """Whether the build holds the IRI: as a subject, an object or a named graph."""
    return any(True for _ in store.quads_for_pattern(node, None, None, None)) or any(
        True for _ in store.quads_for_pattern(None, None, node, None)) or store.contains_named_graph(node)


def _is_recommendation(own: list[ox.Triple]) -> bool:
    return any(t.predicate == _TYPE and t.object == ox.NamedNode(AFLM.Recommendation) for t in own)


def _mention_subjects(reader: _Reader, node: ox.NamedNode) -> list[ox.NamedNode]:
    found = {q.subject for q in reader.store.quads_for_pattern(None, ox.NamedNode(AFLM.mentionIn), node, None)}
    return sorted((s for s in found if isinstance(s, ox.NamedNode)), key=lambda s: s.value)


def rdf_triples(store: ox.Store, iri: str, max_rows: int | None = None) -> list[ox.Triple]:
    """The resource's RDF description: its own statements, the labels of the IRIs it links to and, for a
    recommendation, every statement of its mentions (with the labels of their concepts). The ontology's IRI
    gives the whole ontology document (`ontology#Term` fragments resolve to it). Raises TooBig past max_rows."""
    reader = _Reader(store, max_rows)
    node = ox.NamedNode(iri)
    if iri == ONTOLOGY:
        return _graph_triples(reader, GRAPH_ONTOLOGY)
    own = reader.triples(node)
    out: dict[ox.Triple, None] = dict.fromkeys(own)
    linked = [t.object for t in own]
    if _is_recommendation(own):
        for mention in _mention_subjects(reader, node):
            for triple in reader.triples(mention):
                out[triple] = None
                linked.append(triple.object)
    for target in dict.fromkeys(o for o in linked if isinstance(o, ox.NamedNode) and o != node):
        statement = reader.label_statement(target)  # the one label a page shows for it
        if statement is not None and statement not in out:
            reader.count()
            out[statement] = None
    return list(out)


def _graph_triples(reader: _Reader, graph: str) -> list[ox.Triple]:
    out: dict[ox.Triple, None] = {}
    for quad in reader.store.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
        if quad.triple not in out:
            reader.count()
            out[quad.triple] = None
    return list(out)


def describe(store: ox.Store, iri: str, max_rows: int | None = None) -> Description | None:
    """What the resource's page shows, or None when the build does not hold the IRI. Raises TooBig."""
    node = ox.NamedNode(iri)
    if not exists(store, node):
        return None
    reader = _Reader(store, max_rows)
    own = reader.triples(node)
    types = tuple(sorted((reader.node(t.object) for t in own if t.predicate == _TYPE), key=lambda n: n.label))
    label = reader.label(iri)
    text: str | None = None
    mentions: list[Mention] = []
    hidden_inverse = {AFLM.mentionOf}  # a concept's mentions: each one is on its recommendation's page
    if _is_recommendation(own):
        text = reader.first_literal(node, AFLM.text)
        hidden_inverse.add(AFLM.mentionIn)
        for subject in _mention_subjects(reader, node):
            mentions.append(_mention(reader, subject))
        mentions.sort(key=lambda m: (m.start, m.end, m.iri))
    recommendations = None
    by_predicate: dict[str, list[Any]] = {}
    totals: dict[str, int] = {}
    seen: set[tuple[Any, str]] = set()
    capped = False
    for quad in store.quads_for_pattern(None, None, node, None):
        key = (quad.subject, quad.predicate.value)
        if key in seen:
            continue
        if max_rows is not None and reader.rows + len(seen) >= max_rows:  # counted up to the cap, not refused
            capped = True
            break
        seen.add(key)
        predicate = quad.predicate.value
        totals[predicate] = totals.get(predicate, 0) + 1
        if totals[predicate] <= SHOWN:
            by_predicate.setdefault(predicate, []).append(quad.subject)
    concept_subjects: dict[Any, None] = {}
    concept_total = 0
    for predicate in CONCEPT_LINKS:
        concept_total += totals.pop(predicate, 0)
        for subject in by_predicate.pop(predicate, []):
            concept_subjects[subject] = None
    if concept_subjects:
        values = sorted((reader.node(s, snippet=True) for s in concept_subjects), key=lambda n: n.value)
        recommendations = Group(Node("iri", AFLM.Recommendation, label=reader.label(AFLM.Recommendation)),
                                tuple(values[:SHOWN]), max(concept_total, len(values)))
    terms: tuple[Entry, ...] = ()
    if iri == ONTOLOGY:
        terms = _terms(reader, by_predicate.pop(RDFS.isDefinedBy, []))
        totals.pop(RDFS.isDefinedBy, None)
    inverse = []
    for predicate, subjects in by_predicate.items():
        if predicate in hidden_inverse:
            continue
        values = sorted((reader.node(s, snippet=True) for s in subjects), key=lambda n: (n.label.lower(), n.value))
        inverse.append(Group(reader.node(ox.NamedNode(predicate)), tuple(values), totals[predicate]))
    inverse.sort(key=lambda g: g.predicate.label.lower())
    return Description(iri, label, types, reader.groups(own), tuple(inverse), recommendations, text,
                       tuple(mentions), terms, capped)


def _mention(reader: _Reader, subject: ox.NamedNode) -> Mention:
    values: dict[str, Any] = {}
    for triple in reader.triples(subject):
        values.setdefault(triple.predicate.value, triple.object)

    def integer(predicate: str) -> int:
        term = values.get(predicate)
        try:
            return int(term.value) if isinstance(term, ox.Literal) else -1
        except ValueError:
            return -1

    concept = values.get(AFLM.mentionOf)
    kind, evidence = values.get(AFLM.mentionKind), values.get(AFLM.evidence)
    return Mention(
        subject.value,
        reader.node(concept) if concept is not None else Node("literal", ""),
        kind.value if isinstance(kind, ox.Literal) else "",
        evidence.value if isinstance(evidence, ox.Literal) else "",
        integer(AFLM.evidenceStart),
        integer(AFLM.evidenceEnd),
    )


def _terms(reader: _Reader, subjects: list[Any]) -> tuple[Entry, ...]:
    """The ontology's terms (what rdfs:isDefinedBy points at it), each with its statements, for anchors."""
    out = []
    prefix = ONTOLOGY + "#"
    for subject in subjects:
        if not isinstance(subject, ox.NamedNode):
            continue
        own = reader.triples(subject)
        iri = subject.value
        anchor = iri[len(prefix):] if iri.startswith(prefix) else ""
        types = tuple(sorted((reader.node(t.object) for t in own if t.predicate == _TYPE), key=lambda n: n.label))
        statements = reader.groups(t for t in own if t.predicate != _TYPE)
        out.append(Entry(iri, anchor, reader.label(iri), types, statements))
    return tuple(sorted(out, key=lambda e: (e.anchor[:1].islower(), e.anchor.lower(), e.iri)))


def describe_job(store: ox.Store, iri: str, fmt: str, max_rows: int | None) -> tuple[Any, ...]:
    """A worker job's answer: ("ok", Description) for "html", ("ok", bytes) for an RDF format, ("missing",)
    when the build does not hold the IRI, ("error", status, message) past the row cap or for a bad IRI."""
    try:
        node = ox.NamedNode(iri)
    except ValueError:
        return ("missing",)
    try:
        if fmt == "html":
            description = describe(store, iri, max_rows)
            return ("missing",) if description is None else ("ok", description)
        if fmt not in RDF_FORMATS:
            return ("error", 406, f"no such format: {fmt}")
        if not exists(store, node):
            return ("missing",)
        return ("ok", graph_bytes(sorted(rdf_triples(store, iri, max_rows), key=str), fmt))
    except QueryError as exc:  # a description the format cannot carry
        return ("error", 406, " ".join(str(exc).split()))
    except TooBig:
        return ("error", 422, f"the description of this resource has more than {max_rows} statements "
                              "(this endpoint's cap); query it at /sparql instead")
