"""The query catalogue: `.rq` files with a grlc-style `#+` YAML header, their parameters, and safe binding.

Parameters are never pasted into query text as raw strings: the embedded engine binds them as
`substitutions`, and for remote endpoints `bind_values` inserts a `VALUES` block whose terms are
serialised (and escaped) by pyoxigraph. `check_safe` refuses what would make the engine reach the
network or change data (SERVICE, LOAD, updates, FROM a graph that is not ours).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from ..safetext import brief
from ..terms.namespaces import (
    GRAPH_DATA,
    GRAPH_ONTOLOGY,
    GRAPH_REFERENCE,
    GRAPH_VOCAB,
    PREFIXES,
    XSD,
    document_iri,
    forum_iri,
)
from ..terms.reference import member_states
from ..terms.resources import ontology_dir, queries_dir

PARAM_TYPES = (
    "string", "integer", "decimal", "boolean", "date", "iri",
    "theme", "actor", "group", "instrument", "member-state", "document", "instrument-group", "forum",
)
CONCEPT_KINDS = ("theme", "actor", "group", "instrument")
OUR_GRAPHS = frozenset({GRAPH_DATA, GRAPH_ONTOLOGY, GRAPH_REFERENCE, GRAPH_VOCAB})


class QueryError(ValueError):
    """A query that cannot be run as asked: unknown name, bad parameter, refused construct, syntax error."""


class ParameterError(QueryError):
    """A parameter value that names nothing the vocabularies or the data know, or more than one thing.

    The message is one line and lists the closest matches; the CLI exits with 2 on it (a usage error) and
    `aflm-graph serve` answers 400 with the same message."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str = "string"
    description: str = ""
    example: str | None = None
    required: bool = False
    default: str | None = None
    choices: tuple[str, ...] = ()  # the header's `values:` (a string parameter that takes one of these)


@dataclass(frozen=True)
class NamedQuery:
    name: str
    text: str  # the whole file: header comments and SPARQL
    summary: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    path: Path | None = None
    columns: tuple[str, ...] = ()  # projected variables declared in the header (a contract when present)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def form(self) -> str:
        return query_form(self.text)


_HEADER = re.compile(r"^#\+ ?(.*)$")


def parse_header(text: str, *, source: str = "<query>") -> dict[str, Any]:
    """The YAML made of the leading `#+ ` lines (grlc's convention); {} when there are none."""
    lines = []
    for line in text.splitlines():
        match = _HEADER.match(line)
        if match:
            lines.append(match.group(1))
        elif line.strip() and not line.lstrip().startswith("#"):
            break
    if not lines:
        return {}
    try:
        data = yaml.safe_load("\n".join(lines))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise QueryError(f"{source}:{where} the #+ header is not valid YAML ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise QueryError(f"{source}: the #+ header must be a YAML mapping (summary:, params: ...)")
    return data


def _params(raw: Any, source: str) -> tuple[Param, ...]:
    if raw in (None, {}, []):
        return ()
    if not isinstance(raw, dict):
        raise QueryError(f"{source}: params must be a mapping of name -> {{type, description, example}}")
    out = []
    for name, spec in raw.items():
        spec = spec or {}
        if not isinstance(spec, dict) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(name)):
            raise QueryError(f"{source}: parameter {name!r} must be a SPARQL variable name with a mapping")
        kind = str(spec.get("type", "string"))
        if kind not in PARAM_TYPES:
            raise QueryError(
                f"{source}: parameter {name!r} has unknown type {kind!r} (one of {', '.join(PARAM_TYPES)})"
            )
        out.append(
            Param(
                name=str(name),
                type=kind,
                description=str(spec.get("description", "")),
                example=None if spec.get("example") is None else str(spec["example"]),
                required=bool(spec.get("required", False)),
                default=None if spec.get("default") is None else str(spec["default"]),
                choices=tuple(str(v) for v in spec.get("values") or ()),
            )
        )
    return tuple(out)


