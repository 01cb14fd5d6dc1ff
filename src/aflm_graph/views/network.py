"""Interactive network views: one self-contained HTML file per question, for readers who open it offline.

Every view is a networkx graph first (so layout, filtering and the tests share one model), made
directly at the size it is shown: a big corpus is read as grouped SPARQL answers, recommendations
are drawn one by one only in small views (and only then are their words read), else counted per
document or member state. The graph is rendered with pyvis into node/edge options, and written
through our own Jinja template that inlines vis-network (from the pyvis wheel) so the file opens
from `file://` with no network.
Text from documents never becomes markup: the data travels as escaped JSON and the page builds
tooltips with `textContent` (pyvis's own template switches to `innerHTML` when a title contains
"href", and prints its heading raw).

networkx, pyvis and jinja2 are imported inside the functions that need them: `aflm-graph --help`
stays fast.
"""

from __future__ import annotations

import gc
import json
import math
import textwrap
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import pyoxigraph as ox

from ..fsutil import atomic_write_bytes, check_output_file
from ..sparql.catalogue import bindings_for, resolve
from ..sparql.engine import Result, open_store, run_embedded
from ..terms.namespaces import AFLM, BASE, DATA, DCTERMS, PREFIXES, RDF, RDFS, SKOS, VOCAB, concept_iri, slug
from ..terms.reference import member_states

if TYPE_CHECKING:
    import jinja2

    from ..graph.statements import Statements

VIEW_KINDS = ("overview", "compare", "member-state", "theme", "actor", "group", "instrument", "query")
CONCEPT_KINDS = ("theme", "actor", "group", "instrument")
# What build_views never reads (offsets, the kind a mention repeats from its concept, the symmetric
# shortcuts of links, the types of mentions and links): the build loads its views' store without them.
UNREAD_PREDICATES = frozenset({AFLM.evidenceStart, AFLM.evidenceEnd, AFLM.mentionKind, AFLM.sourceStart,
                               AFLM.sourceEnd, AFLM.similarTo, AFLM.duplicateOf, AFLM.sameCallAs,
                               AFLM.sharedConcept})
UNREAD_TYPES = frozenset({AFLM.ConceptMention, AFLM.TextLink, AFLM.RecurrenceLink})
# The recommendations' words (text, evidence, text links), read only for the recommendations a view
# draws one by one (Corpus.require_details): on a big build none, and they are most of what is left.
DETAIL_PREDICATES = frozenset({AFLM.text, AFLM.mentionIn, AFLM.mentionOf, AFLM.evidence, AFLM.linkSource,
                               AFLM.linkTarget, AFLM.relation, AFLM.score})


def load_views_store(store: ox.Store, statements: Statements, *, scratch: Path, details: bool = False) -> None:
    """Load into `store` what build_views reads of a build's statements: all of it but the words
    (DETAIL_PREDICATES), or with `details` only the words (the store of `build_views(details=...)`).

    They go through the file `scratch` (removed afterwards): pyoxigraph reads a file with the GIL let go,
    while it would read a Python stream a couple of KB at a time, taking the GIL for each read from a
    build that is busy writing its exports in Python. Lenient: the statements come from build.py, whose
    IRIs were checked when they were made.
    """
    import pyoxigraph as ox

    from ..graph.statements import selected_ntriples_chunks

    if details:
        chunks = selected_ntriples_chunks(statements, only_predicates=DETAIL_PREDICATES)
    else:
        chunks = selected_ntriples_chunks(statements, skip_predicates=UNREAD_PREDICATES | DETAIL_PREDICATES,
                                          skip_types=UNREAD_TYPES)
    try:
        with open(scratch, "w", encoding="utf-8", newline="\n") as handle:  # read back at once: no fsync
            for chunk in chunks:
                handle.write(chunk)
        store.bulk_load(path=str(scratch), format=ox.RdfFormat.N_TRIPLES, lenient=True)
    finally:
        scratch.unlink(missing_ok=True)


def words_store(statements: Statements, *, scratch: Path) -> Callable[[], ox.Store]:
    """What build_views takes as `details`: a function that makes the store of the words (load_views_store
    with `details`) when a view first draws recommendations one by one; on a big build it is never called."""

    def make() -> ox.Store:
        import pyoxigraph as ox

        store = ox.Store()
        load_views_store(store, statements, scratch=scratch, details=True)
        return store

    return make

# Above these sizes a view stays usable by collapsing recommendations into their documents, then by
# keeping the most connected nodes; either step is stated in the view itself.
MAX_RECOMMENDATIONS = 400
MAX_DOCUMENTS = 60
MAX_NODES = 900
MAX_EDGES = 3000
# vis-network's physics only refines layouts up to this size; bigger graphs keep networkx's layout.
PHYSICS_MAX_NODES = 700
LAYOUT_SEED = 7
# Labels smaller than this many screen pixels are not drawn (vis-network); zooming in brings them back.
LABEL_DRAW_THRESHOLD = 9
# ...but the labels of this many hubs are kept at least HUB_LABEL_PX screen pixels high at any zoom, and no
# label is drawn more than MAX_LABEL_PX high (the page recomputes the sizes on every zoom).
HUB_LABELS = 30
HUB_LABEL_PX = 12
MAX_LABEL_PX = 22
# The page draws the networkx layout at once; vis-network's physics then refines it for at most this long.
PHYSICS_MS = 900
# Above this many visible nodes a view opens collapsed into clusters (communities of the graph, found
# before the page opens, each laid out in its own disc); a click opens one. Speed alone would allow about
# 2,000 (docs/design.md, "Views at scale"); 600 is set for reading: above it physics no longer refines the
# layout (PHYSICS_MAX_NODES) and an open view is a hairball, while the collapsed one reads as named groups.
CLUSTER_NODES = 600
# Zoomed out below this share of the scale at which the visible nodes fit the canvas (the whole view is then
# a small patch, its links a grey mist), a view drawing more than EDGE_HIDE_ABOVE links hides them; zooming
# in shows them again. (While the wheel zooms or a drag moves the view, vis-network hides the links of any
# view of more than 300 nodes: vis_options.)
EDGE_HIDE_ZOOM = 0.6
EDGE_HIDE_ABOVE = 1000
BASE_IRI = BASE  # IRIs under it have a page on `aflm-graph serve` (/id/..., /vocab/...)


HTML_SUFFIXES = (".html", ".htm")
"""What an existing file must be called for `write_view` to replace it without `force`."""


class ViewError(ValueError):
    """A view cannot be made (unknown focus, a query without ?source/?target, ...): one line for the user."""


# --- how each kind looks (Okabe-Ito colours: distinguishable with the common colour-vision deficiencies)


@dataclass(frozen=True)
class NodeStyle:
    label: str
    plural: str
    color: str
    shape: str
    size: int
    font: int


NODE_STYLES: dict[str, NodeStyle] = {
    "member-state": NodeStyle("Member state", "Member states", "#0072B2", "star", 38, 40),
    "document": NodeStyle("Document", "Documents", "#4D4D4D", "box", 18, 28),
    "recommendation": NodeStyle("Recommendation", "Recommendations", "#8FC1E3", "dot", 9, 14),
    "theme": NodeStyle("Theme", "Themes", "#009E73", "diamond", 16, 15),
    "actor": NodeStyle("Actor", "Actors", "#E69F00", "triangle", 16, 15),
    "group": NodeStyle("Target group", "Target groups", "#CC79A7", "hexagon", 16, 15),
    "instrument": NodeStyle("Instrument", "Instruments", "#D55E00", "square", 15, 15),
    "other": NodeStyle("Other", "Other", "#999999", "dot", 10, 14),
    "value": NodeStyle("Value", "Values", "#BBBBBB", "ellipse", 10, 13),
}


@dataclass(frozen=True)
class EdgeStyle:
    label: str
    color: str
    dashes: bool = False
    width: float = 1.0
    length: int = 120  # the spring's rest length: short ones keep a document's recommendations around it


EDGE_STYLES: dict[str, EdgeStyle] = {
    "issued": EdgeStyle("issued the document", "#0072B2", width=3.0, length=90),
    "contains": EdgeStyle("document contains", "#A0A0A0", width=1.0, length=45),
    "mentions": EdgeStyle("mentions (hover: the evidence)", "#7F7F7F", length=140),
    "duplicate": EdgeStyle("same text, repeated", "#D55E00", dashes=True, width=2.5, length=60),
    "similar": EdgeStyle("similar text", "#CC79A7", dashes=True, width=2.0, length=80),
    "recurrence": EdgeStyle("same call, other words", "#56B4E9", dashes=True, width=2.0, length=100),
    "shares-theme": EdgeStyle("recommendations on the theme (width: how many)", "#009E73", width=1.5, length=200),
}
# colours for the edge kinds a query names (?kind or a CONSTRUCT's predicates), in order of first use
QUERY_PALETTE = ("#0072B2", "#009E73", "#E69F00", "#CC79A7", "#D55E00", "#56B4E9", "#7F7F7F", "#F0E442")

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


# --- the corpus, read from the build's store with SPARQL


@dataclass(frozen=True)
class Document:
    iri: str
    id: str
    title: str
    source_file: str
    date: str
    member_state: str | None
    member_state_label: str | None
    forum: int | None
    same_label_as_another: bool = False

    @property
    def label(self) -> str:
        """Short enough for a node: who issued it and when (the title is in the tooltip); unique in a build."""
        who = self.member_state_label or "Issuer unknown"
        if not self.date:
            return f"{who} ({self.id})"
        label = f"{who}, {_short_date(self.date)}"
        return f"{label} ({self.id})" if self.same_label_as_another else label

    @property
    def origin(self) -> str:
        """What the member-state filter and the compare view group by: the state, or the document itself."""
        return self.member_state_label or self.label


@dataclass(frozen=True)
class Recommendation:
    iri: str
    document: str
    label: str
    subtheme_label: str | None
    subtheme_title: str | None
    position: int
    text: str

    @property
    def display_label(self) -> str:
        """The printed label, qualified by its sub-theme where numbering restarts ("2.13")."""
        return f"{self.subtheme_label}.{self.label}" if self.subtheme_label else self.label


@dataclass(frozen=True)
class Concept:
    iri: str
    kind: str
    label: str
    definition: str


