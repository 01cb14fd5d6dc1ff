"""The query page at `/` of `aflm-graph serve`: a SPARQL editor, the named queries, their parameters, results.

Everything the page needs is served from here (no CDN; the page's Content-Security-Policy names no
other origin): the page, its script and style, the editor (CodeMirror 6 bundled into
static/editor.min.js by static/build-editor/) and these JSON/HTML endpoints:

- `GET /api/queries`: the named queries (summary, description, tags, text, parameters) with, for each
  typed parameter, its choices read from the build (concepts of the vocabularies, documents) or the
  reference data (member states), and the prefixes for completion.
- `GET|POST /api/run`: `name=<named query>` or `query=<text>`, each parameter as `p.<name>=<value>`, and
  `format` (json, csv, tsv, turtle, ntriples; or the Accept header). Values are bound as the CLI binds
  them (catalogue.bindings_for, then bind_values: a VALUES block of escaped terms), never pasted into the
  text; the query then runs exactly as on /sparql (the same checks, worker pool and limits).
- `GET /api/view`: the same arguments; the answer of a `?source ?target` SELECT or a CONSTRUCT drawn as a
  network by the views' renderer (views/network.py: vis-network inlined from the pyvis wheel), shown in
  a frame of the page.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from ..sparql.catalogue import (
    CONCEPT_KINDS,
    NamedQuery,
    QueryError,
    _params,
    bind_values,
    bindings_for,
    check_safe,
    check_size,
    named_queries,
    parse_header,
    query_form,
)
from ..sparql.engine import Result, to_csv, to_json, to_tsv
from ..sparql.run import build_resolver
from ..sparql.textsearch import search_build
from ..sparql.workers import to_xml
from ..terms.namespaces import PREFIXES, VOCAB
from ..terms.reference import member_states
from ..views import network as views

STATIC = Path(__file__).resolve().parent / "static"
STATIC_FILES = {  # what /static/ serves, and nothing else (the bundle's build folder stays private)
    "workbench.js": "text/javascript; charset=utf-8",
    "workbench.css": "text/css; charset=utf-8",
    "editor.min.js": "text/javascript; charset=utf-8",
    "LICENSES.editor.txt": "text/plain; charset=utf-8",
}
# The page: its own scripts and styles only (CodeMirror sets styles at run time, hence 'unsafe-inline' for
# style alone), requests to this server only, frames from this server only (the network view).
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# The network view: the views' self-contained page (inline script and style, data escaped by script_json).
VIEW_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
_LINE_COLUMN = re.compile(r"line (\d+), column (\d+)")


@dataclass(frozen=True)
class Context:
    """What the workbench's handlers share with the endpoint: the build, its limits and how to run a job."""

    build: Path
    timeout: float
    max_rows: int
    max_body: int
    run: Callable[[tuple[str, str, str | None, int | None], float], Any]  # the endpoint's Pool.run (a coroutine)
    negotiate: Callable[[str, Mapping[str, str], str], str | None]
    result_types: Mapping[str, str]
    graph_types: Mapping[str, str]
    format_param: Mapping[str, str]
    media: Mapping[str, str]


def _error(status: int, message: str) -> Response:
    return PlainTextResponse(" ".join(message.split()) + "\n", status_code=status, headers=SECURITY_HEADERS)


def _bound_text(arguments: Mapping[str, list[str]], build: Path | None = None) -> tuple[str, str, Result | None]:
    """(the query text with its parameters bound, the text as written, the answer of a text search from the build's
    full-text index or None) from `name` or `query` and `p.*`."""
    names, texts = arguments.get("name", []), arguments.get("query", [])
    if len(names) + len(texts) != 1:
        raise QueryError("give exactly one of name (a named query) or query (SPARQL text)")
    values: dict[str, str] = {}
    for key, given in arguments.items():
        if key.startswith("p."):
            if len(given) != 1:
                raise QueryError(f"parameter {key[2:]} is given {len(given)} times")
            if given[0].strip():  # an empty field of the form: not given (its default applies)
                values[key[2:]] = given[0]
    if names:
        catalogue = named_queries()
        if names[0] not in catalogue:
            raise QueryError(f"no named query called {names[0]!r}")
        named = catalogue[names[0]]
    else:
        text = texts[0]
        check_size(text)
        header = parse_header(text, source="the query")
        if values and not header.get("params"):
            raise QueryError("parameters were given, but the query's #+ header declares none")
        named = NamedQuery(name="the query", text=text, params=_params(header.get("params"), "the query"))
    bindings = bindings_for(named, values, build_resolver(build) if build is not None else None)
    indexed = None
    if named.extra.get("fulltext"):  # a text search: the index's answer, and the fallback's patterns bound
        indexed, bindings, _ = search_build(named, bindings, build)
    return (bind_values(named.text, bindings) if bindings else named.text), named.text, indexed


