"""Load the four SKOS vocabularies (themes, actors, target groups, instruments) that drive annotation.

The vocabularies are Turtle files under ``ontology/vocab/``; they, not Python, hold every label
and pattern that makes a concept recognisable in text, so researchers can read, cite and extend
them. This module reads them with pyoxigraph (fast, no rdflib), checks them, and hands out plain
dataclasses:

- :class:`Concept` - one ``skos:Concept`` (slug, labels, definition, triggers, links out);
- :class:`ConceptPattern` - one ``aflm:ConceptPattern``: a regex with a named group ``n`` that
  recognises a whole family of concepts ("C189", "Convention No. 181", "SDG target 10.7") and the
  templates that mint the concept from the matched key (``ilo-c{n}``, ``ILO Convention No. {n}``);
- :class:`Vocabulary` - all of them, with :meth:`Vocabulary.concept` describing any concept an
  annotation can point to, including the ones only a pattern knows (``ilo-c100``).

Triggers are ``skos:altLabel`` / ``skos:hiddenLabel`` phrases and ``aflm:triggerPattern`` regexes
(Python ``re`` syntax, matched case-insensitively); ``skos:prefLabel`` is for display only, so a
curator decides exactly which wordings count. ``aflm:exclusionPattern`` regexes mark where a
concept's trigger words carry another sense ("lodging an appeal" is not housing, "adopted by the
ILO" does not address the ILO): a trigger match they overlap is dropped. How phrases are matched
(case, plurals, spelling variants, hyphens) is documented in :mod:`aflm_graph.enrich.annotate`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyoxigraph as ox

from .namespaces import AFLM, DCTERMS, OWL, RDF, RDFS, SKOS, VOCAB
from .resources import vocab_dir

KINDS: tuple[str, ...] = ("theme", "actor", "group", "instrument")
"""The four schemes, in the order reports list them; a scheme's IRI is namespaces.VOCAB + kind."""

_KEY_GROUP = re.compile(r"^n\d*$")  # n, n2, n3 ...: the keys a concept pattern captures, in order


def _group_source(pattern: str, name: str) -> str | None:
    """The source of the named group `name` inside `pattern` (its parenthesised body), or None."""
    start = pattern.find(f"(?P<{name}>")
    if start < 0:
        return None
    i, depth, body_start = start, 0, start + len(name) + 5
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":  # a character class: skip to its end, where ( and ) are literal
            i += 2 if pattern[i + 1 : i + 2] == "]" else 1
            while i < len(pattern) and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return pattern[body_start:i]
        i += 1
    return None


class VocabularyError(ValueError):
    """A vocabulary that cannot be used; the message names the file and the concept."""


@dataclass(frozen=True)
class Concept:
    """One concept of a scheme, as read from the vocabulary (or minted by a concept pattern)."""

    iri: str
    kind: str  # "theme" | "actor" | "group" | "instrument"
    slug: str
    scheme: str
    pref_label: str
    definition: str
    alt_labels: tuple[str, ...] = ()
    hidden_labels: tuple[str, ...] = ()
    trigger_patterns: tuple[str, ...] = ()  # Python re syntax, matched case-insensitively
    exclusion_patterns: tuple[str, ...] = ()  # where the triggers carry another sense (same syntax)
    broader: tuple[str, ...] = ()
    top_concept: bool = False
    exact_match: tuple[str, ...] = ()
    see_also: tuple[str, ...] = ()
    instrument_kind: str | None = None
    title: str | None = None  # dcterms:title (an instrument's official title)
    issued: str | None = None  # dcterms:issued, a year
    deprecated: bool = False
    source: str | None = None  # the file it was read from; None when minted by a pattern
    minted_by: str | None = None  # IRI of the concept pattern that minted it

    @property
    def triggers(self) -> tuple[str, ...]:
        """The plain phrases that mention the concept (alt and hidden labels)."""
        return self.alt_labels + self.hidden_labels


