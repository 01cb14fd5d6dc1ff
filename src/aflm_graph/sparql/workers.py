"""Killable query workers: one query in a spawned process that opens the build read-only, under a time and memory limit.

pyoxigraph cannot stop a running query, so a query with a limit (`aflm-graph query --timeout`, every
query of `aflm-graph serve`) runs in a worker process (multiprocessing 'spawn'); at its limit the worker
is killed. The endpoint's pool (serve/endpoint.py) keeps a few of these workers alive.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from .catalogue import QueryDataset, QueryError, bind_values, check_safe, check_size, query_form
from .engine import (
    RDF_FORMATS,
    Result,
    _syntax_message,
    dataset_options,
    from_oxigraph,
    graph_bytes,
    open_store,
    result_triples,
    to_csv,
    to_json,
    to_tsv,
)
from .resource import describe_job

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

Job = tuple[str, str, str | None, int | None] | tuple[str, str, str | None, int | None, QueryDataset | None]
"""(mode, query text, format, row cap[, the protocol's dataset]): what a worker is asked (see `_answer`)."""
DEFAULT_MAX_MEMORY_MB = 2048  # per query worker: a runaway ORDER BY reached 2.3 GB in 8 s on the seed build


class WorkerTimeout(Exception):
    """The query passed its wall-clock limit; its worker has to be killed."""


# --- the worker process


def _collect(store: ox.Store, text: str, max_rows: int | None, dataset: QueryDataset | None = None) -> Result:
    """Run a query and gather at most max_rows + 1 rows (enough to know the cap was passed, never more).
    The dataset is the query's own (FROM, FROM NAMED; none: the union), or `dataset` (engine.dataset_options)."""
    options = dataset_options(check_safe(text), dataset)
    query_form(text)  # not a query: a QueryError before anything runs
    try:
        answer = store.query(text, **options)
    except SyntaxError as exc:
        raise QueryError(_syntax_message(str(exc))) from None
    except (RuntimeError, OSError) as exc:
        raise QueryError(f"query failed: {exc}") from None
    limit = None if max_rows is None else max_rows + 1
    if isinstance(answer, ox.QueryBoolean):  # ASK
        return Result("ask", boolean=bool(answer))
    rows: list[list[Any]] = []
    if isinstance(answer, ox.QueryTriples):
        for triple in answer:
            rows.append([from_oxigraph(triple.subject), from_oxigraph(triple.predicate), from_oxigraph(triple.object)])
            if limit is not None and len(rows) >= limit:
                break
        return Result("graph", columns=["subject", "predicate", "object"], rows=rows)
    columns = [v.value for v in answer.variables]
    for solution in answer:
        rows.append([from_oxigraph(solution[c]) for c in columns])
        if limit is not None and len(rows) >= limit:
            break
    return Result("select", columns=columns, rows=rows)


def to_xml(result: Result) -> str:
    """SPARQL Query Results XML Format."""
    out = ['<?xml version="1.0"?>', '<sparql xmlns="http://www.w3.org/2005/sparql-results#">']
    if result.form == "ask":
        out += ["<head/>", f"<boolean>{'true' if result.boolean else 'false'}</boolean>", "</sparql>"]
        return "\n".join(out) + "\n"
    out.append("<head>" + "".join(f"<variable name={quoteattr(c)}/>" for c in result.columns) + "</head>")
    out.append("<results>")
    for row in result.rows:
        cells = []
        for column, term in zip(result.columns, row, strict=True):
            if term is None:
                continue
            if term.type == "uri":
                value = f"<uri>{escape(term.value)}</uri>"
            elif term.type == "bnode":
                value = f"<bnode>{escape(term.value)}</bnode>"
            else:
                attrs = f" xml:lang={quoteattr(term.lang)}" if term.lang else ""
                attrs += f" datatype={quoteattr(term.datatype)}" if term.datatype and not term.lang else ""
                value = f"<literal{attrs}>{escape(term.value)}</literal>"
            cells.append(f"<binding name={quoteattr(column)}>{value}</binding>")
        out.append("<result>" + "".join(cells) + "</result>")
    out += ["</results>", "</sparql>"]
    return "\n".join(out) + "\n"


def _render(result: Result, fmt: str) -> bytes:
    if fmt in RDF_FORMATS:
        return graph_bytes(result_triples(result), fmt)
    renderers = {"json": to_json, "xml": to_xml, "csv": to_csv, "tsv": to_tsv}
    return renderers[fmt](result).encode("utf-8")


def _answer(store: ox.Store, job: Job) -> tuple[Any, ...]:
    """One job: ("result", text, None, cap) -> the Result; ("render", text, fmt, cap) -> (rows, bytes);
    ("describe", iri, fmt, cap) -> resource.describe_job's answer. A fifth
    item, a QueryDataset, is the protocol's dataset (default-graph-uri / named-graph-uri) for the query."""
    mode, text, fmt, max_rows = job[:4]
    if mode == "describe":  # ("describe", iri, "html" or an RDF format, cap): one resource's page or description
        return describe_job(store, text, fmt or "html", max_rows)
    dataset = job[4] if len(job) == 5 else None
    try:
        result = _collect(store, text, max_rows, dataset)
    except QueryError as exc:
        status = 403 if str(exc).startswith("refused") else 400
        return ("error", status, " ".join(str(exc).split()))
    if max_rows is not None and len(result.rows) > max_rows:
        return ("error", 422, f"the result has more than {max_rows} rows (this endpoint's cap); "
                              "narrow the query or page through it with LIMIT and OFFSET")
    if mode == "result":
        return ("ok", result)
    try:
        payload = _render(result, fmt or "json")
    except QueryError as exc:  # a result that the asked format cannot carry (RDF/XML, JSON-LD)
        return ("error", 406, " ".join(str(exc).split()))
    return ("ok", len(result.rows), payload)


def limit_memory(megabytes: int | None) -> None:
    """Cap this process's data segment (heap and anonymous maps): past it, allocations fail and the worker dies
    (pyoxigraph aborts) instead of the machine swapping. RLIMIT_DATA rather than RLIMIT_AS: the store's
    file maps and the interpreter's address-space reservations do not count against it."""
    if not megabytes:
        return
    try:
        import resource  # POSIX only: the ImportError below

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not POSIX, or a lower hard limit already
        pass


def _worker_main(build: str, conn: Connection, memory_mb: int | None = None) -> None:
    """Entry point of a worker process: open the store read-only, then answer jobs until the pipe closes."""
    limit_memory(memory_mb)
    try:
        store = open_store(Path(build))
    except (QueryError, OSError) as exc:
        conn.send(("failed", str(exc)))
        return
    conn.send(("ready",))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(_answer(store, job))
        except (BrokenPipeError, OSError):
            return


class Worker:
    """One spawned worker process and the pipe to it; `kill` ends it by its own pid."""

    def __init__(self, build: Path, memory_mb: int | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.memory_mb = memory_mb
        self.process = context.Process(target=_worker_main, args=(str(build), child, memory_mb), daemon=True,
                                       name="aflm-graph-query-worker")
        self.process.start()
        child.close()

    def wait_ready(self, timeout: float = 120.0) -> None:
        if not self.conn.poll(timeout):
            self.kill()
            raise QueryError(f"a query worker did not open the store within {timeout:g} s")
        try:
            reply = self.conn.recv()
        except (EOFError, OSError):
            self.kill()
            code = self.process.exitcode
            raise QueryError(f"a query worker exited while opening the build (exit code {code})") from None
        if reply[0] != "ready":
            self.kill()
            raise QueryError(f"a query worker could not open the build: {reply[1]}")

    def call(self, job: Job, timeout: float) -> tuple[Any, ...]:
        self.conn.send(job)
        if not self.conn.poll(timeout):
            raise WorkerTimeout
        return self.conn.recv()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()  # SIGKILL to this worker's pid only
        self.process.join(10)
        self.conn.close()

    def death(self) -> str:
        """Why the worker died, in a user's words (called once its pipe broke)."""
        self.process.join(5)
        code = self.process.exitcode
        if self.memory_mb and code is not None and code < 0:  # pyoxigraph aborts when an allocation fails
            return f"the query ran out of its memory limit ({self.memory_mb} MB) and was stopped"
        return f"the query worker died (exit code {code}; out of memory?)"


def run_with_timeout(
    build: Path,
    text: str,
    bindings: Mapping[str, ox.NamedNode | ox.Literal] | None = None,
    *,
    timeout: float,
    memory_mb: int | None = DEFAULT_MAX_MEMORY_MB,
) -> Result:
    """Run one query on a build in a fresh worker process, killed at `timeout` seconds or `memory_mb` megabytes.

    The time limit covers the whole call, the worker's start included: `--timeout 2` returns within ~2 s.
    The safety check runs in the worker too, under the same limits (only the length is checked here).
    """
    check_size(text)
    bound = bind_values(text, bindings) if bindings else text
    deadline = time.monotonic() + timeout
    worker = Worker(build, memory_mb)
    try:
        try:
            worker.wait_ready(max(timeout, 0.1))
        except QueryError:
            if time.monotonic() < deadline:
                raise
            message = f"query stopped after {timeout:g} s (its time limit; the worker was still starting)"
            raise QueryError(message) from None
        try:
            reply = worker.call(("result", bound, None, None), max(0.05, deadline - time.monotonic()))
        except WorkerTimeout:
            raise QueryError(f"query stopped after {timeout:g} s (its time limit)") from None
        except (EOFError, OSError):
            raise QueryError(worker.death()) from None
    finally:
        worker.kill()
    if reply[0] == "error":
        raise QueryError(reply[2])
    return reply[1]
