"""How one document is read: `aflm-graph inspect FILE`.

`inspect_file` parses a .txt or .pdf document (with its sidecar) and returns an `Inspection`: the
Document itself and the lines of a report -- title, issuer with the reason for it, forum, date
(a range where the meeting ran over days), place, the sub-themes, every item with its first words,
the footnotes and markers set aside, the page furniture removed, the sidecar's fields and the
warnings.  `format_inspection` renders it with every control character escaped (the text of a
document is untrusted: it must not drive the terminal).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..safetext import printable
from .parse import Document, parse_file
from .pdf import PdfLimits

__all__ = ["FIRST_WORDS", "Inspection", "format_inspection", "inspect_file"]

FIRST_WORDS = 8
"""How many words of each item the report shows."""


@dataclass(frozen=True)
class Inspection:
    """A parsed document and the report of how it was read."""

    path: str
    document: Document


def inspect_file(path: Path, *, pdf_limits: PdfLimits | None = None) -> Inspection:
    """Parse `path` (raising ParseError as parse_file does) and keep what is needed to report on it."""
    return Inspection(str(path), parse_file(Path(path), pdf_limits=pdf_limits))


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _words(text: str, n: int = FIRST_WORDS) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def report_lines(result: Inspection) -> list[str]:
    """The report, one line per entry (not yet escaped)."""
    d = result.document
    r = d.reading
    out = [
        f"file: {result.path} ({d.source_format}, {len(d.recommendations)} items, sha256 {d.sha256[:12]}…)",
        f"id: {d.id}",
        f"title: {d.title or '(none)'}  [{r.title_reason}]",
        f"issuer: {d.issuer or 'unknown'}  [{r.issuer_reason}]",
        f"member state: {d.member_state or '(none)'}",
        f"forum: {f'{d.forum_edition}th AFML' if d.forum_edition else '(not stated)'}"
        + (f"; theme: {d.theme}" if d.theme else ""),
        "date: " + (f"{d.date} to {d.date_end}" if d.date and d.date_end else d.date or "(not stated)"),
        f"place: {d.place or '(not stated)'}; mode: {d.mode or '(not stated)'}",
    ]
    if r.sidecar:
        out.append("sidecar: " + "; ".join(r.sidecar))
    out.extend(f"note: {n}" for n in d.notes)
    out.append(f"sub-themes ({len(d.subthemes)}):")
    out.extend(f"  {s.label}: {s.title}" for s in d.subthemes)
    out.append(f"items ({len(d.recommendations)}):")
    for rec in d.recommendations:
        where = f"{rec.subtheme}/" if rec.subtheme is not None else ""
        out.append(f"  {where}{rec.label}  {_words(rec.text)}")
    if d.preamble:
        out.append(f"preamble (set aside): {_words(d.preamble, 20)}")
    out.extend(f"closing statement (set aside): {c}" for c in d.closing)
    out.append(f"footnotes set aside ({len(r.footnotes)}):")
    out.extend(f"  [{f.label}] page {f.page}: {f.text}" for f in r.footnotes)
    if r.markers:
        out.append(f"footnote markers removed ({len(r.markers)}):")
        out.extend(f"  [{m.label}] page {m.page}, {m.how}, after {m.after!r}" for m in r.markers)
    out.append(f"page furniture removed ({len(r.furniture)}):")
    out.extend(f"  page {f.page}: {f.why}: {f.text}" for f in r.furniture)
    if r.columns:
        out.append("read as two columns: page " + ", ".join(map(str, r.columns)))
    out.append(f"warnings ({len(r.warnings)}):")
    out.extend(f"  {w}" for w in r.warnings)
    return out


def format_inspection(result: Inspection) -> str:
    """The report as text, every control character escaped."""
    return "\n".join(printable(line) for line in report_lines(result)) + "\n"