@dataclass(frozen=True)
class ConceptPattern:
    """A family of concepts recognised by one regex; the named group ``n`` is the concept's key."""

    iri: str
    kind: str
    scheme: str
    pref_label: str
    definition: str
    trigger_patterns: tuple[str, ...]
    slug_template: str
    label_template: str
    match_template: str | None = None
    see_also_template: str | None = None
    instrument_kind: str | None = None
    source: str | None = None
    _slug_rx: re.Pattern[str] = field(init=False, repr=False, compare=False)

    _key_rxs: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        head, _, tail = self.slug_template.partition("{n}")
        object.__setattr__(self, "_slug_rx", re.compile(re.escape(head) + r"(?P<n>[0-9a-z.]+)" + re.escape(tail)))
        # What group n itself accepts, so that two patterns sharing a slug template (SDG goals and
        # targets: "sdg-{n}") each mint only their own keys.
        shapes = {_group_source(p, "n") for p in self.trigger_patterns}
        object.__setattr__(
            self, "_key_rxs", tuple(re.compile(s, re.IGNORECASE) for s in sorted(x for x in shapes if x is not None))
        )

    @staticmethod
    def canonical_key(raw: str) -> str:
        """One spelling per key: leading zeros dropped ("029" -> "29"), letters lower-cased ("10.C" -> "10.c")."""
        parts = raw.strip().lower().split(".")
        return ".".join(str(int(p)) if p.isdigit() else p for p in parts)

    def _fill(self, template: str, key: str) -> str:
        value: int | str = int(key) if key.isdigit() else key
        try:
            return template.format(n=value)
        except (ValueError, KeyError, IndexError) as exc:
            raise VocabularyError(
                f"{self.source}: concept pattern <{self.iri}>: template {template!r} cannot take key {key!r}: {exc}"
            ) from None

    def slug(self, key: str) -> str:
        return self._fill(self.slug_template, self.canonical_key(key))

    def concept_iri(self, key: str) -> str:
        return f"{self.scheme}/{self.slug(key)}"

    def key_for_slug(self, slug: str) -> str | None:
        """The key whose slug this is, or None when this pattern cannot mint it."""
        m = self._slug_rx.fullmatch(slug)
        if not m:
            return None
        key = self.canonical_key(m["n"])
        if self._key_rxs and not any(rx.fullmatch(key) for rx in self._key_rxs):
            return None
        return key if self.slug(key) == slug else None

    def mint(self, key: str) -> Concept:
        """The concept for `key`, described only from the templates (no curated labels)."""
        key = self.canonical_key(key)
        return Concept(
            iri=self.concept_iri(key),
            kind=self.kind,
            slug=self.slug(key),
            scheme=self.scheme,
            pref_label=self._fill(self.label_template, key),
            definition=f"{self._fill(self.label_template, key)}. {self.definition}",
            top_concept=True,
            exact_match=(self._fill(self.match_template, key),) if self.match_template else (),
            see_also=(self._fill(self.see_also_template, key),) if self.see_also_template else (),
            instrument_kind=self.instrument_kind,
            minted_by=self.iri,
        )


@dataclass(eq=False)
class Vocabulary:
    """All concepts and concept patterns of the loaded files (hashable by identity, for caches)."""

    concepts: dict[str, Concept]  # IRI -> concept, in IRI order
    patterns: tuple[ConceptPattern, ...]
    schemes: dict[str, str]  # kind -> scheme IRI
    sources: tuple[Path, ...] = ()

    def __iter__(self) -> Iterator[Concept]:
        return iter(self.concepts.values())

    def __len__(self) -> int:
        return len(self.concepts)

    def __contains__(self, iri: object) -> bool:
        return isinstance(iri, str) and (iri in self.concepts or self._mintable(iri) is not None)

    def iri(self, kind: str, slug: str) -> str:
        """The IRI of the concept `slug` of scheme `kind` (whether or not it exists)."""
        return f"{self.schemes.get(kind, VOCAB + kind)}/{slug}"

    def of_kind(self, kind: str) -> tuple[Concept, ...]:
        return tuple(c for c in self.concepts.values() if c.kind == kind)

    def by_slug(self, kind: str, slug: str) -> Concept:
        return self.concept(self.iri(kind, slug))

    def concept(self, iri: str) -> Concept:
        """The concept `iri` names: a listed one, or one minted by a concept pattern (KeyError if neither)."""
        found = self.concepts.get(iri)
        if found is not None:
            return found
        minted = self._mintable(iri)
        if minted is None:
            raise KeyError(f"no concept <{iri}> in the vocabulary and no concept pattern mints it")
        pattern, key = minted
        return pattern.mint(key)

    def _mintable(self, iri: str) -> tuple[ConceptPattern, str] | None:
        scheme, _, slug = iri.rpartition("/")
        for pattern in self.patterns:
            if pattern.scheme == scheme:
                key = pattern.key_for_slug(slug)
                if key is not None:
                    return pattern, key
        return None


