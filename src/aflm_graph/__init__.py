"""aflm-graph: a knowledge graph of the recommendations of the ASEAN Forum on Migrant Labour.

The public API is small and imports nothing heavy until it is called:

    >>> import aflm_graph
    >>> report = aflm_graph.run_pipeline(["seeds"], "build")   # doctest: +SKIP
    >>> rows = aflm_graph.query("recommendations").records()   # doctest: +SKIP
    >>> dataset = aflm_graph.load("build")                     # an rdflib Dataset  # doctest: +SKIP
"""

from __future__ import annotations

# Nothing is imported here at run time, not even pathlib or typing: every `aflm-graph` command imports
# this package first, and `aflm-graph --help` must start about as fast as Python itself (see _entry.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    import rdflib

    from .ingest.parse import Document
    from .publish.pipeline import BuildReport
    from .sparql.engine import Result

__version__ = "0.1.0"
__all__ = ["__version__", "load", "parse_file", "query", "run_pipeline"]


def parse_file(path: Path | str) -> Document:
    """Parse one document (.txt or .pdf) into plain dataclasses."""
    from pathlib import Path

    from .ingest.parse import parse_file as _parse_file

    return _parse_file(Path(path))


def run_pipeline(paths: Sequence[Path | str] | Path | str | None = None, out: Path | str = "build", *,
                 store: bool = False, force: bool = False) -> BuildReport:
    """Build the graph of the documents under `paths` (default `seeds/`) into `out` (what `aflm-graph build` does;
    `store=True` is its `--store`: an on-disk store as well, for corpora too big to load for each query).

    One str or Path is one path (not a sequence of letters); only None means seeds/: an empty list is
    an error, not a build of seeds/. `out` is replaced only when it is new, empty or a previous build (with
    `force`, also a folder of other files; never the home folder, `/`, the current folder or an input).
    """
    import os
    from pathlib import Path

    from .publish.pipeline import BuildError
    from .publish.pipeline import build as _build

    if paths is None:
        return _build(None, out, store=store, force=force)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if isinstance(paths, bytes):
        raise TypeError("paths: got bytes; expected a str or Path, or a list of them")
    chosen: list[Path] = []
    for item in paths:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"paths: got {type(item).__name__} {item!r:.80}; expected a str or Path (a file or folder)")
        chosen.append(Path(item))
    if not chosen:
        raise BuildError("no input paths given; expected at least one file or folder (or None for seeds/)")
    return _build(chosen, out, store=store, force=force)


def query(
    name_or_text: str,
    *,
    build: Path | str = "build",
    params: Mapping[str, object] | None = None,
    timeout: float | None = None,
    max_memory_mb: int | None = None,
) -> Result:
    """Run a named query, a `.rq` file or SPARQL text on a build; `.records()` / `.to_dataframe()` on the result.

    The limits are those of `aflm-graph query`: with `timeout` (seconds) or `max_memory_mb`, the query (its
    safety check included) runs in a worker process that is killed at the limit; the memory cap is then
    2048 MB unless given. For queries you did not write, pass a timeout.
    """
    from .sparql.catalogue import NamedQuery, QueryError, resolve
    from .sparql.run import run

    if "{" in name_or_text or len(name_or_text) > 4096:  # SPARQL text, never a name or a path
        named = NamedQuery(name="<query>", text=name_or_text)
    else:
        try:
            named = resolve(name_or_text)
        except QueryError:
            if len(name_or_text.split()) < 2:  # a name or a path, not SPARQL text
                raise
            named = NamedQuery(name="<query>", text=name_or_text)
    return run(named, build=build, params=params, timeout=timeout, max_memory_mb=max_memory_mb)


def load(build_dir: Path | str = "build", *, store: str = "Oxigraph") -> rdflib.Dataset:
    """The whole build as an rdflib Dataset (named graphs for data, ontology, reference and vocabularies) whose
    default graph is their union, as for `aflm-graph query` and `serve`: `ds.query(...)`, `ds.triples(...)`,
    `ds.subjects(...)` and `ds.serialize()` see every graph; `ds.graph(IRI)` is one of them. (Over oxrdflib a
    query's own FROM is not applied: for FROM, and for queries you did not write, use `aflm_graph.query`.)

    The default `store="Oxigraph"` keeps rdflib's API over pyoxigraph (via oxrdflib), which loads
    and queries many times faster than rdflib's memory store; pass `store="default"` for that one.
    """
    from pathlib import Path

    import rdflib

    dump = Path(build_dir) / "aflm.nq"
    if not dump.is_file():
        raise FileNotFoundError(f"{dump}: no build here; run `aflm-graph build` first")
    dataset = rdflib.Dataset(store=store, default_union=True)
    dataset.parse(str(dump), format="ox-nquads" if store == "Oxigraph" else "nquads")
    return dataset
