"""A read-only SPARQL 1.1 Protocol endpoint over a build (`aflm-graph serve`), on a pool of killable query workers.

pyoxigraph cannot stop a running query, so every query runs in a worker process (sparql/workers.py)
that opens the build's store read-only; a query that passes its wall-clock limit is ended by
killing its worker, which is then replaced. Results are capped in rows (a larger answer is refused,
never silently cut), request bodies are capped in bytes, and every update, SERVICE, LOAD and FROM a
graph that is not the build's is refused before it reaches a worker. Starlette serves the protocol
under uvicorn; the worker pool lets several clients be answered at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import ipaddress
import re
import threading
import urllib.parse
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import h11
import pyoxigraph as ox
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..safetext import brief
from ..sparql.catalogue import OUR_GRAPHS, QueryDataset, QueryError, check_safe, query_form
from ..sparql.engine import check_build, graph_bytes
from ..sparql.workers import DEFAULT_MAX_MEMORY_MB, Job, Worker, WorkerTimeout
from ..terms.namespaces import RDF, SD, W3C_FORMATS
from . import pages, workbench

RESULT_TYPES = {  # media type -> format, for SELECT and ASK
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
GRAPH_TYPES = {  # media type -> format, for CONSTRUCT and DESCRIBE (and the service description)
    "text/turtle": "turtle",
    "application/n-triples": "ntriples",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "text/plain": "ntriples",
    "application/turtle": "turtle",
    "application/x-turtle": "turtle",
    "text/n3": "turtle",  # Turtle is N3 (SPARQLWrapper's N3 asks for these)
    "text/rdf+n3": "turtle",
    "application/xml": "rdfxml",
}
HTML_TYPES = {  # a browser: redirected (303) to the query page at /, which shows the answer
    "text/html": "html",
    "application/xhtml+xml": "html",
}
MEDIA = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "turtle": "text/turtle; charset=utf-8",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
}


@dataclass(frozen=True)
class Limits:
    """What one query may take (wall-clock seconds, result rows, worker memory), request body bytes, how many
    workers run and how many requests may wait for one (more are answered 429 at once). Then the connections
    (`serve` only): seconds a client has to send a whole request (slowloris; 0: no limit), seconds an idle
    keep-alive connection stays open, and connections one client address may hold (more: 429; 0: no cap)."""

    timeout: float = 20.0
    max_rows: int = 100_000
    max_body: int = 64 * 1024
    workers: int = 2
    max_memory_mb: int = DEFAULT_MAX_MEMORY_MB
    max_waiting: int = 64
    read_timeout: float = 10.0
    keep_alive: float = 5.0
    max_client_connections: int = 64  # as many as may wait for a worker; a browser opens 6


# --- the pool and the web application


class Pool:
    """A fixed number of workers; a worker whose query overruns is killed and replaced."""

    def __init__(self, build: Path, size: int, *, memory_mb: int | None = None, max_waiting: int | None = None) -> None:
        self.build = build
        self.size = max(1, size)
        self.memory_mb = memory_mb
        self.max_waiting = max_waiting
        self.waiting = 0
        self.idle: asyncio.Queue[Worker] = asyncio.Queue()
        self.all: set[Worker] = set()
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self) -> Worker:
        worker = Worker(self.build, self.memory_mb)
        worker.wait_ready()
        with self._lock:
            self.all.add(worker)
        return worker

    def _retire(self, worker: Worker) -> None:
        worker.kill()
        with self._lock:
            self.all.discard(worker)

    async def start(self) -> None:
        workers = await asyncio.gather(*(asyncio.to_thread(self._spawn) for _ in range(self.size)))
        for worker in workers:
            self.idle.put_nowait(worker)

    async def close(self) -> None:
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, QueryError):
                await task
        with self._lock:
            workers = list(self.all)
        for worker in workers:
            await asyncio.to_thread(self._retire, worker)

    async def _use(self, worker: Worker, job: Job, timeout: float) -> tuple:
        try:
            reply = await asyncio.to_thread(worker.call, job, timeout)
        except WorkerTimeout:
            reply = ("error", 503, f"the query ran past this endpoint's limit of {timeout:g} s and was stopped")
        except (EOFError, OSError):
            reply = ("error", 500, f"{await asyncio.to_thread(worker.death)}; the worker was replaced")
        else:
            self.idle.put_nowait(worker)
            return reply
        await asyncio.to_thread(self._retire, worker)
        # Answer now; the replacement starts in the background (spawning takes a few hundred ms).
        task = asyncio.get_running_loop().create_task(self._replace())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return reply

    async def _replace(self) -> None:
        try:
            self.idle.put_nowait(await asyncio.to_thread(self._spawn))
        except QueryError as exc:  # the pool shrinks by one; the others keep serving
            print(f"aflm-graph serve: could not replace a query worker: {exc}", flush=True)

    async def run(self, job: Job, timeout: float) -> tuple:
        if self.idle.empty() and self.max_waiting is not None and self.waiting >= self.max_waiting:
            # shed load at once: a request that would only wait out its time limit gets a clear answer now
            return ("error", 429, f"all {self.size} query workers are busy and {self.waiting} requests wait; "
                                  "try again shortly")
        self.waiting += 1
        try:
            worker = await asyncio.wait_for(self.idle.get(), timeout)
        except TimeoutError:
            return ("error", 503, f"all {self.size} query workers stayed busy for {timeout:g} s; try again")
        finally:
            self.waiting -= 1
        # The query gets its whole time limit however long it waited: were the wait taken out of it, a busy
        # pool would kill sound queries that waited long, and respawning their workers would slow it further.
        # Shielded: a client that goes away must not hand back a worker that is still running its query.
        return await asyncio.shield(self._use(worker, job, timeout))


def negotiate(accept: str, offered: Mapping[str, str], default: str) -> str | None:
    """The format of the best media type in an Accept header (q-values, wildcards); None when nothing fits."""
    if not accept.strip():
        return default
    best: tuple[float, int, str] | None = None
    for index, item in enumerate(accept.split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if q <= 0:
            continue
        if media in offered:
            fmt = offered[media]
        elif media in {"*/*", "*"}:
            fmt = default
        elif media.endswith("/*"):
            family = media[:-1]
            fmt = next((f for m, f in offered.items() if m.startswith(family)), "")
            if not fmt:
                continue
        else:
            continue
        rank = (q, -index, fmt)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


FORMAT_PARAM = {"json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv", "turtle": "turtle", "ttl": "turtle",
                "ntriples": "ntriples", "nt": "ntriples", "jsonld": "jsonld", "json-ld": "jsonld", "rdfxml": "rdfxml",
                "rdf+xml": "rdfxml", "rdf": "rdfxml", "n3": "turtle"}
GRAPH_FORMAT_PARAM = {"xml": "rdfxml", "json": "jsonld"}  # `format=xml` for a CONSTRUCT (SPARQLWrapper's default)


def requested_format(values: Iterable[str], offered: Mapping[str, str], *, graph: bool) -> str | None:
    """The format a `format=` / `output=` parameter asks for (a name such as `csv`, or a media type), the first of
    `values` that `offered` holds; "" when there is none (Accept decides); None when none is offered.
    SPARQLWrapper sends both spellings (`format=tsv&format=text/tab-separated-values`)."""
    given = [v.strip().lower() for v in values if v.strip()]
    for value in given:
        fmt = (GRAPH_FORMAT_PARAM.get(value) if graph else None) or FORMAT_PARAM.get(value) or offered.get(value)
        if fmt in offered.values() or fmt in HTML_TYPES.values():
            return fmt
    return None if given else ""


# --- CORS: any origin may read this read-only server's answers (no credentials are ever involved)

CORS_HEADERS = {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "Content-Type, Content-Length, Location, Retry-After, X-Result-Rows",
}
PREFLIGHT_HEADERS = {
    **CORS_HEADERS,
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "Accept, Accept-Language, Content-Language, Content-Type, Cache-Control",
    "access-control-max-age": "86400",
}


def cors_headers(*, preflight: bool = False) -> dict[str, str]:
    """The CORS headers of an answer (`preflight`: of an OPTIONS preflight); for a route's own Response too."""
    return dict(PREFLIGHT_HEADERS if preflight else CORS_HEADERS)


