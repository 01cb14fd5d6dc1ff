"""Text search in the recommendations: one folding of text, the search syntax, the build's full-text index and the
SPARQL fallback, so that a search answers the same rows wherever it runs.

Folding (`fold`, applied to the indexed text and to the words searched for alike): case folded; compatibility
forms and ligatures decomposed (NFKD: "ﬁ" is "fi"); diacritics dropped ("é" is "e"); a few letters that have no
decomposition spelled out ("æ" ae, "œ" oe, "ß" ss, "ø" o, "đ" d, "ł" l); a soft hyphen deleted.

What is searched: a recommendation's text and, weighing less in the ranking, its sub-theme's title (so "COVID-19
OR pandemic" finds the items under "Impact of COVID-19 ..."); a phrase never spans the two.

Words: a word is a run of letters and digits; everything else separates words, so "age" never matches "wage".
Hyphenated and joined forms: every text is indexed twice, as `body` (a hyphen separates words, and so does a
change between letters and digits: "re-integration" is "re integration", "COVID-19" and "covid19" are
"covid 19") and as `joined` (hyphens deleted, nothing else split: "reintegration", "covid19"). A term of the
search matches when its body form matches the body (as a phrase) or its joined form matches the joined text.
So "reintegration", "re-integration" and "Re-Integration" all find both spellings; "COVID-19", "COVID 19" and
"covid19" find "COVID-19"; "integration" finds "re-integration" (a word of it) but "reintegration" does not
find "re integration" written with a space (two words); "covid19" finds "covid 19" (both are "covid 19" in the
body).

Syntax (`parse`): terms are words or "quoted phrases" (straight or curly quotes; an unclosed quote runs to the
end); terms side by side must all match (AND); `OR` (upper case) or `|` between two terms makes either do (OR
binds tighter than AND: `migrant OR migrants health` is (migrant OR migrants) AND health); `AND` (upper case)
may be written, and says what the space does. Nothing else is
syntax: `*`, `^`, `-`, `:`, `NEAR`, parentheses and the like are read as text (and, not being letters or
digits, as word separators). A stray `OR` at either end is dropped; no words at all is a ParameterError.

Where it runs: a build has `search.sqlite` (SQLite FTS5, written by `index_of` at build time): rows ranked
by bm25, ties in date and document order. The MATCH expression is ours, built from the parsed terms, each a
quoted phrase of folded words: the user's text never reaches FTS5's syntax. Elsewhere (a remote endpoint, a
build made before the index) the named query's SPARQL runs with one regular expression per AND group, built
here from the folded words (nothing but letters, digits and spaces, escaped all the same) and bound as one
literal (`?matches`); the query folds the text with the same rules (`sparql_fold`, whose text the tests find
in queries/search-text.rq). Why it is shaped as it is: docs/design.md.
"""

from __future__ import annotations

import gc
import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from ..terms.namespaces import XSD
from .catalogue import NamedQuery, ParameterError, QueryError
from .engine import Result, Term

if TYPE_CHECKING:
    from ..ingest.parse import Document

INDEX_NAME = "search.sqlite"
INDEX_FORMAT = "aflm-graph search index 2"
MAX_GROUPS = 8  # groups of terms that must all match: the SPARQL fallback has this many slots
MAX_ALTERNATIVES = 16  # terms joined by OR in one group
MAX_CHARS = 2000  # of the words searched for
SUBTHEME_WEIGHT = 0.25  # of a word found in the sub-theme's title, in the bm25 ranking (the text's own weigh 1)
# those of the other recommendation lists (queries/recommendations-by-theme.rq ...), with the score first
COLUMNS = ("score", "document_title", "member_state_label", "date", "forum_number", "subtheme", "subtheme_title",
           "label", "text", "recommendation", "document", "member_state", "forum")
FILTERS = ("document", "member_state", "forum", "from", "to", "include_repeats")

_SPELLED = str.maketrans({"æ": "ae", "œ": "oe", "ß": "ss", "ø": "o", "đ": "d", "ł": "l", "ı": "i", "ħ": "h",
                          "ŧ": "t", "þ": "th", "ð": "d", "ŋ": "n", "\u00ad": None})
HYPHENS = "-\u2010\u2011"  # hyphen-minus, hyphen, non-breaking hyphen (dashes separate words, they join none)
_HYPHEN = re.compile(f"[{HYPHENS}]")
_WORD = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d+")  # set apart by spaces: a change between letters and digits separates words
_QUOTES = "\"\u201c\u201d\u201e\u00ab\u00bb"


