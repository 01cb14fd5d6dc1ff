"""PDF page layout: characters with positions -> lines in reading order -> clean text and what was set aside.

Two steps, both plain functions over plain data (no PDF library here, so both are testable on their own):

* `assemble_rows` (run in the extractor's child process, on pdfminer.six's characters) groups the
  characters of a page into lines, splits a two-column page at its gutter and reads each band
  left column first, inserts the spaces a PDF leaves implicit, and takes superscript characters
  (smaller and raised above the baseline) out of the text as footnote markers.
* `clean_pages` (run in the parent) removes page furniture -- page numbers ("Page N of M", "N",
  "N/M", "- N -") at a page's top or bottom, and running headers and footers (a line repeated at
  the same page edge on two or more pages, digits aside) -- and sets footnotes apart: the block of
  smaller-type lines at the bottom of a page that starts with a marker, or a bottom line "N text"
  whose marker N is referenced on that page.  A footnote marker glued to the text after punctuation
  ("(No. 189).1") is taken out when a footnote N exists.  Compatibility characters are normalised
  (ligatures, full-width forms, no-break and other spaces; NFKC on those ranges only, so quotes,
  dashes and superscripts keep their meaning); a paragraph gap (a vertical gap of 1.6 line
  spacings or more) becomes a blank line.  Everything removed is recorded with its page and why.

The result's `text` is what the parser reads and what Document.text stores, so every span and
evidence offset points into it.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

__all__ = [
    "Char",
    "Footnote",
    "Marker",
    "PdfReading",
    "Removed",
    "assemble_rows",
    "clean_pages",
    "normalise_compat",
]

# --------------------------------------------------------------------------- compatibility characters

_COMPAT_RE = re.compile("[\ufb00-\ufb06\uff01-\uff5e\u2000-\u200a\u00a0\u202f\u205f\u3000\u2024-\u2026]")


def normalise_compat(text: str) -> str:
    """Ligatures, full-width forms and compatibility spaces/dots as plain characters (NFKC on those only)."""
    if not _COMPAT_RE.search(text):
        return text
    return _COMPAT_RE.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


# --------------------------------------------------------------------------- child side: characters -> rows


@dataclass(frozen=True, slots=True)
class Char:
    """One glyph as pdfminer.six places it (PDF coordinates: y grows upwards)."""

    text: str
    x0: float
    x1: float
    y0: float
    y1: float
    size: float


_MARK_CHARS = re.compile(r"[0-9a-z*†‡§¹²³\u2070-\u2079]")


def _dominant(sizes: list[float]) -> float:
    rounded = Counter(round(s, 1) for s in sizes)
    return max(rounded.items(), key=lambda kv: (kv[1], kv[0]))[0]


def _cluster(chars: list[Char]) -> list[list[Char]]:
    """Group characters into rows by their vertical centres (a raised superscript stays with its line).

    Characters come highest first, so a superscript raised well above its line (Chromium raises one by
    about half the body size) opens the row: a character joins a row within 0.45 of the larger of its
    size and the row's largest, and the row is then anchored on its largest character.
    """
    rows: list[list[Char]] = []
    anchor = 0.0
    largest = 0.0
    for c in sorted(chars, key=lambda c: (-(c.y0 + c.y1) / 2, c.x0)):
        centre = (c.y0 + c.y1) / 2
        if rows and anchor - centre <= 0.45 * max(largest, c.size):
            rows[-1].append(c)
            if c.size > largest:
                anchor, largest = centre, c.size
        else:
            rows.append([c])
            anchor, largest = centre, c.size
    return rows


def _row_record(chars: list[Char]) -> dict[str, Any] | None:
    """A row's text (superscripts taken out as markers), box and dominant size."""
    chars = sorted(chars, key=lambda c: c.x0)
    body = [c for c in chars if c.text.strip()]
    if not body:
        return None
    size = _dominant([c.size for c in body])
    base = statistics.median(c.y0 for c in body if abs(c.size - size) < 0.05 * size + 0.05)
    out: list[str] = []
    marks: list[list[Any]] = []
    prev: Char | None = None
    in_mark = False
    for c in chars:
        sup = (
            c.size <= 0.85 * size
            and c.y0 > base + 0.18 * size
            and bool(_MARK_CHARS.fullmatch(c.text))
        )
        gap = prev is not None and c.x0 - prev.x1 > 0.2 * min(c.size, prev.size)
        if gap and not sup and out and out[-1] != " " and c.text != " ":
            out.append(" ")
        if sup:
            text = "".join(out)
            if in_mark and marks:
                marks[-1][1] += c.text
            else:
                marks.append([len(text.rstrip()) if text.strip() else 0, c.text])
            in_mark = True
        else:
            if in_mark and c.text != " " and out and out[-1] != " " and marks and marks[-1][0] == 0:
                out.append(" ")
            in_mark = False
            out.append(c.text)
        prev = c
    text = "".join(out)
    stripped = text.strip()
    if not stripped and not marks:
        return None
    lead = len(text) - len(text.lstrip())
    marks = [[max(0, min(len(stripped), off - lead)), label] for off, label in marks]
    return {
        "text": " ".join(stripped.split()) if stripped else "",
        "x0": round(min(c.x0 for c in body), 2),
        "x1": round(max(c.x1 for c in body), 2),
        "top": round(max(c.y1 for c in body), 2),
        "bottom": round(min(c.y0 for c in body), 2),
        "size": round(size, 2),
        "marks": marks,
    }