# --------------------------------------------------------------------------- loading


def default_vocab_dir() -> Path:
    """ontology/vocab/ of the checkout or the installed package."""
    return vocab_dir()


def load_vocabulary(paths: Sequence[Path] | None = None) -> Vocabulary:
    """Read and check the vocabulary files (default: every ``*.ttl`` under ``ontology/vocab/``)."""
    files = sorted(default_vocab_dir().glob("*.ttl")) if paths is None else [Path(p) for p in paths]
    if not files:
        raise VocabularyError(f"{default_vocab_dir()}: no vocabulary files (*.ttl)")
    subjects: dict[str, dict[str, list[ox.NamedNode | ox.Literal]]] = {}
    origin: dict[str, str] = {}
    for path in files:
        try:
            triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
        except (SyntaxError, OSError, ValueError) as exc:
            raise VocabularyError(f"{path}: cannot read the vocabulary: {exc}") from None
        for t in triples:
            if not isinstance(t.subject, ox.NamedNode) or isinstance(t.object, ox.BlankNode | ox.Triple):
                continue
            s = t.subject.value
            origin.setdefault(s, str(path))
            subjects.setdefault(s, {}).setdefault(t.predicate.value, []).append(t.object)
    return _build(subjects, origin, tuple(files))


def _iris(props: dict[str, list[ox.NamedNode | ox.Literal]], pred: str) -> tuple[str, ...]:
    return tuple(sorted(o.value for o in props.get(pred, ()) if isinstance(o, ox.NamedNode)))


def _texts(props: dict[str, list[ox.NamedNode | ox.Literal]], pred: str, *, english: bool = False) -> list[str]:
    out = []
    for o in props.get(pred, ()):
        if isinstance(o, ox.Literal) and (not english or (o.language or "en").lower().startswith("en")):
            out.append(o.value)
    return out


def _one(values: list[str], where: str, what: str, *, required: bool = True) -> str | None:
    if len(values) > 1:
        raise VocabularyError(f"{where}: more than one {what}: {sorted(values)}")
    if not values:
        if required:
            raise VocabularyError(f"{where}: no {what}")
        return None
    if required and not values[0].strip():
        raise VocabularyError(f"{where}: empty {what}")
    return values[0]


def _compile_check(pattern: str, where: str, *, key_groups: bool, prop: str = "aflm:triggerPattern") -> None:
    try:
        rx = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise VocabularyError(f"{where}: invalid {prop} {pattern!r}: {exc}") from None
    names = set(rx.groupindex)
    if key_groups:
        if "n" not in names:
            raise VocabularyError(f"{where}: aflm:triggerPattern {pattern!r} has no named group (?P<n>...)")
        bad = sorted(n for n in names if not _KEY_GROUP.match(n))
        if bad:
            raise VocabularyError(
                f"{where}: aflm:triggerPattern {pattern!r}: named groups other than n, n2, ...: {bad}"
            )
    elif names:
        raise VocabularyError(f"{where}: {prop} {pattern!r} of a concept may not use named groups {sorted(names)}")
    if rx.match(""):
        raise VocabularyError(f"{where}: {prop} {pattern!r} matches the empty string")


def _fold_chars() -> dict[int, str]:
    """Length-preserving folding shared with the annotator: quotes, dashes, spaces, accents."""
    table: dict[int, str] = {}
    for cp in (0x2018, 0x2019, 0x201A, 0x201B, 0x2032, 0x02BC, 0x0060, 0x00B4):
        table[cp] = "'"
    for cp in (0x201C, 0x201D, 0x201E, 0x201F, 0x2033):
        table[cp] = '"'
    for cp in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xFE63, 0xFF0D):
        table[cp] = "-"
    for cp in (0x00A0, 0x2007, 0x202F, 0x2009, 0x200A, 0x2002, 0x2003, 0x3000):
        table[cp] = " "
    for cp in range(0xC0, 0x250):
        base = unicodedata.normalize("NFD", chr(cp))
        if (
            len(base) > 1
            and base[0].isascii()
            and base[0].isalpha()
            and all(unicodedata.combining(c) for c in base[1:])
        ):
            table[cp] = base[0]
    return table


FOLD_TABLE: dict[int, str] = _fold_chars()
"""str.translate table that folds text without changing its length (offsets stay valid)."""


def fold(text: str) -> str:
    """Quotes, dashes, odd spaces and accented Latin letters to ASCII, one character for one."""
    return text if text.isascii() else text.translate(FOLD_TABLE)


