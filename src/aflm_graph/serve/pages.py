"""A page for every IRI: /id/..., /vocab/..., /ontology and /graph/<name> on `aflm-graph serve`.

The part of an IRI after https://w3id.org/aflm/ is its path here (design README, "IRIs"; w3id/ holds the redirect
rules that send the IRIs here). The `Accept` header, or `?format=`, chooses the form: an HTML page (label, types,
statements grouped by predicate, what links here; a recommendation's text with the evidence of each concept
marked; a concept's recommendations; the ontology's terms with anchors) or the resource's RDF description in
Turtle, N-Triples, JSON-LD or RDF/XML. The description is made in a query worker (sparql/resource.py, the
"describe" job) under the endpoint's time, memory and row limits; only the named graphs' descriptions come from
the build's small void.ttl, read here. Everything from the data is escaped (Jinja autoescape, and the highlighted
text is built from escaped pieces); pages load nothing from anywhere (a Content-Security-Policy with no origin
but an inline style by its hash).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jinja2
import pyoxigraph as ox
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from ..sparql.resource import Description, Mention, describe_job
from ..terms.namespaces import BASE, ONTOLOGY

TEMPLATES = Path(__file__).resolve().parent / "templates"
OFFERED = {  # media type -> form
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/turtle": "turtle",
    "application/ld+json": "jsonld",
    "application/n-triples": "ntriples",
    "application/rdf+xml": "rdfxml",
}
FORMAT_PARAM = {"html": "html", "turtle": "turtle", "ttl": "turtle", "jsonld": "jsonld", "json-ld": "jsonld",
                "ntriples": "ntriples", "nt": "ntriples", "rdfxml": "rdfxml", "rdf": "rdfxml", "xml": "rdfxml"}
MEDIA = {
    "html": "text/html; charset=utf-8",
    "turtle": "text/turtle; charset=utf-8",
    "jsonld": "application/ld+json",
    "ntriples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
}
ALTERNATES = (("turtle", "Turtle"), ("jsonld", "JSON-LD"), ("ntriples", "N-Triples"), ("rdfxml", "RDF/XML"))
SERVED = ("id/", "vocab/", "graph/")  # what follows BASE in an IRI whose page is here (and the ontology)
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

Run = Callable[[tuple[str, str, str | None, int | None], float], Awaitable[tuple[Any, ...]]]
Negotiate = Callable[[str, Mapping[str, str], str], "str | None"]


@dataclass(frozen=True)
class Context:
    """What the pages share with the endpoint: the build, the worker pool's `run`, the limits, negotiation."""

    build: Path
    run: Run  # the endpoint's Pool.run
    timeout: float
    max_rows: int
    negotiate: Negotiate  # the endpoint's Accept-header negotiation


# --- HTML pieces


def href(iri: str) -> str | None:
    """Where a link to an IRI goes: this server's path for an IRI it serves, the IRI itself for any other http(s)
    IRI, None (no link) for anything else (a `javascript:` IRI in the data stays text)."""
    if iri.startswith(BASE):
        rest = iri[len(BASE):]
        if rest.startswith(SERVED) or rest == "ontology" or rest.startswith("ontology#"):
            return "/" + rest
    if iri.startswith(("http://", "https://")):
        return iri
    return None


def highlight(text: str, mentions: Sequence[Mention]) -> Markup:
    """The text with a <mark> around each mention's words (overlapping mentions split into pieces, each marked
    with every concept over it); every piece of text is escaped, nothing is inserted raw."""
    spans = [m for m in mentions if 0 <= m.start < m.end <= len(text)]
    cuts = sorted({0, len(text), *(m.start for m in spans), *(m.end for m in spans)})
    out: list[str] = []
    for left, right in itertools.pairwise(cuts):
        piece = escape(text[left:right])
        over = [m for m in spans if m.start <= left and right <= m.end]
        if not over:
            out.append(str(piece))
            continue
        names = "; ".join(dict.fromkeys(f"{m.kind}: {m.concept.label or m.concept.value}" for m in over))
        kinds = " ".join(sorted({m.kind for m in over if m.kind.isidentifier()}))
        out.append(f'<mark class="{escape(kinds)}" title="{escape(names)}">{piece}</mark>')
    return Markup("".join(out))


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.globals["href"] = href
    return env


