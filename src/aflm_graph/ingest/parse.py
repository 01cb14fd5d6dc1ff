"""Parse recommendation documents (text or PDF) into plain dataclasses.

This stage knows nothing of RDF: it reads characters and returns data that the
later stages (annotate, link, build) turn into a graph.

Rules the parser follows (each one is tested in tests/test_parse.py):

* Lines end at CR LF, CR or LF; a form feed is a page break.  NBSP, tabs and other
  Unicode spaces count as spaces; texts have their internal whitespace collapsed.
* Page furniture is dropped, with the blank lines around it (a page break is not a
  paragraph break): "Page N", "Page N of M", "N of M", "- N -" and bare-number lines, and
  a running header or footer: a line (or block of lines) that is not numbered, does not
  start lower case or end in punctuation, has different neighbours each time (so repeated
  recommendation text is never mistaken for it), and sits at a page edge.  Pages end at
  form feeds and at page-number lines; the block must open or close a page (or the
  document) each time, on 2+ different pages and on about half the pages or more.  In a
  text without form feeds it may instead recur 3+ times anywhere provided its first
  occurrence is the page-1 header, above the first item or heading.  A line that recurs
  only inside the items (a sentence repeated in near-duplicate recommendations) is text.
* "Blank-line noise" (a blank line after every line, as in seed 000) is detected when
  90% of line transitions and most mid-sentence wraps have a blank line between them; in
  such a document only two or more blank lines make a paragraph break.
* A line opens a new item only when its label is the next one in sequence: the next
  number/letter of the current list, a repeat of the current label (checked for a
  verbatim duplicate), or 1/a/i restarting at the start of a sub-theme.  The first item
  of a document may have any number.  "8.8 and ..." or "1. above" in the middle of
  item 7 therefore stays text.
* Labels of another style inside an item ("a)" inside "1.") are nested sub-items: they
  stay in the item's text, in order, with their letters.  The next label of the current
  list wins over a nested reading ("i)" after "h)" is a letter).
* Headings: "Sub-theme 1:", "Sub-Theme 1:", "Subtheme 2 -", and roman "I.", "II." in
  sequence.  A title continues on the next line when it wrapped (it ends in a function
  word or a hyphen, the next line starts lower case, or the heading line was full and
  the next line is a short leftover); other text before the first item is the preamble.
* Header (text before the first heading or item): date-only lines and the forum theme
  (a theme in FORUM_THEMES, or "Theme: ...") are set apart; the title is the first block
  of the remaining lines that names a kind of document ("Recommendations", "Statement",
  "Forum", "AFML"...), from that line on, else the first block; the rest is the preamble.
  A first line that starts "SYNTHETIC TEST FIXTURE" (the marker bench/synth.py writes)
  sets Document.synthetic and is neither title, preamble nor a source of facts.
* Unnumbered paragraphs after an item continue it, joined with a space.  Sub-items whose
  bullet glyph was lost (a paragraph whose first line is indented and starts lower
  case) or survived ("•", "-", "\uf0b7"...) are joined to the lead-in with a space and to
  each other with "; " -- unless the previous sub-item already ends in punctuation or in
  "and"/"or".  The glyph itself is dropped; no word is ever added.
* Closing statement: a trailing paragraph after the last item that starts upper case and
  reports on the meeting or the document itself ("The meeting was held...", "Adopted
  at/in/on...", "Done at...") is a document statement (Document.closing), not part of
  the item.  It must follow a blank line, or -- as PDF extraction drops blank lines --
  start its own line right after a sentence end.  A paragraph that merely follows the
  item ("These should cover...") stays in it, and so does a statement-like paragraph
  in the middle of the document.
* Hyphenation at a line end ("gender-/sensitive"), decided from the document's own usage
  first: if the hyphenated form is written unbroken elsewhere in the document the hyphen
  is kept; else if the joined form is, it is dropped; else it is dropped when the
  fragment on the next line is a common suffix ("recruit-/ment" -> "recruitment",
  "work-/ers" -> "workers"), or when neither fragment is a word on its own -- a word
  broken at a syllable ("inspec-/torates" -> "inspectorates", "inclu-/ding").  A
  fragment is a word on its own when the document writes it as a word (alone or as part
  of a hyphenated word) away from a line break, when it is one of the few words that
  commonly form compounds (COMPOUND_HEADS before the hyphen: "re", "co", "self",
  "gender", "time"...; COMPOUND_TAILS after it: "based", "sensitive", "bound"...), or when
  it is one or two letters before the hyphen.  Otherwise the printed hyphen is kept
  ("gender-sensitive", "time-bound", "re-integration", "COVID-19", "ASEAN-Japan": only
  lowercase letter fragments are ever joined).  A soft hyphen is always removed.
  Nothing else is repaired: "COVID -19" stays as printed.
* Document facts come from the header (lines before the first heading or item) and the
  closing statements; the text wins over the sidecar, the sidecar fills gaps, nothing is
  guessed.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

from ..safetext import brief
from .errors import ParseError
from .files import check_regular, not_regular, open_regular, read_regular
from .layout import Footnote, Marker, PdfReading, Removed, normalise_compat
from .pdf import PdfLimits, extract_pdf

__all__ = [
    "COMPOUND_HEADS",
    "COMPOUND_TAILS",
    "FORUM_THEMES",
    "MAX_FILE_BYTES",
    "MAX_META_BYTES",
    "MEMBER_STATES",
    "REGIONAL_ISSUER",
    "Document",
    "DocumentMeta",
    "ParseError",
    "Reading",
    "Recommendation",
    "Span",
    "SubTheme",
    "canonical_member_state",
    "check_regular",
    "decode_bytes",
    "not_regular",
    "open_regular",
    "parse_file",
    "parse_text",
    "read_meta",
    "sidecar_path",
    "slugify",
]


@dataclass(frozen=True)
class Span:
    """Half-open character range [start, end) in the decoded source text (code points)."""

    start: int
    end: int


@dataclass(frozen=True)
class SubTheme:
    """A sub-theme heading; its span runs from the heading to the end of its last item."""

    label: str  # as printed: "1", "II", "A"
    title: str  # full title, joined across wrapped lines
    position: int  # 1-based order in the document
    preamble: str | None = None  # unnumbered sentence under the heading, if any
    span: Span | None = None


@dataclass(frozen=True)
class Recommendation:
    """One numbered item with its continuation paragraphs and sub-items."""

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
    date_end: str | None = None  # last day of a meeting over several days (ISO 8601)


@dataclass(frozen=True)
class Reading:
    """How a document was read: the reasons for the guesses and what was set aside (`aflm-graph inspect`).

    Not part of the graph.  `furniture` lists the page numbers and running headers/footers removed,
    `footnotes` the notes set apart from the items and `markers` the footnote markers taken out of
    the text; `sidecar` the fields the sidecar filled or overrode; `warnings` what looks wrong.
    """

    title_reason: str = ""
    issuer_reason: str = ""
    furniture: tuple[Removed, ...] = ()
    footnotes: tuple[Footnote, ...] = ()
    markers: tuple[Marker, ...] = ()
    columns: tuple[int, ...] = ()
    sidecar: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    """A parsed document: facts from the text (or the sidecar) and its recommendations."""

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
    # Added fields (all optional):
    preamble: str | None = None  # unnumbered header text that is neither title, date nor theme
    closing: tuple[str, ...] = ()  # closing statements after the last item ("The meeting was held...")
    source: str | None = None  # provenance, from the sidecar
    notes: tuple[str, ...] = ()  # where the sidecar disagreed with the text (the text won)
    synthetic: bool = False  # the first line marks a synthetic test fixture ("SYNTHETIC TEST FIXTURE ...")
    date_end: str | None = None  # last day when the meeting ran over several days ("9-10 November 2017")
    reading: Reading = field(default_factory=Reading, repr=False, compare=False)  # how it was read (inspect)


# --------------------------------------------------------------------------- settings and data

MAX_FILE_BYTES = 20 * 1024 * 1024
"""Default size limit for parse_file: larger inputs are refused rather than read."""
MAX_META_BYTES = 1024 * 1024
"""Size limit of a `<file>.meta.toml` sidecar (a few lines of metadata)."""

MEMBER_STATES: dict[str, str] = {
    "Brunei Darussalam": "Brunei Darussalam",
    "Brunei": "Brunei Darussalam",
    "Cambodia": "Cambodia",
    "Kingdom of Cambodia": "Cambodia",
    "Indonesia": "Indonesia",
    "Republic of Indonesia": "Indonesia",
    "Lao People's Democratic Republic": "Lao PDR",
    "Lao People’s Democratic Republic": "Lao PDR",
    "Lao PDR": "Lao PDR",
    "Laos": "Lao PDR",
    "Malaysia": "Malaysia",
    "Myanmar": "Myanmar",
    "Philippines": "Philippines",
    "Republic of the Philippines": "Philippines",
    "Singapore": "Singapore",
    "Thailand": "Thailand",
    "Kingdom of Thailand": "Thailand",
    "Viet Nam": "Viet Nam",
    "Vietnam": "Viet Nam",
    "Socialist Republic of Viet Nam": "Viet Nam",
}
"""The ten ASEAN member states: name as usually written -> ASEAN's own short name."""

