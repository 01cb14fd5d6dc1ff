"""Remote SPARQL endpoints: run a named query on any SPARQL 1.1 endpoint, and push a build into a remote store.

Queries go through SPARQLWrapper (POST, JSON results, a timeout and an identifying User-Agent).
Parameters reach the endpoint as a `VALUES` block whose terms pyoxigraph serialised, never as pasted
text. An answer the server cut short is detected, not passed off as complete: Virtuoso's "anytime"
answers (HTTP 206 or `X-SQL-State: S1TAT`) and a row count equal to the server's row cap raise
`PartialResultError` unless the caller accepts partial results.

`push` loads a build with the SPARQL 1.1 Graph Store HTTP Protocol in chunks that big stores accept
(or with Virtuoso's bulk loader when asked). Credentials come from the environment, are only ever
answered to an authentication challenge from the endpoint itself, are never sent over plain `http://`
to a host other than loopback, and are never forwarded across a redirect (redirects are refused);
the bulk loader gives the password to isql on its stdin, never on its command line.

Every HTTP request made here has a deadline for the whole request (connect, send, the full answer),
enforced by a watchdog that shuts the connection down, so a server that drips its answer cannot hold
the client. A push that stops partway says that the remote graph is incomplete and how to retry.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import json
import os
import re
import shlex
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox
from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from .. import __version__
from ..graph.rdfio import UnsafeInputError, check_xml, read_quads
from ..terms.namespaces import XSD
from .catalogue import QueryError, _tokens, bind_values, query_form
from .engine import Result, Term, from_oxigraph, open_store

USER_AGENT = f"aflm-graph/{__version__} (+https://w3id.org/aflm; SPARQL client)"
USER_ENV = "AFLM_ENDPOINT_USER"
PASSWORD_ENV = "AFLM_ENDPOINT_PASSWORD"
VIRTUOSO_DEFAULT_ROW_CAP = 10_000  # [SPARQL] ResultSetMaxRows as shipped; it truncates silently
MAX_ANSWER_BYTES = 1 << 30  # a query answer larger than this is refused (memory), whatever the server sends
MAX_PUSH_ANSWER_BYTES = 1 << 20  # a Graph Store answer is a status line and a short message
DEFAULT_CHUNK_TRIPLES = 50_000  # Virtuoso takes ~100k per Graph Store request; a 1M-triple PUT stalls


class PartialResultError(QueryError):
    """The endpoint answered with part of the result (a time or row limit); the rows must not be taken as complete."""

    def __init__(self, message: str, result: Result) -> None:
        super().__init__(message)
        self.result = result


class PushError(RuntimeError):
    """The build could not be pushed (refused URL, failed request); says which graph and chunk.

    `str()` is one line; `detail` holds further lines (what was sent, what was not) for the command line.
    """

    def __init__(self, message: str, detail: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.detail = list(detail)


# --- whole-request deadlines


class _Deadline:
    """The time budget of one HTTP request: connect, send and the whole answer must fit in `seconds`.

    A socket timeout only bounds each read, so a server that drips a byte now and then would hold the
    client forever. A watchdog timer shuts the connection down when the budget is spent (waking a read or
    write blocked in any layer, TLS included); the caller sees `expired` and reports the deadline.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []  # duplicates of the request's sockets, owned here
        self._timer: threading.Timer | None = None
        self._closed = False

    def remaining(self) -> float:
        """Seconds left, or TimeoutError when none are."""
        left = self.at - time.monotonic()
        if left <= 0:
            self.expired = True
            raise TimeoutError(f"the {self.seconds:g} s deadline passed")
        return left

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock`'s connection down at the deadline (through a duplicate, so a closed fd is never reused)."""
        with self._lock:
            if self._closed:
                return
            self._watched.append(sock.dup())
            if self._timer is None:
                self._timer = threading.Timer(max(0.0, self.at - time.monotonic()), self._fire)
                self._timer.daemon = True
                self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._closed:
                return
            self.expired = True
            for sock in self._watched:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Stop the watchdog and release the duplicates (the request is over)."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            for sock in self._watched:
                with contextlib.suppress(OSError):
                    sock.close()
            self._watched.clear()

    def __enter__(self) -> _Deadline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect_by(deadline: _Deadline, address: tuple[str, int], source: tuple[str, int] | None) -> socket.socket:
    """socket.create_connection, but every address tried within what is left of `deadline`, then watched."""
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _, addr in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        left = deadline.remaining()
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(left)
            if source:
                sock.bind(source)
            sock.connect(addr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        deadline.watch(sock)
        return sock
    raise error or OSError(f"{host}: no address to connect to")


class _DeadlineHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection whose connect and socket are bound to one request's deadline."""

    def __init__(self, host: str, *, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._create_connection = lambda address, timeout, source=None: _connect_by(deadline, address, source)


class _DeadlineHTTPSConnection(http.client.HTTPSConnection):
    """As _DeadlineHTTPConnection, for https:// (the TLS handshake happens on the watched socket)."""

    def __init__(self, host: str, *, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._create_connection = lambda address, timeout, source=None: _connect_by(deadline, address, source)


class _DeadlineHTTPHandler(urllib.request.HTTPHandler):
    """Opens http:// requests that carry a `_Deadline` (attribute `deadline`) on deadline-bound connections."""

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        deadline = getattr(req, "deadline", None)
        if deadline is None:
            return super().http_open(req)
        return self.do_open(functools.partial(_DeadlineHTTPConnection, deadline=deadline), req)


class _DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    """As _DeadlineHTTPHandler, for https://."""

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        deadline = getattr(req, "deadline", None)
        if deadline is None:
            return super().https_open(req)
        context = getattr(self, "_context", None)  # the SSL context HTTPSHandler keeps (not in its public API)
        return self.do_open(functools.partial(_DeadlineHTTPSConnection, deadline=deadline), req, context=context)


def _read_body(response: http.client.HTTPResponse, deadline: _Deadline, max_bytes: int,
               too_big: Exception) -> bytes:
    """The whole response body, read in chunks with each read's timeout shortened to what is left."""
    sock = _socket(response)
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline.remaining()
        if sock is not None:
            sock.settimeout(left)
        chunk = response.read1(1 << 16)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise too_big
        chunks.append(chunk)
    if deadline.expired:  # the watchdog's shutdown looks like the end of the body: it is not
        raise TimeoutError(f"the {deadline.seconds:g} s deadline passed")
    return b"".join(chunks)


# --- queries


def _term(binding: Mapping[str, str]) -> Term:
    kind = binding.get("type", "literal")
    if kind in {"literal", "typed-literal"}:  # "typed-literal": Virtuoso's pre-standard spelling
        datatype = binding.get("datatype")
        return Term(
            "literal", binding["value"], datatype=None if datatype in (None, XSD.string) else datatype,
            lang=binding.get("xml:lang") or binding.get("lang"),
        )
    if kind == "uri":
        return Term("uri", binding["value"])
    if kind == "bnode":
        return Term("bnode", binding["value"])
    return Term("triple", json.dumps(binding["value"], sort_keys=True))


def parse_json_results(body: bytes) -> Result:
    """SPARQL 1.1 JSON results (SELECT or ASK) as an engine-neutral Result."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise QueryError(f"the endpoint did not answer SPARQL JSON results ({exc}): {body[:200]!r}") from None
    if "boolean" in doc:
        return Result("ask", boolean=bool(doc["boolean"]))
    columns = list(doc.get("head", {}).get("vars", []))
    rows = [
        [_term(b[c]) if c in b else None for c in columns] for b in doc.get("results", {}).get("bindings", [])
    ]
    return Result("select", columns=columns, rows=rows)


def parse_xml_results(body: bytes) -> Result:
    """SPARQL 1.1 XML results (SELECT or ASK), read by pyoxigraph: it expands no entity and fetches no DTD."""
    try:
        check_xml(body, source="the endpoint's XML results")  # the same rule as for RDF/XML, whatever the parser
        answer = ox.parse_query_results(body, format=ox.QueryResultsFormat.XML)  # parsed lazily: iterate inside
        if isinstance(answer, ox.QueryBoolean):
            return Result("ask", boolean=bool(answer))
        columns = [v.value for v in answer.variables]
        rows = [[from_oxigraph(solution[c]) for c in columns] for solution in answer]
    except UnsafeInputError as exc:
        raise QueryError(str(exc)) from None
    except (SyntaxError, ValueError) as exc:
        raise QueryError(f"the endpoint's XML results do not parse: {' '.join(str(exc).split())}") from None
    return Result("select", columns=columns, rows=rows)


def parse_graph(body: bytes, content_type: str) -> Result:
    """A CONSTRUCT/DESCRIBE answer (N-Triples, Turtle or RDF/XML) as subject/predicate/object rows."""
    mime = content_type.split(";")[0].strip().lower()
    fmt = ox.RdfFormat.RDF_XML if "xml" in mime else ox.RdfFormat.TURTLE  # N-Triples is a subset of Turtle
    try:  # through the safe reader: RDF/XML entity bombs and external entities are refused (rdfio.py)
        triples = read_quads(body, fmt, name=f"the endpoint's {mime or 'graph'} answer")
    except UnsafeInputError as exc:
        raise QueryError(str(exc)) from None
    except ValueError as exc:
        raise QueryError(f"the endpoint's {mime or 'graph'} answer does not parse: {exc}") from None
    rows = [[from_oxigraph(t.subject), from_oxigraph(t.predicate), from_oxigraph(t.object)] for t in triples]
    return Result("graph", columns=["subject", "predicate", "object"], rows=rows)


def _socket(response: object) -> socket.socket | None:
    """The socket under an http.client response (to shorten its read timeout to what is left), if reachable."""
    raw = getattr(getattr(response, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _failure(exc: Exception, where: str, *, deadline: _Deadline, late: Exception, timeout: float,
             error: type[Exception]) -> Exception:
    """The one-line error for a request that failed: the deadline's when it ran out, else the HTTP status with
    the start of the answer, else "no answer" with the reason (for queries and pushes alike)."""
    if isinstance(exc, urllib.error.HTTPError):
        detail = ""
        with contextlib.suppress(OSError, http.client.HTTPException):
            detail = _one_line(exc.read(4096))
        if deadline.expired:
            return late
        return error(f"{where}: HTTP {exc.code} {exc.reason}{': ' + detail if detail else ''}")
    reason = getattr(exc, "reason", exc)
    if deadline.expired or isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError):
        return late
    return error(f"{where}: no answer ({reason or type(exc).__name__}; timeout {timeout:g} s)")


def fetch_answer(request: urllib.request.Request, *, timeout: float, max_bytes: int = MAX_ANSWER_BYTES,
                 ) -> tuple[int, dict[str, str], bytes]:
    """Send a query request and read the whole answer within `timeout` seconds and `max_bytes` bytes.

    The deadline is for the whole request (connect, send, headers, body), not for each socket read: a
    server that drips its answer is cut off when the time is up. Our own opener (never the process-wide
    one a library may have installed) refuses redirects, so neither the query nor any credential goes to
    a place the user did not name. Every failure is a one-line QueryError that names the endpoint.
    """
    endpoint = request.full_url.split("?", 1)[0]
    opener = _build_opener(_RefuseRedirects(QueryError))
    late = QueryError(f"{endpoint}: no complete answer within {timeout:g} s (the client's whole-request deadline)")
    too_big = QueryError(f"{endpoint}: the answer is over {max_bytes} bytes (the client's size limit)")
    with _Deadline(timeout) as deadline:
        request.deadline = deadline  # type: ignore[attr-defined]  # read by _DeadlineHTTP(S)Handler
        try:
            with opener.open(request, timeout=timeout) as response:
                status = int(response.status)
                headers = {k.lower(): v for k, v in response.headers.items()}
                body = _read_body(response, deadline, max_bytes, too_big)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise _failure(exc, endpoint, deadline=deadline, late=late, timeout=timeout, error=QueryError) from None
    return status, headers, body


_LIMIT = re.compile(r"\bLIMIT\s+(\d+)\s*(?:OFFSET\s+\d+\s*)?$", re.IGNORECASE)


def _own_limit(text: str) -> int | None:
    """The query's own final LIMIT (a result that fills it is complete, not cut by the server)."""
    code = "".join(t.value for t in _tokens(text) if t.kind != "comment").strip()
    match = _LIMIT.search(code)
    return int(match.group(1)) if match else None


def _one_line(text: str | bytes, limit: int = 300) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_remote(
    endpoint: str,
    text: str,
    bindings: Mapping[str, ox.NamedNode | ox.Literal] | None = None,
    *,
    timeout: float = 60.0,
    allow_partial: bool = False,
    row_cap: int | None = None,
    default_graphs: Sequence[str] = (),
    extra_params: Mapping[str, str] | None = None,
    max_bytes: int = MAX_ANSWER_BYTES,
) -> Result:
    """Run a read-only query on a SPARQL 1.1 endpoint; parameters travel as a VALUES block of escaped terms.

    `row_cap` is the server's result-row limit: the one Virtuoso announces in `X-SPARQL-MaxRows`,
    else the given one, else Virtuoso's shipped 10,000 when the server says it is Virtuoso. A result
    with that many rows (and no LIMIT of its own that explains it) is reported as partial, as are
    HTTP 206 and `X-SQL-State: S1TAT` answers. `extra_params` go to the endpoint as they are (a
    server's own options, e.g. Virtuoso's `timeout` in milliseconds). The whole answer must arrive
    within `timeout` seconds and `max_bytes` bytes; a redirect is refused, never followed.
    """
    form = query_form(text)
    if form == "update":
        raise QueryError("refused: updates are not run through `query`; the query path is read-only")
    bound = bind_values(text, bindings) if bindings else text
    client = SPARQLWrapper(endpoint, agent=USER_AGENT)
    client.setMethod(POST)
    client.setOnlyConneg(True)
    client.setTimeout(max(1, round(timeout)))
    for graph in default_graphs:
        client.addDefaultGraph(graph)
    for name, value in (extra_params or {}).items():
        client.addParameter(name, value)
    graph_form = form in {"construct", "describe"}
    client.setReturnFormat(TURTLE if graph_form else JSON)
    if graph_form:
        client.addCustomHttpHeader("Accept", "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5")
    else:
        client.addCustomHttpHeader("Accept", "application/sparql-results+json, application/json;q=0.9")
    client.setQuery(bound)
    # SPARQLWrapper guesses the form from the first keyword-like word of the text, and its comment stripping
    # leaves every other `#` line in: a header saying "address" or "what they add" made it send a query as an
    # ADD update. The form is known (query_form, read outside comments and strings): say it.
    client.queryType = form.upper()
    try:
        # SPARQLWrapper builds the request (protocol, parameters, conneg); it is sent by `fetch_answer`, not by
        # SPARQLWrapper's urlopen, which follows redirects through whatever opener was installed process-wide
        # and whose timeout bounds each socket read rather than the whole answer.
        request = client._createRequest()
    except SPARQLWrapperException as exc:
        raise QueryError(f"{endpoint}: {type(exc).__name__}: {_one_line(str(exc))}") from None
    status, headers, body = fetch_answer(request, timeout=timeout, max_bytes=max_bytes)
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if graph_form:
        result = parse_graph(body, media)
    elif media in {"application/sparql-results+xml", "application/xml", "text/xml"}:
        result = parse_xml_results(body)
    else:
        result = parse_json_results(body)

    reasons = []
    if status == 206:
        reasons.append("HTTP 206 Partial Content (an 'anytime' answer cut at the server's time limit)")
    sql_state = headers.get("x-sql-state", "")
    if sql_state.upper().startswith("S1TAT"):
        reasons.append(f"X-SQL-State {sql_state} (the server stopped the query at its time limit)")
    announced = headers.get("x-sparql-maxrows", "").strip()
    cap = int(announced) if announced.isdigit() else row_cap
    if cap is None and "virtuoso" in headers.get("server", "").lower():
        cap = VIRTUOSO_DEFAULT_ROW_CAP
    own_limit = _own_limit(bound)
    if cap and len(result.rows) >= cap and (own_limit is None or own_limit > cap):
        reasons.append(f"{cap} rows, exactly the server's row cap (ResultSetMaxRows): more rows were probably cut")
    if reasons:
        message = f"{endpoint}: partial result: {'; '.join(reasons)}"
        result.partial = True
        result.warnings.append(message)
        if not allow_partial:
            raise PartialResultError(message + " (pass --allow-partial to accept it)", result)
    return result


