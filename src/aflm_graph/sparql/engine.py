"""Run queries on a build (embedded pyoxigraph store) and shape the answers as tables, CSV, TSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..safetext import neutralise_formula
from ..terms.namespaces import PREFIXES, XSD
from .catalogue import OUR_GRAPHS, QueryDataset, QueryError, bind_values, check_safe, query_form

FORMATS = ("table", "csv", "tsv", "json")
GRAPH_FORMATS = ("turtle", "ntriples")
RDF_FORMATS = ("turtle", "ntriples", "jsonld", "rdfxml")  # what `graph_bytes` writes (serve offers them all)


@dataclass(frozen=True)
class Term:
    """An RDF term as the SPARQL JSON results format describes it: engine-neutral."""

    type: str  # "uri" | "literal" | "bnode" | "triple"
    value: str
    datatype: str | None = None
    lang: str | None = None

    def n3(self) -> str:
        """N-Triples syntax (what SPARQL TSV results use)."""
        if self.type == "uri":
            return f"<{self.value}>"
        if self.type == "bnode":
            return f"_:{self.value}"
        escaped = (
            self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
            .replace("\t", "\\t")
        )
        if self.lang:
            return f'"{escaped}"@{self.lang}'
        if self.datatype and self.datatype != XSD.string:
            return f'"{escaped}"^^<{self.datatype}>'
        return f'"{escaped}"'

    def to_json(self) -> dict[str, str]:
        out = {"type": self.type, "value": self.value}
        if self.lang:
            out["xml:lang"] = self.lang
        elif self.datatype and self.datatype != XSD.string:
            out["datatype"] = self.datatype
        return out


@dataclass
class Result:
    """Rows of a SELECT, the boolean of an ASK, or the triples of a CONSTRUCT/DESCRIBE (as s, p, o rows)."""

    form: str  # "select" | "ask" | "graph"
    columns: list[str] = field(default_factory=list)
    rows: list[list[Term | None]] = field(default_factory=list)
    boolean: bool | None = None
    partial: bool = False
    warnings: list[str] = field(default_factory=list)

    def records(self) -> list[dict[str, str | None]]:
        """Rows as dicts of plain values (what a notebook user wants first)."""
        return [{c: (t.value if t else None) for c, t in zip(self.columns, row, strict=True)} for row in self.rows]

    def to_dataframe(self):  # pandas is optional, so no return annotation
        try:
            import pandas as pd  # lazy: an optional extra, and ~200 ms to import
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise ImportError("to_dataframe needs pandas: pip install 'aflm-graph[pandas]'") from exc
        return pd.DataFrame.from_records(self.records(), columns=self.columns)


def from_oxigraph(term: ox.NamedNode | ox.Literal | ox.BlankNode | ox.Triple | None) -> Term | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return Term("uri", term.value)
    if isinstance(term, ox.BlankNode):
        return Term("bnode", term.value)
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if term.language:
            return Term("literal", term.value, lang=term.language)
        return Term("literal", term.value, datatype=None if datatype == XSD.string else datatype)
    return Term("triple", str(term))


OxTerm = ox.NamedNode | ox.Literal | ox.BlankNode | ox.Triple


def _converter() -> Callable[[OxTerm | None], Term | None]:
    """`from_oxigraph` for one result: by exact type, and each distinct term converted once (IRIs and
    labels recur on many rows), which makes big results several times cheaper to read."""
    named, literal, blank, string = ox.NamedNode, ox.Literal, ox.BlankNode, XSD.string
    cache: dict[OxTerm, Term] = {}

    def convert(term: OxTerm | None) -> Term | None:
        if term is None:
            return None
        found = cache.get(term)
        if found is not None:
            return found
        if type(term) is named:
            found = Term("uri", term.value)
        elif type(term) is literal:
            language = term.language
            if language:
                found = Term("literal", term.value, lang=language)
            else:
                datatype = term.datatype.value
                found = Term("literal", term.value, datatype=None if datatype == string else datatype)
        elif type(term) is blank:
            found = Term("bnode", term.value)
        else:
            found = Term("triple", str(term))  # what from_oxigraph says of a quoted triple
        if len(cache) < 500_000:
            cache[term] = found
        return found

    return convert


# --- the embedded store

_STORES: dict[Path, ox.Store] = {}


def check_build(build: Path) -> Path:
    """`build`, resolved, if it holds a build (an on-disk store or aflm.nq); else a QueryError that says what to do."""
    build = build.resolve()
    if not build.is_dir() or not ((build / "store").is_dir() or (build / "aflm.nq").is_file()):
        raise QueryError(f"{build}: no build here; run `aflm-graph build` first (or pass --build DIR)")
    return build


def open_store(build: Path) -> ox.Store:
    """The build's store (cached per process): its on-disk store, opened read-only, when it was built with
    `--store`; else an in-memory store loaded from build/aflm.nq (several times faster to query)."""
    build = check_build(build)
    if build in _STORES:
        return _STORES[build]
    folder, dump = build / "store", build / "aflm.nq"
    if folder.is_dir():
        try:
            store = ox.Store.read_only(str(folder))
        except OSError as exc:
            raise QueryError(f"{folder}: cannot open the store ({exc})") from None
    else:
        store = ox.Store()
        try:
            store.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
        except (OSError, SyntaxError) as exc:
            raise QueryError(f"{dump}: cannot load the build ({' '.join(str(exc).split())})") from None
    _STORES[build] = store
    return store


def dataset_options(query: QueryDataset, protocol: QueryDataset | None = None) -> dict[str, Any]:
    """The `Store.query` arguments for a query's dataset (SPARQL 1.1, 13.2 and the Protocol, 2.1.4).

    No dataset clause and no protocol dataset: the default graph is the union of the build's graphs, every
    named graph is there for GRAPH. Otherwise exactly the graphs named: FROM graphs merged into the default
    graph (none: an empty default graph), FROM NAMED graphs the only named graphs. The protocol's
    default-graph-uri / named-graph-uri (`protocol`), when given, replace the query's clauses. pyoxigraph
    ignores a query's FROM under `use_default_graph_as_union`, so the graphs are always passed here.
    Every graph must be one of the build's (check_safe refuses the others; checked again here).
    """
    chosen = protocol if protocol is not None and protocol.given else query
    if not chosen.given:
        return {"use_default_graph_as_union": True}
    foreign = sorted(set(chosen.default + chosen.named) - OUR_GRAPHS)
    if foreign:
        raise QueryError(f"refused: <{foreign[0]}> is not one of this build's graphs (the engine never fetches "
                         "remote data)")
    return {"default_graph": [ox.NamedNode(g) for g in chosen.default],
            "named_graphs": [ox.NamedNode(g) for g in chosen.named]}


def run_embedded(store: ox.Store, text: str, bindings: Mapping[str, ox.NamedNode | ox.Literal] | None = None, *,
                 dataset: QueryDataset | None = None) -> Result:
    """Run a read-only query on a pyoxigraph store: the union of its graphs as the default graph, unless the query
    names its dataset (FROM, FROM NAMED) or `dataset` does (the protocol's graph parameters; see dataset_options)."""
    options = dataset_options(check_safe(text), dataset)
    query_form(text)  # not a query: a QueryError before anything runs
    substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
        ox.Variable(k): v for k, v in (bindings or {}).items()
    }
    try:
        try:
            answer = store.query(text, substitutions=substitutions or None, **options)
        except RuntimeError as exc:
            # pyoxigraph substitutes only projected variables (SEP-0007); for the others bind with a VALUES
            # block whose terms pyoxigraph itself serialised: still values, never pasted text.
            if not bindings or "projection" not in str(exc):
                raise QueryError(f"query failed: {exc}") from None
            answer = store.query(bind_values(text, bindings), **options)
    except SyntaxError as exc:
        raise QueryError(_syntax_message(str(exc))) from None
    if isinstance(answer, ox.QueryBoolean):  # ASK
        return Result("ask", boolean=bool(answer))
    convert = _converter()
    if isinstance(answer, ox.QueryTriples):  # CONSTRUCT, DESCRIBE
        rows = [[convert(t.subject), convert(t.predicate), convert(t.object)] for t in answer]
        return Result("graph", columns=["subject", "predicate", "object"], rows=rows)
    columns = [v.value for v in answer.variables]
    rows = [[convert(t) for t in solution] for solution in answer]  # values come in the order of the variables
    return Result("select", columns=columns, rows=rows)