FORUM_THEMES: dict[int, tuple[str, ...]] = {
    13: (
        "Supporting migrant workers during the pandemic for a Cohesive and Responsive ASEAN Community",
        "Supporting migrant workers during the COVID-19 pandemic for a Cohesive and Responsive ASEAN Community",
    ),
}
"""AFML edition -> its theme as printed in the sources (only themes seen in a source are listed)."""

# fmt: off
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20,
}
# fmt: on

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for name in names
}

# Word fragments that, after a line-end hyphen, show a word was split rather than compounded.
# fmt: off
_SUFFIXES = frozenset(
    {
        "ment", "ments", "tion", "tions", "sion", "sions", "ation", "ations", "ition", "itions", "ing",
        "ings", "ed", "er", "ers", "or", "ors", "ity", "ities", "ness", "nesses", "ance", "ances",
        "ence", "ences", "able", "ably", "ible", "ibly", "al", "ally", "ly", "ive", "ives", "ively",
        "ous", "ously", "ism", "isms", "ist", "ists", "ure", "ures", "age", "ages", "ant", "ants",
        "ent", "ents", "ency", "encies", "ancy", "ise", "ised", "ises", "ising", "ize", "ized", "izes",
        "izing", "ship", "ships", "ful", "less", "ry", "ries", "cy", "cies", "ee", "ees", "ic", "ics",
        "ical", "ian", "ians", "es", "ate", "ated", "ates", "ating", "ological", "ogy", "ologies",
        # tails of words broken before a syllable ("partici-pation", "desti-nation", "espe-cially")
        "cation", "cations", "dation", "dations", "gation", "gations", "lation", "lations", "mation",
        "nation", "nations", "pation", "ration", "rations", "sation", "sations", "tation", "tations",
        "vation", "vations", "zation", "zations", "isation", "ization", "ially", "cially", "tially",
        "ically", "mented", "menting", "mental", "ential", "ciency", "cient", "ility", "ibility",
        "ability", "ular", "larly", "ently",
    }
)
# fmt: on

# Words that commonly stand before / after the hyphen of a compound.  A line-end hyphen whose
# fragments are neither in these lists nor written as words elsewhere in the document is a
# word broken at a syllable ("inspec-/torates", "inclu-/ding"): see `_keeps_hyphen`.
# fmt: off
COMPOUND_HEADS = frozenset(
    {
        "re", "co", "pre", "post", "non", "self", "cross", "well", "full", "part", "long", "short", "high",
        "low", "time", "gender", "age", "sex", "job", "skills", "multi", "inter", "anti", "semi", "sub",
        "over", "under", "mid", "all", "half", "human", "people", "rights", "community", "country",
        "decision", "evidence", "follow", "cost", "risk", "child", "women", "youth", "state", "family",
    }
)
COMPOUND_TAILS = frozenset(
    {
        "based", "centred", "centered", "sensitive", "responsive", "related", "specific", "led", "driven",
        "friendly", "oriented", "bound", "wide", "free", "level", "term", "up", "in", "on", "off", "out",
        "making", "building", "sharing", "owned", "run", "funded", "affected", "border", "income",
    }
)
# fmt: on

_MODES = ("online", "in person", "hybrid")

# A line ending in one of these did not end its title: the title wrapped.
# fmt: off
_FUNCTION_WORDS = frozenset(
    {
        "a", "an", "and", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to",
        "towards", "toward", "with", "within", "across", "between", "among", "including", "through",
        "their", "its",
    }
)
# fmt: on

# --------------------------------------------------------------------------- compiled patterns

_LINE_ENDS = frozenset("\r\n\f\v\x1c\x1d\x1e\x85\u2028\u2029")  # where str.splitlines breaks
_SPACE_MAP = dict.fromkeys(
    map(ord, "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\x1f"),
    " ",
)
# controls, zero-width characters, BOM, non-characters, lone surrogates (no RDF literal can hold one), soft hyphens
_INVISIBLE_RE = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff\ufffe\uffff\ud800-\udfff]|\u00ad(?!$)"
)
_MULTISPACE_RE = re.compile(r" {2,}")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")  # control characters other than \t \n \v \f \r
_FURNITURE_RE = re.compile(
    r"(?:page\s*\d{1,5}(?:\s*(?:of|/)\s*\d{1,5})?|\d{1,5}\s*(?:of|/)\s*\d{1,5}|[-–—]\s*\d{1,5}\s*[-–—]|\d{1,5})",
    re.IGNORECASE,
)
_DIGITS_RE = re.compile(r"\d+")
# Up to 9 digits: item 100000 after item 99999 is an item of its own, not text of the one before (a
# document of the 20 MB limit holds at most about 2,000,000 items).
_LABEL_RE = re.compile(
    r"(?:\((?P<p>\d{1,9}|[a-z]|[ivxlc]{1,7})\)|(?P<b>\d{1,9}|[a-z]|[ivxlc]{1,7})(?P<d>[.)]))(?=\s|$)"
)
_ROMAN_RE = re.compile(r"(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})", re.IGNORECASE)
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
_SUBTHEME_RE = re.compile(
    r"S(?i:ub[-\u2010 ]?theme)\s+(?P<label>\d{1,3}|[IVXivx]{1,6}|[A-Za-z])(?:\s*[:.\-–—]\s*(?P<title>.*)|\s*)",
)
_ROMAN_HEADING_RE = re.compile(r"(?P<label>[IVX]{1,6})[.)]\s+(?P<title>\S.*)")
# "Theme 1:", "Thematic session 2", "Session III -", "Part A": the label must run in sequence per keyword.
_KEYWORD_HEADING_RE = re.compile(
    r"(?P<kw>(?i:thematic\s+session|theme|session|part|topic|cluster))\s+(?P<label>\d{1,3}|[IVX]{1,6}|[A-Z])"
    r"(?:\s*[:.\-–—]\s*(?P<title>.*)|\s*)"
)
_HEADING_FIRSTS = frozenset("TtSsPpCc")
# A heading in capitals: letters, digits, spaces and a little punctuation, no lower case.
_CAPS_HEADING_RE = re.compile(r"[A-Z][A-Z0-9 ,&'’/()\-–:]{3,119}")
_BULLET_RE = re.compile(r"[•●○◦▪▫■□‣⁃∙·\-–—*\uf0a7\uf0b7\uf076\uf0d8\uf0fc\uf06e\uf0a8](?:\s+|$)")
_CLOSERS = "\"'”’)"
_OPEN_END_RE = re.compile(r"(?:[,;:.]|\b(?:and|or))$")
_HYPHENS = ("-", "\u2010")
_HYPHEN_END_RE = re.compile(r"(?<=[A-Za-z0-9])[-\u2010]$")
_LEADING_WORD_RE = re.compile(r"[a-z]+(?![A-Za-z])")
_TRAILING_WORD_RE = re.compile(r"(?<![A-Za-z])([A-Za-z]*[a-z])[-\u2010]$")
_HYPHEN_BREAK_RE = re.compile(r"[A-Za-z0-9][-\u2010][ \t\u00a0]*[\r\n\f\v\x85\u2028\u2029]")
_WORD_FORM_RE = re.compile(r"[A-Za-z]+(?:[-\u2010][A-Za-z]+)*")
# The two fragments of a word broken by a line-end hyphen: they are not words of the document.
_BROKEN_WORD_RE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z0-9]+[-\u2010](?:[ \t\u00a0]*(?:\r\n|[\r\n\f\v\x85\u2028\u2029]))+[ \t\u00a0]*[A-Za-z]*"
)
_HYPHEN_SPLIT_RE = re.compile(r"[-\u2010]")
_DATE_RE = re.compile(
    r"\b(?P<y1>\d{4})-(?P<m1>\d{2})-(?P<d1>\d{2})\b"
    r"|\b(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon2>[A-Za-z]{3,9})\.?,?\s+(?P<y2>\d{4})\b"
    r"|\b(?P<mon3>[A-Za-z]{3,9})\.?\s+(?P<d3>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y3>\d{4})\b"
)
_DATE_LINE_RE = re.compile(r"(?:date\s*[:\-–]\s*)?(?P<date>.+?)\.?", re.IGNORECASE)
_EDITION_RE = re.compile(
    r"\b(?:(?P<num>\d{1,2})\s*(?:st|nd|rd|th)|(?P<word>" + "|".join(_ORDINAL_WORDS) + r"))"
    r"\s+(?:ASEAN\s+Forum\s+on\s+Migrant\s+Labou?r|AFML)\b",
    re.IGNORECASE,
)
_TITLE_WORD_RE = re.compile(
    r"\b(?i:recommendations?|statement|declaration|outcome|report|forum|conclusions?|submission|position)\b"
    r"|\bAFML\b"
)
_THEME_LINE_RE = re.compile(r"(?:forum\s+)?theme\s*[:\-–—]\s*(?P<theme>\S.*)", re.IGNORECASE)
_THEME_RES = [
    (edition, re.compile(r"\b" + r"\s+".join(map(re.escape, theme.split())) + r"\b", re.IGNORECASE))
    for edition, themes in FORUM_THEMES.items()
    for theme in themes
]
_STATEMENT_RE = re.compile(
    r"(?:(?:the|this)\s+)?(?:meeting|forum|consultation|workshop|conference|session|dialogue|event"
    r"|document|recommendations?|statement)\b[^.]{0,200}?\b(?:was|were|is|are|has\s+been|have\s+been)"
    r"\s+(?:\w+\s+)?(?:held|convened|adopted|organi[sz]ed|endorsed|conducted|issued|agreed)\b"
    r"|(?:adopted|done|issued|endorsed|signed|held|convened)\s+(?:at|in|on|online|virtually|by)\b",
    re.IGNORECASE,
)
_ONLINE_RE = re.compile(
    r"\b(?:online|virtual(?:ly)?|via\s+video[-\s]?conference|by\s+video[-\s]?conference|webinar)\b",
    re.IGNORECASE,
)
_HYBRID_RE = re.compile(r"\bhybrid\b", re.IGNORECASE)
_HELD_RE = re.compile(r"\b(?:held|convened|took\s+place|organi[sz]ed|adopted|done|met)\b", re.IGNORECASE)
_PLACE_RE = re.compile(
    r"\b(?i:held|convened|took\s+place|organi[sz]ed|adopted|done|met)\b[^.;]*?\b(?:at|in)\s+"
    r"(?P<place>(?:the\s+)?[A-Z][^.;]*?)"
    r"(?=,?\s+(?:and|as\s+well\s+as)\s+(?:online|virtually|via)\b|,?\s+(?:on|from)\s+\d|,?\s+on\s+[A-Z]"
    r"|,?\s+(?:online|virtually)\b|\.(?:\s|$)|;|$)"
)
_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
_SYNTHETIC_MARKER = "SYNTHETIC TEST FIXTURE"  # how `bench/synth.py` marks the first line of its files
_SLUG_STRIP_RE = re.compile(r"[^a-z0-9_-]+")
_TOML_LINE_RE = re.compile(r"line (\d+)")