# --- push


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def credentials_from_env(env: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """(user, password) from AFLM_ENDPOINT_USER / AFLM_ENDPOINT_PASSWORD, or None when unset."""
    env = os.environ if env is None else env
    user, password = env.get(USER_ENV), env.get(PASSWORD_ENV)
    if not user and not password:
        return None
    if not user or not password:
        raise PushError(f"set both {USER_ENV} and {PASSWORD_ENV} (or neither)")
    return user, password


def check_push_url(url: str, *, with_credentials: bool) -> None:
    """Refuse a URL that is not http(s), or plain http to a non-loopback host when credentials would be sent."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PushError(f"{url}: expected an http:// or https:// endpoint URL")
    if parts.username or parts.password:
        raise PushError(f"{url}: put credentials in {USER_ENV} / {PASSWORD_ENV}, not in the URL")
    if with_credentials and parts.scheme == "http" and not is_loopback(url):
        raise PushError(
            f"{url}: refusing to send credentials over plain http:// to a non-loopback host; use https://"
        )


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: the request (and its credentials) would go somewhere the user did not name."""

    def __init__(self, error: type[Exception] = PushError) -> None:
        self.error = error

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: http.client.HTTPMessage, newurl: str) -> urllib.request.Request | None:
        raise self.error(
            f"{req.full_url}: the endpoint redirected ({code}) to {newurl}; redirects are not followed "
            "(credentials are never forwarded), pass the final URL"
        )


