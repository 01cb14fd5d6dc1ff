"""Remote SPARQL endpoints: run a named query on any SPARQL 1.1 endpoint, and push a build into a remote store.

Queries go through SPARQLWrapper (POST, JSON results, a timeout and an identifying User-Agent).
Parameters reach the endpoint as a `VALUES` block whose terms pyoxigraph serialised, never as pasted
text. An answer the server cut short is detected, not passed off as complete: Virtuoso's "anytime"
answers (HTTP 206 or `X-SQL-State: S1TAT`) and a row count equal to the server's row cap raise
`PartialResultError` unless the caller accepts partial results.

`push` loads a build with the SPARQL 1.1 Graph Store HTTP Protocol in chunks that big stores accept
(or with Virtuoso's bulk loader when asked). Credentials come from the environment, are only ever
answered to an authentication challenge from the endpoint itself, are never sent over plain `http://`
to a host other than loopback, and are never forwarded across a redirect (redirects are refused).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..terms.namespaces import XSD
from .catalogue import QueryError, bind_values, query_form
from .engine import Result, Term

if TYPE_CHECKING:
    import pyoxigraph as ox

USER_AGENT = f"aflm-graph/{__version__} (+https://w3id.org/aflm; SPARQL client)"
USER_ENV = "AFLM_ENDPOINT_USER"
PASSWORD_ENV = "AFLM_ENDPOINT_PASSWORD"
VIRTUOSO_DEFAULT_ROW_CAP = 10_000  # [SPARQL] ResultSetMaxRows as shipped; it truncates silently
MAX_ANSWER_BYTES = 1 << 30  # a query answer larger than this is refused (memory), whatever the server sends
DEFAULT_CHUNK_TRIPLES = 50_000  # Virtuoso takes ~100k per Graph Store request; a 1M-triple PUT stalls


class PartialResultError(QueryError):
    """The endpoint answered with part of the result (a time or row limit); the rows must not be taken as complete."""

    def __init__(self, message: str, result: Result) -> None:
        super().__init__(message)
        self.result = result


class PushError(RuntimeError):
    """The build could not be pushed (refused URL, failed request); says which graph and chunk."""


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
    import pyoxigraph as ox

    from ..graph.rdfio import UnsafeInputError, check_xml
    from .engine import from_oxigraph

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
    import pyoxigraph as ox

    from ..graph.rdfio import UnsafeInputError, read_quads
    from .engine import from_oxigraph

    mime = content_type.split(";")[0].strip().lower()
    fmt = ox.RdfFormat.RDF_XML if "xml" in mime else ox.RdfFormat.TURTLE  # N-Triples is a subset of Turtle
    try:  # through the safe reader: RDF/XML entity bombs and external entities are refused (rdfio.py)
        triples = read_quads(body, fmt, name=f"the endpoint's {mime or 'graph'} answer")
    except UnsafeInputError as exc:
        raise QueryError(str(exc)) from None
    except ValueError as exc:
        raise QueryError(f"the endpoint's {mime or 'graph'} answer does not parse: {exc}") from None
    rows = [[from_oxigraph(t.subject), from_oxigraph(t.predicate), from_oxigraph(t.object)] for t in triples]
    return Result("graph", columns=["subject", "predicate", "object"], rows=rows)  # type: ignore[arg-type]


def _socket(response: object) -> socket.socket | None:
    """The socket under an http.client response (to shorten its read timeout to what is left), if reachable."""
    raw = getattr(getattr(response, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def fetch_answer(request: urllib.request.Request, *, timeout: float, max_bytes: int = MAX_ANSWER_BYTES,
                 ) -> tuple[int, dict[str, str], bytes]:
    """Send a query request and read the whole answer within `timeout` seconds and `max_bytes` bytes.

    Our own opener (never the process-wide one a library may have installed) refuses redirects, so
    neither the query nor any credential goes to a place the user did not name. Every failure is a
    one-line QueryError that names the endpoint and what happened.
    """
    endpoint = request.full_url.split("?", 1)[0]
    opener = urllib.request.build_opener(_RefuseRedirects(QueryError))
    deadline = time.monotonic() + timeout
    late = QueryError(f"{endpoint}: no complete answer within {timeout:g} s (the client's time limit)")
    try:
        with opener.open(request, timeout=timeout) as response:
            status = int(response.status)
            headers = {k.lower(): v for k, v in response.headers.items()}
            sock = _socket(response)
            chunks: list[bytes] = []
            size = 0
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise late
                if sock is not None:
                    sock.settimeout(remaining)
                chunk = response.read1(1 << 16)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise QueryError(f"{endpoint}: the answer is over {max_bytes} bytes (the client's size limit)")
                chunks.append(chunk)
    except urllib.error.HTTPError as exc:
        detail = _one_line(exc.read(4096))
        raise QueryError(f"{endpoint}: HTTP {exc.code} {exc.reason}{': ' + detail if detail else ''}") from None
    except TimeoutError:
        raise late from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise late from None
        raise QueryError(f"{endpoint}: no answer ({reason}; timeout {timeout:g} s)") from None
    return status, headers, b"".join(chunks)


_LIMIT = re.compile(r"\bLIMIT\s+(\d+)\s*(?:OFFSET\s+\d+\s*)?$", re.IGNORECASE)


def _own_limit(text: str) -> int | None:
    """The query's own final LIMIT (a result that fills it is complete, not cut by the server)."""
    from .catalogue import _tokens

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
    from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

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

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        raise self.error(
            f"{req.full_url}: the endpoint redirected ({code}) to {newurl}; redirects are not followed "
            "(credentials are never forwarded), pass the final URL"
        )