@dataclass
class Corpus:
    """What the views draw: documents, recommendations, concepts and the links between them.

    A corpus read by `load_corpus` may hold its recommendations' words (text, the evidence of
    each mention, the text links) back until a view draws those recommendations one by one
    (`require_details`): on a big build no view does, and reading them is most of the cost.
    """

    documents: dict[str, Document]
    recommendations: dict[str, Recommendation]
    concepts: dict[str, Concept]
    mentions: dict[tuple[str, str], list[str]]  # (recommendation, concept) -> evidence, sorted
    links: list[tuple[str, str, str, float]]  # (a, b, relation, score), a < b
    member_states: dict[str, str] = field(default_factory=dict)  # present ones: IRI -> label
    property_labels: dict[str, str] = field(default_factory=dict)  # the ontology's rdfs:label of each property
    _graph: Any = field(default=None, repr=False, compare=False)  # corpus_graph's answer, made once
    _details: _StoreDetails | None = field(default=None, repr=False, compare=False)  # words still in the store
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)  # indexes and node attributes

    def origin_of(self, recommendation: str) -> str:
        return self.documents[self.recommendations[recommendation].document].origin

    def require_details(self, recommendations: Iterable[str] | None = None) -> None:
        """Read the text, evidence and text links of these recommendations (None: all) if still in the store."""
        if self._details is not None:
            self._details.load(self, None if recommendations is None else set(recommendations))


_PREFIXES = "\n".join(f"PREFIX {p}: <{ns}>" for p, ns in (("aflm", AFLM.NS), ("dcterms", DCTERMS.NS),
                                                             ("skos", SKOS.NS)))
_Q_DOCUMENTS = _PREFIXES + """
SELECT ?doc ?id ?title ?source ?date ?state ?stateLabel ?forum WHERE {
  ?doc a aflm:RecommendationsDocument .
  OPTIONAL { ?doc dcterms:identifier ?id }
  OPTIONAL { ?doc dcterms:title ?title }
  OPTIONAL { ?doc aflm:sourceFile ?source }
  OPTIONAL { ?doc dcterms:date ?date }
  OPTIONAL { ?doc aflm:memberState ?state OPTIONAL { ?state skos:prefLabel ?stateLabel } }
  OPTIONAL { ?doc aflm:forumEdition/aflm:forumNumber ?forum }
}"""
# On the on-disk store most of a query's time goes into turning stored term ids back into IRIs,
# once per row; and a join looks each row up. So: sub-selects (hash-joined, no lookups), one row
# per recommendation, and the concept links grouped by recommendation with each (property,
# concept) pair named by a short number (a literal that costs nothing to read back).
_Q_RECOMMENDATIONS = _PREFIXES + """
SELECT ?rec ?doc ?label ?position ?sub ?pairs WHERE {
  { SELECT ?rec WHERE { ?rec a aflm:Recommendation } }
  { SELECT ?rec ?doc WHERE { ?rec aflm:inDocument ?doc } }
  OPTIONAL { SELECT ?rec ?label WHERE { ?rec aflm:printedLabel ?label } }
  OPTIONAL { SELECT ?rec ?position WHERE { ?rec aflm:position ?position } }
  OPTIONAL { SELECT ?rec ?sub WHERE { ?rec aflm:inSubTheme ?sub } }
  OPTIONAL { SELECT ?rec (GROUP_CONCAT(?n) AS ?pairs) WHERE {
      VALUES (?property ?concept ?n) { %s }
      ?rec ?property ?concept
    } GROUP BY ?rec }
}"""
_Q_SUBTHEMES = _PREFIXES + """
SELECT ?sub ?label ?title WHERE {
  { SELECT DISTINCT ?sub WHERE { ?rec aflm:inSubTheme ?sub } }
  OPTIONAL { ?sub aflm:printedLabel ?label }
  OPTIONAL { ?sub dcterms:title ?title }
}"""
_Q_PROPERTY_LABELS = _PREFIXES + """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?p ?label WHERE {
  VALUES ?type { owl:ObjectProperty owl:DatatypeProperty owl:AnnotationProperty }
  ?p a ?type ; rdfs:label ?label . FILTER(LANG(?label) = "" || LANGMATCHES(LANG(?label), "en"))
}"""
_CONCEPT_PROPERTIES = "VALUES ?property { aflm:hasTheme aflm:addressesActor aflm:targetsGroup aflm:citesInstrument }"
_Q_CONCEPT_PAIRS = _PREFIXES + f"""
SELECT DISTINCT ?property ?concept WHERE {{ {_CONCEPT_PROPERTIES} ?rec ?property ?concept }}"""
# the words: read for every recommendation at once when most are drawn, else looked up one by one
_Q_TEXT = _PREFIXES + "SELECT ?rec ?text WHERE { ?rec aflm:text ?text }"
_Q_EVIDENCE = _PREFIXES + """
SELECT ?rec ?concept ?evidence WHERE {
  ?m aflm:mentionIn ?rec ; aflm:mentionOf ?concept ; aflm:evidence ?evidence .
}"""
_Q_TEXT_LINKS = _PREFIXES + """
SELECT ?a ?b ?relation ?score WHERE {
  ?l aflm:linkSource ?a ; aflm:linkTarget ?b .
  OPTIONAL { ?l aflm:relation ?relation }
  OPTIONAL { ?l aflm:score ?score }
}"""
_PROPERTY_KIND = {
    AFLM.hasTheme: "theme",
    AFLM.addressesActor: "actor",
    AFLM.targetsGroup: "group",
    AFLM.citesInstrument: "instrument",
}
# below this share of the recommendations, their words are looked up one by one rather than all read
_LOOKUP_SHARE = 0.25


def _select(store: ox.Store, query: str) -> ox.QuerySolutions:
    answer = store.query(query, use_default_graph_as_union=True)
    assert isinstance(answer, ox.QuerySolutions), "every query of the views is a SELECT"
    return answer


def _values(store: ox.Store, query: str) -> Iterator[tuple[str | None, ...]]:
    """The rows of a SELECT as plain strings, straight from pyoxigraph (no term objects of our own)."""
    for solution in _select(store, query):
        yield tuple([None if t is None else t.value for t in solution])