@cache
def _marks() -> dict[int, None]:
    """Every nonspacing combining mark (Unicode category Mn), for str.translate to delete."""
    return {code: None for code in range(0x110000) if unicodedata.category(chr(code)) == "Mn"}


def fold(text: str) -> str:
    """Case, compatibility forms, ligatures and diacritics folded (see the module's docstring); hyphens kept."""
    if text.isascii():  # most texts: nothing to decompose, no marks, no ligatures
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return decomposed.translate(_marks()).translate(_SPELLED)


def body_words(text: str, *, folded: bool = False) -> list[str]:
    """The words of `text` as the body column has them: folded; hyphens and letter/digit changes split words.
    `folded`: `text` is fold's already."""
    return _WORD.findall(_DIGITS.sub(r" \g<0> ", _HYPHEN.sub(" ", text if folded else fold(text))))


def joined_words(text: str, *, folded: bool = False) -> list[str]:
    """The words of `text` as the joined column has them: folded, hyphens deleted."""
    return _WORD.findall(_HYPHEN.sub("", text if folded else fold(text)))


@dataclass(frozen=True)
class SearchTerm:
    """A word or quoted phrase of the search, in its two folded forms (each a phrase of one or more words)."""

    written: str
    body: tuple[str, ...]
    joined: tuple[str, ...]


@dataclass(frozen=True)
class Search:
    """A parsed search: every group must match, and a group matches when one of its terms does."""

    groups: tuple[tuple[SearchTerm, ...], ...]

    def fts(self) -> str:
        """The FTS5 MATCH expression: quoted phrases of folded words only, never the user's text."""

        def phrase(words: Sequence[str]) -> str:
            return '"' + " ".join(words).replace('"', '""') + '"'

        def term(t: SearchTerm) -> str:
            return f"({{body sub_body}} : {phrase(t.body)} OR {{joined sub_joined}} : {phrase(t.joined)})"

        return " AND ".join("(" + " OR ".join(term(t) for t in group) + ")" for group in self.groups)

    def patterns(self) -> list[str]:
        """The SPARQL fallback's regular expressions, one per group, matched on the query's ?searchable (the body
        words, a `#`, the joined words, each word between single spaces): `( re integration | x )[^#]*#|#.*(
        reintegration | x )`, so words match whole and each form is looked for in its own part. No `^`: Virtuoso
        then anchored every alternative at the start."""

        def alternatives(forms: Iterable[Sequence[str]]) -> str:
            return "|".join(f" {regex_escape(' '.join(words))} " for words in forms)

        return [f"({alternatives(t.body for t in group)})[^#]*#|#.*({alternatives(t.joined for t in group)})"
                for group in self.groups]

    def matches(self) -> str:
        """The patterns as the one value bound to the query's ?matches, each ended by a tab (which no pattern
        holds): the query cuts it into ?m1 .. ?m8. One variable, not one per group: Virtuoso's planner
        gave up on more than five VALUES blocks ("estimated execution time ... exceeds the limit")."""
        return "".join(f"{pattern}\t" for pattern in self.patterns())


_REGEX_META = re.compile(r"([\\|.?*+{}()\[\]^$-])")


def regex_escape(text: str) -> str:
    """Every metacharacter of XPath/SPARQL regular expressions escaped (folded words hold none; a second guard)."""
    return _REGEX_META.sub(r"\\\1", text)


def _pieces(words: str) -> list[tuple[str, bool]]:
    """(text, quoted) pieces: quoted phrases whole, the rest split on white space."""
    out: list[tuple[str, bool]] = []
    pattern = re.compile(f"[{_QUOTES}]([^{_QUOTES}]*)(?:[{_QUOTES}]|$)|([^\\s{_QUOTES}]+)")
    for match in pattern.finditer(words):
        if match.group(2) is not None:
            out.append((match.group(2), False))
        else:
            out.append((match.group(1), True))
    return out