class Cors:
    """ASGI middleware: every answer of the application carries the CORS headers, and a preflight (OPTIONS with
    Access-Control-Request-Method) to any of its paths is answered 204 here. The data is public and the server
    read-only; Access-Control-Allow-Credentials is never sent, so a browser sends no cookies or credentials."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and any(k == b"access-control-request-method" for k, _ in scope["headers"]):
            headers = [(k.encode(), v.encode()) for k, v in PREFLIGHT_HEADERS.items()]
            await send({"type": "http.response.start", "status": 204,
                        "headers": [*headers, (b"allow", b"GET, POST, OPTIONS"), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        extra = [(k.encode(), v.encode()) for k, v in CORS_HEADERS.items()]

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *(h for h in extra if h[0] not in present)]}
            await send(message)

        await self.app(scope, receive, send_with_cors)


# --- the service description (SPARQL 1.1 Service Description), answered to a GET of /sparql without a query

RESULT_FORMAT_IRIS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                      "Turtle", "N-Triples", "JSON-LD", "RDF_XML")


def service_description(endpoint: str) -> list[ox.Triple]:
    """An sd:Service for the endpoint at `endpoint`: its language, result formats, the union default graph and the
    build's named graphs (sd:defaultDataset). Named with fragments of the endpoint's IRI, no blank nodes."""
    service, dataset, default = (ox.NamedNode(endpoint + suffix) for suffix in ("", "#dataset", "#default-graph"))
    rdf_type = ox.NamedNode(RDF.type)

    def sd(name: str) -> ox.NamedNode:
        return ox.NamedNode(SD + name)

    triples = [
        ox.Triple(service, rdf_type, sd("Service")),
        ox.Triple(service, sd("endpoint"), service),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, rdf_type, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), default),
        ox.Triple(default, rdf_type, sd("Graph")),
        *(ox.Triple(service, sd("resultFormat"), ox.NamedNode(W3C_FORMATS + name)) for name in RESULT_FORMAT_IRIS),
    ]
    for graph in sorted(OUR_GRAPHS):
        node = ox.NamedNode(f"{endpoint}#graph-{graph.rsplit('/', 1)[-1]}")
        triples += [ox.Triple(dataset, sd("namedGraph"), node), ox.Triple(node, rdf_type, sd("NamedGraph")),
                    ox.Triple(node, sd("name"), ox.NamedNode(graph))]
    return sorted(triples, key=str)


def protocol_dataset(params: Mapping[str, list[str]]) -> QueryDataset:
    """The dataset of the protocol's default-graph-uri / named-graph-uri parameters (empty: none given); a graph
    that is not one of the build's is a QueryError (400: this endpoint holds no other graph and fetches none)."""
    default = [v.strip() for v in params.get("default-graph-uri", [])]
    named = [v.strip() for v in params.get("named-graph-uri", [])]
    for iri in (*default, *named):
        if iri not in OUR_GRAPHS:
            raise QueryError(f"{brief(iri)} is not one of this endpoint's graphs ({', '.join(sorted(OUR_GRAPHS))}); "
                             "default-graph-uri and named-graph-uri take only these")
    return QueryDataset(tuple(sorted(set(default))), tuple(sorted(set(named))))


