"""Turn parsed documents, their concept mentions and text links into RDF quads under the aflm ontology.

Quads are pyoxigraph terms (the default store's own types, ~10x faster to create and load than
rdflib's); `aflm_graph.load()` hands the result to rdflib users. Every IRI is minted from stable
keys (namespaces.py), no blank nodes are made, and the output is sorted, so the same input gives
the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .. import __version__
from ..terms.namespaces import (
    AFLM,
    DATA,
    DCTERMS,
    GRAPH_DATA,
    GRAPH_ONTOLOGY,
    GRAPH_REFERENCE,
    GRAPH_VOCAB,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    XSD,
    document_iri,
    forum_iri,
    mention_iri,
    recommendation_iri,
    subtheme_iri,
)
from ..terms.reference import forum_themes, member_states, theme_key
from ..terms.resources import ontology_dir, vocab_dir
from .export import canonical_quads
from .statements import RDF_TYPE_TERM, Statements, iri_term, literal_term, sort_unique

if TYPE_CHECKING:  # types only: enrich.link would bring numpy and scipy into every build of statements
    from ..enrich.annotate import Mention
    from ..enrich.link import Link
    from ..enrich.recurrence import Recurrence
    from ..ingest.parse import Document
    from ..terms.vocab import Vocabulary

KIND_PROPERTY = {
    "theme": AFLM.hasTheme,
    "actor": AFLM.addressesActor,
    "group": AFLM.targetsGroup,
    "instrument": AFLM.citesInstrument,
}
SOFTWARE_IRI = f"{DATA}software/aflm-graph/{__version__}"


@dataclass(frozen=True)
class AnnotatedDocument:
    """A parsed document with, for each of its recommendations (same order), the mentions found in its text."""

    document: Document
    mentions: tuple[tuple[Mention, ...], ...]


class _Lines:
    """Collects one graph's statements as N-Triples text (statements.py), one string per statement.

    IRIs this module mints (namespaces.py percent-encodes every key) are written as they are; any
    other IRI (a concept, a member state, a link out) is checked once by pyoxigraph.
    """

    def __init__(self) -> None:
        self.items: list[str] = []
        self._checked: dict[str, str] = {}

    def term(self, iri: str) -> str:
        found = self._checked.get(iri)
        if found is None:
            found = self._checked[iri] = str(ox.NamedNode(iri))
        return found

    def iri(self, s: str, p: str, o: str) -> None:
        self.items.append(f"{self.term(s)} {self.term(p)} {self.term(o)}")

    def lit(self, s: str, p: str, value: str, datatype: str | None = None, language: str | None = None) -> None:
        self.items.append(f"{self.term(s)} {self.term(p)} {literal_term(value, datatype, language)}")


_T = {name: iri_term(getattr(AFLM, name)) for name in AFLM.terms()}
_INTEGER = XSD.integer
_KIND_TERM = {kind: iri_term(prop) for kind, prop in KIND_PROPERTY.items()}
_KIND_LITERAL = {kind: literal_term(kind) for kind in KIND_PROPERTY}


def recommendation_iris(document: Document) -> list[str]:
    """IRIs of a document's recommendations, in order; a verbatim repeat of a label gets an occurrence suffix."""
    seen: dict[tuple[str | None, str], int] = {}
    out = []
    for rec in document.recommendations:
        key = (rec.subtheme, rec.label)
        seen[key] = seen.get(key, 0) + 1
        out.append(recommendation_iri(document.id, rec.subtheme, rec.label, occurrence=seen[key]))
    return out