def parse(words: str, *, name: str = "words") -> Search:
    """The search in `words` (see the module's docstring); a ParameterError when it has no words or too many."""
    if len(words) > MAX_CHARS:
        raise ParameterError(f"parameter {name}: {len(words):,} characters; a search takes at most {MAX_CHARS:,}")
    groups: list[list[SearchTerm]] = []
    joining = False  # the last piece was OR
    for text, quoted in _pieces(words):
        if not quoted and text in {"OR", "|"}:
            joining = bool(groups)
            continue
        if not quoted and text == "AND":  # what a space says already
            joining = False
            continue
        body, joined = tuple(body_words(text)), tuple(joined_words(text))
        if not body:  # punctuation only
            continue
        term = SearchTerm(text, body, joined)
        if joining:
            groups[-1].append(term)
        else:
            groups.append([term])
        joining = False
    if not groups:
        raise ParameterError(f"parameter {name}: no words to search for in {words[:80]!r}; give words or \"a "
                             "phrase\" (OR between alternatives)")
    if len(groups) > MAX_GROUPS:
        raise ParameterError(f"parameter {name}: {len(groups)} terms that must all match; a search takes at most "
                             f"{MAX_GROUPS} (join alternatives with OR, or quote a phrase)")
    wide = max(len(g) for g in groups)
    if wide > MAX_ALTERNATIVES:
        raise ParameterError(f"parameter {name}: {wide} alternatives joined by OR; a search takes at most "
                             f"{MAX_ALTERNATIVES} in one group")
    return Search(tuple(tuple(g) for g in groups))


# --- the SPARQL fallback's folding, written out for SPARQL 1.1 (LCASE, REPLACE): what queries/search-text.rq holds


def sparql_letter_classes() -> list[tuple[str, str]]:
    """(character class, replacement) pairs that fold, after LCASE, the letters `fold` changes in Latin-1,
    Latin Extended A/B, Latin Extended Additional and the Latin ligatures (U+FB00-FB06)."""
    found: dict[str, list[str]] = {}
    ranges = [(0xC0, 0x250), (0x1E00, 0x1F00), (0xFB00, 0xFB07)]
    for start, end in ranges:
        for code in range(start, end):
            c = chr(code)
            low = c.lower()
            if len(low) != 1 or low != c:
                continue  # SPARQL's LCASE has made it the lower-case letter already
            folded = fold(c)
            if folded != c and re.fullmatch(r"[a-z]+", folded):
                found.setdefault(folded, []).append(c)
    return [("[" + "".join(chars) + "]", target) for target, chars in sorted(found.items())]


_NESTED = 8  # REPLACEs nested in one BIND (40 deep, check_safe's parser ran out of recursion)


def sparql_fold() -> str:
    """The BIND lines of the fallback that fold ?text and ?subtheme_title into ?searchable: the body words, a `#`,
    the joined words, each word between single spaces, the text's and the sub-theme's apart by a `|` (so that no
    phrase spans them). The letters' REPLACEs nested by eights (deeper, the query checker's parser ran out of
    recursion): 7.8 kB, 12.4 kB as a form with its diacritics percent-encoded (a BIND per letter: 9.9 kB)."""
    classes = sparql_letter_classes()
    hyphens = f"[\\\\-{HYPHENS[1:]}]"
    lines = [
        '  BIND (CONCAT(REPLACE(?text, "\\\\|", " "), " | ", REPLACE(COALESCE(?subtheme_title, ""), "\\\\|", " "))'
        " AS ?searched)",
        '  BIND (REPLACE(LCASE(?searched), "[\\\\p{Mn}\u00AD]", "") AS ?f0)',
    ]
    chunks = [classes[i:i + _NESTED] for i in range(0, len(classes), _NESTED)]
    for n, chunk in enumerate(chunks, 1):
        target = "?folded" if n == len(chunks) else f"?f{n}"
        letters = ",\n".join(f'    "{chars}", "{replacement}")' for chars, replacement in chunk)
        lines.append(f"  BIND ({'REPLACE(' * len(chunk)}?f{n - 1},\n{letters} AS {target})")
    lines += [
        f'  BIND (REPLACE(REPLACE(REPLACE(?folded, "{hyphens}", " "), "(\\\\p{{L}})(\\\\p{{N}})", "$1 $2"), '
        '"(\\\\p{N})(\\\\p{L})", "$1 $2") AS ?split)',
        '  BIND (CONCAT(" ", REPLACE(?split, "[^\\\\p{L}\\\\p{N}|]+", " "), " ",'
        f' "#", " ", REPLACE(REPLACE(?folded, "{hyphens}", ""), "[^\\\\p{{L}}\\\\p{{N}}|]+", " "), " ")'
        " AS ?searchable)",
    ]
    return "\n".join(lines)


# --- the index