def _alternation(names: list[str]) -> str:
    """Longest names first so "Lao PDR" wins over "Lao" and "Brunei Darussalam" over "Brunei"."""
    return "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in sorted(names, key=len, reverse=True))


_STATE_ALT = _alternation(list(MEMBER_STATES))
_ISSUER_RES = (
    re.compile(
        r"\b(?:the\s+)?(?P<state>" + _STATE_ALT + r")(?:['’]s)?\s+(?:National\s+|Country\s+|Government\s+)?"
        r"(?:Recommendations?|Statement|Position|Report|Submission|Inputs?)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:Recommendations?|Statement|Position|Report|Submission|Inputs?)\s+(?:of|from|by)\s+"
        r"(?:the\s+)?(?:Government\s+of\s+)?(?:the\s+)?(?P<state>" + _STATE_ALT + r")\b",
        re.IGNORECASE,
    ),
)
_CANONICAL_STATE = {k.casefold(): v for k, v in MEMBER_STATES.items()}
_MEETING = r"(?:(?:Tripartite\s+|Multi-?stakeholder\s+)?(?:Preparatory\s+)?(?:Meeting|Workshop|Consultation|Dialogue))"
_NATIONAL_MEETING_RES = (
    re.compile(
        r"\b(?:the\s+)?(?P<state>" + _STATE_ALT + r")(?:['’]s)?\s+National\s+" + _MEETING + r"\b", re.IGNORECASE
    ),
    re.compile(
        r"\bNational\s+" + _MEETING + r"\b[^.;]{0,80}?\b(?:of|in|for|by)\s+(?:[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*,\s*)?"
        r"(?:the\s+)?(?P<state>" + _STATE_ALT + r")\b",
        re.IGNORECASE,
    ),
)
_NATIONAL_WORD_RE = re.compile(r"\b(?:national|country|preparatory|government\s+of)\b", re.IGNORECASE)
_FORUM_RECS_RE = re.compile(
    r"\b(?:Recommendations?|Conclusions?|Outcome\s+Document)\b[^.;]{0,60}?"
    r"(?:\b(?:\d{1,2}\s*(?:st|nd|rd|th)|[A-Za-z]+(?:th|st|nd|rd))\s+)?(?:ASEAN\s+Forum\s+on\s+Migrant\s+Labou?r|AFML)\b"
    r"|\b(?:ASEAN\s+Forum\s+on\s+Migrant\s+Labou?r|AFML)\b[^.;]{0,30}?\b(?:Recommendations?|Conclusions?)\b",
    re.IGNORECASE,
)
_DATE_RANGE_RE = re.compile(
    r"\b(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s*(?:(?P<mon1>[A-Za-z]{3,9})\.?\s*)?(?:[-–—]|to|and|until)\s*"
    r"(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon2>[A-Za-z]{3,9})\.?,?\s+(?P<y>\d{4})\b"
    r"|\b(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d1b>\d{1,2})(?:st|nd|rd|th)?\s*(?:[-–—]|to|and)\s*(?P<d2b>\d{1,2})"
    r"(?:st|nd|rd|th)?,?\s+(?P<yb>\d{4})\b"
)
_PLACE_LINE_RE = re.compile(
    r"(?:(?:held|convened)\s+(?:in|at)\s+)?(?P<place>[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3},\s*(?:the\s+)?(?:"
    + _STATE_ALT
    + r"))(?P<rest>(?:\s*[,;–-]\s*|\s+).*)?",
    re.IGNORECASE,
)


def canonical_member_state(name: str) -> str | None:
    """ASEAN's short name for a member state as written ("Vietnam" -> "Viet Nam"), else None."""
    return _CANONICAL_STATE.get(" ".join(name.split()).casefold().removeprefix("the "))


def clean_name(name: str) -> str:
    """A file name as a literal can hold it: undecodable bytes (surrogate escapes) as U+FFFD, no control characters.

    Linux hands Python a name that is not UTF-8 with its bytes as lone surrogates, which no RDF syntax
    can carry; any other lone surrogate or control character in a name given through the API is dealt
    with the same way.
    """
    raw = b"".join(bytes([ord(c) - 0xDC00]) if "\udc80" <= c <= "\udcff" else c.encode("utf-8", "surrogatepass")
                   for c in name)
    decoded = raw.decode("utf-8", errors="replace")
    return _MULTISPACE_RE.sub(" ", _INVISIBLE_RE.sub("", "".join(" " if c in _LINE_ENDS or c == "\t" else c
                                                                for c in decoded))).strip()


def slugify(stem: str) -> str:
    """A document id from a file stem: lowercase, [a-z0-9_-] only, never empty."""
    slug = _SLUG_STRIP_RE.sub("-", stem.lower()).strip("-")
    return slug or "document"


# --------------------------------------------------------------------------- sidecar

_META_FIELDS = {f.name for f in fields(DocumentMeta)}


def sidecar_path(path: Path) -> Path:
    """Where the curator's metadata for `path` lives: `<file>.meta.toml` next to it."""
    return path.with_name(path.name + ".meta.toml")