def _build_opener(*handlers: urllib.request.BaseHandler) -> urllib.request.OpenerDirector:
    """Our own opener: the given handlers plus connections bound to each request's `_Deadline`."""
    return urllib.request.build_opener(*handlers, _DeadlineHTTPHandler(), _DeadlineHTTPSHandler())


class _DigestAuth(urllib.request.HTTPDigestAuthHandler):
    """HTTP Digest that, once it has met a server's challenge, signs each later request at once.

    urllib answers a challenge only after a 401, which it sees only if the server reads the whole request
    first. Virtuoso answers a PUT without credentials with 401 and closes the connection without reading
    the body: from about 240 KB on, sending the rest fails (EPIPE), not with a 401, and every push of a
    bigger chunk failed. `push` meets the challenge with a HEAD first (`_meet_challenge`). The password
    manager still decides: a request to another URL gets no header (`get_authorization` finds no password).
    """

    def __init__(self, manager: urllib.request.HTTPPasswordMgr) -> None:
        super().__init__(manager)
        self._challenge: dict[str, str] | None = None

    def retry_http_digest_auth(self, req: urllib.request.Request, auth: str) -> Any:
        _, _, challenge = auth.partition(" ")
        self._challenge = urllib.request.parse_keqv_list([p for p in urllib.request.parse_http_list(challenge) if p])
        return super().retry_http_digest_auth(req, auth)

    def http_request(self, req: urllib.request.Request) -> urllib.request.Request:
        if self._challenge is not None and not req.has_header(self.auth_header):
            signed = self.get_authorization(req, self._challenge)  # counts the nonce's uses (nc) itself
            if signed:
                req.add_unredirected_header(self.auth_header, f"Digest {signed}")
        return req

    https_request = http_request