def _opener(url: str, credentials: tuple[str, str] | None) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [_RefuseRedirects()]
    if credentials:
        # Answered only to a challenge from this URL's own server (Digest for Virtuoso, Basic elsewhere).
        manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        manager.add_password(None, url, *credentials)
        handlers += [urllib.request.HTTPDigestAuthHandler(manager), urllib.request.HTTPBasicAuthHandler(manager)]
    return urllib.request.build_opener(*handlers)


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
    import pyoxigraph as ox

    with_bnodes = [t for t in triples if isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)]
    plain = [t for t in triples if not (isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode))]
    first = with_bnodes + plain[: max(0, size - len(with_bnodes))]
    rest = plain[len(first) - len(with_bnodes):]
    yield first
    for i in range(0, len(rest), size):
        yield rest[i: i + size]


def build_graphs(build: Path, *, into: str | None = None) -> dict[str, list[ox.Triple]]:
    """The build's triples by named graph (sorted), or all of them (deduplicated) under one graph `into`."""
    import pyoxigraph as ox

    from .engine import open_store

    store = open_store(build)
    graphs: dict[str, set[ox.Triple]] = {}
    for quad in store.quads_for_pattern(None, None, None, None):
        name = into or (quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else "")
        graphs.setdefault(name, set()).add(ox.Triple(quad.subject, quad.predicate, quad.object))
    return {name: sorted(triples, key=str) for name, triples in sorted(graphs.items())}


def _send(opener: urllib.request.OpenerDirector, method: str, url: str, body: bytes, timeout: float) -> int:
    request = urllib.request.Request(
        url, data=body, method=method,
        headers={"Content-Type": "text/turtle; charset=utf-8", "User-Agent": USER_AGENT},
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        detail = _one_line(exc.read())
        raise PushError(f"{method} {url}: HTTP {exc.code} {exc.reason}{': ' + detail if detail else ''}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise PushError(f"{method} {url}: no answer ({getattr(exc, 'reason', exc)}; timeout {timeout:g} s)") from None


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
    import pyoxigraph as ox

    if chunk_triples < 1:
        raise PushError("--chunk-triples must be at least 1")
    credentials = credentials or credentials_from_env(env)
    check_push_url(endpoint, with_credentials=credentials is not None)
    opener = _opener(endpoint, credentials)
    started = time.perf_counter()
    report = PushReport(endpoint)
    for name, triples in build_graphs(Path(build), into=graph).items():
        url = _graph_url(endpoint, name)
        for i, chunk in enumerate(_chunks(triples, chunk_triples)):
            body = ox.serialize(chunk, format=ox.RdfFormat.N_TRIPLES)
            try:
                _send(opener, "PUT" if i == 0 else "POST", url, body, timeout)
            except PushError as exc:
                raise PushError(f"graph {name or 'default'}, chunk {i + 1}: {exc}") from None
            report.requests += 1
        report.graphs[name] = len(triples)
    report.seconds = time.perf_counter() - started
    return report


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
    file with a fresh name (ld_dir silently skips a name it has seen before).
    """
    import subprocess

    import pyoxigraph as ox

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
        path.write_bytes(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
        statements.append(f"SPARQL CLEAR GRAPH <{name}>;")
        statements.append(f"ld_dir('{load_dir}', '{path.name}', '{name}');")
        report.graphs[name] = len(triples)
    statements += ["rdf_loader_run();", "checkpoint;", "SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST "
                   f"WHERE ll_file LIKE '%aflm-{stamp}-%' AND ll_error IS NOT NULL;"]
    user, password = credentials
    try:
        done = subprocess.run(
            [isql, isql_address, user, password, "VERBOSE=OFF", "BANNER=OFF", "PROMPT=OFF", "ECHO=OFF"],
            input="\n".join(statements) + "\n", capture_output=True, text=True, timeout=timeout, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PushError(f"{isql} {isql_address}: {exc}") from None
    finally:
        for path in load_dir.glob(f"aflm-{stamp}-*.nt"):
            path.unlink(missing_ok=True)
    output = done.stdout + done.stderr
    if done.returncode != 0 or "*** Error" in output or f"aflm-{stamp}-" in done.stdout:
        raise PushError(f"{isql} {isql_address}: the bulk load failed: {_one_line(output)}")
    report.requests = 1
    report.seconds = time.perf_counter() - started
    return report


def describe_push(report: PushReport) -> Iterable[str]:
    for name, count in report.graphs.items():
        yield f"  {name or '(default graph)'}: {count} triples"
    yield f"{report.triples} triples in {report.requests} requests to {report.endpoint} in {report.seconds:.2f} s"