def load_query(path: Path) -> NamedQuery:
    """A `.rq` file as a NamedQuery (its `#+` header read); a file too long to be a query is refused unread."""
    try:
        size = path.stat().st_size
        if size > 4 * MAX_QUERY_CHARS:  # UTF-8 takes at most 4 bytes a character
            raise QueryError(f"{path}: refused: {size:,} bytes is too long for a query (the limit is "
                             f"{MAX_QUERY_CHARS:,} characters)")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QueryError(f"{path}: cannot read the query ({exc})") from None
    header = parse_header(text, source=str(path))
    tags = header.get("tags") or ()
    return NamedQuery(
        name=path.stem,
        text=text,
        summary=str(header.get("summary", "")).strip(),
        description=str(header.get("description", "")).strip(),
        tags=tuple(str(t) for t in tags),
        params=_params(header.get("params"), str(path)),
        path=path,
        columns=tuple(str(c) for c in header.get("columns") or ()),
        extra={k: v for k, v in header.items() if k not in {"summary", "description", "tags", "params", "columns"}},
    )


@cache
def _catalogue(folder: Path) -> dict[str, NamedQuery]:
    paths = sorted(folder.glob("*.rq"))
    return {p.stem: load_query(p) for p in paths}


def named_queries(folder: Path | None = None) -> dict[str, NamedQuery]:
    """Every named query, by name (the file stem), in name order."""
    return dict(_catalogue((folder or queries_dir()).resolve()))


def resolve(name_or_file: str, *, folder: Path | None = None) -> NamedQuery:
    """A named query, or a `.rq` file path."""
    catalogue = named_queries(folder)
    if name_or_file in catalogue:
        return catalogue[name_or_file]
    path = Path(name_or_file)
    if path.suffix in {".rq", ".sparql"} and path.is_file():
        return load_query(path)
    close = [n for n in catalogue if name_or_file.lower() in n.lower()][:5]
    hint = f"; did you mean {', '.join(close)}?" if close else "; `aflm-graph queries` lists them"
    raise QueryError(f"no named query or .rq file called {name_or_file!r}{hint}")


# --- lexing: enough of SPARQL to find keywords, braces and the WHERE clause outside strings/IRIs/comments