def _gutter(rows: list[list[Char]], width: float) -> float | None:
    """The x of a column gutter: a vertical band in the middle of the page that most rows leave empty."""
    if len(rows) < 6 or width <= 0:
        return None
    lo, hi = int(width * 0.3), int(width * 0.7)
    crossing = [0] * (hi - lo)
    spans: list[list[tuple[float, float]]] = []
    for row in rows:
        segs: list[tuple[float, float]] = []
        for c in sorted(row, key=lambda c: c.x0):
            if not c.text.strip():
                continue
            if segs and c.x0 - segs[-1][1] < 1.5 * c.size:
                segs[-1] = (segs[-1][0], max(segs[-1][1], c.x1))
            else:
                segs.append((c.x0, c.x1))
        spans.append(segs)
        for a, b in segs:
            for x in range(max(lo, int(a)), min(hi, int(b) + 1)):
                crossing[x - lo] += 1
    best: tuple[int, int] | None = None
    start = None
    limit = max(1, len(rows) // 6)
    for i, n in enumerate([*crossing, limit + 1]):
        if n <= limit and start is None:
            start = i
        elif n > limit and start is not None:
            if i - start >= 8 and (best is None or i - start > best[1] - best[0]):
                best = (start, i)
            start = None
    if best is None:
        return None
    gx = lo + (best[0] + best[1]) / 2
    left = sum(1 for segs in spans if segs and any(b < gx for _, b in segs))
    right = sum(1 for segs in spans if segs and any(a > gx for a, _ in segs))
    return gx if min(left, right) >= 3 else None


def assemble_rows(chars: list[Char], width: float, height: float) -> tuple[list[dict[str, Any]], bool]:
    """The rows of one page in reading order (two columns: full-width bands, each left column then right).

    Also says whether the page was read as two columns.
    """
    rows = _cluster([c for c in chars if c.text])
    gx = _gutter(rows, width)
    if gx is None:
        ordered = rows
    else:
        ordered = []
        band: list[Char] = []
        for row in rows:
            crosses = any(c.x0 < gx < c.x1 for c in row if c.text.strip()) or (
                min(c.x0 for c in row) < gx - 4 and _spans_gap(row, gx)
            )
            if crosses:
                ordered.extend(_columns(band, gx))
                band = []
                ordered.append(row)
            else:
                band.extend(row)
        ordered.extend(_columns(band, gx))
    records = [r for r in (_row_record(row) for row in ordered) if r is not None]
    for r in records:
        r["top"] = round(height - r["top"], 2)  # distance from the top of the page
        r["bottom"] = round(height - r["bottom"], 2)
    return records, gx is not None


def _spans_gap(row: list[Char], gx: float) -> bool:
    """A line of running text across the gutter (its characters left and right of it with no gap there)."""
    left = [c for c in row if c.x1 <= gx and c.text.strip()]
    right = [c for c in row if c.x0 >= gx and c.text.strip()]
    if not left or not right:
        return False
    gap = min(c.x0 for c in right) - max(c.x1 for c in left)
    return gap < 0.6 * max(c.size for c in row)


def _columns(chars: list[Char], gx: float) -> list[list[Char]]:
    left = [c for c in chars if (c.x0 + c.x1) / 2 < gx]
    right = [c for c in chars if (c.x0 + c.x1) / 2 >= gx]
    return _cluster(left) + _cluster(right)


# --------------------------------------------------------------------------- parent side: rows -> clean text


@dataclass(frozen=True)
class Removed:
    """A line of page furniture taken out of the text."""

    page: int
    text: str
    why: str  # "page number", "running header", "running footer"


@dataclass(frozen=True)
class Footnote:
    """A footnote set apart from the text: its label as printed and its text."""

    label: str
    text: str
    page: int


@dataclass(frozen=True)
class Marker:
    """A footnote marker taken out of the text: its label, page and the words it followed."""

    label: str
    page: int
    after: str
    how: str  # "superscript" or "glued after punctuation"


@dataclass(frozen=True)
class PdfReading:
    """The clean text of a PDF and what was taken out of it, and why."""

    text: str
    pages: int
    furniture: tuple[Removed, ...] = ()
    footnotes: tuple[Footnote, ...] = ()
    markers: tuple[Marker, ...] = ()
    columns: tuple[int, ...] = ()  # pages read as two columns
    warnings: tuple[str, ...] = ()


_PAGE_NO_RE = re.compile(
    r"(?i:page\s*\d{1,5}(?:\s*(?:of|/)\s*\d{1,5})?|\d{1,5}\s*(?:of|/)\s*\d{1,5}|[-–—]\s*\d{1,5}\s*[-–—]|\d{1,5})"
)
_NOTE_START_RE = re.compile(r"(?P<label>\d{1,2}|[*†‡§])(?P<delim>[.)])?\s+(?P<rest>\S.*)")
_GLUED_RE = re.compile(r"(?<=[.,;:)\]”’\"])(?P<label>\d{1,2})(?=\s|$)")
_EDGE_ROWS = 3


@dataclass
class _Row:
    page: int
    text: str
    top: float
    bottom: float
    size: float
    marks: list[tuple[int, str]] = field(default_factory=list)
    gone: str | None = None  # why it was removed


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.casefold().split()))