def trigger_key(phrase: str) -> str:
    """What two phrases must share to count as the same trigger: case, accents, spacing, hyphens, apostrophes."""
    return re.sub(r"[\s\-']+", "", fold(phrase).casefold())


def _build(
    subjects: dict[str, dict[str, list[ox.NamedNode | ox.Literal]]],
    origin: dict[str, str],
    files: tuple[Path, ...],
) -> Vocabulary:
    schemes: dict[str, str] = {}
    for s, props in subjects.items():
        if SKOS.ConceptScheme in _iris(props, RDF.type):
            kind = s.rstrip("/").rsplit("/", 1)[-1]
            schemes[kind] = s
    kind_of_scheme = {iri: kind for kind, iri in schemes.items()}

    concepts: dict[str, Concept] = {}
    patterns: list[ConceptPattern] = []
    for s in sorted(subjects):
        props = subjects[s]
        types = _iris(props, RDF.type)
        is_concept = SKOS.Concept in types
        is_pattern = AFLM.ConceptPattern in types
        if not (is_concept or is_pattern):
            continue
        where = f"{origin[s]}: {'concept' if is_concept else 'concept pattern'} <{s}>"
        pref = _one(_texts(props, SKOS.prefLabel, english=True), where, "skos:prefLabel@en")
        definition = _one(_texts(props, SKOS.definition, english=True), where, "skos:definition@en")
        assert pref is not None and definition is not None
        instrument_kind = _one(_texts(props, AFLM.instrumentKind), where, "aflm:instrumentKind", required=False)
        trigger_patterns = tuple(_texts(props, AFLM.triggerPattern))
        for p in trigger_patterns:
            _compile_check(p, where, key_groups=is_pattern)
        exclusion_patterns = tuple(sorted(_texts(props, AFLM.exclusionPattern)))
        if exclusion_patterns and not is_concept:
            raise VocabularyError(f"{where}: aflm:exclusionPattern is for concepts, not concept patterns")
        for p in exclusion_patterns:
            _compile_check(p, where, key_groups=False, prop="aflm:exclusionPattern")
        if (
            exclusion_patterns
            and SKOS.Concept in types
            and not (_texts(props, SKOS.altLabel) or _texts(props, SKOS.hiddenLabel) or trigger_patterns)
        ):
            raise VocabularyError(f"{where}: aflm:exclusionPattern without any trigger to exclude")
        if is_pattern:
            defined_by = [i for i in _iris(props, RDFS.isDefinedBy) if i in kind_of_scheme]
            if len(defined_by) != 1:
                raise VocabularyError(
                    f"{where}: needs rdfs:isDefinedBy exactly one of the schemes {sorted(schemes.values())}"
                )
            if not trigger_patterns:
                raise VocabularyError(f"{where}: no aflm:triggerPattern")
            slug_t = _one(_texts(props, AFLM.slugTemplate), where, "aflm:slugTemplate")
            label_t = _one(_texts(props, AFLM.labelTemplate), where, "aflm:labelTemplate")
            assert slug_t is not None and label_t is not None
            if slug_t.count("{n}") != 1:
                raise VocabularyError(f"{where}: aflm:slugTemplate {slug_t!r} must contain {{n}} exactly once")
            patterns.append(
                ConceptPattern(
                    iri=s,
                    kind=kind_of_scheme[defined_by[0]],
                    scheme=defined_by[0],
                    pref_label=pref,
                    definition=definition,
                    trigger_patterns=trigger_patterns,
                    slug_template=slug_t,
                    label_template=label_t,
                    match_template=_one(
                        _texts(props, AFLM.matchTemplate), where, "aflm:matchTemplate", required=False
                    ),
                    see_also_template=_one(
                        _texts(props, AFLM.seeAlsoTemplate), where, "aflm:seeAlsoTemplate", required=False
                    ),
                    instrument_kind=instrument_kind,
                    source=origin[s],
                )
            )
            continue
        in_scheme = [i for i in _iris(props, SKOS.inScheme) if i in kind_of_scheme]
        if len(in_scheme) != 1:
            raise VocabularyError(f"{where}: needs skos:inScheme exactly one of the schemes {sorted(schemes.values())}")
        scheme = in_scheme[0]
        if not s.startswith(scheme + "/"):
            raise VocabularyError(f"{where}: the IRI is not under its scheme <{scheme}>")
        top = scheme in _iris(props, SKOS.topConceptOf)
        broader = _iris(props, SKOS.broader)
        if not top and not broader:
            raise VocabularyError(f"{where}: has neither skos:topConceptOf nor skos:broader")
        issued = _one(_texts(props, DCTERMS.issued), where, "dcterms:issued", required=False)
        concepts[s] = Concept(
            iri=s,
            kind=kind_of_scheme[scheme],
            slug=s[len(scheme) + 1 :],
            scheme=scheme,
            pref_label=pref,
            definition=definition,
            alt_labels=tuple(sorted(_texts(props, SKOS.altLabel, english=True))),
            hidden_labels=tuple(sorted(_texts(props, SKOS.hiddenLabel, english=True))),
            trigger_patterns=trigger_patterns,
            exclusion_patterns=exclusion_patterns,
            broader=broader,
            top_concept=top,
            exact_match=_iris(props, SKOS.exactMatch),
            see_also=_iris(props, RDFS.seeAlso),
            instrument_kind=instrument_kind,
            title=_one(_texts(props, DCTERMS.title, english=True), where, "dcterms:title", required=False),
            issued=issued,
            deprecated=any(v.lower() == "true" for v in _texts(props, OWL.deprecated)),
            source=origin[s],
        )

    vocabulary = Vocabulary(
        concepts=dict(sorted(concepts.items())), patterns=tuple(patterns), schemes=schemes, sources=files
    )
    _check(vocabulary)
    return vocabulary