def _opener(url: str, credentials: tuple[str, str] | None) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [_RefuseRedirects()]
    if credentials:
        # Answered only to a challenge from this URL's own server (Digest for Virtuoso, Basic elsewhere).
        manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        manager.add_password(None, url, *credentials)
        handlers += [_DigestAuth(manager), urllib.request.HTTPBasicAuthHandler(manager)]
    return _build_opener(*handlers)


def _meet_challenge(opener: urllib.request.OpenerDirector, url: str, timeout: float) -> None:
    """A HEAD of `url` (no body, changes nothing) so that the Digest handler has the server's challenge before
    the first upload (see `_DigestAuth`). Whatever it answers is left to the requests that follow."""
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": USER_AGENT})
    with contextlib.suppress(urllib.error.URLError, OSError, http.client.HTTPException):
        opener.open(request, timeout=min(timeout, 30.0)).close()


@dataclass
class PushReport:
    endpoint: str
    graphs: dict[str, int] = field(default_factory=dict)  # target graph -> triples sent
    requests: int = 0
    seconds: float = 0.0

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())


def _chunks(triples: Sequence[ox.Triple], size: int) -> Iterator[list[ox.Triple]]:
    """Chunks of at most `size` triples; every triple with a blank node goes in the first chunk.

    A blank node label means one node only within one request: splitting its triples across
    requests would make two nodes of one.
    """
    with_bnodes = [t for t in triples if isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)]
    plain = [t for t in triples if not (isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode))]
    first = with_bnodes + plain[: max(0, size - len(with_bnodes))]
    rest = plain[len(first) - len(with_bnodes):]
    yield first
    for i in range(0, len(rest), size):
        yield rest[i: i + size]