def clean_pages(pages: list[dict[str, Any]]) -> PdfReading:
    """Clean text from the rows of each page (see the module docstring); pages are joined with a form feed."""
    rows_by_page: list[list[_Row]] = []
    for number, page in enumerate(pages, start=1):
        rows = []
        for r in page.get("rows", []):
            text = normalise_compat(str(r.get("text", "")))
            marks = [(int(off), normalise_compat(str(lab))) for off, lab in r.get("marks", [])]
            rows.append(_Row(number, text, float(r["top"]), float(r["bottom"]), float(r["size"]), marks))
        rows_by_page.append(rows)
    all_rows = [r for rows in rows_by_page for r in rows if r.text]
    if not all_rows:
        return PdfReading("", len(pages))
    weights: Counter[float] = Counter()
    for r in all_rows:
        weights[round(r.size, 1)] += len(r.text)
    body = weights.most_common(1)[0][0]
    furniture: list[Removed] = []
    n_pages = len(rows_by_page)
    # Page numbers at a page's top or bottom edge.
    for rows in rows_by_page:
        live = [r for r in rows if r.text]
        ends = live[:2] + live[-2:]
        for r in ends:
            if r.gone is None and len(r.text) <= 24 and _PAGE_NO_RE.fullmatch(r.text):
                r.gone = "page number"
    # Running headers and footers: the same line (digits aside) at the same page edge on 2+ pages.
    if n_pages >= 2:
        seen: dict[tuple[str, str], set[int]] = defaultdict(set)
        for rows in rows_by_page:
            live = [r for r in rows if r.text and r.gone is None]
            for edge, part in (("header", live[:_EDGE_ROWS]), ("footer", live[-_EDGE_ROWS:])):
                for r in part:
                    seen[(edge, _key(r.text))].add(r.page)
        for rows in rows_by_page:
            live = [r for r in rows if r.text and r.gone is None]
            for edge, part in (("header", live[:_EDGE_ROWS]), ("footer", live[-_EDGE_ROWS:])):
                for r in part:
                    pages_seen = seen[(edge, _key(r.text))]
                    if r.gone is None and len(pages_seen) >= 2 and 2 * len(pages_seen) + 1 >= n_pages:
                        r.gone = f"running {edge}"
    for rows in rows_by_page:
        for r in rows:
            if r.gone:
                furniture.append(Removed(r.page, r.text, r.gone))
    footnotes, markers = _set_footnotes_apart(rows_by_page, body)
    # The text: rows joined with newlines, a blank line at a paragraph gap, pages with form feeds.
    page_texts: list[str] = []
    for rows in rows_by_page:
        live = [r for r in rows if r.text and r.gone is None]
        gaps = [b.top - a.top for a, b in pairwise(live) if b.top > a.top]
        leading = statistics.median(gaps) if gaps else 0.0
        out: list[str] = []
        for i, r in enumerate(live):
            if i and leading and r.top - live[i - 1].top >= 1.6 * leading:
                out.append("")
            out.append(r.text)
        page_texts.append("\n".join(out))
    return PdfReading(
        text="\f".join(page_texts),
        pages=n_pages,
        columns=tuple(n for n, page in enumerate(pages, start=1) if page.get("columns")),
        furniture=tuple(furniture),
        footnotes=tuple(footnotes),
        markers=tuple(markers),
    )