def _check(vocabulary: Vocabulary) -> None:
    """Cross-concept rules: broader targets exist, every concept can be found, no trigger is used twice in a scheme."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}  # (scheme, key) -> (concept, phrase)
    for c in vocabulary:
        where = f"{c.source}: concept <{c.iri}>"
        for b in c.broader:
            if b not in vocabulary.concepts:
                raise VocabularyError(f"{where}: skos:broader <{b}> is not a concept of the vocabulary")
        if not (c.triggers or c.trigger_patterns or c.deprecated) and vocabulary._mintable(c.iri) is None:
            raise VocabularyError(f"{where}: no trigger (skos:altLabel, skos:hiddenLabel or aflm:triggerPattern)")
        for phrase in c.triggers:
            key = trigger_key(phrase)
            if not key:
                raise VocabularyError(f"{where}: empty trigger label {phrase!r}")
            other = seen.get((c.scheme, key))
            if other is not None:
                raise VocabularyError(f"{where}: duplicated trigger {phrase!r} (already {other[1]!r} of <{other[0]}>)")
            seen[(c.scheme, key)] = (c.iri, phrase)
        for p in c.trigger_patterns:
            other = seen.get((c.scheme, "re:" + p))
            if other is not None:
                raise VocabularyError(f"{where}: duplicated aflm:triggerPattern {p!r} (already of <{other[0]}>)")
            seen[(c.scheme, "re:" + p)] = (c.iri, p)


def with_concepts(vocabulary: Vocabulary, *concepts: Concept) -> Vocabulary:
    """A copy of `vocabulary` with extra or replaced concepts (for tests and experiments), checked again."""
    merged = dict(vocabulary.concepts)
    for c in concepts:
        merged[c.iri] = replace(c)
    result = Vocabulary(dict(sorted(merged.items())), vocabulary.patterns, dict(vocabulary.schemes), vocabulary.sources)
    _check(result)
    return result


@dataclass(frozen=True)
class Collection:
    """A skos:Collection of a vocabulary (a group of concepts, such as the ILO conventions) and its members."""

    iri: str
    slug: str
    pref_label: str
    members: tuple[str, ...]


def load_collections(paths: Sequence[Path] | None = None) -> tuple[Collection, ...]:
    """The skos:Collection resources of the vocabulary files (default: every ``*.ttl`` under ``ontology/vocab/``)."""
    files = sorted(default_vocab_dir().glob("*.ttl")) if paths is None else [Path(p) for p in paths]
    found: dict[str, dict[str, list[str]]] = {}
    for path in files:
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            if isinstance(t.subject, ox.NamedNode):
                found.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(t.object.value)
    out = []
    for iri, props in sorted(found.items()):
        if SKOS.NS + "Collection" in props.get(RDF.type, ()):
            label = next(iter(props.get(SKOS.prefLabel, ())), iri.rsplit("/", 1)[-1])
            out.append(Collection(iri, iri.rsplit("/", 1)[-1], label, tuple(sorted(props.get(SKOS.NS + "member", ())))))
    return tuple(out)