def _document_quads(out: _Lines, doc: AnnotatedDocument, recs: list[str]) -> set[str]:
    """Emit one document; return the IRIs of the concepts it mentions."""
    d = doc.document
    states = member_states()
    dn = document_iri(d.id)
    out.iri(dn, RDF.type, AFLM.RecommendationsDocument)
    out.lit(dn, DCTERMS.identifier, d.id)
    out.lit(dn, AFLM.sourceFile, d.source_file)
    out.lit(dn, AFLM.sha256, d.sha256)
    out.lit(dn, AFLM.sourceFormat, d.source_format)
    if d.title:
        out.lit(dn, DCTERMS.title, d.title)
    if d.date:
        out.lit(dn, DCTERMS.date, d.date, XSD.date)
    if d.place:
        out.lit(dn, AFLM.meetingPlace, d.place)
    if d.mode:
        out.lit(dn, AFLM.meetingMode, d.mode)
    if d.forum_edition is not None:
        forum = forum_iri(d.forum_edition)
        out.iri(dn, AFLM.forumEdition, forum)
        out.iri(forum, RDF.type, AFLM.ForumEdition)
        out.lit(forum, AFLM.forumNumber, str(d.forum_edition), XSD.integer)
        # The reference data's theme is the curated one: a printing that differs from it only in case or
        # spacing would be a second, near-identical forumTheme on the same forum.
        if d.theme and theme_key(d.theme) not in forum_themes().get(forum, frozenset()):
            out.lit(forum, AFLM.forumTheme, d.theme)
    state = states.resolve(d.member_state) if d.member_state else None
    if d.member_state and state is None:
        raise ValueError(f"{d.source_file}: member state {d.member_state!r} is not an ASEAN member state")
    if state:
        out.iri(dn, AFLM.memberState, state)
    if d.issuer and d.issuer.strip().lower() == "unknown":
        out.iri(dn, AFLM.issuedBy, AFLM.UnknownIssuer)
    elif d.issuer and states.resolve(d.issuer):
        out.iri(dn, AFLM.issuedBy, states.resolve(d.issuer) or "")
    elif state:
        out.iri(dn, AFLM.issuedBy, state)
    # provenance: which file, its checksum, which version of the tool
    source = f"{DATA}source/{d.sha256}"
    activity = f"{dn}/extraction"
    out.iri(dn, PROV.wasDerivedFrom, source)
    out.iri(dn, PROV.wasGeneratedBy, activity)
    out.iri(source, RDF.type, PROV.Entity)
    out.lit(source, DCTERMS.identifier, d.source_file)
    out.lit(source, AFLM.sha256, d.sha256)
    out.iri(activity, RDF.type, PROV.Activity)
    out.iri(activity, PROV.used, source)
    out.iri(activity, PROV.wasAssociatedWith, SOFTWARE_IRI)

    for st in d.subthemes:
        sn = subtheme_iri(d.id, st.label)
        out.iri(sn, RDF.type, AFLM.SubTheme)
        out.iri(sn, AFLM.subThemeOf, dn)
        out.lit(sn, AFLM.printedLabel, st.label)
        out.lit(sn, DCTERMS.title, st.title)
        out.lit(sn, AFLM.position, str(st.position), XSD.integer)
        if st.preamble:
            out.lit(sn, AFLM.preamble, st.preamble)

    # The bulk of the graph: written straight as text. Minted IRIs need no check (namespaces.py
    # percent-encodes every key); a concept IRI is checked once (out.term).
    items = out.items
    t, kinds, kind_literals, integer = _T, _KIND_TERM, _KIND_LITERAL, _INTEGER
    rec_type, mention_type = f"{RDF_TYPE_TERM} {t['Recommendation']}", f"{RDF_TYPE_TERM} {t['ConceptMention']}"
    in_document = f"{t['inDocument']} {out.term(dn)}"
    concepts: set[str] = set()
    for rec, rn, mentions in zip(d.recommendations, recs, doc.mentions, strict=True):
        r = f"<{rn}>"
        items.append(f"{r} {rec_type}")
        items.append(f"{r} {in_document}")
        if rec.subtheme is not None:
            items.append(f"{r} {t['inSubTheme']} <{subtheme_iri(d.id, rec.subtheme)}>")
        items.append(f"{r} {t['printedLabel']} {literal_term(rec.label)}")
        items.append(f'{r} {t["position"]} "{int(rec.position)}"^^<{integer}>')
        items.append(f"{r} {t['text']} {literal_term(rec.text)}")
        items.append(f'{r} {t["sourceStart"]} "{int(rec.span.start)}"^^<{integer}>')
        items.append(f'{r} {t["sourceEnd"]} "{int(rec.span.end)}"^^<{integer}>')
        for m in mentions:
            concepts.add(m.concept)
            c = out.term(m.concept)
            items.append(f"{r} {kinds[m.kind]} {c}")
            mn = f"<{mention_iri(rn, m.kind, m.concept.rsplit('/', 1)[-1], m.start)}>"
            items.append(f"{mn} {mention_type}")
            items.append(f"{mn} {t['mentionIn']} {r}")
            items.append(f"{mn} {t['mentionOf']} {c}")
            items.append(f"{mn} {t['mentionKind']} {kind_literals[m.kind]}")
            items.append(f"{mn} {t['evidence']} {literal_term(m.evidence)}")
            items.append(f'{mn} {t["evidenceStart"]} "{int(m.start)}"^^<{integer}>')
            items.append(f'{mn} {t["evidenceEnd"]} "{int(m.end)}"^^<{integer}>')
    return concepts