@dataclass(frozen=True)
class IndexRow:
    """One recommendation as the index keeps it (in the lists' order: date, document IRI, position)."""

    recommendation: str
    document: str
    title: str | None
    member_state: str | None
    member_state_label: str | None
    member_state_lang: str | None  # the label's language tag, as the reference data gives it
    forum: str | None
    forum_number: int | None
    date: str | None
    subtheme: str | None
    subtheme_title: str | None
    label: str
    position: int
    text: str
    repeat: bool  # repeats, word for word, an earlier recommendation of its document (aflm:duplicateOf)


def index_rows(documents: Iterable[Document]) -> list[IndexRow]:
    """The index's rows for parsed documents, with the IRIs and labels the graph gives them."""
    from ..enrich.link import duplicate_key
    from ..graph.build import recommendation_iris
    from ..terms.namespaces import document_iri, forum_iri
    from ..terms.reference import member_states

    states = member_states()
    languages = _label_languages()
    rows = []
    for doc in documents:
        state = states.resolve(doc.member_state) if doc.member_state else None
        titles = {st.label: st.title for st in doc.subthemes}
        seen: set[str] = set()
        for rec, iri in zip(doc.recommendations, recommendation_iris(doc), strict=True):
            key = duplicate_key(rec.text)
            rows.append(IndexRow(
                recommendation=iri, document=document_iri(doc.id), title=doc.title,
                member_state=state, member_state_label=states.labels.get(state) if state else None,
                member_state_lang=languages.get(state) if state else None,
                forum=forum_iri(doc.forum_edition) if doc.forum_edition is not None else None,
                forum_number=doc.forum_edition, date=doc.date, subtheme=rec.subtheme,
                subtheme_title=titles.get(rec.subtheme) if rec.subtheme is not None else None,
                label=rec.label, position=rec.position, text=rec.text, repeat=bool(key) and key in seen,
            ))
            seen.add(key)
    rows.sort(key=lambda r: (r.date or "", r.document, r.position))
    return rows


def _label_languages() -> dict[str, str]:
    """Member state IRI -> the language tag of its skos:prefLabel in the reference data ("" for none)."""
    from ..terms.namespaces import SKOS
    from ..terms.resources import ontology_dir

    return {t.subject.value: t.object.language or "" for t in ox.parse(path=str(ontology_dir() / "reference.ttl"))
            if t.predicate.value == SKOS.prefLabel and isinstance(t.object, ox.Literal)}


_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE recommendation (
  id INTEGER PRIMARY KEY, recommendation TEXT NOT NULL, document TEXT NOT NULL, title TEXT, member_state TEXT,
  member_state_label TEXT, forum TEXT, forum_number INTEGER, date TEXT, subtheme TEXT, subtheme_title TEXT,
  label TEXT NOT NULL, position INTEGER NOT NULL, text TEXT NOT NULL, repeat INTEGER NOT NULL,
  member_state_lang TEXT);
CREATE VIRTUAL TABLE words USING fts5(body, joined, sub_body, sub_joined, content='',
  tokenize='unicode61 remove_diacritics 0');
"""


def index_bytes(rows: Sequence[IndexRow]) -> bytes:
    """The SQLite file of the index: the same rows give the same bytes (one connection in memory, rows inserted
    in order, segments merged, no journal or time stamp)."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute("PRAGMA page_size = 4096")
        db.executescript(_SCHEMA)
        db.execute("INSERT INTO meta VALUES ('format', ?)", (INDEX_FORMAT,))
        db.execute("INSERT INTO meta VALUES ('recommendations', ?)", (str(len(rows)),))
        db.executemany(
            "INSERT INTO recommendation VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(i, r.recommendation, r.document, r.title, r.member_state, r.member_state_label, r.forum,
              r.forum_number, r.date, r.subtheme, r.subtheme_title, r.label, r.position, r.text, int(r.repeat),
              r.member_state_lang)
             for i, r in enumerate(rows, 1)])
        titles: dict[str, tuple[str, str]] = {}  # a sub-theme's title recurs on each of its items: folded once

        def words(text: str) -> tuple[str, str]:
            folded = fold(text)
            return " ".join(body_words(folded, folded=True)), " ".join(joined_words(folded, folded=True))

        def title(text: str) -> tuple[str, str]:
            if text not in titles:
                titles[text] = words(text)
            return titles[text]

        db.executemany("INSERT INTO words(rowid, body, joined, sub_body, sub_joined) VALUES (?, ?, ?, ?, ?)",
                       [(i, *words(r.text), *title(r.subtheme_title or "")) for i, r in enumerate(rows, 1)])
        db.execute("INSERT INTO words(words) VALUES ('optimize')")
        db.commit()
        db.execute("VACUUM")
        return bytes(db.serialize())
    finally:
        db.close()


