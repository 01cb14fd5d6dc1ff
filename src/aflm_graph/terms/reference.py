"""Reference data the pipeline resolves names against: member states and forum editions (ontology/reference.ttl)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox

from .namespaces import AFLM, RDF, SKOS
from .resources import ontology_dir


@dataclass(frozen=True)
class MemberStates:
    """Every spelling of a member state's name (lower-cased) -> its IRI, and each IRI's preferred label."""

    by_name: dict[str, str]
    labels: dict[str, str]

    def resolve(self, name: str) -> str | None:
        key = " ".join(name.replace("\u00a0", " ").split()).lower()
        if key in self.by_name:
            return self.by_name[key]
        return self.by_name.get(key.removeprefix("the "))


@cache
def member_states(path: Path | None = None) -> MemberStates:
    path = path or ontology_dir() / "reference.ttl"
    states: set[str] = set()
    names: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for triple in ox.parse(path=str(path)):
        subject, predicate, obj = triple.subject.value, triple.predicate.value, triple.object.value
        if predicate == RDF.type and obj == AFLM.MemberState:
            states.add(subject)
        elif predicate in (SKOS.prefLabel, SKOS.altLabel, SKOS.notation):
            names.setdefault(subject, []).append(obj)
            if predicate == SKOS.prefLabel:
                labels[subject] = obj
    by_name: dict[str, str] = {}
    for iri in sorted(states):
        for name in names.get(iri, ()):
            by_name[name.lower()] = iri
        by_name[iri.rsplit("/", 1)[-1]] = iri  # the slug itself
    return MemberStates(by_name=by_name, labels={k: v for k, v in labels.items() if k in states})


def theme_key(theme: str) -> str:
    """What two printings of a forum theme share when they are the same theme: case and spacing aside."""
    return " ".join(theme.split()).casefold()


@cache
def forum_themes(path: Path | None = None) -> dict[str, frozenset[str]]:
    """Forum edition IRI -> the `theme_key`s of the themes the reference data states for it."""
    path = path or ontology_dir() / "reference.ttl"
    themes: dict[str, set[str]] = {}
    for triple in ox.parse(path=str(path)):
        if triple.predicate.value == AFLM.forumTheme:
            themes.setdefault(triple.subject.value, set()).add(theme_key(triple.object.value))
    return {forum: frozenset(keys) for forum, keys in themes.items()}
