"""Parse recommendation documents (text or PDF) into plain dataclasses.

This stage knows nothing of RDF: it reads characters and returns data that the
later stages (annotate, link, build) turn into a graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class ParseError(ValueError):
    """A document that cannot be parsed; the message names the file, the place and what was expected."""

    def __init__(self, source: str | Path, message: str, *, line: int | None = None) -> None:
        self.source = str(source)
        self.line = line
        place = f"{self.source}:{line}" if line is not None else self.source
        super().__init__(f"{place}: {message}")


@dataclass(frozen=True)
class Span:
    """Half-open character range [start, end) in the decoded source text (code points)."""

    start: int
    end: int


@dataclass(frozen=True)
class SubTheme:
    label: str  # as printed: "1", "II", "A"
    title: str  # full title, joined across wrapped lines
    position: int  # 1-based order in the document
    preamble: str | None = None  # unnumbered sentence under the heading, if any
    span: Span | None = None


@dataclass(frozen=True)
class Recommendation:
    label: str  # as printed: "1", "a", "iv"
    subtheme: str | None  # label of its sub-theme, None when the document has none
    position: int  # 1-based order in the document
    text: str  # full text, line breaks / hyphenation / furniture repaired
    span: Span  # from the first character of the label to the last character of the text


@dataclass(frozen=True)
class DocumentMeta:
    """What a curator states in a `<file>.meta.toml` sidecar (all optional)."""

    id: str | None = None
    title: str | None = None
    member_state: str | None = None  # a name as written: "Cambodia", "Viet Nam"
    issuer: str | None = None  # "unknown" when the source does not say
    forum_edition: int | None = None
    date: str | None = None  # ISO 8601 yyyy-mm-dd
    place: str | None = None
    mode: str | None = None  # "online", "in person", "hybrid"
    source: str | None = None  # where the document came from
    notes: str | None = None


@dataclass(frozen=True)
class Document:
    source_file: str  # file name (no directories)
    sha256: str  # of the raw bytes
    id: str  # stable document id (sidecar id, else slug of the file stem)
    title: str | None
    forum_edition: int | None
    date: str | None  # ISO 8601
    place: str | None
    mode: str | None
    member_state: str | None  # name as stated in the text or the sidecar
    issuer: str | None  # "unknown" when not stated
    theme: str | None  # forum theme as printed, if stated
    subthemes: tuple[SubTheme, ...] = ()
    recommendations: tuple[Recommendation, ...] = ()
    text: str = field(default="", repr=False)  # decoded source text that spans refer to
    source_format: str = "text"  # "text" or "pdf"
