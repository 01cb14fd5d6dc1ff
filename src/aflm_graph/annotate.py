"""Find vocabulary concepts (themes, actors, target groups, instruments) in recommendation text."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Mention:
    """One concept found in one recommendation text, with the words that justify it."""

    start: int  # offset of the evidence in the recommendation text (code points)
    end: int  # exclusive
    kind: str  # "theme" | "actor" | "group" | "instrument"
    concept: str  # concept IRI
    evidence: str  # == text[start:end]