def _key_line(text: str, key: str) -> int | None:
    """Line of `key = ...` in a TOML text, so errors point at the place to fix."""
    pattern = re.compile(r"^[ \t]*(?:\[+[ \t]*)?[\"']?" + re.escape(key) + r"[\"']?[ \t]*[=\]]", re.MULTILINE)
    m = pattern.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def read_meta(path: Path) -> DocumentMeta:
    """Read the sidecar of `path` (if any); unknown keys or wrong types are errors, not ignored."""
    side = sidecar_path(Path(path))
    try:
        os.stat(side)
    except FileNotFoundError:
        return DocumentMeta()
    except OSError:
        pass  # unreadable or a broken path: open_regular says so with the reason
    raw = read_regular(side, MAX_META_BYTES, "sidecar (TOML)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(
            side, f"byte offset {exc.start} is not UTF-8; expected a UTF-8 TOML file", line=_line_of(raw, exc.start)
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_LINE_RE.search(str(exc))
        raise ParseError(
            side, f"invalid TOML ({exc}); expected `key = value` lines", line=int(m.group(1)) if m else 1
        ) from None
    values: dict[str, Any] = {}  # each value checked against its field by _check_meta_value
    for key, value in data.items():
        line = _key_line(text, key) or 1
        if key not in _META_FIELDS:
            raise ParseError(side, f"unknown key {brief(key)}; expected one of {', '.join(sorted(_META_FIELDS))}",
                             line=line)
        values[key] = _check_meta_value(side, key, value, line)
    return DocumentMeta(**values)


def _check_meta_value(side: Path, key: str, value: object, line: int) -> str | int:
    """Type-check one sidecar value; the message says what the key must hold."""
    if key == "forum_edition":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 999:
            raise ParseError(side, f"key 'forum_edition' is {brief(value)}; expected a positive integer", line=line)
        return value
    if key == "date" and isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip():
        raise ParseError(side, f"key {brief(key)} is {brief(value)}; expected a non-empty string", line=line)
    value = " ".join(value.split())
    if key == "date":
        try:
            return _dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise ParseError(side, f"key 'date' is {brief(value)}; expected an ISO date yyyy-mm-dd",
                             line=line) from None
    if key == "mode" and value not in _MODES:
        raise ParseError(side, f"key 'mode' is {brief(value)}; expected one of {', '.join(_MODES)}", line=line)
    if key == "id" and not _ID_RE.fullmatch(value):
        raise ParseError(side, f"key 'id' is {brief(value)}; expected lowercase [a-z0-9_-]", line=line)
    return value


# --------------------------------------------------------------------------- bytes -> text


def _line_of(data: bytes, offset: int) -> int:
    """1-based line of a byte offset, counting CR LF, CR and LF as one line end each."""
    head = data[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def decode_bytes(data: bytes, source: str | Path) -> str:
    """Decode a text document, refusing empty, binary and non-UTF-8 input with a precise message."""
    if not data.strip(b" \t\r\n\f\v") or data in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        raise ParseError(source, "empty file; expected a recommendation document (UTF-8 text or PDF)", line=1)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError(
                source,
                f"undecodable UTF-16 at byte offset {exc.start}; expected UTF-8 or UTF-16 text with a BOM",
                line=_line_of(data, exc.start),
            ) from None
    else:
        nul = data.find(b"\x00")
        if nul >= 0:
            raise ParseError(
                source,
                f"binary data (NUL byte at byte offset {nul}); expected a text document or a PDF",
                line=_line_of(data, nul),
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError(
                source,
                f"byte 0x{data[exc.start]:02X} at byte offset {exc.start} is not valid UTF-8; "
                "expected UTF-8 text (re-save the file as UTF-8)",
                line=_line_of(data, exc.start),
            ) from None
    if not text.strip():
        raise ParseError(source, "empty file; expected a recommendation document (UTF-8 text or PDF)", line=1)
    controls = len(_CONTROL_RE.findall(text))
    if controls > max(8, len(text) // 10):
        raise ParseError(
            source, f"binary data ({controls} control characters); expected a text document or a PDF", line=1
        )
    return text


def parse_file(path: Path, *, max_bytes: int = MAX_FILE_BYTES, pdf_limits: PdfLimits | None = None) -> Document:
    """Parse a .txt (UTF-8) or .pdf document together with its sidecar, if any (PDFs within `pdf_limits`)."""
    path = Path(path)
    pdf = path.suffix.lower() == ".pdf"
    check_regular(path, max_bytes=None if pdf else max_bytes)  # not a device or FIFO, not too big
    meta = read_meta(path)
    if pdf:
        with open_regular(path, what="PDF") as handle:  # streamed: the PDF is only read whole in the extractor
            sha = hashlib.file_digest(handle, "sha256").hexdigest()
        limits = pdf_limits or PdfLimits()
        reading = extract_pdf(path, timeout_s=limits.timeout_s, memory_mb=limits.memory_mb, max_pages=limits.max_pages)
        text = reading.text
        if len(text) > max_bytes:
            raise ParseError(path, f"extracted text has {len(text)} characters; expected at most {max_bytes}", line=1)
        try:
            return parse_text(text, source_file=path.name, sha256=sha, meta=meta, source_format="pdf", pdf=reading)
        except ParseError as exc:
            raise ParseError(path, exc.detail, line=exc.line) from None
    data = read_regular(path, max_bytes, "document")
    text = decode_bytes(data, path)
    try:
        return parse_text(
            text.removeprefix("\ufeff"),
            source_file=path.name,
            sha256=hashlib.sha256(data).hexdigest(),
            meta=meta,
            source_format="text",
        )
    except ParseError as exc:
        raise ParseError(path, exc.detail, line=exc.line) from None


# --------------------------------------------------------------------------- lines


@dataclass(slots=True)
class _Line:
    """One physical line: cleaned text plus where its content sits in the source text."""

    lineno: int  # 1-based, as an editor counts (CR LF, CR, LF)
    start: int  # offset of the first non-space character
    end: int  # offset after the last non-space character
    text: str  # whitespace-normalised content ("" for a blank line)
    indented: bool  # content starts after leading whitespace
    page: int  # 1-based; form feeds start a new page
    col: int = 0  # width of the leading whitespace (for the line-wrap test)
    brk: bool = False  # a paragraph break precedes this line
    structural_cache: bool | None = None

    @property
    def structural(self) -> bool:
        """Starts with a label or is a heading (computed once: several passes ask)."""
        if self.structural_cache is None:
            self.structural_cache = _is_structural(self.text)
        return self.structural_cache

    @property
    def width(self) -> int:
        return self.col + len(self.text)


def _split_lines(text: str) -> list[_Line]:
    """All physical lines with their offsets: the table that keeps spans exact.

    Spaces are normalised over the whole text first (one character for one, so offsets
    hold); str.splitlines breaks at CR LF, CR, LF, FF, VT, FS, GS, RS, NEL, LS and PS.
    """
    norm = text.translate(_SPACE_MAP)
    invisible = _INVISIBLE_RE.search(norm) is not None
    lines: list[_Line] = []
    pos, lineno, page = 0, 1, 1
    for raw in norm.splitlines(keepends=True):
        if raw.endswith("\r\n"):
            sep = "\r\n"
        elif raw[-1] in _LINE_ENDS:
            sep = raw[-1]
        else:
            sep = ""
        content = raw[: len(raw) - len(sep)]
        stripped = content.lstrip()
        lead = len(content) - len(stripped)
        body = stripped.rstrip()
        clean = body
        if invisible:
            clean = _INVISIBLE_RE.sub("", clean)
        if "  " in clean:
            clean = _MULTISPACE_RE.sub(" ", clean)
        if invisible:
            clean = clean.strip()
        clean = normalise_compat(clean)  # ligatures, full-width forms (the span still covers the source)
        start = pos + lead
        lines.append(_Line(lineno, start, start + len(body), clean, lead > 0, page, lead))
        pos += len(raw)
        if sep == "\f":
            page += 1
        elif sep in ("\r\n", "\r", "\n"):
            lineno += 1
    return lines


def _ends_sentence(text: str) -> bool:
    """Ends in . ! ? : or ; (before any closing quotes or brackets)."""
    return text.rstrip(_CLOSERS)[-1:] in (".", "!", "?", ":", ";")


def _ends_clause(text: str) -> bool:
    return text.rstrip(_CLOSERS)[-1:] in (".", "!", "?", ":", ";", ",")


def _is_structural(text: str) -> bool:
    """Labelled items and headings are never page furniture."""
    first = text[:1]
    return bool(
        _LABEL_RE.match(text)
        or (first == "S" and _SUBTHEME_RE.fullmatch(text))
        or (first in ("I", "V", "X") and _ROMAN_HEADING_RE.fullmatch(text))
        or (first in _HEADING_FIRSTS and _KEYWORD_HEADING_RE.fullmatch(text))
    )


def _neighbour_key(text: str) -> str:
    """Compare neighbours without their labels, so "9. X" and "13. X" count as the same neighbour."""
    m = _LABEL_RE.match(text)
    return (text[m.end() :] if m else text).strip().casefold()


def _drop_furniture(lines: list[_Line]) -> list[_Line]:
    """Remove page numbers and running headers/footers, with the blank lines around them.

    A page break is not a paragraph break, so blank lines that touch furniture go with it.
    A running header or footer must sit at a page edge: pages end at form feeds and at
    page-number lines, and a block of repeated lines is at an edge when it opens a page (or
    the document) or closes one.  Without any page edge to go by (no form feed, no page
    number), its first occurrence must sit above the first item or heading, where the
    page-1 header is.  A line that recurs inside the items only is never taken for one.
    """
    furniture = [bool(0 < len(ln.text) <= 24 and _FURNITURE_RE.fullmatch(ln.text)) for ln in lines]
    content = [i for i, ln in enumerate(lines) if ln.text and not furniture[i]]
    if not content:
        return []
    keys: list[str | None] = []
    for i in content:
        t = lines[i].text
        candidate = len(t) <= 160 and not t[0].islower() and not _ends_clause(t) and not lines[i].structural
        keys.append(_DIGITS_RE.sub("#", t.casefold()) if candidate else None)
    counts = Counter(k for k in keys if k is not None)
    repeated = [k is not None and counts[k] >= 2 for k in keys]
    if not any(repeated):
        return _keep(lines, furniture)
    # Pages: a form feed or a page-number line between two content lines ends a page.
    n = len(content)
    sheet = [0] * n
    opens = [False] * n
    closes = [False] * n
    opens[0] = closes[-1] = True
    for pos in range(1, n):
        j, i = content[pos - 1], content[pos]
        brk = lines[j].page != lines[i].page or any(furniture[k] for k in range(j + 1, i))
        opens[pos] = closes[pos - 1] = brk
        sheet[pos] = sheet[pos - 1] + brk
    n_sheets = sheet[-1] + 1
    feeds = lines[content[-1]].page >= 2
    first_structural = next((pos for pos, i in enumerate(content) if lines[i].structural), n)
    # Blocks: maximal runs of consecutive repeated lines, grouped by their sequence of keys.
    blocks: dict[tuple[str, ...], list[tuple[int, int]]] = defaultdict(list)
    pos = 0
    while pos < n:
        if not repeated[pos]:
            pos += 1
            continue
        end = pos
        while end < n and repeated[end]:
            end += 1
        blocks[tuple(k or "" for k in keys[pos:end])].append((pos, end))
        pos = end
    for occurrences in blocks.values():
        count = len(occurrences)
        if count < 2:
            continue
        prevs = {_neighbour_key(lines[content[a - 1]].text) if a > 0 else f"^{a}" for a, _ in occurrences}
        nexts = {_neighbour_key(lines[content[b]].text) if b < n else f"${b}" for _, b in occurrences}
        if len(prevs) < count or len(nexts) < count:
            continue  # the same text in the same context: repeated content, not furniture
        # On 2+ pages, each time at a page edge, on about half the pages or more (it runs).
        paged = (
            n_sheets >= 2
            and len({sheet[a] for a, _ in occurrences}) == count
            and 2 * count + 1 >= n_sheets
            and all(opens[a] or closes[b - 1] for a, b in occurrences)
        )
        # Page breaks lost (no form feed): 3+ times, the first one in the page-1 header.
        unpaged = not feeds and count >= 3 and occurrences[0][0] < first_structural
        if paged or unpaged:
            for a, b in occurrences:
                for p in range(a, b):
                    furniture[content[p]] = True
    return _keep(lines, furniture)


def _keep(lines: list[_Line], furniture: list[bool]) -> list[_Line]:
    """The lines that are not furniture, without the blank lines that touch furniture."""
    kept: list[_Line] = []
    i, n = 0, len(lines)
    while i < n:
        if furniture[i]:
            i += 1
        elif lines[i].text:
            kept.append(lines[i])
            i += 1
        else:
            j = i
            while j < n and not lines[j].text:
                j += 1
            if not ((i > 0 and furniture[i - 1]) or (j < n and furniture[j])):
                kept.extend(lines[i:j])
            i = j
    return kept


def _mark_paragraphs(lines: list[_Line]) -> list[_Line]:
    """Drop blank lines, flagging each content line that follows a paragraph break.

    In a double-spaced extraction (a blank line after every line) one blank line is noise
    and only two or more make a break; the document is judged double-spaced when 90% of
    all line transitions and most mid-sentence wraps (at least three) have a blank line.
    """
    content: list[_Line] = []
    gaps: list[int] = []
    blanks = 0
    for ln in lines:
        if ln.text:
            content.append(ln)
            gaps.append(blanks)
            blanks = 0
        else:
            blanks += 1
    wraps = spaced = 0
    for (prev, cur), gap in zip(pairwise(content), gaps[1:], strict=False):
        if not _ends_sentence(prev.text) and not cur.structural:
            wraps += 1
            spaced += gap > 0
    gapped = sum(1 for gap in gaps[1:] if gap > 0)
    double = wraps >= 3 and spaced * 5 >= wraps * 3 and gapped * 10 >= (len(gaps) - 1) * 9
    threshold = 2 if double else 1
    for i, (ln, gap) in enumerate(zip(content, gaps, strict=True)):
        ln.brk = i > 0 and gap >= threshold
    return content


def _wrap_width(content: list[_Line]) -> int | None:
    """The column the text was wrapped at: the longest line that wrapped mid-sentence (None if unknown)."""
    widths = sorted(
        ln.width for ln, nxt in pairwise(content) if not nxt.brk and not _ends_sentence(ln.text) and not nxt.structural
    )
    if len(widths) < 5:
        return None
    return widths[min(len(widths) - 1, (len(widths) * 19) // 20)]


# --------------------------------------------------------------------------- joining text


class _Joiner:
    """Accumulates line texts, repairing line-end hyphenation, in linear time.

    `words` holds the word forms written unbroken elsewhere in the document (lowercase), the
    evidence for a hyphen at a line end: see `_keeps_hyphen`.
    """

    __slots__ = ("parts", "words")

    def __init__(self, words: frozenset[str] = frozenset()) -> None:
        self.parts: list[str] = []
        self.words = words

    def add(self, text: str, sep: str = " ") -> None:
        if not text:
            return
        if not self.parts:
            self.parts.append(text)
            return
        last = self.parts[-1]
        if last.endswith("\u00ad"):
            self.parts[-1] = last[:-1]
            self.parts.append(text)
        elif last[-1] in _HYPHENS and len(last) > 1 and last[-2].isalnum() and text[0].isalnum():
            if not _keeps_hyphen(last, text, self.words):
                self.parts[-1] = last[:-1]
            self.parts.append(text)
        else:
            self.parts.append(sep)
            self.parts.append(text)

    def ends_open(self) -> bool:
        """True when the text so far ends in punctuation or and/or: no "; " needed before a sub-item."""
        return bool(self.parts) and bool(_OPEN_END_RE.search(self.parts[-1]))

    def text(self) -> str:
        # a soft hyphen that was not at a line end can leave a space behind: fold it away
        return _MULTISPACE_RE.sub(" ", "".join(self.parts).replace("\u00ad", "")).strip()


def _keeps_hyphen(before: str, after: str, words: frozenset[str]) -> bool:
    """Is the hyphen ending `before` part of a compound ("gender-sensitive") or a word break ("recruit-ment")?

    In order: the document writes the hyphenated form unbroken elsewhere -> keep; it writes
    the joined form elsewhere -> drop; the fragment after the break is a common suffix
    ("ment", "tion", "ers", ...) -> drop; neither fragment is a word on its own -> drop
    ("inspec-torates", "inclu-ding"); otherwise keep (the hyphen is printed: never remove
    what might be a compound).  A fragment is a word on its own when the document writes it
    as a word (alone or in a hyphenated compound) away from any line break, or it is in
    COMPOUND_HEADS / COMPOUND_TAILS, or (before the hyphen) it has one or two letters.
    Only lowercase letter fragments can be joined.
    """
    head = _TRAILING_WORD_RE.search(before)
    tail = _LEADING_WORD_RE.match(after)
    if head is None or tail is None:
        return True
    first, second = head.group(1).lower(), tail.group()
    if f"{first}-{second}" in words:
        return True
    if first + second in words:
        return False
    if second in _SUFFIXES:
        return False
    head_is_word = len(first) <= 2 or first in COMPOUND_HEADS or first in words
    return head_is_word or second in COMPOUND_TAILS or second in words


def _word_forms(text: str) -> frozenset[str]:
    """Every word written without a line break in it, lowercase ("gender-sensitive", "reintegration").

    The parts of a hyphenated word count as words too ("gender", "sensitive"); the two
    fragments of a word broken at a line end ("inspec-", "torates") do not.
    """
    if not _HYPHEN_BREAK_RE.search(text):
        return frozenset()  # no line-end hyphen to decide
    forms = set(_WORD_FORM_RE.findall(_BROKEN_WORD_RE.sub(" ", text.lower())))
    for form in [f for f in forms if "-" in f or "\u2010" in f]:
        forms.update(_HYPHEN_SPLIT_RE.split(form))
    return frozenset(forms)


def _join(texts: list[str], words: frozenset[str] = frozenset()) -> str:
    j = _Joiner(words)
    for t in texts:
        j.add(t)
    return j.text()


# --------------------------------------------------------------------------- structure


@dataclass(slots=True)
class _Para:
    kind: str  # "body" | "cont" (after a break) | "stmt" (statement-like, no break) | "bullet" | "nested"
    lines: list[_Line]
    texts: list[str]


@dataclass(slots=True)
class _Item:
    label: str
    style: tuple[str, str]  # (kind, delimiter)
    ordinal: int
    subtheme: str | None
    paras: list[_Para]
    sub_style: tuple[str, str] | None = None
    sub_ordinal: int = 0

    def add_line(self, ln: _Line, text: str | None = None) -> None:
        self.paras[-1].lines.append(ln)
        self.paras[-1].texts.append(ln.text if text is None else text)

    def new_para(self, kind: str, ln: _Line, text: str | None = None) -> None:
        self.paras.append(_Para(kind, [ln], [ln.text if text is None else text]))

    def build_text(self, words: frozenset[str] = frozenset()) -> str:
        j = _Joiner(words)
        prev_kind = ""
        for p in self.paras:
            body = _join(p.texts, words)
            if not body:
                continue
            sep = "; " if p.kind == "bullet" and prev_kind == "bullet" and not j.ends_open() else " "
            j.add(body, sep)
            prev_kind = p.kind
        return j.text()


@dataclass(slots=True)
class _Section:
    label: str
    heading: _Line
    title: list[str]
    preamble: list[_Line] = field(default_factory=list)
    title_open: bool = True
    roman: bool = False
    items: list[_Item] = field(default_factory=list)
    last_line: _Line | None = None


@dataclass(slots=True)
class _Label:
    label: str
    delim: str
    rest: str
    candidates: list[tuple[str, int]]  # (kind, ordinal) readings, e.g. "i" is alpha 9 or roman 1


def _roman_value(token: str) -> int | None:
    if not _ROMAN_RE.fullmatch(token):
        return None
    total = prev = 0
    for ch in reversed(token.lower()):
        v = _ROMAN_VALUES[ch]
        total += -v if v < prev else v
        prev = max(prev, v)
    return total


def _read_label(text: str) -> _Label | None:
    m = _LABEL_RE.match(text)
    if not m:
        return None
    token = m.group("p") or m.group("b")
    delim = "()" if m.group("p") else m.group("d")
    if token.isdigit():
        cands = [("num", int(token))]
    else:
        cands = []
        if len(token) == 1:
            cands.append(("alpha", ord(token) - 96))
        roman = _roman_value(token)
        if roman:
            cands.append(("roman", roman))
    if not cands:
        return None
    return _Label(token, delim, text[m.end() :].strip(), cands)


class _Builder:
    """The line-by-line state machine: header, sub-themes, items, sub-items."""

    def __init__(
        self,
        source: str,
        *,
        wrap_width: int | None = None,
        words: frozenset[str] = frozenset(),
        caps: frozenset[int] = frozenset(),
        caps_cont: frozenset[int] = frozenset(),
    ) -> None:
        self.source = source
        self.caps = caps  # ids of the lines that open a heading in capitals (see _caps_headings)
        self.caps_cont = caps_cont  # ids of the lines that continue one
        self.keyword_headings: dict[str, int] = {}
        self.words = words
        self.wrap_width = wrap_width
        self.header: list[_Line] = []
        self.sections: list[_Section] = []
        self.items: list[_Item] = []
        self.item: _Item | None = None
        self.top_style: tuple[str, str] | None = None
        self.top_ordinal = 0
        self.roman_headings = 0

    @property
    def section(self) -> _Section | None:
        return self.sections[-1] if self.sections else None

    def feed(self, ln: _Line, nxt: _Line | None) -> None:
        sec = self.section
        if id(ln) in self.caps_cont and sec is not None and not sec.items:
            sec.title.append(ln.text)
            sec.last_line = ln
            return
        if self._heading(ln):
            return
        sec = self.section
        label = _read_label(ln.text)
        if sec is not None and sec.title_open and not sec.items:
            if label is None and self._continues_title(sec, ln, nxt):
                sec.title.append(ln.text)
                sec.last_line = ln
                return
            sec.title_open = False
        if label is not None and self._item(ln, label):
            return
        self._text(ln)

    def _continues_title(self, sec: _Section, ln: _Line, nxt: _Line | None) -> bool:
        """Is `ln` the rest of a wrapped sub-theme title, or the start of the preamble?

        A title wraps when its last line ends in a function word or a hyphen, when the next
        line starts lower case, or when the heading line is full (the next word would not
        have fitted) and `ln` is a short leftover rather than a full line of a paragraph.
        """
        if not sec.title:
            return True  # "Sub-theme 1:" alone: the title is on the next line
        if ln.brk or _ends_sentence(sec.title[-1]):
            return False
        prev = sec.last_line or sec.heading
        last_word = prev.text.rsplit(" ", 1)[-1].lower()
        if last_word in _FUNCTION_WORDS or _HYPHEN_END_RE.search(prev.text) or ln.text[0].islower():
            return True
        if _ends_sentence(ln.text):
            return False  # a sentence: the preamble
        block_ends = nxt is None or nxt.brk or nxt.structural
        width = self.wrap_width
        if width is None:
            return block_ends  # only a title wrap leaves a lone line before the items
        if prev.width + 1 + len(ln.text.split(" ", 1)[0]) <= width:
            return False  # the heading line was not full: the title ended there
        return block_ends or (nxt is not None and ln.width + 1 + len(nxt.text.split(" ", 1)[0]) <= width)

    def _heading(self, ln: _Line) -> bool:
        first = ln.text[:1]
        m = _SUBTHEME_RE.fullmatch(ln.text) if first == "S" else None
        roman = False
        if m is None and first in _HEADING_FIRSTS:
            k = _KEYWORD_HEADING_RE.fullmatch(ln.text)
            if k is not None:
                kw = " ".join(k.group("kw").lower().split())
                expected = self.keyword_headings.get(kw, 0) + 1
                token = k.group("label")
                letter = ord(token) - 64 if len(token) == 1 else 0
                values = {int(token)} if token.isdigit() else {_roman_value(token), letter}
                if expected in values:
                    self.keyword_headings[kw] = expected
                    m = k
        if m is None and id(ln) in self.caps:
            label = str(len(self.sections) + 1)  # printed without a label: its place among the headings
            self.item = None
            self.sections.append(_Section(label, ln, [ln.text], last_line=ln))
            return True
        if m is None:
            m = _ROMAN_HEADING_RE.fullmatch(ln.text) if first in ("I", "V", "X") else None
            if m is None or _roman_value(m.group("label")) != self.roman_headings + 1:
                return False
            roman = True
            self.roman_headings += 1
        title = (m.group("title") or "").strip()
        self.item = None
        self.sections.append(_Section(m.group("label"), ln, [title] if title else [], roman=roman, last_line=ln))
        return True

    def _accepts_top(self, kind: str, delim: str, ordinal: int) -> bool:
        sec = self.section
        fresh = not self.items or (sec is not None and not sec.items)
        if self.top_style is None:
            return ordinal == 1 or (kind == "num" and not self.items)
        same = self.top_style == (kind, delim)
        if fresh:
            return ordinal == 1 or (same and ordinal == self.top_ordinal + 1)
        return same and ordinal in (self.top_ordinal + 1, self.top_ordinal)

    def _item(self, ln: _Line, label: _Label) -> bool:
        item = self.item
        # The next item of the current list wins ("i)" after "h)" is a letter, not roman one).
        if item is not None and any(
            (kind, label.delim) == self.top_style and ordinal == self.top_ordinal + 1
            for kind, ordinal in label.candidates
        ):
            return self._new_item(ln, label)
        # A nested sub-item: another style than the list it sits in, next in its own sequence.
        if item is not None:
            for kind, ordinal in label.candidates:
                style = (kind, label.delim)
                if style == item.style:
                    continue
                if (item.sub_style is None and ordinal == 1) or (
                    item.sub_style == style and ordinal == item.sub_ordinal + 1
                ):
                    item.sub_style, item.sub_ordinal = style, ordinal
                    item.new_para("nested", ln)
                    return True
        return self._new_item(ln, label)

    def _new_item(self, ln: _Line, label: _Label) -> bool:
        for kind, ordinal in label.candidates:
            if self._accepts_top(kind, label.delim, ordinal):
                sec = self.section
                if sec is not None:
                    sec.title_open = False
                new = _Item(
                    label.label,
                    (kind, label.delim),
                    ordinal,
                    sec.label if sec else None,
                    [_Para("body", [ln], [label.rest])],
                )
                self.top_style, self.top_ordinal = new.style, ordinal
                self.items.append(new)
                if sec is not None:
                    sec.items.append(new)
                self.item = new
                return True
        return False

    def _text(self, ln: _Line) -> None:
        item = self.item
        if item is None:
            sec = self.section
            if sec is None:
                self.header.append(ln)
            else:
                sec.preamble.append(ln)
                sec.last_line = ln
            return
        bullet = _BULLET_RE.match(ln.text)
        if bullet:
            item.new_para("bullet", ln, ln.text[bullet.end() :])
        elif ln.brk:
            lost_bullet = ln.indented and ln.text[0].islower()
            item.new_para("bullet" if lost_bullet else "cont", ln)
        elif _STATEMENT_RE.match(ln.text) and _ends_sentence(item.paras[-1].texts[-1] or "."):
            item.new_para("stmt", ln)  # a possible closing statement: PDF extraction drops blank lines
        else:
            item.add_line(ln)

    def take_closing(self) -> list[_Para]:
        """Pop trailing document statements off the last item (see the module docstring)."""
        closing: list[_Para] = []
        item = self.items[-1] if self.items else None
        if item is None or self.item is not item:
            return closing
        while len(item.paras) > 1:
            para = item.paras[-1]
            body = _join(para.texts, self.words)
            if para.kind not in ("cont", "stmt") or not body[:1].isupper() or not _STATEMENT_RE.match(body):
                break
            closing.insert(0, item.paras.pop())
        return closing


# --------------------------------------------------------------------------- document facts


def _find_date(text: str) -> str | None:
    """First valid calendar date written as 14 September 2020, September 14, 2020 or 2020-09-14."""
    for m in _DATE_RE.finditer(text):
        try:
            if m.group("y1"):
                y, mo, d = int(m.group("y1")), int(m.group("m1")), int(m.group("d1"))
            elif m.group("y2"):
                mon = _MONTHS.get(m.group("mon2").lower())
                if mon is None:
                    continue
                y, mo, d = int(m.group("y2")), mon, int(m.group("d2"))
            else:
                mon = _MONTHS.get(m.group("mon3").lower())
                if mon is None:
                    continue
                y, mo, d = int(m.group("y3")), mon, int(m.group("d3"))
            return _dt.date(y, mo, d).isoformat()
        except ValueError:
            continue
    return None


def _is_date_line(text: str) -> bool:
    m = _DATE_LINE_RE.fullmatch(text)
    if not m:
        return False
    d = _DATE_RE.fullmatch(m.group("date"))
    return d is not None and _find_date(d.group()) is not None


def _find_edition(text: str) -> int | None:
    m = _EDITION_RE.search(text)
    if not m:
        return None
    return int(m.group("num")) if m.group("num") else _ORDINAL_WORDS[m.group("word").lower()]


def _find_member_state(text: str) -> str | None:
    """A member state named as the issuer ("Cambodia National Recommendations"), as written."""
    found = _find_issuer(text)
    return found[0] if found else None


def _find_issuer(text: str) -> tuple[str, str] | None:
    """(member state as written, the words that say so) when the document speaks for one member state.

    Its national recommendations ("Cambodia National Recommendations", "Recommendations of Viet Nam"), or
    those of its national preparatory meeting, workshop or consultation ("Recommendations of the National
    Preparatory Meeting of Thailand", "Lao PDR National Tripartite Workshop").  A state after a comma
    ("Manila, Philippines") is where a meeting was held, not who speaks.
    """
    for pattern in (*_ISSUER_RES, *_NATIONAL_MEETING_RES):
        for m in pattern.finditer(text):
            before = text[: m.start("state")].rstrip()
            if before.endswith(",") and pattern in _ISSUER_RES:
                continue  # "held in Manila, Philippines Recommendations...": a place
            return " ".join(m.group("state").split()), " ".join(m.group().split())
    return None


def _regional(text: str) -> str | None:
    """The words that make a document the forum's own (regional) recommendations, else None."""
    if _NATIONAL_WORD_RE.search(text):
        return None
    m = _FORUM_RECS_RE.search(text)
    return " ".join(m.group().split()) if m else None


def _find_date_range(text: str) -> tuple[str, str | None] | None:
    """(first day, last day or None) of the first date or date range ("9-10 November 2017", "30 Oct - 1 Nov 2017")."""
    single = _find_date(text)
    first = next((m for m in _DATE_RE.finditer(text) if _find_date(m.group())), None)
    for m in _DATE_RANGE_RE.finditer(text):
        if first is not None and first.end() <= m.start():
            break  # a single date comes first
        try:
            y = int(m.group("y") or m.group("yb"))
            mon2 = _MONTHS.get((m.group("mon2") or m.group("mon") or "").lower())
            mon1 = _MONTHS.get((m.group("mon1") or "").lower()) or mon2
            if mon1 is None or mon2 is None:
                continue
            start = _dt.date(y, mon1, int(m.group("d1") or m.group("d1b")))
            end = _dt.date(y, mon2, int(m.group("d2") or m.group("d2b")))
        except ValueError:
            continue
        if end > start:
            return start.isoformat(), end.isoformat()
    return (single, None) if single else None


def _place_line(text: str) -> str | None:
    """The place a line names where it is only "Manila, Philippines" (optionally followed by its date)."""
    m = _PLACE_LINE_RE.fullmatch(text)
    if m:
        rest = (m.group("rest") or "").strip(" ,;–-")
        if not rest or _find_date_range(rest):
            return " ".join(m.group("place").split())
    return None


def _header_place(lines: list[str]) -> str | None:
    """A header line naming where the meeting was: "Manila, Philippines" (optionally followed by its date)."""
    return next(filter(None, map(_place_line, lines)), None)


def _place_and_mode(statements: list[str]) -> tuple[str | None, str | None]:
    """Place and mode from sentences about the meeting ("held online", "held ... at X and online")."""
    place: str | None = None
    mode: str | None = None
    for s in statements:
        if not _HELD_RE.search(s) and not _HYBRID_RE.search(s):
            continue
        m = _PLACE_RE.search(s)
        p = m.group("place").strip(" ,") if m else None
        if p and (p.split()[0].lower().rstrip(".,") in _MONTHS or p[0].isdigit()):
            p = None
        online = bool(_ONLINE_RE.search(s))
        if _HYBRID_RE.search(s) or (p and online):
            m_mode = "hybrid"
        elif online:
            m_mode = "online"
        elif p:
            m_mode = "in person"
        else:
            continue
        place = place or p
        mode = mode or m_mode
    return place, mode


@dataclass(slots=True)
class _Header:
    title: str | None = None
    theme: str | None = None
    theme_edition: int | None = None
    preamble: str | None = None
    text: str = ""


def _read_header(lines: list[_Line], words: frozenset[str] = frozenset()) -> _Header:
    """Split the lines before the first heading/item into title, date line, theme and the rest."""
    head = _Header()
    if not lines:
        return head
    marked = [False] * len(lines)
    joined_parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for ln in lines:
        starts.append(pos)
        joined_parts.append(ln.text)
        pos += len(ln.text) + 1
    joined = " ".join(joined_parts)
    head.text = joined
    for edition, pattern in _THEME_RES:
        m = pattern.search(joined)
        if m:
            head.theme, head.theme_edition = m.group(), edition
            for i, s in enumerate(starts):
                if s < m.end() and s + len(lines[i].text) > m.start():
                    marked[i] = True
            break
    for i, ln in enumerate(lines):
        if marked[i]:
            continue
        m = _THEME_LINE_RE.fullmatch(ln.text)
        if m and head.theme is None:
            parts = [m.group("theme")]
            marked[i] = True
            for k in range(i + 1, len(lines)):
                if lines[k].brk or marked[k]:
                    break
                parts.append(lines[k].text)
                marked[k] = True
            head.theme = _join(parts, words)
        elif _is_date_line(ln.text) or _place_line(ln.text):
            marked[i] = True  # a date or place line is neither title nor preamble, even with no gap above it
    # Runs of consecutive unmarked lines without a paragraph break between them.
    runs: list[list[int]] = []
    for i in range(len(lines)):
        if marked[i]:
            continue
        if runs and runs[-1][-1] == i - 1 and not lines[i].brk:
            runs[-1].append(i)
        else:
            runs.append([i])
    # The title: the first run that names a kind of document, from its naming line; else the first run.
    chosen: list[int] = []
    for run in runs:
        named = [k for k, i in enumerate(run) if _TITLE_WORD_RE.search(lines[i].text)]
        if named:
            chosen = run[named[0] :]
            break
    if not chosen and runs:
        chosen = runs[0]
    title = _join([lines[i].text for i in chosen], words)
    if title and len(title) <= 250 and not title.endswith(".") and not _STATEMENT_RE.match(title):
        head.title = title
    else:
        chosen = []
    taken = set(chosen)
    rest = [lines[i].text for run in runs for i in run if i not in taken]
    head.preamble = _join(rest, words) or None
    return head


# --------------------------------------------------------------------------- parse_text

REGIONAL_ISSUER = "ASEAN Forum on Migrant Labour"
"""Document.issuer of the forum's own recommendations (regional: no member state)."""

_NOTE_TAIL_RE = re.compile(r"(?:[.;)]\s*\d{1,2}|[.;)]\s+\d{1,2}\s+[A-Z][^.]{0,200}(?:\.\s*)?)$")
_GLUED_MARK_RE = re.compile(r"[.,;:)\]](?P<label>\d{1,2})(?=\s|$)")


def _footnote_warnings(recommendations: list[Recommendation]) -> list[str]:
    """Items whose text looks like it holds a footnote or a footnote marker."""
    out: list[str] = []
    for rec in recommendations:
        where = f"item {rec.label}" + (f" (sub-theme {rec.subtheme})" if rec.subtheme else "")
        if _NOTE_TAIL_RE.search(rec.text):
            out.append(f"{where} ends with text that looks like a footnote: {brief(rec.text[-60:])}")
        elif _GLUED_MARK_RE.search(rec.text):
            out.append(f"{where} has a digit after punctuation that looks like a footnote marker")
    return out


def _caps_headings(content: list[_Line]) -> tuple[frozenset[int], frozenset[int]]:
    """Headings printed in capitals, each followed by an item: (ids of first lines, ids of continuation lines).

    Only where the document has no other headings and has two or more such blocks; a block above the
    first item that names the document ("RECOMMENDATIONS OF THE ...") is its title.
    """
    if any(ln.structural and _LABEL_RE.match(ln.text) is None for ln in content):
        return frozenset(), frozenset()

    def caps(ln: _Line) -> bool:
        t = ln.text
        return (
            _CAPS_HEADING_RE.fullmatch(t) is not None
            and sum(c.isalpha() for c in t) >= 6
            and _LABEL_RE.match(t) is None
            and not _is_date_line(t)
        )

    blocks: list[tuple[int, int]] = []
    first_item = next((i for i, ln in enumerate(content) if _LABEL_RE.match(ln.text)), len(content))
    i, n = 0, len(content)
    while i < n:
        if not caps(content[i]) or (i > 0 and not _ends_clause(content[i - 1].text) and i > first_item):
            i += 1
            continue
        j = i
        while j + 1 < n and j - i < 2 and caps(content[j + 1]):
            j += 1
        if j + 1 < n and _read_label(content[j + 1].text) is not None:
            blocks.append((i, j))
        i = j + 1
    if blocks and blocks[0][0] < first_item:
        words = " ".join(content[k].text for k in range(blocks[0][0], blocks[0][1] + 1))
        if _TITLE_WORD_RE.search(words) and not any(a < first_item for a, _ in blocks[1:]):
            blocks = blocks[1:]
    if len(blocks) < 2:
        return frozenset(), frozenset()
    starts = frozenset(id(content[a]) for a, _ in blocks)
    conts = frozenset(id(content[k]) for a, b in blocks for k in range(a + 1, b + 1))
    return starts, conts

_T = TypeVar("_T")


def _merged(meta: DocumentMeta, key: str, value: _T | None, notes: list[str]) -> _T | None:
    """The text's `value` of `key`, else the sidecar's; where both are given and differ, the text wins (noted)."""
    side: _T | None = getattr(meta, key)
    if value is not None and side is not None and side != value:
        notes.append(f"sidecar {key} {side!r} differs from the text's {value!r}; the text wins")
    return value if value is not None else side


def parse_text(
    text: str,
    *,
    source_file: str,
    sha256: str,
    meta: DocumentMeta | None = None,
    source_format: str = "text",
    pdf: PdfReading | None = None,
) -> Document:
    """Parse a decoded document: structure from the layout, facts from the text, gaps from `meta`.

    `pdf` is what the PDF reader set aside from `text` (furniture, footnotes): recorded in Document.reading.
    """
    meta = meta or DocumentMeta()
    source_file = clean_name(source_file)
    text = text.removeprefix("\ufeff")
    all_lines = _split_lines(text)
    kept = _drop_furniture(all_lines)
    kept_ids = {id(ln) for ln in kept}
    furniture = [*(pdf.furniture if pdf else ())]
    for ln in all_lines:
        if ln.text and id(ln) not in kept_ids:
            why = "page number" if len(ln.text) <= 24 and _FURNITURE_RE.fullmatch(ln.text) else "running header/footer"
            furniture.append(Removed(ln.page, ln.text, why))
    content = _mark_paragraphs(kept)
    if not content:
        raise ParseError(source_file, "no text; expected a recommendation document", line=1)
    words = _word_forms(text)
    caps, caps_cont = _caps_headings(content)
    builder = _Builder(source_file, wrap_width=_wrap_width(content), words=words, caps=caps, caps_cont=caps_cont)
    for ln, nxt in zip(content, [*content[1:], None], strict=True):
        builder.feed(ln, nxt)
    closing_paras = builder.take_closing()
    if not builder.items:
        raise ParseError(
            source_file,
            f"no recognisable recommendation in {content[-1].lineno} lines; expected numbered items "
            "such as '1. ...', '1) ...', '(1) ...' or 'a. ...'",
            line=content[0].lineno,
        )

    recommendations: list[Recommendation] = []
    first_seen: dict[tuple[str | None, str], tuple[str, int]] = {}
    item_spans: dict[int, Span] = {}
    for position, item in enumerate(builder.items, start=1):
        body = item.build_text(words)
        first = item.paras[0].lines[0]
        last = item.paras[-1].lines[-1]
        if not body:  # a bare label ("2." and nothing after it): no recommendation to record (found by fuzzing)
            raise ParseError(source_file, f"item {item.label} has no text; expected the recommendation's words "
                             "after its label", line=first.lineno)
        key = (item.subtheme, item.label)
        if key in first_seen and first_seen[key][0] != body:
            where = f" in sub-theme {item.subtheme}" if item.subtheme is not None else ""
            raise ParseError(
                source_file,
                f"label {item.label}{where} appears twice with different text (first at line "
                f"{first_seen[key][1]}); expected each label once, or a verbatim repeat",
                line=first.lineno,
            )
        first_seen.setdefault(key, (body, first.lineno))
        span = Span(first.start, last.end)
        item_spans[id(item)] = span
        recommendations.append(Recommendation(item.label, item.subtheme, position, body, span))

    subthemes: list[SubTheme] = []
    for position, sec in enumerate(builder.sections, start=1):
        end = sec.last_line.end if sec.last_line else sec.heading.end
        if sec.items:
            end = max(end, item_spans[id(sec.items[-1])].end)
        preamble = _join([ln.text for ln in sec.preamble], words) or None
        title = _join(sec.title, words)
        subthemes.append(SubTheme(sec.label, title, position, preamble, Span(sec.heading.start, end)))

    header_lines = builder.header
    synthetic = bool(header_lines) and header_lines[0] is content[0] and content[0].text.startswith(_SYNTHETIC_MARKER)
    if synthetic:
        header_lines = header_lines[1:]  # a fixture marker: neither title nor preamble nor a source of facts
    header = _read_header(header_lines, words)
    closing = tuple(_join(p.texts, words) for p in closing_paras)
    statements = [ln.text for ln in header_lines] + list(closing)
    facts_text = " ".join([header.text, *closing])
    issuer_found = _find_issuer(header.text)
    stated_state = issuer_found[0] if issuer_found else None
    regional = None if issuer_found else _regional(" ".join(filter(None, [header.title, header.text])))
    place, mode = _place_and_mode(statements)
    place = place or _header_place([ln.text for ln in header_lines])
    notes: list[str] = []  # in this order: title, forum_edition, date, member_state, place, mode
    doc_title = _merged(meta, "title", header.title, notes)
    forum_edition = _merged(meta, "forum_edition", _find_edition(facts_text) or header.theme_edition, notes)
    dates = _find_date_range(header.text) or _find_date_range(" ".join(closing))
    date = _merged(meta, "date", dates[0] if dates else None, notes)
    date_end = _merged(meta, "date_end", dates[1] if dates and dates[0] == date else None, notes)
    member_state = _merged(meta, "member_state", stated_state, notes)
    place = _merged(meta, "place", place, notes)
    mode = _merged(meta, "mode", mode, notes)
    if issuer_found:
        issuer: str = issuer_found[0]
        issuer_reason = f"the document speaks for {issuer_found[0]}: {issuer_found[1]!r}"
    elif meta.issuer:
        issuer, issuer_reason = meta.issuer, "from the sidecar (issuer)"
    elif regional:
        issuer = REGIONAL_ISSUER
        issuer_reason = f"the forum's own recommendations (regional), not a member state's: {regional!r}"
    elif meta.member_state:
        issuer, issuer_reason = meta.member_state, "from the sidecar (member_state)"
    else:
        issuer, issuer_reason = "unknown", "the text names no issuer (no national recommendations, no forum's own)"
    if header.title:
        title_reason = "the heading lines above the first item"
    elif doc_title:
        title_reason = "from the sidecar"
    else:
        title_reason = "no heading lines name the document"
    items_text = {r.label: r.text for r in recommendations}
    warnings = [*(pdf.warnings if pdf else ()), *_footnote_warnings(recommendations)]
    if pdf is not None and pdf.footnotes and not items_text:
        warnings.append("footnotes found but no item")
    sidecar_used = tuple(
        f"{key} = {getattr(meta, key)!r}"
        for key in ("id", "title", "member_state", "issuer", "forum_edition", "date", "date_end", "place", "mode",
                    "source")
        if getattr(meta, key) is not None
    )
    reading = Reading(
        title_reason=title_reason,
        issuer_reason=issuer_reason,
        furniture=tuple(furniture),
        footnotes=pdf.footnotes if pdf else (),
        markers=pdf.markers if pdf else (),
        columns=pdf.columns if pdf else (),
        sidecar=sidecar_used,
        warnings=tuple(warnings),
    )
    return Document(
        source_file=source_file,
        sha256=sha256,
        id=meta.id or slugify(Path(source_file).stem),
        title=doc_title,
        forum_edition=forum_edition,
        date=date,
        place=place,
        mode=mode,
        member_state=member_state,
        issuer=str(issuer),
        theme=header.theme,
        subthemes=tuple(subthemes),
        recommendations=tuple(recommendations),
        text=text,
        source_format=source_format,
        preamble=header.preamble,
        closing=closing,
        source=meta.source,
        notes=tuple(notes),
        synthetic=synthetic,
        date_end=date_end,
        reading=reading,
    )