def _set_footnotes_apart(rows_by_page: list[list[_Row]], body: float) -> tuple[list[Footnote], list[Marker]]:
    footnotes: list[Footnote] = []
    markers: list[Marker] = []
    for rows in rows_by_page:
        live = [r for r in rows if r.text and r.gone is None]
        referenced = {lab for r in live for _, lab in r.marks if r.marks and r.marks[0][0] != 0}
        referenced |= {m.group("label") for r in live for m in _GLUED_RE.finditer(r.text)}
        # The bottom block: smaller type, or a line "N text" whose marker N is referenced above it.
        start = len(live)
        while start > 0:
            r = live[start - 1]
            small = r.size <= 0.9 * body
            label = _note_label(r, strict=True)
            if small or (label is not None and label in referenced):
                start -= 1
            else:
                break
        block = live[start:]
        while block and _note_label(block[0], strict=block[0].size > 0.9 * body) is None:
            block = block[1:]  # smaller type that opens with no marker is not a footnote (a caption, a closing line)
        if not block or len(block) > max(4, len(live) // 2):
            continue  # no footnote, or a page of small type rather than its notes
        current: list[_Row] = []
        label = ""
        for r in block:
            lab = _note_label(r, strict=r.size > 0.9 * body)
            if lab is not None:
                if current:
                    footnotes.append(Footnote(label, _note_text(current), current[0].page))
                current, label = [r], lab
            else:
                current.append(r)
            r.gone = "footnote"
        if current:
            footnotes.append(Footnote(label, _note_text(current), current[0].page))
    labels = {f.label for f in footnotes}
    for rows in rows_by_page:
        for r in rows:
            if r.gone is not None or not r.text:
                continue
            for off, lab in r.marks:
                if off > 0:
                    markers.append(Marker(lab, r.page, r.text[max(0, off - 30) : off].strip(), "superscript"))
            if labels:
                def glued(m: re.Match[str], row: _Row = r) -> str:
                    if m.group("label") not in labels:
                        return m.group()
                    before = row.text[max(0, m.start() - 30) : m.start()].strip()
                    markers.append(Marker(m.group("label"), row.page, before, "glued after punctuation"))
                    return ""
                r.text = _GLUED_RE.sub(glued, r.text)
    return footnotes, markers


def _note_label(r: _Row, *, strict: bool = False) -> str | None:
    """The marker a footnote line opens with; `strict` (body-size type): "1 Text", never an item's "1. Text"."""
    if r.marks and r.marks[0][0] == 0:
        return r.marks[0][1]
    m = _NOTE_START_RE.fullmatch(r.text)
    if m is None or (strict and m.group("delim")):
        return None
    return m.group("label")


def _note_text(rows: list[_Row]) -> str:
    first = rows[0]
    if first.marks and first.marks[0][0] == 0:
        head = first.text
    else:
        m = _NOTE_START_RE.fullmatch(first.text)
        head = m.group("rest") if m else first.text
    parts = [head, *(r.text for r in rows[1:])]
    text = ""
    for p in parts:
        text = text[:-1] + p if text.endswith("-") and p[:1].islower() else f"{text} {p}".strip()
    return text