@contextmanager
def _no_collection() -> Iterator[None]:
    """Python's cycle collector paused while a big corpus is read and counted.

    Reading one makes millions of small objects, none of them in a cycle, and each few thousand
    allocations would start a collection that walks them all again (a third of the time at 10,000
    documents). It runs as usual afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _first(values: Iterable[str]) -> str:
    """The smallest value, so that a term with several labels always shows the same one."""
    return min(values, default="")


def _concept_pairs(store: ox.Store) -> tuple[list[tuple[str, str]], str]:
    """The (kind, concept) pairs recommendations are linked to, and a VALUES block numbering them."""
    pairs = [(p, c) for p, c in (tuple(solution) for solution in _select(store, _Q_CONCEPT_PAIRS))
             if isinstance(p, ox.NamedNode)
             and c is not None and not isinstance(c, ox.BlankNode)]  # (a VALUES block cannot name a blank node)
    rows = " ".join(f'({p} {c} "{i}")' for i, (p, c) in enumerate(pairs))  # terms as pyoxigraph writes them
    return [(_PROPERTY_KIND[p.value], c.value) for p, c in pairs], rows


def load_corpus(store: ox.Store, *, details: bool = True,
                details_store: ox.Store | Callable[[], ox.Store] | None = None) -> Corpus:
    """Read the documents, recommendations, concepts and links of a build (a handful of SPARQL queries).

    With `details=False` the recommendations' words (text, evidence, text links) stay in the store
    until a view draws those recommendations (`Corpus.require_details`): what `build_views` wants.
    They are read from `details_store` when given (a store, or a function that makes one when first
    needed), else from `store`.
    """
    with _no_collection():
        return _read_corpus(store, details=details, details_store=details_store)


def _read_corpus(store: ox.Store, *, details: bool,
                 details_store: ox.Store | Callable[[], ox.Store] | None = None) -> Corpus:
    documents = _load_documents(store)
    recommendations, concepts_of = _load_recommendations(store, documents)
    kinds: dict[str, set[str]] = defaultdict(set)
    for pairs in concepts_of.values():
        for kind, concept in pairs:
            kinds[concept].add(kind)
    # in (recommendation, concept) order without sorting every pair; a link without a recorded mention still counts
    mentions: dict[tuple[str, str], list[str]] = {(rec, concept): [] for rec in sorted(concepts_of)
                for concept in sorted({concept for _kind, concept in concepts_of[rec]})}
    concepts = {iri: _load_concept(store, iri, _first(kinds[iri])) for iri in sorted(kinds)}

    states = {d.member_state: d.member_state_label or "" for d in documents.values() if d.member_state}
    corpus = Corpus(
        documents=documents,
        recommendations=recommendations,
        concepts=concepts,
        mentions=mentions,
        links=[],
        member_states=dict(sorted(states.items(), key=lambda kv: (kv[1], kv[0]))),
        property_labels=_property_labels(store),
        _details=_StoreDetails(store if details_store is None else details_store),
    )
    if details:
        corpus.require_details()
    return corpus


def _property_labels(store: ox.Store) -> dict[str, str]:
    """The ontology's English rdfs:label of each property (what a query view's legend calls a predicate)."""
    labels: dict[str, set[str]] = defaultdict(set)
    for p, label in _values(store, _Q_PROPERTY_LABELS):
        if p is not None and label:
            labels[p].add(label)
    return {p: _first(found) for p, found in sorted(labels.items())}


def _load_documents(store: ox.Store) -> dict[str, Document]:
    grouped: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    columns = ("doc", "id", "title", "source", "date", "state", "stateLabel", "forum")
    for row in _values(store, _Q_DOCUMENTS):
        doc = row[0]
        if doc is None:
            continue
        for key, value in zip(columns, row, strict=True):
            if value is not None:
                grouped[doc][key].add(value)
    documents: dict[str, Document] = {}
    for iri in sorted(grouped):
        g = grouped[iri]
        forum = _first(g["forum"])
        documents[iri] = Document(
            iri=iri,
            id=_first(g["id"]) or iri.rsplit("/", 1)[-1],
            title=_first(g["title"]),
            source_file=_first(g["source"]),
            date=_first(g["date"]),
            member_state=_first(g["state"]) or None,
            member_state_label=_first(g["stateLabel"]) or (_local_label(_first(g["state"])) if g["state"] else None),
            forum=int(forum) if forum.isdigit() else None,
        )
    labels = Counter(d.label for d in documents.values())
    return {iri: replace(d, same_label_as_another=labels[d.label] > 1) for iri, d in documents.items()}


def _load_recommendations(
    store: ox.Store, documents: Mapping[str, Document],
) -> tuple[dict[str, Recommendation], dict[str, set[tuple[str, str]]]]:
    """Every recommendation of a known document, without its text (see `Corpus.require_details`),
    and the (kind, concept) pairs each is linked to by hasTheme, addressesActor, ..."""
    named, values = _concept_pairs(store)
    concepts_of: dict[str, set[tuple[str, str]]] = defaultdict(set)
    facts: dict[str, tuple[set[str], set[str], set[str], set[str]]] = {}
    for rec, doc, label, position, sub, numbers in _values(store, _Q_RECOMMENDATIONS % values):
        if rec is None or doc is None or doc not in documents:
            continue
        docs, labels, positions, subs = facts.setdefault(rec, (set(), set(), set(), set()))
        if numbers:
            concepts_of[rec].update(named[int(n)] for n in numbers.split(" "))
        docs.add(doc)
        if label is not None:
            labels.add(label)
        if position is not None:
            positions.add(position)
        if sub is not None:
            subs.add(sub)
    sub_labels: dict[str, set[str]] = defaultdict(set)
    sub_titles: dict[str, set[str]] = defaultdict(set)
    for sub, label, title in _values(store, _Q_SUBTHEMES):
        if sub is None:
            continue
        if label is not None:
            sub_labels[sub].add(label)
        if title is not None:
            sub_titles[sub].add(title)
    # a sub-theme's label and title, once per sub-theme (there are far fewer than recommendations)
    sub_words = {sub: (_first(sub_labels.get(sub, ())), _first(sub_titles.get(sub, ())))
                 for sub in sub_labels.keys() | sub_titles.keys()}

    recommendations: dict[str, Recommendation] = {}
    no_words = ("", "")
    for iri, (docs, labels, positions, found) in facts.items():
        position = _first(positions)
        if not found:
            sub_label, sub_title = no_words
        elif len(found) == 1:
            sub_label, sub_title = sub_words.get(next(iter(found)), no_words)
        else:  # as an OPTIONAL join would: the smallest label and title over all the sub-themes
            sub_label = _first(v for s in found for v in sub_labels.get(s, ()))
            sub_title = _first(v for s in found for v in sub_titles.get(s, ()))
        recommendations[iri] = Recommendation(
            iri=iri,
            document=min(docs),
            label=_first(labels) or iri.rsplit("/", 1)[-1],
            subtheme_label=sub_label or None,
            subtheme_title=sub_title or None,
            position=int(position) if position.lstrip("-").isdigit() else 0,
            text="",
        )
    ordered = dict(sorted(recommendations.items(), key=lambda kv: (kv[1].document, kv[1].position, kv[0])))
    return ordered, concepts_of


def _english(term: ox.Literal) -> bool:
    lang = (term.language or "").lower()
    return lang == "" or lang == "en" or lang.startswith("en-")


def _load_concept(store: ox.Store, iri: str, kind: str) -> Concept:
    def texts(predicate: str) -> list[str]:
        return [q.object.value for q in store.quads_for_pattern(ox.NamedNode(iri), ox.NamedNode(predicate), None)
                if isinstance(q.object, ox.Literal) and _english(q.object)]

    return Concept(iri=iri, kind=kind, label=_first(texts(SKOS.prefLabel)) or _local_label(iri),
                   definition=_first(texts(SKOS.definition)))


@dataclass
class _StoreDetails:
    """The store that holds a corpus's words (or a function that makes it, called when first needed), and
    which recommendations' words have been read from it."""

    source: ox.Store | Callable[[], ox.Store]
    done: set[str] = field(default_factory=set)

    @cached_property
    def store(self) -> ox.Store:
        return self.source() if callable(self.source) else self.source

    def load(self, corpus: Corpus, wanted: set[str] | None) -> None:
        todo = set(corpus.recommendations) if wanted is None else wanted & corpus.recommendations.keys()
        todo -= self.done
        if not todo:
            return
        texts: dict[str, set[str]] = defaultdict(set)
        evidence: dict[tuple[str, str], set[str]] = defaultdict(set)
        links: set[tuple[str, str, str, float]] = set()
        rows: Iterable[tuple[Any, ...]]
        everything = len(todo) > _LOOKUP_SHARE * len(corpus.recommendations)
        if everything:
            todo = set(corpus.recommendations) - self.done
            for rec, text in _values(self.store, _Q_TEXT):
                if rec in todo and text is not None:
                    texts[rec].add(text)
            for rec, concept, quote in _values(self.store, _Q_EVIDENCE):
                if rec in todo and concept is not None and quote is not None:
                    evidence[(rec, concept)].add(quote)
            rows = _values(self.store, _Q_TEXT_LINKS)
        else:
            rows = self._lookup(todo, texts, evidence)
        for a, b, relation, score in rows:
            if (a in todo or b in todo) and a in corpus.recommendations and b in corpus.recommendations:
                first, second = sorted((a, b))
                links.add((first, second, "similar" if relation is None else relation, float(score or 0)))
        for rec in todo:
            corpus.recommendations[rec] = replace(corpus.recommendations[rec], text=_first(texts.get(rec, ())))
        for key, quotes in evidence.items():
            if key in corpus.mentions:
                corpus.mentions[key] = sorted(quotes)
        corpus.links = sorted({*corpus.links, *links})
        self.done |= todo
        if len(self.done) == len(corpus.recommendations):
            corpus._details = None

    def _lookup(self, recs: set[str], texts: dict[str, set[str]],
                evidence: dict[tuple[str, str], set[str]]) -> list[tuple[str, str, str | None, str | None]]:
        """Text, evidence and links of a few recommendations, by index lookups (each a few microseconds)."""
        store = self.store

        def objects(subject: Any, predicate: str) -> list[Any]:
            return [q.object for q in store.quads_for_pattern(subject, ox.NamedNode(predicate), None)]

        def subjects(predicate: str, obj: Any) -> list[Any]:
            return [q.subject for q in store.quads_for_pattern(None, ox.NamedNode(predicate), obj)]

        links: dict[Any, None] = {}
        for rec in sorted(recs):
            node = ox.NamedNode(rec)
            texts[rec].update(t.value for t in objects(node, AFLM.text))
            for m in subjects(AFLM.mentionIn, node):
                quotes = [e.value for e in objects(m, AFLM.evidence)]
                for concept in objects(m, AFLM.mentionOf):
                    evidence[(rec, concept.value)].update(quotes)
            for predicate in (AFLM.linkSource, AFLM.linkTarget):
                links.update(dict.fromkeys(subjects(predicate, node)))
        rows: list[tuple[str, str, str | None, str | None]] = []
        for link in links:
            relations = [r.value for r in objects(link, AFLM.relation)] or [None]
            scores = [s.value for s in objects(link, AFLM.score)] or [None]
            rows += [(a.value, b.value, relation, score) for a in objects(link, AFLM.linkSource)
                     for b in objects(link, AFLM.linkTarget) for relation in relations for score in scores]
        return rows


def _local_label(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1].replace("-", " ")


def _date(value: str, *, short: bool = False) -> str:
    """An ISO date as people write it ("14 September 2020"; short: "14 Sep 2020"), in any locale."""
    parts = value.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and 1 <= int(parts[1]) <= 12:
        month = _MONTHS[int(parts[1]) - 1]
        return f"{int(parts[2])} {month[:3] if short else month} {parts[0]}"
    return value


def _short_date(value: str) -> str:
    return _date(value, short=True)


def version_note(tool_version: str, data_sha256: str) -> str:
    """What a view says about the data it shows; the same build always gives the same words."""
    return f"aflm-graph {tool_version} build, data checksum {data_sha256[:12]}"