_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n\r]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
               |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00b7]+)
  | (?P<word>(?:[A-Za-z_][\w\-.]*)?:(?:[\w\-.%]|\\[_~.\-!$&'()*+,;=/?\#@%])*|[A-Za-z_][\w\-.]*)
  | (?P<brace>[{}])
  | (?P<space>\s+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_REFUSED = {"SERVICE", "LOAD"}
_UPDATES = {"INSERT", "DELETE", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}


@dataclass(frozen=True)
class _Token:
    kind: str
    value: str
    start: int


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.lastgroup or "other", m.group(), m.start()) for m in _TOKEN.finditer(text)]


_LITERAL = re.compile(
    r"""\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'\'\'(?:[^'\\]|\\.|'(?!''))*'\'\'|"(?:[^"\\\n\r]|\\.)*"
      |'(?:[^'\\\n\r]|\\.)*'|<[^<>"{}|^`\x00-\x20]*>|\#[^\n\r]*""",
    re.VERBOSE | re.DOTALL,
)
_UCHAR = re.compile(r"\\(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})|\\.", re.DOTALL)


def _engine_reading(text: str) -> str:
    """The text as pyoxigraph reads it, for rdflib's grammar: a `\\u`/`\\U` escape is a character inside a
    string or an IRI (here replaced by `_`, which can open or close nothing) and is left as it is elsewhere,
    where pyoxigraph does not read it as a keyword (`\\u0053ERVICE` is a syntax error to it) and rdflib then
    refuses it too. rdflib's own parseQuery would expand every escape first, so a `\\u0022` inside a string
    would end the string for rdflib but not for pyoxigraph: two readings of one query, which is how a guard
    is fooled."""

    def literal(match: re.Match[str]) -> str:
        token = match.group()
        if token.startswith("#"):
            return token
        return _UCHAR.sub(lambda m: "_" if m.group()[1] in "uU" else m.group(), token)

    return _LITERAL.sub(literal, text)


def _lex_words(text: str) -> tuple[_Token, ...]:
    # what pyoxigraph reads: \\u escapes are characters inside strings and IRIs and nothing elsewhere
    return tuple(t for t in _tokens(_engine_reading(text)) if t.kind not in {"space", "comment"})


_cached_words = lru_cache(maxsize=256)(_lex_words)
_CACHED_UP_TO = 64 * 1024  # characters: a named query is a few KB; a huge one is lexed anew and not kept


def _words(text: str) -> tuple[_Token, ...]:
    """The tokens the checks look at. A pure function of the text, cached: the same named queries run again
    and again (a server, a notebook loop), and lexing a query costs as much as running a small one."""
    return _cached_words(text) if len(text) <= _CACHED_UP_TO else _lex_words(text)


def query_form(text: str) -> str:
    """select, construct, describe or ask (what the query returns); `update` for an update."""
    for token in _words(text):
        word = token.value.upper()
        if token.kind != "word":
            continue
        if word in {"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"}:
            return word.lower()
        if word in _UPDATES or word == "LOAD":
            return "update"
    raise QueryError("not a SPARQL query: expected SELECT, CONSTRUCT, DESCRIBE or ASK")


MAX_QUERY_CHARS = 1_000_000
"""The longest query text accepted (a named query is a few KB, a VALUES list of 10,000 IRIs about 300 KB).
Longer text is refused before it is parsed: parsing a huge text is itself a denial of service."""


def check_size(text: str) -> None:
    """Refuse a query text longer than MAX_QUERY_CHARS (cheap: runs before anything reads the text)."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"refused: the query is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS:,}")


@dataclass(frozen=True)
class QueryDataset:
    """The RDF dataset a query asks for: the graphs of its FROM clauses (merged into its default graph) and of its
    FROM NAMED clauses, as IRIs, sorted. Both empty: no dataset clause (the build's union is the default graph).
    The same shape carries the protocol's default-graph-uri / named-graph-uri (serve/endpoint.py)."""

    default: tuple[str, ...] = ()
    named: tuple[str, ...] = ()

    @property
    def given(self) -> bool:
        return bool(self.default or self.named)


def check_safe(text: str, *, allowed_graphs: frozenset[str] = OUR_GRAPHS) -> QueryDataset:
    """Refuse a query that would reach the network or write: SERVICE, LOAD, updates, FROM a foreign graph.

    The decision is made on the parsed query (rdflib's SPARQL 1.1 grammar, `_parsed_refusal`): a text that
    does not parse as a query is refused, since what it would make the engine do cannot be checked. A token
    scan runs first and refuses on its own too (its messages name the keyword), so a query has to get past
    two readings of it before pyoxigraph, which has no switch to turn federation off, sees it.

    Returns the query's dataset clauses, read from the same parse (its FROM / FROM NAMED graphs, every one of
    them in `allowed_graphs`): the engines run the query on exactly that dataset.
    """
    check_size(text)
    _check_tokens(text, allowed_graphs)
    refusal, dataset = (_cached_check(text, allowed_graphs) if len(text) <= _CACHED_UP_TO
                        else _parsed_check(text, allowed_graphs))
    if refusal:
        raise QueryError(refusal)
    return dataset


def _check_tokens(text: str, allowed_graphs: frozenset[str]) -> None:
    words = _words(text)
    for i, token in enumerate(words):
        if token.kind == "other" and token.value == "\\":
            raise QueryError("refused: a \\ escape outside a string, an IRI or a prefixed name (pyoxigraph reads "
                             "none there, other engines read \\u0053ERVICE as SERVICE)")
        if token.kind != "word":
            continue
        word = token.value.upper()
        # `SERVICE:` (the empty prefix) and `service:x` may read as the keyword followed by a prefixed name
        keyword = word.split(":", 1)[0]
        if keyword in _REFUSED:
            raise QueryError(f"refused: {keyword} is not allowed (the embedded engine never reaches the network)")
        if word in _UPDATES and i + 1 < len(words) and (words[i + 1].kind in {"brace", "word", "iri"}):
            nxt = words[i + 1].value.upper()
            if word != "WITH" and (nxt in {"DATA", "WHERE", "SILENT", "GRAPH", "ALL", "DEFAULT", "NAMED"}
                                   or words[i + 1].kind == "brace"):
                raise QueryError(f"refused: {word} is an update; queries here are read-only")
        if word == "FROM":
            j = i + 1
            if j < len(words) and words[j].value.upper() == "NAMED":
                j += 1
            target = words[j] if j < len(words) else None
            iri = None
            if target is not None and target.kind == "iri":
                iri = target.value[1:-1]
            if iri is None or iri not in allowed_graphs:
                shown = target.value if target is not None else "nothing"
                raise QueryError(
                    f"refused: FROM {shown} is not one of this build's graphs (the engine never fetches remote data)"
                )


_PARSE_LOCK = threading.Lock()  # pyparsing's packrat cache is shared by every thread of a server
_FORMS = {"SelectQuery", "ConstructQuery", "DescribeQuery", "AskQuery"}


def _parsed_refusal(text: str, allowed_graphs: frozenset[str]) -> str | None:
    """Why the parsed query must not run (SERVICE anywhere in it, a foreign FROM, not a query); None if safe."""
    return _parsed_check(text, allowed_graphs)[0]


_NO_DATASET = QueryDataset()


def _parsed_check(text: str, allowed_graphs: frozenset[str]) -> tuple[str | None, QueryDataset]:
    """`_parsed_refusal` and, when the query may run, its dataset clauses (absolute IRIs), from one parse."""
    # lazy: rdflib's SPARQL parser takes ~150 ms to import, which listing the queries, the views and the
    # statistics (all importers of this module) do not need
    from pyparsing import ParseBaseException, ParseResults
    from rdflib.plugins.sparql import parser
    from rdflib.plugins.sparql.algebra import translatePrologue
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        with _PARSE_LOCK:  # not parser.parseQuery: it expands \u escapes everywhere, which pyoxigraph does not
            tree = parser.Query.parse_string(_engine_reading(text), parse_all=True)
    except ParseBaseException as exc:
        first = next((t.value.upper() for t in _words(text) if t.kind == "word" and ":" not in t.value
                      and t.value.upper() not in {"PREFIX", "BASE"}), "")
        if first in _UPDATES | {"LOAD"}:
            return f"refused: {first} is an update; queries here are read-only", _NO_DATASET
        return (f"syntax error at line {exc.lineno}, column {exc.column}: {exc.msg} (queries are parsed and checked "
                "before they run)", _NO_DATASET)
    except Exception as exc:  # rdflib raises plain exceptions on some odd input: refuse what cannot be checked
        return f"refused: the query cannot be checked ({' '.join(str(exc).split())[:200]})", _NO_DATASET
    body = tree[1] if len(tree) > 1 else None
    if not isinstance(body, CompValue) or body.name not in _FORMS:
        return "refused: not a SELECT, CONSTRUCT, DESCRIBE or ASK query", _NO_DATASET
    try:
        prologue = translatePrologue(tree[0], None)
    except Exception as exc:
        return f"refused: the query's prologue cannot be read ({' '.join(str(exc).split())[:200]})", _NO_DATASET
    graphs: dict[str, set[str]] = {"FROM": set(), "FROM NAMED": set()}
    stack: list[object] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                return "refused: SERVICE is not allowed (the embedded engine never reaches the network)", _NO_DATASET
            if node.name == "DatasetClause":
                named = dict.get(node, "named")  # CompValue.get answers the key itself for a missing key
                target = named if named is not None else dict.get(node, "default")
                keyword = "FROM NAMED" if named is not None else "FROM"
                try:
                    iri = str(prologue.absolutize(target))
                except Exception:
                    iri = ""
                if iri not in allowed_graphs:
                    return (f"refused: {keyword} <{iri or target}> is not one of this build's graphs (the engine "
                            "never fetches remote data)", _NO_DATASET)
                graphs[keyword].add(iri)
            stack.extend(node.values())
        elif isinstance(node, list | tuple | ParseResults):
            stack.extend(node)
    return None, QueryDataset(tuple(sorted(graphs["FROM"])), tuple(sorted(graphs["FROM NAMED"])))


_cached_check = lru_cache(maxsize=256)(_parsed_check)


def _insertion_point(text: str) -> int:
    """Offset just after the opening brace of the outermost WHERE group."""
    tokens = [t for t in _tokens(text) if t.kind not in {"space", "comment"}]
    form = None
    for i, token in enumerate(tokens):
        word = token.value.upper() if token.kind == "word" else ""
        if form is None and word in {"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"}:
            form = word
            if word == "CONSTRUCT" and i + 1 < len(tokens) and tokens[i + 1].kind == "brace":
                # skip the template: CONSTRUCT { ... } WHERE { ... }
                depth = 0
                for j in range(i + 1, len(tokens)):
                    if tokens[j].value == "{":
                        depth += 1
                    elif tokens[j].value == "}":
                        depth -= 1
                        if depth == 0:
                            return _insertion_point_after(tokens, j + 1)
        if form is not None and word == "WHERE":
            return _insertion_point_after(tokens, i)
        if form is not None and token.kind == "brace" and token.value == "{":
            return token.start + 1
    raise QueryError("cannot find the query's WHERE clause to bind parameters in")


def _insertion_point_after(tokens: list[_Token], start: int) -> int:
    for token in tokens[start:]:
        if token.kind == "brace" and token.value == "{":
            return token.start + 1
    raise QueryError("cannot find the query's WHERE clause to bind parameters in")


def bind_values(text: str, bindings: Mapping[str, ox.NamedNode | ox.Literal]) -> str:
    """Insert `VALUES ?a { term }` blocks at the top of the WHERE group; terms are N-Triples-escaped.

    One single-variable block per parameter (the same join as one `VALUES (?a ?b)` row): Virtuoso
    7.2 fails with an internal error on a multi-variable row joined with an OPTIONAL.
    """
    if not bindings:
        return text
    names = sorted(bindings)
    for name in names:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise QueryError(f"parameter name {name!r} is not a SPARQL variable name")
    at = _insertion_point(text)
    blocks = "".join(f"\n  VALUES ?{n} {{ {bindings[n]} }}" for n in names)
    return f"{text[:at]}{blocks}\n{text[at:]}"


# --- parameters


def _expand(value: str) -> str:
    prefix, sep, local = value.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return value


# What a value is checked against: the vocabularies and member states (always), the build's documents (when
# a caller that has the build gives a Resolver: sparql/run.py, serve). Unknown values are a ParameterError
# that lists the closest matches; the same rules hold on the CLI, in the Python API and through serve.

DOCUMENTS_QUERY = """PREFIX aflm: <https://w3id.org/aflm/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?document ?title ?source_file ?member_state WHERE {
  ?document a aflm:RecommendationsDocument .
  OPTIONAL { ?document dcterms:title ?title }
  OPTIONAL { ?document aflm:sourceFile ?source_file }
  OPTIONAL { ?document aflm:memberState ?member_state }
}"""


@dataclass(frozen=True)
class DocumentEntry:
    """What a document parameter may name a document by: its id (the IRI's last segment), source file, title
    words or member state."""

    iri: str
    title: str = ""
    source_file: str = ""
    member_state: str | None = None

    @property
    def id(self) -> str:
        return self.iri.rsplit("/", 1)[-1]


def document_entries(rows: Sequence[Sequence[Any]]) -> tuple[DocumentEntry, ...]:
    """The rows of DOCUMENTS_QUERY as entries (one per document; the first title and file win)."""
    found: dict[str, DocumentEntry] = {}
    for document, title, source_file, state in rows:
        if document is None or document.value in found:
            continue
        found[document.value] = DocumentEntry(
            document.value, title.value if title else "", source_file.value if source_file else "",
            state.value if state else None,
        )
    return tuple(sorted(found.values(), key=lambda d: d.iri))


class Resolver:
    """Checks parameter values against the build's documents (`documents` gives them, once, when a document
    parameter is first given; None from it, or no callable, means that no document list is at hand)."""

    def __init__(self, documents: Callable[[], Sequence[DocumentEntry] | None] | None = None) -> None:
        self._load = documents
        self._documents: Sequence[DocumentEntry] | None = None
        self._loaded = False

    def documents(self) -> Sequence[DocumentEntry] | None:
        if not self._loaded:
            self._documents = self._load() if self._load is not None else None
            self._loaded = True
        return self._documents


@cache
def _vocabulary() -> Any:
    from ..terms.vocab import load_vocabulary

    return load_vocabulary()


@cache
def _collections() -> Any:
    from ..terms.vocab import load_collections

    return load_collections()


def _key(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).casefold()


def _did_you_mean(value: str, names: Mapping[str, str], *, limit: int = 3) -> str:
    """'; did you mean a, b?' from the closest keys of `names` (key -> what to show), or ''."""
    close = difflib.get_close_matches(_key(value), list(names), n=limit * 3, cutoff=0.6)
    shown = list(dict.fromkeys(names[c] for c in close))[:limit]
    return f"; did you mean {' or '.join(shown)}?" if shown else ""


def _concept(param: Param, raw: str) -> ox.NamedNode:
    kind, vocab = param.type, _vocabulary()
    value, low = " ".join(raw.split()), _key(raw)
    if re.fullmatch(r"[a-z0-9][a-z0-9.\-]*", low):
        iri = vocab.iri(kind, low)
        if iri in vocab:
            return ox.NamedNode(iri)
    elif re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", value):
        iri = _expand(value)
        if iri in vocab and vocab.concept(iri).kind == kind:
            return ox.NamedNode(iri)
    labels: dict[str, dict[str, set[str]]] = {}  # kind -> label key -> slugs
    names: dict[str, str] = {}  # slug or label key -> slug, for the suggestions
    for concept in vocab:
        for label in (concept.pref_label, *concept.alt_labels, concept.slug):
            labels.setdefault(concept.kind, {}).setdefault(_key(label), set()).add(concept.slug)
            if concept.kind == kind:
                names[_key(label)] = concept.slug
    hits = labels.get(kind, {}).get(low, set()) or labels.get(kind, {}).get(low.replace("-", " "), set())
    if len(hits) == 1:
        return ox.NamedNode(vocab.iri(kind, next(iter(hits))))
    if hits:
        raise ParameterError(f"parameter {param.name}: {brief(raw)} names {len(hits)} {kind} concepts "
                             f"({', '.join(sorted(hits))}); give the slug")
    elsewhere = [f"{other} {', '.join(sorted(labels[other][low]))}" for other in labels
                 if other != kind and low in labels[other]]
    hint = f" (it names the {'; the '.join(elsewhere)})" if elsewhere else ""
    from ..enrich.annotate import annotate  # the concepts whose triggers the words hold come first

    mentioned = list(dict.fromkeys(vocab.concept(m.concept).slug for m in annotate(value, vocab)
                                   if vocab.concept(m.concept).kind == kind))
    suggestion = f"; did you mean {' or '.join(mentioned[:3])}?" if mentioned else _did_you_mean(raw, names)
    raise ParameterError(f"parameter {param.name}: {brief(raw)} is not a {kind} of the vocabulary (a slug, label "
                         f"or alternative label){hint}{suggestion}")


def _instrument_group(param: Param, raw: str) -> ox.NamedNode:
    names: dict[str, str] = {}
    for group in _collections():
        for label in (group.slug, group.pref_label, group.iri):
            names[_key(label)] = group.slug
            if _key(raw) == _key(label) or _expand(raw.strip()) == group.iri:
                return ox.NamedNode(group.iri)
    known = ", ".join(sorted(set(names.values())))
    raise ParameterError(f"parameter {param.name}: {brief(raw)} is not a group of instruments (one of {known})"
                         f"{_did_you_mean(raw, names)}")


def _member_state(param: Param, raw: str) -> ox.NamedNode:
    states = member_states()
    iri = states.resolve(raw)
    if iri is not None:
        return ox.NamedNode(iri)
    names = {name: states.labels[state] for name, state in states.by_name.items()}
    hint = _did_you_mean(raw, names) or f" (one of {', '.join(sorted(states.labels.values()))})"
    raise ParameterError(f"parameter {param.name}: {brief(raw)} is not an ASEAN member state (a name or ISO code)"
                         f"{hint}")


@cache
def forum_numbers() -> tuple[int, ...]:
    """The numbers of the AFML editions the reference data (ontology/reference.ttl) describes, in order."""
    number = PREFIXES["aflm"] + "forumNumber"
    return tuple(sorted({int(t.object.value) for t in ox.parse(path=str(ontology_dir() / "reference.ttl"))
                         if t.predicate.value == number and t.object.value.isdigit()}))


def _forum(param: Param, raw: str) -> ox.NamedNode:
    """An AFML edition of the reference data: its number ("13", "13th", "13th AFML"), IRI or `id:forum/13`."""
    known = forum_numbers()
    value = " ".join(raw.split())
    match = re.fullmatch(r"(?:the\s+)?(\d{1,4})(?:st|nd|rd|th)?(?:\s+(?:AFML|forum|ASEAN Forum on Migrant Labour))?",
                         value, re.IGNORECASE)
    number = int(match.group(1)) if match else None
    if number is None and re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", value):
        tail = re.fullmatch(re.escape(forum_iri(0)[:-1]) + r"(\d{1,4})", _expand(value))
        number = int(tail.group(1)) if tail else None
    if number is not None and number in known:
        return ox.NamedNode(forum_iri(number))
    span = f"{min(known)} to {max(known)}" if known else "none known"
    # a typo first ("131" -> 13), then the nearest numbers ("19" -> 18)
    closest: list[int] = []
    if number is not None:
        typo = [int(n) for n in difflib.get_close_matches(str(number), [str(k) for k in known], n=1)]
        closest = list(dict.fromkeys([*typo, *sorted(known, key=lambda n: (abs(n - number), n))]))[:2]
    hint = f"; did you mean {' or '.join(map(str, closest))}?" if closest else ""
    raise ParameterError(f"parameter {param.name}: {brief(raw)} is not an AFML edition of the reference data "
                         f"(a number, {span}, or its IRI){hint}")


def _document(param: Param, raw: str, documents: Sequence[DocumentEntry], bad: Any) -> ox.NamedNode:
    value, low = " ".join(raw.split()), _key(raw)
    iri = _expand(value)
    for d in documents:
        if low in (d.id.casefold(), d.source_file.casefold()) or d.iri == iri:
            return ox.NamedNode(d.iri)

    def one(hits: list[DocumentEntry], how: str) -> ox.NamedNode:
        if len(hits) == 1:
            return ox.NamedNode(hits[0].iri)
        raise ParameterError(f"parameter {param.name}: {brief(raw)} {how} {len(hits)} documents of the build "
                             f"({', '.join(d.id for d in hits[:5])}{' ...' if len(hits) > 5 else ''}); give its id")

    if not re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", value) or re.fullmatch(r"[A-Za-z0-9_\-]+", value):
        state = member_states().resolve(value)
        if state is not None:
            hits = [d for d in documents if d.member_state == state]
            if hits:
                return one(hits, "is the member state of")
            raise ParameterError(f"parameter {param.name}: no document of the build is issued by "
                                 f"{member_states().labels[state]} (documents: "
                                 f"{', '.join(d.id for d in documents[:5]) or 'none'})")
        words = re.findall(r"\w+", low)
        hits = [d for d in documents if words and set(words) <= set(re.findall(r"\w+", d.title.casefold()))]
        if hits:
            return one(hits, "are title words of")
    names = {d.id: d.id for d in documents} | {_key(d.title): d.id for d in documents if d.title}
    raise ParameterError(f"parameter {param.name}: {brief(raw)} is not a document of the build (an id, source file, "
                         f"title words or member state){_did_you_mean(raw, names)}")


def to_term(param: Param, raw: object, resolver: Resolver | None = None) -> ox.NamedNode | ox.Literal:
    """Convert a command-line value to an RDF term of the parameter's type, or say what was expected.

    Concepts are checked against the vocabularies (a slug, an IRI, or a label or alternative label in any
    case), member states against the reference data (a name or ISO code), documents against the build's
    documents when `resolver` has them (an id, source file, title words or member state, where that is
    unique); a value that names nothing, or several things, is a ParameterError listing the closest matches.

    From Python a value may also be a number (integer, decimal and string parameters), True/False
    (boolean) or a date (date and string): it is converted with str(); anything else is refused
    with a QueryError that names the parameter, never an AttributeError from deep inside.
    """
    kind = param.type
    if not isinstance(raw, str):
        fits = {
            bool: ("boolean",),
            int: ("integer", "decimal", "string", "forum"),
            float: ("decimal", "string"),
            Decimal: ("decimal", "string"),
            dt.date: ("date", "string"),
        }
        # bool before int (True is an int); a datetime is not a date here (its time would be lost)
        family = next((t for t in fits if isinstance(raw, t) and not isinstance(raw, dt.datetime)), None)
        if family is None or kind not in fits[family]:
            raise QueryError(
                f"parameter {param.name}: got {type(raw).__name__} {brief(raw)}; expected a string for this {kind} "
                "parameter (or a number, a date or True/False where its type allows, converted with str())"
            )
        raw = raw.isoformat() if isinstance(raw, dt.date) else str(raw).lower() if isinstance(raw, bool) else str(raw)
    raw = str(raw)  # already a str: for the type checker

    def bad(expected: str) -> QueryError:
        return QueryError(f"parameter {param.name}: {brief(raw)} is not {expected}")

    if kind == "string":
        if param.choices:
            chosen = {_key(c): c for c in param.choices}.get(_key(raw))
            if chosen is None:
                raise ParameterError(f"parameter {param.name}: {brief(raw)} is not one of {', '.join(param.choices)}"
                                     f"{_did_you_mean(raw, {_key(c): c for c in param.choices})}")
            return ox.Literal(chosen)
        return ox.Literal(raw)
    if kind == "integer":
        if not re.fullmatch(r"[+-]?\d{1,18}", raw.strip()):
            raise bad("an integer")
        return ox.Literal(str(int(raw)), datatype=ox.NamedNode(XSD.integer))
    if kind == "decimal":
        try:
            number = Decimal(raw.strip())
        except InvalidOperation:
            raise bad("a decimal number") from None
        if not number.is_finite():
            raise bad("a finite decimal number")
        return ox.Literal(format(number, "f"), datatype=ox.NamedNode(XSD.decimal))
    if kind == "boolean":
        if raw.strip().lower() not in {"true", "false"}:
            raise bad("true or false")
        return ox.Literal(raw.strip().lower(), datatype=ox.NamedNode(XSD.boolean))
    if kind == "date":
        try:
            day = dt.date.fromisoformat(raw.strip())
        except ValueError:
            raise bad("a date (YYYY-MM-DD)") from None
        return ox.Literal(day.isoformat(), datatype=ox.NamedNode(XSD.date))
    if kind in CONCEPT_KINDS:
        return _concept(param, raw)
    if kind == "instrument-group":
        return _instrument_group(param, raw)
    if kind == "member-state":
        return _member_state(param, raw)
    if kind == "forum":
        return _forum(param, raw)
    if kind == "document":
        documents = resolver.documents() if resolver is not None else None
        if documents is not None:
            return _document(param, raw, documents, bad)
        value = raw.strip()
        if re.fullmatch(r"[a-z0-9_][a-z0-9_\-]*", value):
            return ox.NamedNode(document_iri(value))
        return _iri(_expand(value), bad)
    return _iri(_expand(raw.strip()), bad)


def _iri(value: str, bad: Any) -> ox.NamedNode:
    if not re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", value):
        raise bad("an absolute IRI (or prefix:name)")
    try:
        return ox.NamedNode(value)
    except ValueError:
        raise bad("a valid IRI") from None


def bindings_for(
    query: NamedQuery, values: Mapping[str, object], resolver: Resolver | None = None
) -> dict[str, ox.NamedNode | ox.Literal]:
    """Check the given values against the declared parameters; apply defaults; refuse unknown names.

    A value is a str (from the command line), or from Python a number, True/False or a date where the
    parameter's type allows (see to_term); any other value, or a name that is not a str, is a QueryError.
    Values are checked against the vocabularies and member states, and documents against `resolver`'s
    (the build's) documents when it has them: an unknown value is a ParameterError.
    """
    declared = {p.name: p for p in query.params}
    expected = ", ".join(declared) or "none"
    for key in values:
        if not isinstance(key, str):
            raise QueryError(f"query {query.name}: parameter name {brief(key)} is of type {type(key).__name__}; "
                             f"expected a str (parameters: {expected})")
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise QueryError(f"query {query.name}: unknown parameter {brief(unknown[0])} (parameters: {expected})")
    out: dict[str, ox.NamedNode | ox.Literal] = {}
    for name, param in declared.items():
        raw = values.get(name, param.default)
        if raw is None:
            if param.required:
                example = f" (e.g. --param {name}={param.example})" if param.example else ""
                raise QueryError(f"query {query.name}: parameter {name} is required{example}")
            continue
        out[name] = to_term(param, raw, resolver)
    return out