def link_iri(relation: str, a: str, b: str) -> str:
    digest = hashlib.sha256(f"{a} {b}".encode()).hexdigest()[:20]
    return f"{DATA}link/{relation}/{digest}"


def _link_quads(out: _Lines, links: Iterable[Link], recs: Sequence[str]) -> None:
    items = out.items
    t = _T
    link_type = f"{RDF_TYPE_TERM} {t['TextLink']}"
    props = {"duplicate": t["duplicateOf"], "similar": t["similarTo"]}
    relations: dict[str, str] = {}
    decimal = XSD.decimal
    for link in links:
        a, b = sorted((recs[link.a], recs[link.b]))
        ln = f"<{link_iri(link.relation, a, b)}>"
        relation = relations.get(link.relation)
        if relation is None:
            relation = relations[link.relation] = literal_term(link.relation)
        items.append(f"{ln} {link_type}")
        items.append(f"{ln} {t['linkSource']} <{a}>")
        items.append(f"{ln} {t['linkTarget']} <{b}>")
        items.append(f"{ln} {t['relation']} {relation}")
        items.append(f'{ln} {t["score"]} "{link.score:.4f}"^^<{decimal}>')
        prop = props["duplicate"] if link.relation == "duplicate" else props["similar"]
        items.append(f"<{a}> {prop} <{b}>")
        items.append(f"<{b}> {prop} <{a}>")


def _recurrence_quads(out: _Lines, recurrences: Iterable[Recurrence], recs: Sequence[str]) -> None:
    """A recurrence link node (score, shared concepts) and the aflm:sameCallAs shortcut both ways, per pair."""
    items = out.items
    t = _T
    link_type = f"{RDF_TYPE_TERM} {t['RecurrenceLink']}"
    relation = literal_term("recurrence")
    decimal = XSD.decimal
    for found in recurrences:
        a, b = sorted((recs[found.a], recs[found.b]))
        ln = f"<{link_iri('recurrence', a, b)}>"
        items.append(f"{ln} {link_type}")
        items.append(f"{ln} {t['linkSource']} <{a}>")
        items.append(f"{ln} {t['linkTarget']} <{b}>")
        items.append(f"{ln} {t['relation']} {relation}")
        items.append(f'{ln} {t["score"]} "{found.score:.4f}"^^<{decimal}>')
        items.extend(f"{ln} {t['sharedConcept']} {out.term(concept)}" for concept in found.shared)
        items.append(f"<{a}> {t['sameCallAs']} <{b}>")
        items.append(f"<{b}> {t['sameCallAs']} <{a}>")


def _file_quads(paths: Iterable[Path], graph: str) -> Iterator[ox.Quad]:
    g = ox.NamedNode(graph)
    for path in paths:
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            yield ox.Quad(t.subject, t.predicate, t.object, g)


def _minted_concept_quads(out: _Lines, iris: Iterable[str], vocabulary: Vocabulary) -> None:
    """Describe concepts minted by a vocabulary pattern (e.g. ilo-c100) so every linked concept has a label."""
    for iri in sorted(iris):
        concept = vocabulary.concept(iri)
        out.iri(iri, RDF.type, SKOS.Concept)
        out.lit(iri, SKOS.prefLabel, concept.pref_label, language="en")
        if concept.definition:  # rdfs:comment too, as for every listed term: Protégé and WebVOWL show the comment
            out.lit(iri, SKOS.definition, concept.definition, language="en")
            out.lit(iri, RDFS.comment, concept.definition, language="en")
        scheme = iri.rsplit("/", 1)[0]
        out.iri(iri, SKOS.inScheme, scheme)
        out.iri(iri, SKOS.topConceptOf, scheme)
        out.iri(iri, RDFS.isDefinedBy, scheme)
        for match in getattr(concept, "exact_match", ()) or ():
            out.iri(iri, SKOS.exactMatch, match)
        for page in getattr(concept, "see_also", ()) or ():
            out.iri(iri, RDFS.seeAlso, page)
        kind = getattr(concept, "instrument_kind", None)
        if kind:
            out.lit(iri, AFLM.instrumentKind, kind)