# --- the HTTP layer: which Host names are served, and connections that cannot pile up

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
MAX_CONNECTIONS = 512  # open at once (uvicorn's limit_concurrency); past it, the longest-waiting idle one is closed
_HOST_HEADER = re.compile(r"(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<name>[^\s:/?#@\[\]]+))(?::[0-9]{0,5})?")
HOST_REFUSED = (b"this server does not answer for the name in this request's Host header (a guard against DNS "
                b"rebinding); start it with --allow-host NAME to serve NAME\n")


def host_name(value: str) -> str | None:
    """The host of a Host header (`name`, `name:port`, `[v6]`, `[v6]:port`) in one spelling: lower case, no final
    dot, IP addresses in their canonical form. None when the value is not a host."""
    match = _HOST_HEADER.fullmatch(value)
    if match is None:
        return None
    name = (match["ip6"] or match["name"]).lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return None if match["ip6"] else name


def served_host_names(host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The Host names `serve` answers: the address it is bound to, the loopback names and `extra` (`--allow-host`;
    `*` answers any Host). A page whose own name was rebound to this address (DNS rebinding) sends that name, and
    is refused. Raises ValueError for something that is not a host name."""
    names: set[str] = set()
    for raw in (host, *LOOPBACK_NAMES, *extra):
        text = raw.strip()
        if text == "*":
            names.add("*")
            continue
        name = host_name(f"[{text}]" if text.count(":") > 1 and not text.startswith("[") else text)  # a bare IPv6
        if name is None:
            raise ValueError(f"not a host name: {raw!r}")
        names.add(name)
    return frozenset(names)


class HostCheck:
    """ASGI middleware: a request whose Host header names no served host gets 400 (one line) and never reaches the
    application, so a web page cannot reach this server through a name it controls."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "*" not in self.allowed:
            hosts = [value for key, value in scope["headers"] if key == b"host"]
            name = host_name(hosts[0].decode("latin-1")) if len(hosts) == 1 else None
            if name not in self.allowed:
                await send({"type": "http.response.start", "status": 400, "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(HOST_REFUSED))]})
                await send({"type": "http.response.body", "body": HOST_REFUSED})
                return
        await self.app(scope, receive, send)


def _raw_answer(status: int, message: str, *, retry_after: bool = False) -> bytes:
    """A whole HTTP/1.1 answer that closes the connection, written straight to the socket: h11 cannot send a
    response before it has read a request, and these go to connections that never sent one in full."""
    body = (message + "\n").encode()
    head = (f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n" + ("retry-after: 1\r\n" if retry_after else ""))
    return head.encode() + b"\r\n" + body


def guarded_protocol(read_timeout: float, max_client_connections: int) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol plus what it lacks against slowloris (passed to uvicorn as `http=`).

    uvicorn only times out a connection that sits idle after an answer (`timeout_keep_alive`): one that connects
    and sends half a request is kept for ever, and once `limit_concurrency` connections are open it answers 503 to
    everyone. Here a timer armed when the connection opens (and again after each answer) closes it unless a whole
    request, headers and body, arrived within `read_timeout` seconds (408 when part of a request's head came).
    Each client address may hold `max_client_connections` connections; one more is answered 429 and closed at
    once. 0 turns either off. When the server is full, a new connection closes the one that has waited longest
    for a request, so idle sockets from many addresses cannot lock out a client that sends one.
    """
    # Shared by this server's connections (one event loop: no lock).
    open_by_address: dict[str, int] = {}
    waiting: dict[GuardedH11Protocol, None] = {}  # connections waiting for a request, the longest first
    arriving = (h11.IDLE, h11.SEND_BODY)  # the client's states while a request is still on its way

    class GuardedH11Protocol(H11Protocol):
        _timer: asyncio.TimerHandle | None = None
        _address: str | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # Transport, as uvicorn's
            super().connection_made(transport)
            self._address = self.client[0] if self.client else ""
            held = open_by_address[self._address] = open_by_address.get(self._address, 0) + 1
            if max_client_connections and held > max_client_connections:
                self._drop(429, f"more than {max_client_connections} connections from your address at once; "
                                "close some and try again", always=True)
                return
            while self.limit_concurrency and len(self.connections) > self.limit_concurrency - 1 and waiting:
                # always answered: an evicted client is told why even when its bytes are not read yet
                next(iter(waiting))._drop(503, "the server is full; try again", retry_after=True, always=True)
            self._wait()

        def connection_lost(self, exc: Exception | None) -> None:
            self._served()
            if self._address is not None:
                left = open_by_address.pop(self._address, 1) - 1
                if left > 0:
                    open_by_address[self._address] = left
                self._address = None
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            if self in waiting and self.conn.their_state not in arriving:
                self._served()  # the whole request is in

        def on_response_complete(self) -> None:
            if not self.transport.is_closing():
                self._wait()  # the next request has read_timeout seconds too (before super(): it may be pipelined)
            super().on_response_complete()

        def _wait(self) -> None:
            """Wait for a request: arm the read timer, and count as waiting (newest last)."""
            self._served()
            waiting[self] = None
            if read_timeout > 0:
                self._timer = self.loop.call_later(
                    read_timeout, self._drop, 408, f"the request did not arrive within {read_timeout:g} s")

        def _served(self) -> None:
            waiting.pop(self, None)
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _drop(self, status: int, message: str, *, retry_after: bool = False, always: bool = False) -> None:
            """Close the connection now; say why (a raw answer) when `always` or when part of a request came."""
            self._served()
            self.connections.discard(self)  # no longer counts towards the server's limit
            if self.transport.is_closing():
                return
            if always or (self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]):
                self.transport.write(_raw_answer(status, message, retry_after=retry_after))
            self.transport.close()

    return GuardedH11Protocol


def create_app(build: Path, limits: Limits | None = None, *, allowed_hosts: Iterable[str] | None = None) -> Starlette:
    """The Starlette application: /sparql (GET and POST query), /update (always refused), / (the query page).

    With `allowed_hosts` (see served_host_names), a request with any other Host gets 400; None answers every Host
    (an application embedded behind a server of one's own)."""
    limits = limits or Limits()
    build = Path(build).resolve()
    pool = Pool(build, limits.workers, memory_mb=limits.max_memory_mb, max_waiting=limits.max_waiting)

    def error(status: int, message: str) -> Response:
        return PlainTextResponse(message + "\n", status_code=status)

    async def read_body(request: Request) -> bytes | Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limits.max_body:
            return error(413, f"request body over {limits.max_body} bytes")
        body = bytearray()
        try:
            async for chunk in request.stream():
                body += chunk
                if len(body) > limits.max_body:
                    return error(413, f"request body over {limits.max_body} bytes")
        except ClientDisconnect:  # it went away, or was closed for sending too slowly: no one reads this answer
            return error(400, "the connection closed before the whole request body arrived")
        return bytes(body)

    async def sparql(request: Request) -> Response:
        if len(request.url.query) > limits.max_body:  # a GET carries its query in the URL: the same cap
            return error(414, f"query string over {limits.max_body} bytes; POST the query instead")
        params: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            params.setdefault(key, []).append(value)
        text: str | None = None
        if request.method == "POST":
            body = await read_body(request)
            if isinstance(body, Response):
                return body
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media == "application/x-www-form-urlencoded":
                try:
                    form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
                except UnicodeDecodeError:
                    return error(400, "the form is not UTF-8")
                for key, values in form.items():
                    params.setdefault(key, []).extend(values)
            elif media == "application/sparql-query":
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    return error(400, "the query is not UTF-8")
            elif media == "application/sparql-update":
                return error(403, "this endpoint is read-only: updates are refused")
            else:
                return error(415, "POST a form (application/x-www-form-urlencoded) or application/sparql-query")
        if "update" in params:
            return error(403, "this endpoint is read-only: updates are refused")
        accept = request.headers.get("accept", "")

        def choose(graph: bool, what: str) -> str | Response:
            """The answer's format: `format=` / `output=` first, else Accept; "html" for a browser."""
            offered = GRAPH_TYPES if graph else RESULT_TYPES
            values = params.get("format", []) + params.get("output", [])
            fmt = requested_format(values, offered, graph=graph)
            if fmt is None:
                return error(406, f"format={brief(values[0])} is not offered for {what}; "
                                  f"try {', '.join(sorted(set(offered.values())))}")
            if not fmt:
                fmt = negotiate(accept, {**offered, **HTML_TYPES}, "turtle" if graph else "json")
                if fmt is None:
                    return error(406, f"none of the accepted types is offered for {what}; "
                                      f"try {', '.join([*offered, *HTML_TYPES])}")
            return fmt

        if text is None and "query" not in params:
            if request.method == "POST":
                return error(400, "expected exactly one query parameter")
            # a GET without a query: the service description (a browser is sent to the query page)
            chosen = choose(True, "the service description")
            if isinstance(chosen, Response):
                return chosen
            if chosen == "html":
                return RedirectResponse("/", status_code=303, headers={"Vary": "Accept"})
            url = request.url
            description = graph_bytes(service_description(f"{url.scheme}://{url.netloc}{url.path}"), chosen)
            return Response(description, media_type=MEDIA[chosen], headers={"Vary": "Accept"})
        if text is None:
            queries = params.get("query", [])
            if len(queries) != 1:
                return error(400, "expected exactly one query parameter")
            text = queries[0]
        try:
            form_kind: str | None = query_form(text)
        except QueryError as exc:
            form_kind, not_a_query = None, exc  # said below, unless a browser asked: the query page says it
        if form_kind == "update":
            return error(403, "this endpoint is read-only: updates are refused")
        chosen = choose(form_kind in {"construct", "describe"}, f"a {(form_kind or 'query').upper()} query")
        if chosen == "html":  # the query page runs it and shows the answer (or why there is none)
            carried = [("query", text)] + [(k, v) for k in ("default-graph-uri", "named-graph-uri")
                                            for v in params.get(k, [])]
            return RedirectResponse("/?" + urllib.parse.urlencode(carried), status_code=303, headers={"Vary": "Accept"})
        if form_kind is None:
            return error(400, " ".join(str(not_a_query).split()))
        try:  # a refusal is said before a format that is not offered
            check_safe(text)
            dataset = protocol_dataset(params)  # when given, it replaces the query's FROM / FROM NAMED
        except QueryError as exc:
            status = 403 if str(exc).startswith("refused") else 400
            return error(status, " ".join(str(exc).split()))
        if isinstance(chosen, Response):
            return chosen
        reply = await pool.run(("render", text, chosen, limits.max_rows, dataset), limits.timeout)
        if reply[0] == "error":
            response = error(reply[1], reply[2])
            if reply[1] in {429, 503}:
                response.headers["Retry-After"] = "1"
            return response
        _, rows, payload = reply
        return Response(payload, media_type=MEDIA[chosen], headers={"X-Result-Rows": str(rows), "Vary": "Accept"})

    async def update(request: Request) -> Response:
        return error(403, "this endpoint is read-only: updates are refused")

    # The query page at / (workbench.py): the same pool and limits as /sparql.
    page = workbench.Context(build=build, timeout=limits.timeout, max_rows=limits.max_rows, max_body=limits.max_body,
                             run=pool.run, negotiate=negotiate, result_types=RESULT_TYPES, graph_types=GRAPH_TYPES,
                             format_param=FORMAT_PARAM, media=MEDIA)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await pool.start()
        try:
            yield
        finally:
            await pool.close()

    return Starlette(
        routes=[
            Route("/sparql", sparql, methods=["GET", "POST"]),
            Route("/update", update, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
            *workbench.routes(build, page),
            # a page and an RDF description for every IRI of the build (pages.py), from the same pool and limits
            *pages.routes(pages.Context(build, pool.run, limits.timeout, limits.max_rows, negotiate)),
        ],
        middleware=[*([] if allowed_hosts is None else [Middleware(HostCheck, allowed=allowed_hosts)]),
                    Middleware(Cors)],
        lifespan=lifespan,
    )


def serve(build: Path, *, host: str = "127.0.0.1", port: int = 7878, limits: Limits | None = None,
          allow_hosts: Iterable[str] = ()) -> None:
    """Serve the build until interrupted (uvicorn; SIGINT or SIGTERM stops it and its workers).

    Only requests whose Host is the bound address, a loopback name or one of `allow_hosts` are answered (400
    otherwise); connections follow `limits` (read_timeout, keep_alive, max_client_connections)."""
    limits = limits or Limits()
    allowed = served_host_names(host, allow_hosts)  # a bad name fails here, before anything starts
    check_build(Path(build))  # fail early, with the usual message, when there is no build (workers load it)
    config = uvicorn.Config(
        create_app(Path(build), limits, allowed_hosts=allowed), host=host, port=port, log_level="warning",
        limit_concurrency=MAX_CONNECTIONS, timeout_graceful_shutdown=5, ws="none",
        http=guarded_protocol(limits.read_timeout, limits.max_client_connections),
        timeout_keep_alive=limits.keep_alive,  # type: ignore[arg-type]  # typed int, used as call_later's delay
    )
    uvicorn.Server(config).run()