def _syntax_message(message: str) -> str:
    """pyoxigraph says 'error at 2:16: expected ...'; say it as line and column."""
    match = re.match(r"error at (\d+):(\d+): (.*)", message, re.DOTALL)
    if match:
        line, column, rest = match.groups()
        return f"syntax error at line {line}, column {column}: {rest}"
    return f"syntax error: {message}"


# --- output formats


def _plain(term: Term | None) -> str:
    return "" if term is None else term.value


def to_csv(result: Result, *, neutralise_formulas: bool = False) -> str:
    """SPARQL 1.1 CSV results: a header of variable names, plain values.

    With `neutralise_formulas`, a value that a spreadsheet would run as a formula (it starts with `=`,
    `+`, `-`, `@`, tab or CR, and is not a plain number) gets a leading `'` (OWASP, CSV injection): for
    a file meant to be opened in a spreadsheet. Off by default: that is no longer SPARQL's CSV.
    """
    def cell(term: Term | None) -> str:
        text = _plain(term)
        return neutralise_formula(text) if neutralise_formulas else text

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if result.form == "ask":
        writer.writerow(["boolean"])
        writer.writerow(["true" if result.boolean else "false"])
    else:
        writer.writerow(result.columns)
        writer.writerows([cell(t) for t in row] for row in result.rows)
    return buffer.getvalue()