@cache
def _style() -> tuple[Markup, str]:
    """The pages' style sheet (inline) and the CSP source that allows exactly it."""
    css = (TEMPLATES / "page.css").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return Markup(css), f"'sha256-{digest}'"


def _csp() -> str:
    return (f"default-src 'none'; style-src {_style()[1]}; img-src 'self'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")


def _html(template: str, status: int = 200, **values: Any) -> Response:
    html = _environment().get_template(template).render(style=_style()[0], **values)
    return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": _csp(), "Vary": "Accept",
                                                           **SECURITY_HEADERS})


def not_found(iri: str) -> Response:
    return _html("not-found.html.j2", 404, iri=iri)


def render(description: Description) -> Response:
    text = highlight(description.text, description.mentions) if description.text is not None else None
    return _html("resource.html.j2", d=description, text=text, alternates=ALTERNATES,
                 is_ontology=description.iri == ONTOLOGY)


# --- requests


def iri_candidates(raw_path: str) -> list[str]:
    """The IRIs a request path may name: as sent, and with each segment percent-encoded the way the build mints
    IRIs (so `/id/document/a%20b` and `/id/document/a b` reach the same resource)."""
    sent = raw_path.lstrip("/")
    minted = "/".join(quote(unquote(segment), safe="") for segment in sent.split("/"))
    return list(dict.fromkeys([BASE + minted, BASE + sent]))


def _void_store(build: Path, cache_: dict[Path, ox.Store], lock: threading.Lock) -> ox.Store:
    """The build's VoID description (void.ttl, a few hundred lines), which describes the named graphs."""
    with lock:
        if build not in cache_:
            store = ox.Store()
            path = build / "void.ttl"
            if path.is_file():
                store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE)
            cache_[build] = store
        return cache_[build]


def routes(ctx: Context) -> list[BaseRoute]:
    """The resource pages, for create_app's route list."""
    void_cache: dict[Path, ox.Store] = {}
    void_lock = threading.Lock()

    def error(status: int, message: str) -> Response:
        response = PlainTextResponse(" ".join(message.split()) + "\n", status_code=status,
                                     headers={"Vary": "Accept", **SECURITY_HEADERS})
        if status in {429, 503}:
            response.headers["Retry-After"] = "1"
        return response

    def form(request: Request) -> str | Response:
        requested = request.query_params.getlist("format")
        if requested:
            fmt = FORMAT_PARAM.get(requested[0].lower())
            if fmt is None or len(requested) > 1:
                return error(406, f"format= takes one of {', '.join(sorted(FORMAT_PARAM))}")
            return fmt
        fmt = ctx.negotiate(request.headers.get("accept", ""), OFFERED, "html")
        if fmt is None:
            return error(406, f"none of the accepted types is offered; try {', '.join(OFFERED)}")
        return fmt

    async def answer(request: Request, candidates: list[str], *, graph: bool = False) -> Response:
        fmt = form(request)
        if isinstance(fmt, Response):
            return fmt
        reply: tuple[Any, ...] = ("missing",)
        for iri in candidates:
            if graph:
                store = await asyncio.to_thread(_void_store, ctx.build, void_cache, void_lock)
                reply = await asyncio.to_thread(describe_job, store, iri, fmt, ctx.max_rows)
            else:
                reply = await ctx.run(("describe", iri, fmt, ctx.max_rows), ctx.timeout)
            if reply[0] != "missing":
                break
        if reply[0] == "missing":
            return not_found(candidates[0])
        if reply[0] == "error":
            return error(reply[1], reply[2])
        if fmt == "html":
            return render(reply[1])
        return Response(reply[1], media_type=MEDIA[fmt], headers={"Vary": "Accept", **SECURITY_HEADERS})

    async def data(request: Request) -> Response:
        return await answer(request, iri_candidates(request.scope.get("raw_path", b"").decode("latin-1")
                                                    or request.url.path))

    async def ontology(request: Request) -> Response:
        return await answer(request, [ONTOLOGY])

    async def named_graph(request: Request) -> Response:
        return await answer(request, iri_candidates(request.scope.get("raw_path", b"").decode("latin-1")
                                                    or request.url.path), graph=True)

    return [
        Route("/id/{path:path}", data, methods=["GET"]),
        Route("/vocab/{path:path}", data, methods=["GET"]),
        Route("/ontology", ontology, methods=["GET"]),
        Route("/graph/{name}", named_graph, methods=["GET"]),
    ]