def data_version(build: Path) -> str:
    """The version note of a build folder, from its manifest (written by `aflm-graph build`)."""
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        return version_note(manifest["version"], manifest["files"]["aflm.nq"]["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return "unversioned build"


# --- views as networkx graphs


@dataclass
class View:
    """A graph ready to render, with the words around it."""

    name: str
    title: str
    description: str
    graph: nx.Graph
    notices: list[str] = field(default_factory=list)
    table: Table | None = None
    edge_styles: dict[str, EdgeStyle] = field(default_factory=dict)
    # fixed positions (no physics) for views whose best layout is known in advance, like compare's rings
    positions: dict[str, tuple[int, int]] | None = None


@dataclass
class Table:
    """A count matrix shown under the graph (people read counts faster from a grid than from line widths)."""

    caption: str
    corner: str
    rows: list[str]
    columns: list[str]
    counts: dict[tuple[str, str], int]
    cell_notes: dict[tuple[str, str], str] = field(default_factory=dict)

    @cached_property
    def maximum(self) -> int:
        """The biggest count (the template asks once per cell)."""
        return max(self.counts.values(), default=0)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _tip(heading: str, *, sub: str = "", body: Iterable[str] = (), quotes: Iterable[str] = ()) -> dict[str, Any]:
    """A tooltip as plain data; the page turns it into DOM text nodes (never HTML)."""
    tip: dict[str, Any] = {"heading": heading}
    if sub:
        tip["sub"] = sub
    body = [b for b in body if b]
    if body:
        tip["body"] = body
    quotes = list(quotes)
    if quotes:
        tip["quotes"] = quotes
    return tip


def corpus_graph(corpus: Corpus) -> nx.Graph:
    """The whole corpus as one graph: member states - documents - recommendations - concepts, plus text links.

    Made once per corpus for the analytics (stats.py): read it, take subgraphs or copies, never change
    it. The views do not use it: each builds its own graph at the size it shows (`_scope_graph`).
    """
    if corpus._graph is None:
        corpus.require_details()
        corpus._graph = _drawn_graph(corpus, _Scope(list(corpus.member_states), list(corpus.documents),
                                                     list(corpus.recommendations), list(corpus.concepts)))
    return corpus._graph


@dataclass(frozen=True)
class _Index:
    """Who belongs to whom, read once per corpus (every view and every tooltip asks)."""

    doc_of: dict[str, str]  # recommendation -> document
    recs_by_doc: dict[str, list[str]]
    docs_by_state: dict[str, list[str]]
    concepts_of: dict[str, list[str]]  # recommendation -> the concepts it mentions, in IRI order
    recs_of: dict[str, list[str]]  # concept -> the recommendations that mention it, in IRI order


def _index(corpus: Corpus) -> _Index:
    if "index" not in corpus._memo:
        recs_by_doc: dict[str, list[str]] = defaultdict(list)
        for recommendation in corpus.recommendations.values():
            recs_by_doc[recommendation.document].append(recommendation.iri)
        docs_by_state: dict[str, list[str]] = defaultdict(list)
        for doc in corpus.documents.values():
            if doc.member_state:
                docs_by_state[doc.member_state].append(doc.iri)
        concepts_of: dict[str, list[str]] = defaultdict(list)
        recs_of: dict[str, list[str]] = defaultdict(list)
        for rec, concept in corpus.mentions:
            concepts_of[rec].append(concept)
            recs_of[concept].append(rec)
        doc_of = {r.iri: r.document for r in corpus.recommendations.values()}
        corpus._memo["index"] = _Index(doc_of, recs_by_doc, docs_by_state, concepts_of, recs_of)
    index: _Index = corpus._memo["index"]
    return index


def _drawn_attrs(corpus: Corpus, node: str) -> dict[str, Any]:
    """`_node_attrs` of a node the scope holds (so one of the corpus)."""
    attrs = _node_attrs(corpus, node)
    if attrs is None:
        raise ViewError(f"{node}: not a node of the corpus")
    return attrs


def _node_attrs(corpus: Corpus, node: str) -> dict[str, Any] | None:
    """A node's kind, label, origins and tooltip as the views draw it (None: not a node of the corpus).

    Member states, documents and concepts are the same in every view, so they are made once; a
    recommendation is made when a view draws it (its text is read then).
    """
    memo: dict[str, dict[str, Any]] = corpus._memo.setdefault("nodes", {})
    if node in memo:
        return dict(memo[node])
    index = _index(corpus)
    attrs: dict[str, Any]
    if node in corpus.concepts:
        concept = corpus.concepts[node]
        recs = index.recs_of.get(node, [])
        docs = set(map(index.doc_of.__getitem__, recs))  # (map: this runs over every mention of a big corpus)
        origins = sorted({corpus.documents[d].origin for d in docs})
        attrs = dict(kind=concept.kind, label=concept.label, origins=origins,
                     tip=_tip(concept.label, sub=NODE_STYLES[concept.kind].label,
                              body=[concept.definition,
                                    f"Mentioned by {_plural(len(recs), 'recommendation')} in "
                                    f"{_plural(len(docs), 'document')}: {', '.join(origins)}."]))
    elif node in corpus.recommendations:
        corpus.require_details([node])
        rec = corpus.recommendations[node]
        doc = corpus.documents[rec.document]
        where = _subtheme(rec)
        return dict(kind="recommendation", label=rec.display_label, origins=[doc.origin], doc=doc.iri,
                    docinfo=_document_facts(doc), facets=_facets(doc, rec), read=_reading(corpus, rec),
                    tip=_tip(f"{doc.label} · recommendation {rec.display_label}",
                             sub=f"{where} ({doc.title})" if where and doc.title else where or doc.title,
                             body=[rec.text]))
    elif node in corpus.documents:
        doc = corpus.documents[node]
        facts = [doc.member_state_label or "Issuer not stated in the source", _date(doc.date)]
        if doc.forum:
            facts.append(f"for the {_ordinal(doc.forum)} AFML")
        attrs = dict(kind="document", label=doc.label, origins=[doc.origin], doc=doc.iri,
                     docinfo=_document_facts(doc), facets=_facets(doc, None),
                     tip=_tip(doc.title or doc.label, sub="Document",
                              body=[", ".join(f for f in facts if f) + ".",
                                    f"{_plural(len(index.recs_by_doc.get(node, [])), 'recommendation')}; "
                                    f"file {doc.source_file}."]))
    elif node in corpus.member_states:
        label = corpus.member_states[node]
        docs_ = index.docs_by_state.get(node, [])
        recs_ = sum(len(index.recs_by_doc.get(d, [])) for d in docs_)
        attrs = dict(kind="member-state", label=label, origins=[label],
                     tip=_tip(label, sub="Member state",
                              body=[f"{_plural(len(docs_), 'document')} with {_plural(recs_, 'recommendation')}."]))
    else:
        return None
    memo[node] = attrs
    return dict(attrs)


def _subtheme(rec: Recommendation) -> str:
    """"Sub-theme 1: Impact of COVID-19 on migrant workers" (or "" when the document has none)."""
    if not rec.subtheme_label:
        return ""
    return f"Sub-theme {rec.subtheme_label}: {rec.subtheme_title}" if rec.subtheme_title else \
        f"Sub-theme {rec.subtheme_label}"


def _document_facts(doc: Document) -> dict[str, Any]:
    """What the side panel says about a document (the page shows it as text)."""
    return {"iri": doc.iri, "label": doc.label, "title": doc.title,
            "state": doc.member_state_label or "Issuer not stated in the source",
            "date": _date(doc.date) if doc.date else "", "forum": f"{_ordinal(doc.forum)} AFML" if doc.forum else "",
            "file": doc.source_file}


def _facets(doc: Document, rec: Recommendation | None) -> dict[str, Any]:
    """The values the page's filters match a recommendation or a document on (the member state is `origins`)."""
    facets: dict[str, Any] = {"doc": doc.iri}
    if doc.forum:
        facets["forum"] = f"{_ordinal(doc.forum)} AFML"
    year = doc.date[:4]
    if year.isdigit():
        facets["year"] = int(year)
    if rec is not None:
        facets["sub"] = _subtheme(rec) or "No sub-theme"
    return facets


def _reading(corpus: Corpus, rec: Recommendation) -> dict[str, Any]:
    """A recommendation as the side panel reads it: its text, its sub-theme, its concepts and where the text
    names each ([start, end, concept] spans found from the evidence, the first place each quote occurs)."""
    concepts = [c for c in _index(corpus).concepts_of.get(rec.iri, []) if c in corpus.concepts]
    lowered = rec.text.lower()
    marks: set[tuple[int, int, str]] = set()
    for concept in concepts:
        for quote in corpus.mentions.get((rec.iri, concept), []):
            at = rec.text.find(quote) if quote else -1
            if at < 0 and quote:
                at = lowered.find(quote.lower())
            if at >= 0:
                marks.add((at, at + len(quote), concept))
    ordered = sorted(concepts, key=lambda c: (CONCEPT_KINDS.index(corpus.concepts[c].kind)
                                              if corpus.concepts[c].kind in CONCEPT_KINDS else 9,
                                              corpus.concepts[c].label.lower(), c))
    return {"text": rec.text, "sub": _subtheme(rec),
            "concepts": [[c, corpus.concepts[c].label, corpus.concepts[c].kind] for c in ordered],
            "marks": [list(m) for m in sorted(marks)]}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _of_kind(g: nx.Graph, *kinds: str) -> list[str]:
    return sorted(n for n, k in g.nodes(data="kind") if k in kinds)


@dataclass(frozen=True)
class _Scope:
    """What a view is about, before it is fitted: its member states, documents, recommendations, concepts."""

    states: list[str]
    docs: list[str]
    recs: list[str]
    concepts: list[str]


def _drawn_graph(corpus: Corpus, scope: _Scope) -> nx.Graph:
    """Every node of the scope drawn one by one, with the links of the corpus between them."""
    corpus.require_details(scope.recs)
    index = _index(corpus)
    g = nx.Graph()
    for node in (*scope.states, *scope.docs, *scope.recs, *scope.concepts):
        g.add_node(node, **_drawn_attrs(corpus, node))
    states, recs, concepts = set(scope.states), set(scope.recs), set(scope.concepts)
    for iri in scope.docs:
        doc = corpus.documents[iri]
        if doc.member_state in states:
            g.add_edge(doc.member_state, iri, kind="issued",
                       tip=_tip(f"{doc.member_state_label} → {doc.label}", sub="Issued", body=[doc.title]))
    for iri in scope.recs:
        rec = corpus.recommendations[iri]
        g.add_edge(rec.document, iri, kind="contains",
                   tip=_tip(f"{corpus.documents[rec.document].label} → {rec.display_label}", sub="Contains"))
    for iri in scope.recs:
        rec = corpus.recommendations[iri]
        for concept_iri_ in index.concepts_of.get(iri, []):
            if concept_iri_ not in concepts:
                continue
            concept = corpus.concepts[concept_iri_]
            evidence = corpus.mentions[(iri, concept_iri_)]
            g.add_edge(iri, concept_iri_, kind="mentions", target_kind=concept.kind,
                       tip=_tip(f"{corpus.origin_of(iri)} {rec.display_label} → {concept.label}",
                                sub=f"Mentions this {NODE_STYLES[concept.kind].label.lower()}; evidence from the text:"
                                if evidence else "Mentions (no evidence recorded)",
                                quotes=evidence))
    # one edge per pair, the closest relation kept: the same text, then similar text, then the same call
    closeness = {"duplicate": 0, "similar": 1, "recurrence": 2}
    for a, b, relation, score in sorted(corpus.links, key=lambda link: (closeness.get(link[2], 1), link)):
        if a in recs and b in recs and not g.has_edge(a, b):
            ra, rb = corpus.recommendations[a], corpus.recommendations[b]
            what = ("Same text, word for word" if relation == "duplicate" else
                    f"The same call in other words (recurrence, score {score:.2f})" if relation == "recurrence" else
                    f"Similar text (score {score:.2f})")
            g.add_edge(a, b, kind=relation if relation in EDGE_STYLES else "similar",
                       tip=_tip(f"{corpus.origin_of(a)} {ra.display_label} ↔ {corpus.origin_of(b)} {rb.display_label}",
                                sub=what, quotes=[ra.text] if relation == "duplicate" else [ra.text, rb.text]))
    return g


def _mentioned(corpus: Corpus, scope: _Scope, *, ordered: bool = True) -> Iterator[tuple[Recommendation, str]]:
    """(recommendation, concept) for every mention in the scope, recommendations in IRI order if `ordered`."""
    index = _index(corpus)
    concepts = set(scope.concepts)
    for iri in sorted(scope.recs) if ordered else scope.recs:
        rec = corpus.recommendations[iri]
        for concept in index.concepts_of.get(iri, []):
            if concept in concepts and corpus.concepts[concept].kind in CONCEPT_KINDS:
                yield rec, concept


def _per_document_graph(corpus: Corpus, scope: _Scope) -> nx.Graph:
    """Each document stands in for its recommendations: document-concept links weighted by how many."""
    g = nx.Graph()
    for node in (*scope.states, *scope.docs, *scope.concepts):
        g.add_node(node, **_drawn_attrs(corpus, node))
    states = set(scope.states)
    for iri in scope.docs:
        document = corpus.documents[iri]
        if document.member_state in states:
            g.add_edge(document.member_state, iri, kind="issued",
                       tip=_tip(f"{document.member_state_label} → {document.label}", sub="Issued",
                                body=[document.title]))
    counts: dict[tuple[str, str], list[Recommendation]] = defaultdict(list)
    for rec, concept in _mentioned(corpus, scope):
        counts[(rec.document, concept)].append(rec)
    for (doc, concept), recs in sorted(counts.items()):
        labels = [r.display_label for r in recs]
        g.add_edge(doc, concept, kind="mentions", target_kind=g.nodes[concept]["kind"], weight=len(labels),
                   recs=_edge_recs(corpus, recs),
                   tip=_tip(f"{g.nodes[doc]['label']} → {g.nodes[concept]['label']}",
                            sub=f"{_plural(len(labels), 'recommendation')} mention it",
                            body=[_listing("Recommendations", labels)]))
    return g


EDGE_RECOMMENDATIONS = 25
"""How many of an aggregated link's recommendations its side panel lists (the rest are counted)."""


def _edge_recs(corpus: Corpus, recs: Iterable[Recommendation]) -> list[list[str]]:
    """[IRI, "Document · recommendation 1.1"] for the first EDGE_RECOMMENDATIONS of an aggregated link."""
    return [[r.iri, f"{corpus.documents[r.document].label} · recommendation {r.display_label}"]
            for r in sorted(recs, key=lambda r: (r.document, r.position, r.iri))[:EDGE_RECOMMENDATIONS]]


UNKNOWN_ISSUER = "aflm-view:documents-of-unknown-issuer"


def _per_origin_graph(corpus: Corpus, scope: _Scope) -> nx.Graph:
    """Each member state stands in for its documents (one node for all documents of unknown issuer)."""
    g = nx.Graph()
    for node in (*scope.states, *scope.concepts):
        g.add_node(node, **_drawn_attrs(corpus, node))
    unknown = sum(1 for d in scope.docs if not corpus.documents[d].member_state)
    if unknown:
        label = f"Documents of unknown issuer ({unknown:,})"
        g.add_node(UNKNOWN_ISSUER, kind="document", label=label, origins=[label],
                   tip=_tip(label, sub="Documents", body=["Documents whose source does not say who issued them."]))
    counts: dict[tuple[str, str], int] = defaultdict(int)
    first: dict[tuple[str, str], list[Recommendation]] = defaultdict(list)  # a few of them, for the side panel
    for rec, concept in _mentioned(corpus, scope, ordered=False):  # counts: any order
        key = (corpus.documents[rec.document].member_state or UNKNOWN_ISSUER, concept)
        counts[key] += 1
        if len(first[key]) < 4 * EDGE_RECOMMENDATIONS:
            first[key].append(rec)
    for (origin, concept), n in sorted(counts.items()):
        g.add_edge(origin, concept, kind="mentions", target_kind=g.nodes[concept]["kind"], weight=n,
                   recs=_edge_recs(corpus, first[(origin, concept)]),
                   tip=_tip(f"{g.nodes[origin]['label']} → {g.nodes[concept]['label']}",
                            sub=f"{_plural(n, 'recommendation')} mention it"))
    return g


def _listing(what: str, items: list[str], limit: int = 30) -> str:
    shown = ", ".join(items[:limit])
    return f"{what}: {shown}" + (f" and {len(items) - limit} more." if len(items) > limit else ".")


def keep_most_connected(g: nx.Graph, limit: int) -> tuple[nx.Graph, int]:
    """The `limit` best-connected nodes (member states always kept); returns the graph and how many were cut."""
    if g.number_of_nodes() <= limit:
        return g, 0
    states = _of_kind(g, "member-state")
    rest = sorted((n for n in g.nodes if n not in set(states)), key=lambda n: (-g.degree(n), n))
    keep = set(states) | set(rest[: max(limit - len(states), 0)])
    return g.subgraph(sorted(keep)).copy(), g.number_of_nodes() - len(keep)


def _scope_graph(corpus: Corpus, scope: _Scope) -> tuple[nx.Graph, list[str]]:
    """A view's graph made at the size it is shown, and what the view says about how it was fitted.

    Recommendations are drawn one by one up to MAX_RECOMMENDATIONS; beyond, each document stands
    in for its recommendations, and beyond MAX_DOCUMENTS each member state for its documents.
    Then the MAX_NODES best-connected nodes and the MAX_EDGES heaviest links are kept. The graph
    is made directly at that level (never the full graph first), so a view costs what it shows.
    """
    notices: list[str] = []
    recs, docs = len(scope.recs), len(scope.docs)
    if recs <= MAX_RECOMMENDATIONS:
        g = _drawn_graph(corpus, scope)
    else:
        notices.append(
            f"{recs:,} recommendations are too many to draw one by one: each document stands in for its "
            "recommendations and a link's width counts them. Open a member-state or theme view to read them."
        )
        if docs > MAX_DOCUMENTS:
            g = _per_origin_graph(corpus, scope)
            notices.append(
                f"{docs:,} documents are too many to draw one by one: each member state stands in for its documents "
                "(those of unknown issuer are drawn as one node). Open a member-state view for its documents."
            )
        else:
            g = _per_document_graph(corpus, scope)
    total = g.number_of_nodes()
    g, cut = keep_most_connected(g, MAX_NODES)
    if cut:
        notices.append(
            f"Showing the {g.number_of_nodes():,} most connected of {total:,} nodes; "
            f"{cut:,} less connected ones are left out (see `aflm-graph stats` for all of them)."
        )
    edges = g.number_of_edges()
    g, cut = keep_heaviest_edges(g, MAX_EDGES)
    if cut:
        notices.append(f"Showing the {MAX_EDGES:,} strongest of {edges:,} links; the weakest are left out.")
    _refresh_origins(g)
    return g, notices


def keep_heaviest_edges(g: nx.Graph, limit: int) -> tuple[nx.Graph, int]:
    """The `limit` heaviest links (then in node order); nodes left without a link go too."""
    if g.number_of_edges() <= limit:
        return g, 0
    ranked = sorted(g.edges(data=True), key=lambda e: (-float(e[2].get("weight", 1)), min(e[0], e[1]), max(e[0], e[1])))
    out = g.copy()
    out.remove_edges_from([(a, b) for a, b, _d in ranked[limit:]])
    out.remove_nodes_from([n for n in sorted(out) if out.degree(n) == 0])
    return out, g.number_of_edges() - limit


def _concept_counts(corpus: Corpus, concepts: Iterable[str]) -> str:
    per_kind = Counter(corpus.concepts[c].kind for c in concepts)
    parts = [_plural(n, NODE_STYLES[k].label.lower()) for k in CONCEPT_KINDS if (n := per_kind[k])]
    if not parts:
        return "no concepts"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


_SOURCE_KINDS = frozenset({"recommendation", "document", "member-state"})


def _refresh_origins(g: nx.Graph) -> None:
    """A concept's member states / documents as seen in this view (the filter offers only what is drawn)."""
    for node, kind in g.nodes(data="kind"):
        if kind in CONCEPT_KINDS:
            sources = [n for n in g.neighbors(node) if g.nodes[n]["kind"] in _SOURCE_KINDS]
            found = {o for n in sources for o in g.nodes[n]["origins"]}
            g.nodes[node]["origins"] = sorted(found)


def _fitted_view(corpus: Corpus, scope: _Scope, *, name: str, title: str, description: str) -> View:
    graph, notices = _scope_graph(corpus, scope)
    return View(name=name, title=title, description=description, graph=graph, notices=notices)


def overview_view(corpus: Corpus) -> View:
    """Member states / documents -> recommendations -> the themes, actors, target groups and instruments."""
    scope = _Scope(list(corpus.member_states), list(corpus.documents), list(corpus.recommendations),
                   list(corpus.concepts))
    return _fitted_view(
        corpus, scope,
        name="overview",
        title="AFML recommendations on migrant workers: overview",
        description=(
            f"{_plural(len(corpus.recommendations), 'recommendation')} from "
            f"{_plural(len(corpus.documents), 'document')} "
            f"({_plural(len(corpus.member_states), 'member state')} named) and the "
            f"{_concept_counts(corpus, corpus.concepts)} they mention."
        ),
    )


def member_state_view(corpus: Corpus, name: str) -> View:
    """One member state: its documents, their recommendations and what those mention."""
    iri = member_states().resolve(name) or (name if name in corpus.member_states else None)
    if iri is None:
        raise ViewError(f"{name!r} is not an ASEAN member state (try e.g. Cambodia, Viet Nam, lao-pdr)")
    if iri not in corpus.member_states:
        present = ", ".join(corpus.member_states.values()) or "none"
        raise ViewError(f"no document of {member_states().labels.get(iri, name)} in this build (present: {present})")
    index = _index(corpus)
    docs = sorted(index.docs_by_state.get(iri, []))
    recs = sorted(r for d in docs for r in index.recs_by_doc.get(d, []))
    concepts = sorted({c for r in recs for c in index.concepts_of.get(r, [])
                       if corpus.concepts[c].kind in CONCEPT_KINDS})
    label = corpus.member_states[iri]
    return _fitted_view(
        corpus, _Scope([iri], docs, recs, concepts),
        name=f"member-state-{slug(iri.rsplit('/', 1)[-1])}",
        title=f"{label}: recommendations and what they address",
        description=(
            f"The {_plural(len(recs), 'recommendation')} of {label} ({_plural(len(docs), 'document')}) "
            f"and the {_concept_counts(corpus, concepts)} they mention."
        ),
    )


def concept_view(corpus: Corpus, kind: str, name: str) -> View:
    """One theme, actor, target group or instrument: the recommendations that mention it, where they come from."""
    iri = name if name.startswith(VOCAB) else concept_iri(kind, name)
    if iri not in corpus.concepts or corpus.concepts[iri].kind != kind:
        known = sorted(c.iri.rsplit("/", 1)[-1] for c in corpus.concepts.values() if c.kind == kind)
        close = [k for k in known if name.lower() in k][:5] or known[:8]
        raise ViewError(f"no {kind} {name!r} is mentioned in this build (e.g. {', '.join(close) or 'none'})")
    index = _index(corpus)
    recs = sorted(index.recs_of.get(iri, []))
    docs = sorted({corpus.recommendations[r].document for r in recs})
    states = sorted({s for d in docs if (s := corpus.documents[d].member_state)})
    others = sorted({c for r in recs for c in index.concepts_of.get(r, []) if corpus.concepts[c].kind in CONCEPT_KINDS})
    concept = corpus.concepts[iri]
    origins = sorted({corpus.origin_of(r) for r in recs})
    return _fitted_view(
        corpus, _Scope(states, docs, recs, others),
        name=f"{kind}-{slug(iri.rsplit('/', 1)[-1])}",
        title=f"{NODE_STYLES[kind].label}: {concept.label}",
        description=(
            f"The {_plural(len(recs), 'recommendation')} that mention {concept.label}, from "
            f"{', '.join(origins)}, and the other concepts they mention."
        ),
    )


def compare_view(corpus: Corpus) -> View:
    """Member states (or documents, where the issuer is unknown) joined through the themes they share."""
    by_pair: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (rec_iri, concept), _evidence in corpus.mentions.items():
        if corpus.concepts[concept].kind == "theme":
            rec = corpus.recommendations[rec_iri]
            by_pair[(corpus.origin_of(rec_iri), concept)].append(rec.display_label)
    origin_kind: dict[str, str] = {}
    origin_docs: dict[str, list[Document]] = defaultdict(list)
    for doc in corpus.documents.values():
        origin_kind[doc.origin] = "member-state" if doc.member_state else "document"
        origin_docs[doc.origin].append(doc)
    recs_per_origin = Counter(corpus.documents[r.document].origin for r in corpus.recommendations.values())
    themes_total: dict[str, int] = defaultdict(int)
    origin_total: dict[str, int] = defaultdict(int)
    for (origin, theme), labels in by_pair.items():
        themes_total[theme] += len(labels)
        origin_total[origin] += len(labels)
    origins_of_theme: dict[str, set[str]] = defaultdict(set)
    for origin, theme in by_pair:
        origins_of_theme[theme].add(origin)
    g = nx.Graph()
    for origin in sorted(origin_kind):
        docs = origin_docs[origin]
        recs = recs_per_origin[origin]
        g.add_node(_origin_id(origin, docs), kind=origin_kind[origin], label=origin, origins=[origin],
                   tip=_tip(origin, sub=NODE_STYLES[origin_kind[origin]].label,
                            body=[f"{_plural(len(docs), 'document')}, {_plural(recs, 'recommendation')}; "
                                  f"{origin_total[origin]:,} theme mentions."]))
    for theme in sorted(themes_total):
        theme_concept = corpus.concepts[theme]
        shared = sorted(origins_of_theme[theme])
        g.add_node(theme, kind="theme", label=theme_concept.label, origins=shared,
                   tip=_tip(theme_concept.label, sub="Theme",
                            body=[theme_concept.definition,
                                  f"{_plural(themes_total[theme], 'recommendation')} from {', '.join(shared)}."]))
    for (origin, theme), labels in sorted(by_pair.items()):
        label = corpus.concepts[theme].label
        g.add_edge(_origin_id(origin, origin_docs[origin]), theme, kind="shares-theme", weight=len(labels),
                   tip=_tip(f"{origin} → {label}", sub=f"{_plural(len(labels), 'recommendation')} on this theme",
                            body=[_listing("Recommendations", labels)]))
    origins = sorted(origin_kind, key=lambda o: (-origin_total[o], o))
    columns = sorted(themes_total, key=lambda t: (-themes_total[t], corpus.concepts[t].label))
    table = Table(
        caption="Recommendations per member state (or document) and theme",
        corner="Member state / document",
        rows=origins,
        columns=[corpus.concepts[t].label for t in columns],
        counts={(o, corpus.concepts[t].label): len(by_pair.get((o, t), [])) for o in origins for t in columns},
        cell_notes={(o, corpus.concepts[t].label): _listing("Recommendations", by_pair[(o, t)])
                    for o in origins for t in columns if (o, t) in by_pair},
    )
    n_states = sum(1 for k in origin_kind.values() if k == "member-state")
    view = View(
        name="compare",
        title="Member states compared by theme",
        description=(
            f"{_plural(n_states, 'member state')} and {_plural(len(origins) - n_states, 'document')} of unknown "
            f"issuer joined through the {_plural(len(columns), 'theme')} their recommendations share; a link's width "
            "is the number of recommendations. The table below gives the counts."
        ),
        graph=g,
        table=table,
    )
    total = g.number_of_nodes()
    view.graph, cut = keep_most_connected(g, MAX_NODES)
    if cut:
        view.notices.append(f"Showing the {view.graph.number_of_nodes():,} most connected of {total:,} nodes.")
    view.positions = _rings(view.graph, [_origin_id(o, origin_docs[o]) for o in origins])
    return view


WIDE = 1.6  # rings are ellipses as wide as a screen: labels at the top and bottom get room side by side


def _rings(g: nx.Graph, hubs: list[str]) -> dict[str, tuple[int, int]]:
    """Hubs on an inner ring, the rest on an outer ring, each placed towards the hubs it links to most.

    A force layout puts two hubs that share everything on top of each other; rings keep every
    member state apart and every theme readable, with what they share between them.
    """
    hubs = [h for h in hubs if h in g]
    inner = 0.0 if len(hubs) == 1 else max(220.0, 90 * len(hubs) / math.pi)
    angle = {h: math.pi - 2 * math.pi * i / max(len(hubs), 1) for i, h in enumerate(hubs)}
    positions = {h: (round(WIDE * inner * math.cos(angle[h])), round(-inner * math.sin(angle[h]))) for h in hubs}
    rest = [n for n in g if n not in positions]

    def preferred(node: str) -> float:
        x = sum(g.edges[node, h].get("weight", 1) * math.cos(angle[h]) for h in g.neighbors(node) if h in angle)
        y = sum(g.edges[node, h].get("weight", 1) * math.sin(angle[h]) for h in g.neighbors(node) if h in angle)
        return math.atan2(y, x) if math.hypot(x, y) > 1e-9 else math.pi / 2

    order = sorted(rest, key=lambda n: (preferred(n) % (2 * math.pi), n))
    outer = max(inner + 320.0, 100 * len(order) / math.pi)
    start = preferred(order[0]) % (2 * math.pi) if order else 0.0
    for i, node in enumerate(order):
        a = start + 2 * math.pi * i / len(order)
        positions[node] = (round(WIDE * outer * math.cos(a)), round(-outer * math.sin(a)))
    return positions


def _origin_id(origin: str, docs: list[Document]) -> str:
    state = docs[0].member_state if docs else None
    return state or docs[0].iri


# --- query views: any SELECT ?source ?target, or any CONSTRUCT


_LABEL_PROPERTIES = (SKOS.prefLabel, RDFS.label, DCTERMS.title)


def _compact(iri: str) -> str:
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def _guess_kind(iri: str, corpus: Corpus) -> str:
    if iri in corpus.recommendations:
        return "recommendation"
    if iri in corpus.documents:
        return "document"
    if iri in corpus.concepts:
        return corpus.concepts[iri].kind
    if iri.startswith(DATA + "member-state/"):
        return "member-state"
    for kind in CONCEPT_KINDS:
        if iri.startswith(f"{VOCAB}{kind}/"):
            return kind
    return "other"


def query_view(corpus: Corpus, result: Result, *, name: str, summary: str = "") -> View:
    """A query's answer as a graph, as Wikidata's graph view does: SELECT ?source ?target ..., or CONSTRUCT."""
    g = nx.Graph()
    styles: dict[str, EdgeStyle] = {}

    def edge_style(kind: str) -> str:
        if kind not in styles:
            styles[kind] = EdgeStyle(kind, QUERY_PALETTE[len(styles) % len(QUERY_PALETTE)], width=1.5)
        return kind

    def add(term_type: str, value: str, label: str | None) -> str:
        node = value if term_type in {"uri", "bnode"} else f"value:{value}"
        if node in g:
            if label and g.nodes[node].get("from_query_label") is None and not g.nodes[node].get("known"):
                g.nodes[node].update(label=label, from_query_label=True)
            return node
        known = _node_attrs(corpus, node)
        if known is not None:
            attrs = known
            attrs["known"] = True  # its own label, never one a query makes (as theme-network's file names)
            if attrs["kind"] == "recommendation":
                attrs["label"] = f"{attrs['origins'][0]} {attrs['label']}"
        elif term_type == "uri":
            kind = _guess_kind(value, corpus)
            attrs = {"kind": kind, "label": _compact(value), "origins": [],
                     "tip": _tip(_compact(value), sub=NODE_STYLES[kind].label, body=[value])}
        else:
            attrs = {"kind": "value", "label": _clip(value, 60), "origins": [], "tip": _tip(value, sub="Value")}
        if label and not attrs.get("known"):
            attrs.update(label=label, from_query_label=True)
        g.add_node(node, **attrs)
        return node

    if result.form == "select":
        missing = {"source", "target"} - set(result.columns)
        if missing:
            raise ViewError(
                "a query for a view needs ?source and ?target columns (optional ?sourceLabel ?targetLabel ?weight "
                f"?kind) or must be a CONSTRUCT; this one returns {', '.join('?' + c for c in result.columns)}"
            )
        records = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
        for rec in records:
            s, t = rec["source"], rec["target"]
            if s is None or t is None:
                continue
            a = add(s.type, s.value, _value(rec.get("sourceLabel")))
            b = add(t.type, t.value, _value(rec.get("targetLabel")))
            kind = edge_style(_value(rec.get("kind")) or "link")
            weight = _number(_value(rec.get("weight")))
            if g.has_edge(a, b):
                g.edges[a, b]["weight"] += weight
                continue
            g.add_edge(a, b, kind=kind, weight=weight,
                       tip=_tip(f"{g.nodes[a]['label']} → {g.nodes[b]['label']}", sub=kind,
                                body=[f"weight {weight:g}"] if rec.get("weight") else []))
    elif result.form == "graph":
        details: dict[str, list[str]] = defaultdict(list)
        for s, p, o in ((r[0], r[1], r[2]) for r in result.rows):
            if s is None or p is None or o is None:
                continue
            if o.type == "literal":
                a = add(s.type, s.value, None)
                if p.value in _LABEL_PROPERTIES and not g.nodes[a].get("from_query_label") \
                        and not g.nodes[a].get("known"):
                    g.nodes[a].update(label=_clip(o.value, 80), from_query_label=True)
                details[a].append(f"{_compact(p.value)}: {o.value}")
                continue
            if p.value == RDF.type:
                details[add(s.type, s.value, None)].append(f"type: {_compact(o.value)}")
                continue
            a, b = add(s.type, s.value, None), add(o.type, o.value, None)
            kind = edge_style(corpus.property_labels.get(p.value) or _compact(p.value))
            if not g.has_edge(a, b):
                g.add_edge(a, b, kind=kind, weight=1.0, tip=_tip(f"{g.nodes[a]['label']} → {g.nodes[b]['label']}",
                                                                 sub=kind))
        for node, lines in details.items():
            tip = dict(g.nodes[node]["tip"])
            tip["body"] = [*tip.get("body", []), *sorted(set(lines))]
            g.nodes[node]["tip"] = tip
    else:
        raise ViewError("an ASK query has no graph to show; use SELECT ?source ?target or CONSTRUCT")
    for _node, attrs in g.nodes(data=True):
        attrs.pop("from_query_label", None)
        attrs.pop("known", None)
    view = View(
        name=f"query-{slug(Path(name).stem)}",
        title=summary or f"Query {name}",
        description=f"The answer of the query {name} as a graph: {_plural(g.number_of_nodes(), 'node')}, "
        f"{_plural(g.number_of_edges(), 'link')}.",
        graph=g,
        edge_styles=styles,
    )
    total = g.number_of_nodes()
    view.graph, cut = keep_most_connected(g, MAX_NODES)
    if cut:
        view.notices.append(f"Showing the {view.graph.number_of_nodes():,} most connected of {total:,} nodes.")
    return view


def _value(term: Any) -> str | None:
    return None if term is None else term.value


def _number(value: str | None) -> float:
    try:
        return float(value) if value is not None else 1.0
    except ValueError:
        return 1.0


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# --- rendering: networkx -> pyvis node/edge options -> our template


def _layout(g: nx.Graph, anchors: Mapping[str, tuple[int, int]] | None = None) -> dict[str, tuple[int, int]]:
    """Deterministic positions (fixed seed, sorted nodes), in vis-network pixels, computed before the page
    opens so that it draws at once; `anchors` stay where they are and the rest settles around them."""
    if g.number_of_nodes() == 0:
        return {}
    ordered = nx.Graph()
    ordered.add_nodes_from(sorted(g.nodes))
    ordered.add_edges_from(sorted((min(a, b), max(a, b)) for a, b in g.edges))
    scale = 220 * math.sqrt(g.number_of_nodes())
    if anchors:
        start = {n: (x / scale, y / scale) for n, (x, y) in anchors.items()}
        positions = nx.spring_layout(ordered, pos=start, fixed=sorted(anchors), seed=LAYOUT_SEED, iterations=80)
    else:
        positions = nx.spring_layout(ordered, seed=LAYOUT_SEED, iterations=80)
    placed = {n: (round(float(x) * scale), round(float(y) * scale)) for n, (x, y) in positions.items()}
    return {**placed, **(anchors or {})}


def _communities(g: nx.Graph) -> dict[str, int]:
    """Each node's community (Louvain, fixed seed, sorted nodes: the same graph gives the same numbers),
    numbered from the biggest: what a big view collapses into when it opens."""
    ordered = nx.Graph()
    ordered.add_nodes_from(sorted(g.nodes))
    ordered.add_edges_from(sorted((min(a, b), max(a, b)) for a, b in g.edges))
    parts = nx.community.louvain_communities(ordered, seed=LAYOUT_SEED)
    ranked = sorted((sorted(part) for part in parts), key=lambda part: (-len(part), part[0]))
    return {node: i for i, part in enumerate(ranked) for node in part}


def _community_layout(g: nx.Graph, communities: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """The layout of a view that opens in clusters: the communities first (a spring layout of the graph of
    communities, then pushed apart until no two discs overlap), each community's nodes in its own disc.

    A collapsed cluster is drawn where its nodes are, so the clusters do not pile up in the middle (where a
    layout of the whole graph puts every community that shares hubs), and opened they stay apart.
    """
    parts: dict[int, list[str]] = defaultdict(list)
    for node in sorted(g.nodes):
        parts[communities[node]].append(node)
    between = nx.Graph()
    between.add_nodes_from(sorted(parts))
    for a, b in sorted((min(a, b), max(a, b)) for a, b in g.edges):
        ca, cb = communities[a], communities[b]
        if ca != cb:
            weight = between.get_edge_data(ca, cb, {"weight": 0})["weight"]
            between.add_edge(ca, cb, weight=weight + 1)
    unit = 60.0  # a disc's radius is unit * sqrt(its nodes): about the room a node takes in _layout
    radius = {c: unit * math.sqrt(len(members)) for c, members in parts.items()}
    spread = unit * math.sqrt(g.number_of_nodes()) * 1.6
    start = nx.spring_layout(between, seed=LAYOUT_SEED, iterations=100, weight="weight")
    centre = {c: [float(x) * spread, float(y) * spread] for c, (x, y) in start.items()}
    order = sorted(parts)
    for _round in range(200):  # push overlapping discs apart, each by half the overlap
        moved = False
        for i, a in enumerate(order):
            for b in order[i + 1 :]:
                dx, dy = centre[b][0] - centre[a][0], centre[b][1] - centre[a][1]
                distance = math.hypot(dx, dy) or 1e-6
                overlap = radius[a] + radius[b] + 2 * unit - distance
                if overlap > 0:
                    ux, uy = (dx / distance, dy / distance) if distance > 1e-6 else (1.0, 0.0)
                    centre[a][0] -= ux * overlap / 2
                    centre[a][1] -= uy * overlap / 2
                    centre[b][0] += ux * overlap / 2
                    centre[b][1] += uy * overlap / 2
                    moved = True
        if not moved:
            break
    positions: dict[str, tuple[int, int]] = {}
    for c, members in parts.items():
        inner = _layout(g.subgraph(members))
        reach = max((math.hypot(x, y) for x, y in inner.values()), default=0.0) or 1.0
        cx, cy = centre[c]
        for node, (x, y) in inner.items():
            positions[node] = (round(cx + x * radius[c] / reach), round(cy + y * radius[c] / reach))
    return positions


def _hubs(g: nx.Graph) -> set[str]:
    """The nodes whose labels the page keeps legible however far it zooms out.

    Member states, documents when there are a few, then the most linked of the rest: the concepts,
    whose names say what the graph is about (a wall of document dates would not).
    """
    docs = _of_kind(g, "document")
    first = set(_of_kind(g, "member-state")) | (set(docs) if len(docs) <= 8 else set())
    ranked = sorted((n for n, k in g.nodes(data="kind") if k not in {"recommendation", "value", "document"}),
                    key=lambda n: (n not in first, -g.degree(n, weight="weight"), n))
    return first | set(ranked[: max(HUB_LABELS - len(first), 0)])


def _document_anchors(g: nx.Graph) -> dict[str, tuple[int, int]]:
    """Documents pinned on a ring while physics runs: each pulls its recommendations to its own side.

    Left free, every document settles at the centre of the graph (its recommendations mention
    everything) and its box hides the labels there; pinned apart, the view reads "who says what".
    """
    docs = sorted((n for n, k in g.nodes(data="kind") if k == "document"),
                  key=lambda n: (g.nodes[n]["origins"], g.nodes[n]["label"], n))
    if not 2 <= len(docs) <= 60:
        return {}
    radius = 95 * math.sqrt(g.number_of_nodes())
    return {d: (round(radius * math.cos(math.pi - 2 * math.pi * i / len(docs))),
                round(-radius * math.sin(math.pi - 2 * math.pi * i / len(docs)))) for i, d in enumerate(docs)}


def _node_styles(g: nx.Graph) -> dict[str, NodeStyle]:
    """The styles of this view: documents are labelled boxes when few, small markers when many."""
    if len(_of_kind(g, "document")) <= 8:
        return NODE_STYLES
    return {**NODE_STYLES, "document": replace(NODE_STYLES["document"], shape="triangleDown", size=14, font=15)}


def _node_options(g: nx.Graph, node: str, position: tuple[int, int], styles: Mapping[str, NodeStyle]) -> dict[str, Any]:
    attrs = g.nodes[node]
    kind = attrs["kind"]
    style = styles.get(kind, styles["other"])
    degree = g.degree(node)
    options: dict[str, Any] = {
        "shape": style.shape,
        "color": {"background": style.color, "border": _darker(style.color),
                  "highlight": {"background": style.color, "border": "#000000"},
                  "hover": {"background": style.color, "border": "#000000"}},
        "x": position[0],
        "y": position[1],
        "kind": kind,
        "name": attrs["label"],  # the label unwrapped: what search and the datalist match
        "tip": attrs["tip"],
        "origins": attrs.get("origins", []),
    }
    # the side panel's reading (recommendations) and what the filters match (recommendations, documents)
    for key in ("doc", "facets", "read"):
        if key in attrs:
            options[key] = attrs[key]
    if style.shape == "box":
        options["font"] = {"size": style.font, "color": "#FFFFFF", "face": "sans-serif"}
        options["margin"] = 8
    else:
        grow = math.sqrt(max(degree, 1))
        options["size"] = round(style.size + (2.2 * grow if kind != "recommendation" else 0.8 * grow), 1)
        # label size grows with the number of links; with the draw threshold below, a zoomed-out view
        # labels its hubs and leaves the rest to hover and zoom (readable rather than a wall of text)
        font = style.font if kind in {"recommendation", "other", "value"} else min(
            style.font + 6 * math.sqrt(max(degree - 1, 0)), 46)
        options["font"] = {"size": round(font), "face": "sans-serif", "strokeWidth": 4, "strokeColor": "#FFFFFF"}
        options["mass"] = 1 if kind == "recommendation" else round(3 + degree / 4, 2)
        if kind == "member-state":
            options["mass"] = min(4 + degree, 12)  # hubs push each other apart: what they share sits between
    return options


def _wrap(label: str, width: int = 24, lines: int = 3) -> str:
    """A long label on up to three short lines: long single-line labels are what overlap in a network."""
    parts = textwrap.wrap(" ".join(label.split()), width=width, break_long_words=False) or [label]
    if len(parts) > lines:
        parts = [*parts[: lines - 1], _clip(" ".join(parts[lines - 1 :]), width)]
    return "\n".join(parts)


def _darker(color: str, factor: float = 0.7) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02X}{:02X}{:02X}".format(*(round(c * factor) for c in (r, g, b)))


def _edge_options(attrs: Mapping[str, Any], styles: Mapping[str, EdgeStyle], index: int) -> dict[str, Any]:
    kind = attrs["kind"]
    style = styles.get(kind) or EDGE_STYLES.get(kind) or EdgeStyle(kind, "#7F7F7F")
    color = NODE_STYLES[attrs["target_kind"]].color if kind == "mentions" and "target_kind" in attrs else style.color
    options: dict[str, Any] = {
        "id": f"e{index}",
        "kind": kind,
        "tip": attrs["tip"],
        "color": {"color": color, "opacity": 0.3 if kind in {"mentions", "contains"} else 0.9,
                  "highlight": "#000000", "hover": "#000000"},
        "width": style.width,
        "length": style.length,
        "arrows": "",
    }
    if style.dashes:
        options["dashes"] = True
    if attrs.get("recs"):
        options["recs"] = attrs["recs"]
    weight = attrs.get("weight")
    if weight is not None and kind != "issued":
        options["width"] = round(style.width + 1.6 * math.sqrt(max(float(weight), 0)) - 1, 2)
        options["weight"] = weight
    return options


def vis_options(nodes: int, *, physics: bool = True) -> dict[str, Any]:
    """vis-network options: the networkx layout is drawn at once (no stabilisation before the first drawing);
    physics refines it for at most PHYSICS_MS, then the page switches it off."""
    physics = physics and nodes <= PHYSICS_MAX_NODES
    return {
        "autoResize": True,
        "layout": {"randomSeed": LAYOUT_SEED, "improvedLayout": False},
        "physics": {
            "enabled": physics,
            "solver": "forceAtlas2Based",
            "forceAtlas2Based": {"gravitationalConstant": -45, "centralGravity": 0.015, "springLength": 90,
                                 "springConstant": 0.06, "damping": 0.6, "avoidOverlap": 1.0},
            "stabilization": {"enabled": False},
            "minVelocity": 1.0,
            "maxVelocity": 40,
        },
        "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": nodes > 300,
                        "hideEdgesOnZoom": nodes > 300, "navigationButtons": False,
                        "keyboard": {"enabled": True, "bindToWindow": False, "autoFocus": False},
                        "multiselect": False},
        "edges": {"smooth": False, "selectionWidth": 2, "hoverWidth": 1.5},
        "nodes": {"borderWidth": 1.5, "borderWidthSelected": 3, "labelHighlightBold": True,
                  "scaling": {"label": {"drawThreshold": LABEL_DRAW_THRESHOLD,
                                                "maxVisible": MAX_LABEL_PX + 6}}},
    }


@cache
def _assets() -> tuple[str, str]:
    """vis-network's JavaScript and CSS as shipped inside the pyvis wheel (inlined: no CDN, no network)."""
    import pyvis  # lazy, as in render(): only the HTML needs it

    folder = Path(pyvis.__file__).resolve().parent / "templates" / "lib" / "vis-9.1.2"
    js = (folder / "vis-network.min.js").read_text(encoding="utf-8")
    css = (folder / "vis-network.css").read_text(encoding="utf-8")
    if "</script" in js.lower() or "</style" in css.lower():  # pragma: no cover - a different pyvis build
        raise ViewError(f"{folder}: vis-network cannot be inlined safely (contains a closing tag)")
    return js, css


def script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element: no `</script>`, `<!--`, `&` or line separators survive."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


@dataclass(frozen=True)
class Rendered:
    """The HTML of a view and what it holds (for the CLI's report and the tests)."""

    name: str
    html: str
    nodes: int
    edges: int

    @property
    def bytes(self) -> int:
        return len(self.html.encode("utf-8"))


def render(view: View, *, version: str) -> Rendered:
    """The view as one self-contained HTML page (same view and version: same bytes)."""
    # lazy: pyvis and jinja2 take ~150 ms to import, and `aflm-graph stats` reads the corpus without drawing it
    from markupsafe import Markup
    from pyvis.network import Network

    g = view.graph
    clustered = g.number_of_nodes() > CLUSTER_NODES
    physics = view.positions is None and g.number_of_nodes() <= PHYSICS_MAX_NODES and not clustered
    anchors = _document_anchors(g) if physics else {}
    communities = _communities(g) if clustered else {}
    if view.positions is not None:
        positions = view.positions
    elif communities:
        positions = _community_layout(g, communities)
    else:
        positions = _layout(g, anchors)
    kind_rank = {k: i for i, k in enumerate(NODE_STYLES)}
    order = sorted(g.nodes, key=lambda n: (kind_rank.get(g.nodes[n]["kind"], 99), g.nodes[n]["label"].lower(), n))
    # pyvis renders the node and edge options; directed=True only skips its quadratic duplicate-edge check
    net = Network(directed=True, cdn_resources="in_line")
    hubs = _hubs(g)
    node_styles = _node_styles(g)
    for node in order:
        label = _wrap(g.nodes[node]["label"] or node)
        options = _node_options(g, node, positions[node], node_styles)
        if node in hubs:
            options["hub"] = True
        if node in anchors:
            options["fixed"] = True
        if node in communities:
            options["cluster"] = communities[node]
        net.add_node(node, label=label, **options)
    styles = {**EDGE_STYLES, **view.edge_styles}
    rank = {n: i for i, n in enumerate(order)}
    edges = sorted(((a, b) if rank[a] <= rank[b] else (b, a) for a, b in g.edges),
                   key=lambda e: (rank[e[0]], rank[e[1]]))
    for i, (a, b) in enumerate(edges):
        net.add_edge(a, b, **_edge_options(g.edges[a, b], styles, i))
    net.options = vis_options(g.number_of_nodes(), physics=physics)
    nodes, edge_list, _heading, _height, _width, options = net.get_network_data()

    kinds_present = [k for k in NODE_STYLES if any(g.nodes[n]["kind"] == k for n in g.nodes)]
    kind_counts = {k: sum(1 for n in g.nodes if g.nodes[n]["kind"] == k) for k in kinds_present}
    edge_kinds = [k for k in styles if any(d["kind"] == k for _a, _b, d in g.edges(data=True))]
    origins = sorted({o for n in g.nodes for o in g.nodes[n].get("origins", [])})
    documents = {g.nodes[n]["docinfo"]["iri"]: g.nodes[n]["docinfo"] for n in order if "docinfo" in g.nodes[n]}
    # an aggregated link's recommendations, each written once for the page and named by its number
    recs: dict[tuple[str, str], int] = {}
    for edge in edge_list:
        if "recs" in edge:
            edge["recs"] = [recs.setdefault((iri, label), len(recs)) for iri, label in edge["recs"]]
    payload = {"nodes": nodes, "edges": edge_list, "options": json.loads(options), "documents": documents,
               "recs": [list(key) for key in recs], "name": view.name, "physics": physics, "physicsMs": PHYSICS_MS,
               "hubLabelPx": HUB_LABEL_PX, "clusterAbove": CLUSTER_NODES, "edgeHideZoom": EDGE_HIDE_ZOOM,
               "edgeHideAbove": EDGE_HIDE_ABOVE,
               "maxLabelPx": MAX_LABEL_PX, "base": BASE_IRI, "kindLabels": {k: s.label for k, s in node_styles.items()},
               "colors": {k: s.color for k, s in node_styles.items()}}
    js, css = _assets()
    html = _template().render(
        view=view,
        version=version,
        node_styles={k: node_styles[k] for k in kinds_present},
        kind_counts=kind_counts,
        edge_styles={k: styles[k] for k in edge_kinds},
        origins=origins,
        labels=sorted({n["name"] for n in nodes if n["kind"] != "recommendation"}
                      | {f"{n['origins'][0]} {n['name']}" for n in nodes
                         if n["kind"] == "recommendation" and n["origins"]}),
        table=view.table,
        data_json=Markup(script_json(payload)),
        vis_js=Markup(js),
        vis_css=Markup(css),
        shape_svg=_shape_svg,
        cell_color=_cell_color,
    )
    return Rendered(view.name, html, g.number_of_nodes(), g.number_of_edges())


@cache
def _template() -> jinja2.Template:
    """The page template, compiled once per process (a build renders a dozen views)."""
    import jinja2  # lazy, as in render()

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("view.html.j2")


def _shape_svg(shape: str, color: str) -> str:
    """The legend's swatch for a node shape: an inline SVG (colour and shape are our own constants)."""
    border = _darker(color)
    common = f'fill="{color}" stroke="{border}" stroke-width="1.5"'
    body = {
        "dot": f'<circle cx="9" cy="9" r="6.5" {common}/>',
        "ellipse": f'<ellipse cx="9" cy="9" rx="8" ry="5" {common}/>',
        "diamond": f'<polygon points="9,1.5 16.5,9 9,16.5 1.5,9" {common}/>',
        "triangle": f'<polygon points="9,2 16.5,15.5 1.5,15.5" {common}/>',
        "triangleDown": f'<polygon points="1.5,2.5 16.5,2.5 9,16" {common}/>',
        "square": f'<rect x="3" y="3" width="12" height="12" {common}/>',
        "box": f'<rect x="1" y="4" width="16" height="10" rx="2" {common}/>',
        "hexagon": f'<polygon points="5,2 13,2 17,9 13,16 5,16 1,9" {common}/>',
        "star": f'<polygon points="9,1 11.2,6.6 17,6.9 12.5,10.6 14,16.5 9,13.2 4,16.5 5.5,10.6 1,6.9 6.8,6.6" '
                f"{common}/>",
    }.get(shape, f'<circle cx="9" cy="9" r="6.5" {common}/>')
    return f'<svg class="swatch" width="18" height="18" viewBox="0 0 18 18" aria-hidden="true">{body}</svg>'


def _cell_color(count: int, maximum: int) -> str:
    if count <= 0 or maximum <= 0:
        return "#FFFFFF"
    share = 0.12 + 0.88 * count / maximum
    r, g, b = (round(255 - (255 - c) * share) for c in (0, 158, 115))
    return f"#{r:02X}{g:02X}{b:02X}"


# --- entry points


def make_view(
    corpus: Corpus,
    kind: str,
    arg: str | None = None,
    *,
    store: ox.Store | None = None,
    params: Mapping[str, str] | None = None,
) -> View:
    """The view of `kind` (see VIEW_KINDS) for a corpus; `arg` names the focus or the query (with its `params`)."""
    if kind == "overview":
        return overview_view(corpus)
    if kind == "compare":
        return compare_view(corpus)
    if kind in {"member-state", *CONCEPT_KINDS, "query"} and not arg:
        what = {"member-state": "a member state's name", "query": "a named query or a .rq file"}.get(kind, "a slug")
        raise ViewError(f"`view {kind}` needs {what}")
    assert arg is not None
    if kind == "member-state":
        return member_state_view(corpus, arg)
    if kind in CONCEPT_KINDS:
        return concept_view(corpus, kind, arg)
    if kind == "query":
        if store is None:
            raise ViewError("a query view needs the build's store")
        named = resolve(arg)
        result = run_embedded(store, named.text, bindings_for(named, params or {}))
        return query_view(corpus, result, name=named.name, summary=named.summary)
    raise ViewError(f"unknown view {kind!r} (one of {', '.join(VIEW_KINDS)})")


def build_views(store: ox.Store, *, version: str,
                details: ox.Store | Callable[[], ox.Store] | None = None) -> dict[str, Rendered]:
    """The views every build writes: the overview, compare and one per member state present.

    The corpus is read without the recommendations' words: the views that draw recommendations
    one by one read theirs (on a big build none does, and those words are most of the store), from
    `details` when given (a store or a function that makes one: the build's, see load_views_store).
    """
    with _no_collection():
        corpus = load_corpus(store, details=False, details_store=details)
        views = [overview_view(corpus), compare_view(corpus)]
        views += [member_state_view(corpus, iri) for iri in corpus.member_states]
    return {f"{v.name}.html": render(v, version=version) for v in views}


def write_view(
    kind: str,
    arg: str | None = None,
    *,
    build: Path = Path("build"),
    out: Path | None = None,
    params: Mapping[str, str] | None = None,
    force: bool = False,
) -> tuple[Path, Rendered]:
    """Render one view of a build into an HTML file (default: `<view name>.html` in the current folder).

    An existing file is replaced only when it is an .html file (or with `force`): fsutil.check_output_file.
    """
    if out is not None:
        check_output_file(out, suffixes=HTML_SUFFIXES, force=force)  # before the work, not after
    store = open_store(build)
    version = data_version(build)
    with _no_collection():
        view = make_view(load_corpus(store, details=False), kind, arg, store=store, params=params)
    rendered = render(view, version=version)
    path = out or Path(f"{view.name}.html")
    check_output_file(path, suffixes=HTML_SUFFIXES, force=force)
    atomic_write_bytes(path, rendered.html.encode("utf-8"))
    return path, rendered