def _unshift(message: str, bound: str, written: str) -> str:
    """A syntax error's line in the bound text, told as the line of the text as written (VALUES lines taken out)."""
    if bound == written:
        return message
    at = next((i for i, (a, b) in enumerate(zip(bound, written, strict=False)) if a != b), len(written))
    first = written[:at].count("\n") + 1  # the lines up to here are the same in both texts
    added = bound.count("\n") - written.count("\n")

    def fix(match: re.Match[str]) -> str:
        line, column = int(match[1]), int(match[2])
        if line > first + added:
            line -= added
        elif line > first:
            return f"line {first}, column 1 (in a bound parameter)"
        return f"line {line}, column {column}"

    return _LINE_COLUMN.sub(fix, message, count=1)


async def _arguments(request: Request, ctx: Context) -> dict[str, list[str]] | Response:
    if len(request.url.query) > ctx.max_body:
        return _error(414, f"query string over {ctx.max_body} bytes; POST the form instead")
    arguments: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        arguments.setdefault(key, []).append(value)
    if request.method == "POST":
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            return _error(415, "POST a form (application/x-www-form-urlencoded)")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > ctx.max_body:
            return _error(413, f"request body over {ctx.max_body} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > ctx.max_body:
                return _error(413, f"request body over {ctx.max_body} bytes")
        try:
            form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return _error(400, "the form is not UTF-8")
        for key, values in form.items():
            arguments.setdefault(key, []).extend(values)
    return arguments


async def _prepare(request: Request, ctx: Context) -> tuple[str, str, str] | Response:
    """(bound text, written text, form) of a request, or the error response."""
    arguments = await _arguments(request, ctx)
    if isinstance(arguments, Response):
        return arguments
    try:
        bound, written, request.state.indexed = _bound_text(arguments, ctx.build)
        form = query_form(bound)
        if form == "update":
            return _error(403, "this endpoint is read-only: updates are refused")
        check_safe(bound)
    except QueryError as exc:
        return _error(403 if str(exc).startswith("refused") else 400, str(exc))
    return bound, written, form


def _indexed_reply(result: Result, fmt: str, max_rows: int) -> tuple[Any, ...]:
    """A worker's ("ok", rows, bytes) or ("error", status, message) for a text search answered from the index."""
    if len(result.rows) > max_rows:
        return ("error", 422, f"the result has more than {max_rows} rows (this endpoint's cap); narrow the search")
    renderers: dict[str, Callable[[Result], str]] = {"json": to_json, "csv": to_csv, "tsv": to_tsv, "xml": to_xml}
    if fmt not in renderers:
        return ("error", 406, f"format {fmt} is not offered for a SELECT query")
    return ("ok", len(result.rows), renderers[fmt](result).encode("utf-8"))


def _reply_error(reply: tuple[Any, ...], bound: str, written: str) -> Response:
    response = _error(reply[1], _unshift(str(reply[2]), bound, written))
    if reply[1] in {429, 503}:
        response.headers["Retry-After"] = "1"
    return response


def routes(build: Path, ctx: Context) -> list[BaseRoute]:
    """The page and its endpoints, for create_app's route list."""
    choices_lock = asyncio.Lock()
    choices: dict[str, Any] = {}
    corpus_lock = threading.Lock()
    corpora: list[views.Corpus] = []

    async def page(request: Request) -> Response:
        html = (STATIC / "workbench.html").read_text(encoding="utf-8")
        return HTMLResponse(html, headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache",
                                           **SECURITY_HEADERS})

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_FILES:
            return _error(404, "not found")
        return FileResponse(STATIC / name, media_type=STATIC_FILES[name],
                            headers={"Cache-Control": "no-cache", **SECURITY_HEADERS})

    async def select(text: str) -> list[dict[str, str]]:
        reply = await ctx.run(("render", text, "json", ctx.max_rows), ctx.timeout)
        if reply[0] == "error":
            return []
        data = json.loads(reply[2])
        return [{k: v["value"] for k, v in row.items()} for row in data["results"]["bindings"]]

    async def load_choices() -> dict[str, Any]:
        async with choices_lock:
            if not choices:
                concepts = await select(
                    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
                    "SELECT DISTINCT ?c ?label WHERE { ?c a skos:Concept ; skos:prefLabel ?label . "
                    "FILTER(langMatches(lang(?label), 'en') || lang(?label) = '') } ORDER BY ?label ?c")
                documents = await select(
                    "PREFIX aflm: <https://w3id.org/aflm/ontology#>\n"
                    "PREFIX dcterms: <http://purl.org/dc/terms/>\n"
                    "SELECT ?d ?id ?title WHERE { ?d a aflm:RecommendationsDocument ; dcterms:identifier ?id . "
                    "OPTIONAL { ?d dcterms:title ?title } } ORDER BY ?id")
                found: dict[str, list[dict[str, str]]] = {kind: [] for kind in CONCEPT_KINDS}
                seen: set[str] = set()
                for row in concepts:
                    iri = row["c"]
                    for kind in CONCEPT_KINDS:
                        prefix = f"{VOCAB}{kind}/"
                        if iri.startswith(prefix) and iri not in seen:
                            seen.add(iri)
                            found[kind].append({"value": iri[len(prefix):], "iri": iri, "label": row["label"]})
                found["document"] = [{"value": r["id"], "iri": r["d"], "label": r.get("title") or r["id"]}
                                     for r in documents]
                states = member_states()
                found["member-state"] = sorted(({"value": label, "iri": iri, "label": label}
                                                for iri, label in states.labels.items()), key=lambda s: s["label"])
                choices.update(found)
        return choices

    async def api_queries(request: Request) -> Response:
        known = await load_choices()
        out = []
        for named in named_queries().values():
            try:
                form = named.form
            except QueryError:
                continue
            out.append({
                "name": named.name, "summary": named.summary, "description": named.description,
                "tags": list(named.tags), "form": form, "text": named.text,
                "params": [{"name": p.name, "type": p.type, "description": p.description, "example": p.example,
                            "required": p.required, "default": p.default, "choices": known.get(p.type)}
                           for p in named.params],
            })
        payload = {"queries": out, "prefixes": PREFIXES, "limits": {"timeout": ctx.timeout, "rows": ctx.max_rows}}
        return JSONResponse(payload, headers={"Cache-Control": "no-cache", **SECURITY_HEADERS})

    async def api_run(request: Request) -> Response:
        prepared = await _prepare(request, ctx)
        if isinstance(prepared, Response):
            return prepared
        bound, written, form = prepared
        graph = form in {"construct", "describe"}
        offered = ctx.graph_types if graph else ctx.result_types
        requested = request.query_params.get("format", "").lower()
        if requested:
            fmt = ctx.format_param.get(requested)
            if fmt is None or fmt not in offered.values():
                return _error(406, f"format={requested} is not offered for a {form.upper()} query")
        else:
            fmt = ctx.negotiate(request.headers.get("accept", ""), offered, "turtle" if graph else "json")
            if fmt is None:
                return _error(406, f"none of the accepted types is offered; try {', '.join(sorted(offered))}")
        indexed: Result | None = request.state.indexed
        if indexed is not None:  # answered by the build's full-text index (sparql/textsearch.py)
            reply = _indexed_reply(indexed, fmt, ctx.max_rows)
        else:
            reply = await ctx.run(("render", bound, fmt, ctx.max_rows), ctx.timeout)
        if reply[0] == "error":
            return _reply_error(reply, bound, written)
        _, rows, payload = reply
        headers = {"X-Result-Rows": str(rows), **SECURITY_HEADERS}
        if request.query_params.get("download"):
            suffix = {"json": "json", "csv": "csv", "tsv": "tsv", "turtle": "ttl", "ntriples": "nt", "xml": "xml"}
            headers["Content-Disposition"] = f'attachment; filename="result.{suffix.get(fmt, "txt")}"'
        return Response(payload, media_type=ctx.media[fmt], headers=headers)

    def corpus() -> views.Corpus:
        """The corpus the views draw, read once from the build (as `aflm-graph view` reads it)."""
        with corpus_lock:
            if not corpora:
                from ..sparql.engine import open_store

                corpora.append(views.load_corpus(open_store(build), details=False))
            return corpora[0]

    async def api_view(request: Request) -> Response:
        prepared = await _prepare(request, ctx)
        if isinstance(prepared, Response):
            return prepared
        bound, written, _form = prepared
        reply = await ctx.run(("result", bound, None, ctx.max_rows), ctx.timeout)
        if reply[0] == "error":
            return _reply_error(reply, bound, written)
        result: Result = reply[1]

        def draw() -> str:
            name = request.query_params.get("name") or "sparql"
            view = views.query_view(corpus(), result, name=name, summary=f"The answer of {name} as a network")
            return views.render(view, version="aflm-graph serve").html

        try:
            html = await asyncio.to_thread(draw)
        except views.ViewError as exc:
            return _error(400, str(exc))
        return HTMLResponse(html, headers={"Content-Security-Policy": VIEW_CSP, **SECURITY_HEADERS})

    return [
        Route("/", page, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
        Route("/api/queries", api_queries, methods=["GET"]),
        Route("/api/run", api_run, methods=["GET", "POST"]),
        Route("/api/view", api_view, methods=["GET", "POST"]),
    ]