def to_tsv(result: Result) -> str:
    """SPARQL 1.1 TSV results: `?var` header, terms in N-Triples syntax."""
    if result.form == "ask":
        return "?boolean\n" + ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join(f"?{c}" for c in result.columns)]
    lines += ["\t".join("" if t is None else t.n3() for t in row) for row in result.rows]
    return "\n".join(lines) + "\n"


def to_json(result: Result) -> str:
    """SPARQL 1.1 JSON results."""
    if result.form == "ask":
        doc: dict[str, object] = {"head": {}, "boolean": bool(result.boolean)}
    else:
        bindings = [
            {c: t.to_json() for c, t in zip(result.columns, row, strict=True) if t is not None} for row in result.rows
        ]
        doc = {"head": {"vars": result.columns}, "results": {"bindings": bindings}}
    return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def to_table(result: Result, *, width: int = 60) -> str:
    """A plain text table for reading in a terminal; long values are cut with an ellipsis."""
    if result.form == "ask":
        return "true\n" if result.boolean else "false\n"

    def cell(t: Term | None) -> str:
        text = " ".join(_plain(t).split())
        return text if len(text) <= width else text[: width - 1] + "…"

    body = [[cell(t) for t in row] for row in result.rows]
    widths = [max([len(c)] + [len(r[i]) for r in body]) for i, c in enumerate(result.columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(result.columns, widths, strict=True)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    rows = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in body]
    footer = f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})"
    return "\n".join([line, rule, *rows, footer]) + "\n"


def result_triples(result: Result) -> list[ox.Triple]:
    """The triples of a CONSTRUCT/DESCRIBE result, deduplicated and sorted (the same answer gives the same bytes)."""

    def ox_term(t: Term) -> ox.NamedNode | ox.Literal | ox.BlankNode:
        if t.type == "uri":
            return ox.NamedNode(t.value)
        if t.type == "bnode":
            return ox.BlankNode(t.value)
        if t.lang:
            return ox.Literal(t.value, language=t.lang)
        return ox.Literal(t.value, datatype=ox.NamedNode(t.datatype or XSD.string))

    def subject(t: Term) -> ox.NamedNode | ox.BlankNode:
        return ox.BlankNode(t.value) if t.type == "bnode" else ox.NamedNode(t.value)

    return sorted(
        {ox.Triple(subject(s), ox.NamedNode(p.value), ox_term(o))
         for s, p, o in result.rows if s is not None and p is not None and o is not None},
        key=str,
    )


def graph_bytes(triples: list[ox.Triple], fmt: str) -> bytes:
    """Sorted triples in one of RDF_FORMATS: Turtle, N-Triples and RDF/XML by pyoxigraph, JSON-LD by the build's
    writer (graph/export.py: an inline @context of our prefixes). A QueryError when the format cannot carry them
    (RDF/XML and a predicate that is no QName, JSON-LD and a quoted triple...)."""
    if fmt not in RDF_FORMATS:
        raise QueryError(f"unknown RDF format {fmt!r} (one of {', '.join(RDF_FORMATS)})")
    # lazy: graph.export compiles its XML name patterns on import (~15 ms), which every `aflm-graph query` would pay
    from ..graph.export import ExportError, to_jsonld, to_rdfxml

    try:
        if fmt == "jsonld":
            return to_jsonld(triples)
        if fmt == "rdfxml":
            return to_rdfxml(triples)
    except ExportError as exc:
        raise QueryError(f"the result cannot be written as {'JSON-LD' if fmt == 'jsonld' else 'RDF/XML'}: {exc}; "
                         "ask for Turtle or N-Triples") from None
    rdf_format = ox.RdfFormat.TURTLE if fmt == "turtle" else ox.RdfFormat.N_TRIPLES
    # data IRIs stay whole: prefixed names for them would need escapes that some parsers reject
    prefixes = {k: v for k, v in PREFIXES.items() if k != "id"} if fmt == "turtle" else None
    data = ox.serialize(triples, format=rdf_format, prefixes=prefixes)
    assert data is not None  # no `output`: the bytes are returned
    return data


def to_graph(result: Result, fmt: str) -> str:
    """CONSTRUCT/DESCRIBE results as N-Triples or Turtle (or JSON-LD, RDF/XML: see graph_bytes), sorted."""
    return graph_bytes(result_triples(result), fmt).decode("utf-8")


def render(result: Result, fmt: str) -> str:
    if fmt in GRAPH_FORMATS:
        if result.form != "graph":
            raise QueryError(f"--format {fmt} is for CONSTRUCT/DESCRIBE queries; use table, csv, tsv or json")
        return to_graph(result, fmt)
    renderers = {"table": to_table, "csv": to_csv, "tsv": to_tsv, "json": to_json}
    if fmt not in renderers:
        raise QueryError(f"unknown format {fmt!r} (one of {', '.join((*FORMATS, *GRAPH_FORMATS))})")
    return renderers[fmt](result)


def iter_values(result: Result, column: str) -> Iterable[str | None]:
    index = result.columns.index(column)
    return (_plain(row[index]) if row[index] else None for row in result.rows)