def _ntriples(triples: Iterable[ox.Triple]) -> bytes:
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    assert data is not None  # no `output`: the bytes are returned
    return data


def build_graphs(build: Path, *, into: str | None = None) -> dict[str, list[ox.Triple]]:
    """The build's triples by named graph (sorted), or all of them (deduplicated) under one graph `into`."""
    store = open_store(build)
    graphs: dict[str, set[ox.Triple]] = {}
    for quad in store.quads_for_pattern(None, None, None, None):
        name = into or (quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else "")
        graphs.setdefault(name, set()).add(ox.Triple(quad.subject, quad.predicate, quad.object))
    return {name: sorted(triples, key=str) for name, triples in sorted(graphs.items())}


def _send(opener: urllib.request.OpenerDirector, method: str, url: str, body: bytes, timeout: float) -> int:
    """One Graph Store request; connect, upload and the whole answer must fit in `timeout` seconds."""
    request = urllib.request.Request(
        url, data=body, method=method,
        headers={"Content-Type": "text/turtle; charset=utf-8", "User-Agent": USER_AGENT},
    )
    late = PushError(f"{method} {url}: no complete answer within {timeout:g} s (the whole-request deadline, --timeout)")
    with _Deadline(timeout) as deadline:
        request.deadline = deadline  # type: ignore[attr-defined]  # read by _DeadlineHTTP(S)Handler
        try:
            with opener.open(request, timeout=timeout) as response:
                status = int(response.status)
                _read_body(response, deadline, MAX_PUSH_ANSWER_BYTES,
                           PushError(f"{method} {url}: the answer is over {MAX_PUSH_ANSWER_BYTES} bytes"))
                return status
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise _failure(exc, f"{method} {url}", deadline=deadline, late=late, timeout=timeout,
                           error=PushError) from None


