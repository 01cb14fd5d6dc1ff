"""One `run` for every query: on a build's store, in a killable worker (with a time or memory limit), or remote.

The engine (engine.py), the workers (workers.py) and the remote client (remote.py) each run a query
their way; this module picks one, binds the parameters, and checks the columns a named query promises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .catalogue import DOCUMENTS_QUERY, DocumentEntry, NamedQuery, QueryError, Resolver, bindings_for, document_entries
from .engine import Result, open_store, run_embedded


def run(
    query: NamedQuery | str,
    *,
    build: Path | str = "build",
    params: Mapping[str, object] | None = None,
    endpoint: str | None = None,
    timeout: float | None = None,
    allow_partial: bool = False,
    row_cap: int | None = None,
    default_graphs: Sequence[str] = (),
    max_memory_mb: int | None = None,
) -> Result:
    """Run a named query (or query text) on a build, or on a remote SPARQL endpoint, with its parameters bound.

    Embedded: bound by the engine's substitution; `timeout` (or `max_memory_mb`) runs it in a worker
    process that is killed at the limit (pyoxigraph cannot stop a running query); the worker's memory
    is capped at `max_memory_mb` (default `workers.DEFAULT_MAX_MEMORY_MB`). Remote (`endpoint`): bound
    as a VALUES block of escaped terms; a partial answer raises `remote.PartialResultError` unless `allow_partial`.
    """
    named = query if isinstance(query, NamedQuery) else NamedQuery(name="<query>", text=query)
    bindings = bindings_for(named, params or {}, build_resolver(build, endpoint=endpoint, timeout=timeout))
    warnings: list[str] = []
    if named.extra.get("fulltext"):  # a text search (textsearch.py): the build's index, else bound patterns
        from .textsearch import search_build

        found, bindings, note = search_build(named, bindings, None if endpoint is not None else Path(build))
        if found is not None:
            return found
        warnings += [note] if note else []
    # remote.py and workers.py are imported only when used (start-up time, not a circle: neither imports this
    # module): urllib.request and multiprocessing would add ~20 ms to every embedded `aflm-graph query`.
    if endpoint is not None:
        from .remote import run_remote

        result = run_remote(
            endpoint, named.text, bindings, timeout=timeout or 60.0, allow_partial=allow_partial, row_cap=row_cap,
            default_graphs=default_graphs,
        )
    elif timeout is not None or max_memory_mb is not None:
        from .workers import DEFAULT_MAX_MEMORY_MB, run_with_timeout

        result = run_with_timeout(Path(build), named.text, bindings, timeout=timeout or 3600.0,
                                  memory_mb=max_memory_mb or DEFAULT_MAX_MEMORY_MB)
    else:
        result = run_embedded(open_store(Path(build)), named.text, bindings)
    result.warnings += warnings
    if named.columns and result.form == "select" and tuple(result.columns) != named.columns:
        raise QueryError(
            f"query {named.name}: returns columns {result.columns}, its header promises {list(named.columns)}"
        )
    return result


def build_resolver(build: Path | str, *, endpoint: str | None = None, timeout: float | None = None) -> Resolver:
    """A Resolver whose documents are the build's (or the endpoint's), listed only when a document parameter is
    given; a build that cannot be opened gives no list (the run itself then says why)."""

    def documents() -> tuple[DocumentEntry, ...] | None:
        try:
            if endpoint is not None:
                from .remote import run_remote

                result = run_remote(endpoint, DOCUMENTS_QUERY, {}, timeout=timeout or 60.0)
            else:
                result = run_embedded(open_store(Path(build)), DOCUMENTS_QUERY)
        except (QueryError, OSError, ValueError):
            return None
        return document_entries(result.rows)

    return Resolver(documents)