def index_of(documents: Iterable[Document]) -> bytes:
    """The index of `documents` as bytes (the build writes them atomically and lists them in its manifest)."""
    return index_bytes(index_rows(documents))


def open_index(build: Path) -> sqlite3.Connection | None:
    """The build's index, opened read-only; None when the build has none, or one of another format."""
    path = build / INDEX_NAME
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
    except sqlite3.Error:
        return None
    if row is None or row[0] != INDEX_FORMAT:
        db.close()
        return None
    return db


_DISPLAY = ("r.title, r.member_state_label, r.date, r.forum_number, r.subtheme, r.subtheme_title, r.label, r.text, "
            "r.recommendation, r.document, r.member_state, r.forum, r.member_state_lang")
CACHE_FROM = 1000
"""From this many rows in an answer, the index's whole table of recommendations is read once per process, its
cells made Terms once, and kept (for the index's file as it is: its size and time stamp): the answers of a broad
word then cost the ranking alone (docs/design.md)."""
_TABLES: dict[tuple[str, int, int], list[list[Term | None]]] = {}


def search_index(db: sqlite3.Connection, search: Search, filters: Mapping[str, str] | None = None, *,
                 key: tuple[str, int, int] | None = None) -> Result:
    """The rows that match, best first (bm25; ties in the lists' order: date, document, position), as the named
    query's columns.

    `score` is the bm25 relevance relative to the best row (1 for it, in (0, 1] for the others). `filters` (the
    values of the bound parameters): `document`, `member_state`, `forum` IRIs the rows must have, `from` and `to`
    meeting dates (undated documents never match), `include_repeats` "false" leaves verbatim repeats out.
    `key` names the index's file (path, size, time stamp) for the cache of big answers (CACHE_FROM)."""
    given = {k: v for k, v in (filters or {}).items() if k in FILTERS and v is not None}
    where, args = ["words MATCH ?"], [search.fts()]
    for column in ("document", "member_state", "forum"):
        if column in given:
            where.append(f"r.{column} = ?")
            args.append(given[column])
    if "from" in given:
        where.append("r.date >= ?")
        args.append(given["from"])
    if "to" in given:
        where.append("r.date <= ?")
        args.append(given["to"])
    if given.get("include_repeats", "true") not in {"true", "1"}:
        where.append("r.repeat = 0")
    rank = f"round(bm25(words, 1, 1, {SUBTHEME_WEIGHT}, {SUBTHEME_WEIGHT}), 9)"
    ranked = (f"SELECT words.rowid, {rank} AS rank FROM words "
              + ("JOIN recommendation AS r ON r.id = words.rowid " if len(where) > 1 else "")
              + "WHERE " + " AND ".join(where) + " ORDER BY rank, words.rowid")
    try:
        found = db.execute(ranked, args).fetchall()
        if not found:
            return Result("select", columns=list(COLUMNS), rows=[])
        table = _TABLES.get(key) if key is not None else None
        if table is None and key is not None and len(found) >= CACHE_FROM:
            _TABLES.clear()  # one index at a time: a rebuilt index's old table goes
            whole = db.execute(f"SELECT r.id, {_DISPLAY} FROM recommendation AS r ORDER BY r.id").fetchall()
            if [row[0] for row in whole] != list(range(1, len(whole) + 1)):
                raise sqlite3.DatabaseError("the ids of the recommendations are not 1 to N")
            table = _TABLES[key] = [[], *_table(whole)]  # by id (ids run from 1)
        if table is None:
            shown = db.execute(f"SELECT r.id, {_DISPLAY} FROM recommendation AS r WHERE r.id IN "
                               "(SELECT value FROM json_each(?))", [json.dumps([i for i, _ in found])]).fetchall()
            by_id = dict(zip((row[0] for row in shown), _table(shown), strict=True))
        else:
            by_id = None
    except sqlite3.Error as exc:
        raise QueryError(f"{INDEX_NAME}: the search failed ({exc})") from None
    best = found[0][1]  # bm25 is negative: the best is the most negative
    scores = [f"{r / best if best else 1.0:.3f}" for _, r in found]
    made = {s: _make("literal", s, XSD.decimal) for s in set(scores)}
    if by_id is None:
        assert table is not None
        return Result("select", columns=list(COLUMNS),
                      rows=[[made[score], *table[i]] for (i, _), score in zip(found, scores, strict=True)])
    return Result("select", columns=list(COLUMNS),
                  rows=[[made[score], *by_id[i]] for (i, _), score in zip(found, scores, strict=True)])