def _graph_url(endpoint: str, graph: str) -> str:
    query = urllib.parse.urlencode({"graph": graph}) if graph else "default"
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def push(
    build: Path | str,
    endpoint: str,
    *,
    graph: str | None = None,
    chunk_triples: int = DEFAULT_CHUNK_TRIPLES,
    timeout: float = 300.0,
    credentials: tuple[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> PushReport:
    """Load a build into a Graph Store Protocol endpoint: each graph replaced by a PUT, then appended by POSTs.

    Without `graph`, each of the build's named graphs goes to the graph of the same name (query it with
    the union of graphs as default graph, as the embedded engine does); with `graph`, every triple goes
    into that one graph.
    """
    if chunk_triples < 1:
        raise PushError("--chunk-triples must be at least 1")
    credentials = credentials or credentials_from_env(env)
    check_push_url(endpoint, with_credentials=credentials is not None)
    opener = _opener(endpoint, credentials)
    started = time.perf_counter()
    report = PushReport(endpoint)
    graphs = build_graphs(Path(build), into=graph)
    if credentials and graphs:
        _meet_challenge(opener, _graph_url(endpoint, next(iter(graphs))), timeout)
    sent: dict[str, tuple[int, int]] = {}  # graph -> (chunks acknowledged, chunks in all)
    for name, triples in graphs.items():
        url = _graph_url(endpoint, name)
        chunks = list(_chunks(triples, chunk_triples))
        for i, chunk in enumerate(chunks):
            body = _ntriples(chunk)
            try:
                _send(opener, "PUT" if i == 0 else "POST", url, body, timeout)
            except PushError as exc:
                retry = push_command(build, endpoint, graph=graph, chunk_triples=chunk_triples, timeout=timeout)
                raise _incomplete(exc, graphs, sent, name, i, len(chunks), retry,
                                  with_credentials=credentials is not None) from None
            report.requests += 1
            sent[name] = (i + 1, len(chunks))
        report.graphs[name] = len(triples)
    report.seconds = time.perf_counter() - started
    return report


def push_command(build: Path | str, endpoint: str, *, graph: str | None, chunk_triples: int, timeout: float) -> str:
    """The `aflm-graph push` command line that pushes this build again (shell-quoted; no credential in it)."""
    args = ["aflm-graph", "push", "--build", str(build), "--endpoint", endpoint]
    if graph:
        args += ["--graph", graph]
    args += ["--chunk-triples", str(chunk_triples), "--timeout", f"{timeout:g}"]
    return shlex.join(args)


def _incomplete(cause: PushError, graphs: Mapping[str, Sequence[object]], sent: Mapping[str, tuple[int, int]],
                failed: str, chunk: int, chunks: int, retry: str, *, with_credentials: bool) -> PushError:
    """The error of a push that stopped partway: one line (what failed, that the store is incomplete, the retry
    command), then the detail of which graphs and chunks were acknowledged and which were never sent."""

    def label(name: str) -> str:
        return f"<{name}>" if name else "(default graph)"

    later = [name for name in graphs if name not in sent and name != failed]
    message = (
        f"push stopped at graph {label(failed)}, chunk {chunk + 1} of {chunks}: {cause}; the remote graph "
        f"{label(failed)} is incomplete{f' and {len(later)} more graph(s) were not sent' if later else ''}; "
        f"retry: {retry}"
    )
    done = [f"{label(name)} ({n} of {total} chunks{', all' if n == total else ''}; "
            f"{len(graphs[name]) if n == total else 'part of ' + str(len(graphs[name]))} triples)"
            for name, (n, total) in sent.items()]
    detail = [
        f"sent and acknowledged: {'; '.join(done) if done else 'nothing'}",
        f"failed: {label(failed)} chunk {chunk + 1} of {chunks} (the server may hold part of it)",
    ]
    if later:
        detail.append(f"not sent: {', '.join(label(name) for name in later)}")
    detail.append("a retry replaces each graph (its first chunk is a PUT), so re-running the whole command is safe"
                  + (" (with AFLM_ENDPOINT_USER and AFLM_ENDPOINT_PASSWORD set as now)" if with_credentials else ""))
    if "deadline" in str(cause):
        detail.append("if the store is only slow, raise --timeout or lower --chunk-triples")
    return PushError(message, detail)


def virtuoso_bulk_load(
    build: Path | str,
    *,
    isql_address: str,
    load_dir: Path,
    graph: str | None = None,
    credentials: tuple[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    isql: str = "isql-vt",
    timeout: float = 1800.0,
) -> PushReport:
    """Load a build with Virtuoso's bulk loader (ld_dir + rdf_loader_run) over its SQL port on this machine.

    `load_dir` must be in the server's DirsAllowed. Each graph is cleared first, then loaded from a
    file with a fresh name (ld_dir silently skips a name it has seen before). The load is checked, not
    trusted: every file must be done in DB.DBA.LOAD_LIST without error and every graph must hold exactly
    the triples sent, else PushError. The password reaches isql on its stdin, not on its command line.
    """
    credentials = credentials or credentials_from_env(env)
    if credentials is None:
        raise PushError(f"the bulk loader needs {USER_ENV} and {PASSWORD_ENV} (a Virtuoso SQL account such as dba)")
    host = isql_address.rsplit(":", 1)[0]
    if not is_loopback(f"http://{host}/"):
        raise PushError(f"{isql_address}: the bulk loader reads files on this machine; use a loopback address")
    started = time.perf_counter()
    report = PushReport(f"isql {isql_address}")
    load_dir = load_dir.resolve()
    if "'" in str(load_dir) or (graph is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s'<>\"{}|\\^`]+",
                                                                      graph)):
        raise PushError("the graph IRI and the load folder must not contain quotes, spaces or angle brackets")
    load_dir.mkdir(parents=True, exist_ok=True)
    stamp = f"{time.time_ns():x}"
    statements = []
    for i, (name, triples) in enumerate(build_graphs(Path(build), into=graph).items()):
        if not name:
            raise PushError("the build has triples outside a named graph; pass --graph IRI")
        path = load_dir / f"aflm-{stamp}-{i}.nt"
        path.write_bytes(_ntriples(triples))
        statements.append(f"SPARQL CLEAR GRAPH <{name}>;")
        statements.append(f"ld_dir('{load_dir}', '{path.name}', '{name}');")
        report.graphs[name] = len(triples)
    marker = f"aflm-{stamp}-"
    statements += [
        "rdf_loader_run();",
        "checkpoint;",
        # What the loader did with each file, and what each graph holds now: checked below, not taken on trust.
        "SELECT concat('AFLM-LOAD|', ll_file, '|', cast(ll_state AS varchar), '|', coalesce(ll_error, '')) "
        f"FROM DB.DBA.LOAD_LIST WHERE ll_file LIKE '%{marker}%';",
        *(f"SELECT concat('AFLM-COUNT|{i}|', cast(count(*) AS varchar)) FROM DB.DBA.RDF_QUAD "
          f"WHERE G = iri_to_id('{name}', 0);" for i, name in enumerate(report.graphs)),
        f"DELETE FROM DB.DBA.LOAD_LIST WHERE ll_file LIKE '%{marker}%';",
    ]
    user, password = credentials
    # The password travels on isql's stdin (SET UID / SET PWD before the first statement, which is when
    # isql connects), never on its command line, where `ps` and /proc/PID/cmdline show it to every user.
    login = f"SET UID={_isql_literal(user)};\nSET PWD={_isql_literal(password)};\n"
    try:
        done = subprocess.run(
            [isql, f"DSN={isql_address}", "VERBOSE=OFF", "BANNER=OFF", "PROMPT=OFF", "ECHO=OFF"],
            input=login + "\n".join(statements) + "\n", capture_output=True, text=True, timeout=timeout, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PushError(f"{isql} {isql_address}: {exc}; the remote graph(s) may be incomplete") from None
    finally:
        for path in load_dir.glob(f"{marker}*.nt"):
            path.unlink(missing_ok=True)
    output = (done.stdout + done.stderr).replace(password, "***")
    problems = _bulk_load_problems(done.stdout, report.graphs, load_dir, marker)
    if done.returncode != 0 or "*** Error" in output or problems:
        errors = [_one_line(line) for line in output.splitlines() if "*** Error" in line][:2]
        if "AFLM-COUNT|" not in done.stdout:  # isql stopped before the checks (no login, a failed statement)
            problems = []
        blamed = dict.fromkeys(name for name, _ in problems) or report.graphs
        graphs = ", ".join(f"<{name}>" for name in blamed)
        said = "\n".join(line for line in output.splitlines() if not line.startswith(("AFLM-LOAD|", "AFLM-COUNT|")))
        why = "; ".join([*errors, *(f"<{name}>: {text}" for name, text in problems)]) or _one_line(output)
        detail = [f"isql said: {_one_line(said, 2000)}"] if said.strip() else []
        detail.append("re-running the same command is safe: each graph is cleared before it is loaded")
        raise PushError(
            f"{isql} {isql_address}: the bulk load failed, the remote graph(s) {graphs} are incomplete: {why}", detail,
        )
    report.requests = 1
    report.seconds = time.perf_counter() - started
    return report


def _isql_literal(text: str) -> str:
    """`text` as a quoted isql literal (backslash escapes `\\` and `'`; `$` is not expanded inside quotes)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise PushError("the Virtuoso user name or password contains a control character, which isql cannot take")
    return "'" + "".join("\\" + c if c in "\\'" else c for c in text) + "'"


def _bulk_load_problems(stdout: str, graphs: Mapping[str, int], load_dir: Path, marker: str,
                        ) -> list[tuple[str, str]]:
    """What went wrong in a bulk load, read from the loader's own record and the graphs' triple counts.

    isql's exit status says only that the statements ran: rdf_loader_run records a file it could not
    parse in DB.DBA.LOAD_LIST (ll_error) and goes on, and ld_dir silently skips a file it will not take.
    So every file must be listed as done (ll_state 2) without error, and every graph must hold exactly
    the triples sent (it was cleared first).
    """
    loads: dict[str, tuple[str, str]] = {}
    counts: dict[int, int] = {}
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("AFLM-LOAD|"):
            _, file, state, error = [*line.split("|", 3), "", "", ""][:4]
            loads[Path(file).name] = (state.strip(), error.strip())
        elif line.startswith("AFLM-COUNT|"):
            _, index, count = [*line.split("|", 2), "", ""][:3]
            if index.isdigit() and count.strip().isdigit():
                counts[int(index)] = int(count)
    problems: list[tuple[str, str]] = []  # (graph, what is wrong with it)
    for i, (name, sent) in enumerate(graphs.items()):
        file = f"{marker}{i}.nt"
        state, error = loads.get(file, ("", ""))
        if file not in loads:
            problems.append((name, f"{file} was not taken by ld_dir (is {load_dir} in the server's DirsAllowed?)"))
        elif error:
            problems.append((name, f"the loader failed on {file}: {_one_line(error, 200)}"))
        elif state != "2":
            problems.append((name, f"{file} was left in loader state {state or '?'} (2 is done)"))
        if i not in counts:
            problems.append((name, "its triple count could not be read back"))
        elif counts[i] != sent:
            problems.append((name, f"{counts[i]} of the {sent} triples sent are in the store"))
    return problems


def describe_push(report: PushReport) -> Iterable[str]:
    for name, count in report.graphs.items():
        yield f"  {name or '(default graph)'}: {count} triples"
    yield f"{report.triples} triples in {report.requests} requests to {report.endpoint} in {report.seconds:.2f} s"
