"""The query catalogue: `.rq` files with a grlc-style `#+` YAML header, their parameters, and safe binding.

Parameters are never pasted into query text as raw strings: the embedded engine binds them as
`substitutions`, and for remote endpoints `bind_values` inserts a `VALUES` block whose terms are
serialised (and escaped) by pyoxigraph. `check_safe` refuses what would make the engine reach the
network or change data (SERVICE, LOAD, updates, FROM a graph that is not ours).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..terms.namespaces import (
    GRAPH_DATA,
    GRAPH_ONTOLOGY,
    GRAPH_REFERENCE,
    GRAPH_VOCAB,
    PREFIXES,
    XSD,
    concept_iri,
    document_iri,
)
from ..terms.resources import queries_dir

if TYPE_CHECKING:
    import pyoxigraph as ox

PARAM_TYPES = (
    "string", "integer", "decimal", "boolean", "date", "iri",
    "theme", "actor", "group", "instrument", "member-state", "document",
)
CONCEPT_KINDS = ("theme", "actor", "group", "instrument")
OUR_GRAPHS = frozenset({GRAPH_DATA, GRAPH_ONTOLOGY, GRAPH_REFERENCE, GRAPH_VOCAB})


class QueryError(ValueError):
    """A query that cannot be run as asked: unknown name, bad parameter, refused construct, syntax error."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str = "string"
    description: str = ""
    example: str | None = None
    required: bool = False
    default: str | None = None


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
    import yaml

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
            )
        )
    return tuple(out)


def load_query(path: Path) -> NamedQuery:
    try:
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
  | (?P<word>[A-Za-z_][\w\-.]*(?::[\w\-.%]*)?|:[\w\-.%]*)
  | (?P<brace>[{}])
  | (?P<space>\s+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_REFUSED = {"SERVICE", "LOAD"}
_UPDATES = {"INSERT", "DELETE", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}


@dataclass(frozen=True)
class _Token:
    kind: str
    value: str
    start: int


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.lastgroup or "other", m.group(), m.start()) for m in _TOKEN.finditer(text)]


def _unescape(text: str) -> str:
    # SPARQL applies \u escapes before parsing, so a keyword can hide behind them: look at what the engine sees.
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def _lex_words(text: str) -> tuple[_Token, ...]:
    return tuple(t for t in _tokens(_unescape(text)) if t.kind not in {"space", "comment"})


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


def check_safe(text: str, *, allowed_graphs: frozenset[str] = OUR_GRAPHS) -> None:
    """Refuse a query that would reach the network or write: SERVICE, LOAD, updates, FROM a foreign graph."""
    words = _words(text)
    for i, token in enumerate(words):
        if token.kind != "word":
            continue
        word = token.value.upper()
        if word in _REFUSED:
            raise QueryError(f"refused: {word} is not allowed (the embedded engine never reaches the network)")
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


def to_term(param: Param, raw: str) -> ox.NamedNode | ox.Literal:
    """Convert a command-line value to an RDF term of the parameter's type, or say what was expected."""
    import pyoxigraph as ox

    def bad(expected: str) -> QueryError:
        return QueryError(f"parameter {param.name}: {raw!r} is not {expected}")

    kind = param.type
    if kind == "string":
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
        value = raw.strip()
        if re.fullmatch(r"[a-z0-9][a-z0-9.\-]*", value):
            return ox.NamedNode(concept_iri(kind, value))
        return _iri(_expand(value), bad)
    if kind == "member-state":
        from ..terms.reference import member_states

        states = member_states()
        iri = states.resolve(raw)
        if iri is None:
            known = ", ".join(sorted(states.labels.values()))
            raise bad(f"an ASEAN member state (one of {known})")
        return ox.NamedNode(iri)
    if kind == "document":
        value = raw.strip()
        if re.fullmatch(r"[a-z0-9_][a-z0-9_\-]*", value):
            return ox.NamedNode(document_iri(value))
        return _iri(_expand(value), bad)
    return _iri(_expand(raw.strip()), bad)


def _iri(value: str, bad: Any) -> ox.NamedNode:
    import pyoxigraph as ox

    if not re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", value):
        raise bad("an absolute IRI (or prefix:name)")
    try:
        return ox.NamedNode(value)
    except ValueError:
        raise bad("a valid IRI") from None


def bindings_for(query: NamedQuery, values: Mapping[str, str]) -> dict[str, ox.NamedNode | ox.Literal]:
    """Check the given values against the declared parameters; apply defaults; refuse unknown names."""
    declared = {p.name: p for p in query.params}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        expected = ", ".join(declared) or "none"
        raise QueryError(f"query {query.name}: unknown parameter {unknown[0]!r} (parameters: {expected})")
    out: dict[str, ox.NamedNode | ox.Literal] = {}
    for name, param in declared.items():
        raw = values.get(name, param.default)
        if raw is None:
            if param.required:
                example = f" (e.g. --param {name}={param.example})" if param.example else ""
                raise QueryError(f"query {query.name}: parameter {name} is required{example}")
            continue
        out[name] = to_term(param, raw)
    return out