def _table(found: Sequence[Sequence[object]]) -> list[list[Term | None]]:
    """The display cells of (id, display columns...) rows as Terms, column by column: each distinct value of a
    column that recurs made a Term once, then looked up in C (map); a row-by-row loop of 12 calls made a
    16,000-row answer several times slower."""
    if not found:
        return []
    collecting = gc.isenabled()
    gc.disable()  # nothing here makes a cycle; collections among ~10 new objects a cell doubled the time
    try:
        columns = list(zip(*found, strict=True))
        languages = columns.pop()  # of the member state's label (the last column of _DISPLAY)
        cells = [
            _terms(values, kind, datatype, recurring=index not in _UNIQUE)
            for index, (values, (kind, datatype)) in enumerate(zip(columns[1:], _KINDS[1:], strict=True), 1)
        ]
        pairs = list(zip(columns[2], languages, strict=True))
        labels = {pair: _make("literal", pair[0], None, pair[1]) for pair in set(pairs)}
        cells[1] = [labels[pair] for pair in pairs]
        return [list(row) for row in zip(*cells, strict=True)]
    finally:
        if collecting:
            gc.enable()


_KINDS = (("literal", XSD.decimal), ("literal", None), ("literal", None), ("literal", XSD.date),
          ("literal", XSD.integer), ("literal", None), ("literal", None), ("literal", None), ("literal", None),
          ("uri", None), ("uri", None), ("uri", None), ("uri", None))
_UNIQUE = {8, 9}  # text and recommendation: a new value on every row


def _make(kind: str, value: object, datatype: str | None, lang: object = None) -> Term | None:
    """A Term (None or "" is no value: an unbound cell), made without the frozen dataclass's own __init__, whose
    per-field object.__setattr__ costs several times more on a big answer."""
    if value is None or value == "":
        return None
    term = object.__new__(Term)
    term.__dict__.update(type=kind, value=str(value), datatype=None if lang else datatype, lang=lang or None)
    return term


def _terms(values: Sequence[object], kind: str, datatype: str | None, *, recurring: bool) -> list[Term | None]:
    """One column's Terms."""
    if not recurring:
        return [_make(kind, v, datatype) for v in values]
    table = {v: _make(kind, v, datatype) for v in set(values)}
    return list(map(table.__getitem__, values))


def search_build(
    named: NamedQuery, bindings: Mapping[str, ox.NamedNode | ox.Literal], build: Path | None
) -> tuple[Result | None, dict[str, ox.NamedNode | ox.Literal], str | None]:
    """Run a text search (a named query whose header says `fulltext: PARAM`) on `build`'s index.

    Returns (the result, None, None) when the build has an index; else (None, the bindings with the fallback's
    patterns added, a note for the user when a local build lacks the index): the caller runs the SPARQL then.
    `build` None: a remote endpoint. The words are parsed first either way (a ParameterError when there are none).
    """
    param = str(named.extra["fulltext"])
    given = bindings.get(param)
    search = parse(given.value if given is not None else "", name=param)
    if build is not None and named.columns == COLUMNS:  # the index answers our columns, not another query's
        from .engine import check_build

        path = check_build(build) / INDEX_NAME
        db = open_index(path.parent)
        if db is not None:
            try:
                filters = {k: v.value for k, v in bindings.items() if k in FILTERS}
                stat = path.stat()
                key = (str(path), stat.st_size, stat.st_mtime_ns)
                return search_index(db, search, filters, key=key), dict(bindings), None
            finally:
                db.close()
    fallback = {k: v for k, v in bindings.items() if k != param}  # the words themselves: unused by the SPARQL
    fallback["matches"] = ox.Literal(search.matches())
    note = None if build is None else (
        f"{build / INDEX_NAME}: no full-text index of this version (a build made before it); searched with SPARQL "
        "regular expressions instead, unranked; rebuild for ranked results")
    return None, fallback, note