def static_quads() -> list[ox.Quad]:
    """The ontology, reference data and vocabularies, each in its own named graph."""
    onto = ontology_dir()
    quads = list(_file_quads([onto / "aflm.ttl", onto / "alignments.ttl"], GRAPH_ONTOLOGY))
    quads += _file_quads([onto / "reference.ttl"], GRAPH_REFERENCE)
    quads += _file_quads(sorted(vocab_dir().glob("*.ttl")), GRAPH_VOCAB)
    return quads


@dataclass
class DocumentStatements:
    """One document's data statements, sorted, with its recommendation IRIs (in order) and the concepts it cites.

    Documents are independent, so the pipeline makes these in worker processes; `build_statements`
    joins them with the links and the static graphs.
    """

    recommendations: list[str]
    items: list[str]
    concepts: set[str]


def document_statements(doc: AnnotatedDocument, lines: _Lines | None = None) -> DocumentStatements:
    """The statements of one document (raises ValueError for a member state that is not one)."""
    out = lines or _Lines()
    out.items = []
    recs = recommendation_iris(doc.document)
    concepts = _document_quads(out, doc, recs)
    out.items.sort()  # sorted runs: the final sort merges them cheaply
    return DocumentStatements(recs, out.items, concepts)


def build_statements(
    documents: Sequence[AnnotatedDocument | DocumentStatements],
    links: Sequence[Link],
    *,
    vocabulary: Vocabulary,
    include_static: bool = True,
    recurrences: Sequence[Recurrence] = (),
) -> Statements:
    """All statements of a build, per named graph, sorted (statements.py); `links` and `recurrences` index
    recommendations in document order, then position order. A document may come already made
    (`document_statements`)."""
    data = _Lines()
    software = SOFTWARE_IRI
    data.iri(software, RDF.type, PROV.SoftwareAgent)
    data.lit(software, SCHEMA.name, "aflm-graph")
    data.lit(software, SCHEMA.softwareVersion, __version__)
    all_recs: list[str] = []
    concepts: set[str] = set()
    items: list[str] = data.items
    lines = _Lines()
    for doc in documents:
        made = doc if isinstance(doc, DocumentStatements) else document_statements(doc, lines)
        all_recs.extend(made.recommendations)
        concepts |= made.concepts
        items.extend(made.items)
    data.items = items
    _link_quads(data, links, all_recs)
    _recurrence_quads(data, recurrences, all_recs)
    graphs: dict[str, list[str]] = {GRAPH_DATA: sort_unique(data.items)}
    del items
    data.items = []
    if include_static:
        static = static_quads()
        described = {q.subject.value for q in static if q.predicate.value == RDF.type
                     and not isinstance(q.subject, ox.Triple)}
        minted = _Lines()
        _minted_concept_quads(minted, concepts - described, vocabulary)
        for graph, graph_lines in Statements.from_quads(canonical_quads(static)).graphs.items():
            graphs[graph] = graph_lines
        if minted.items:
            graphs[GRAPH_VOCAB] = sort_unique(graphs.get(GRAPH_VOCAB, []) + minted.items)
    return Statements(graphs)


def build_quads(
    documents: Sequence[AnnotatedDocument],
    links: Sequence[Link],
    *,
    vocabulary: Vocabulary,
    include_static: bool = True,
    recurrences: Sequence[Recurrence] = (),
) -> list[ox.Quad]:
    """All quads of a build as pyoxigraph objects, sorted (`build_statements` is the form that scales)."""
    return build_statements(documents, links, vocabulary=vocabulary, include_static=include_static,
                            recurrences=recurrences).quads()


def sort_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Deduplicate and sort by graph, subject, predicate, object (N-Quads term syntax): byte-stable output."""
    unique = {(str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)): q for q in quads}
    return [unique[k] for k in sorted(unique)]
