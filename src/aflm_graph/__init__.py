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


def run_pipeline(paths: Sequence[Path | str] | None = None, out: Path | str = "build", *,
                 store: bool = False) -> BuildReport:
    """Build the graph of the documents under `paths` (default `seeds/`) into `out` (what `aflm-graph build` does;
    `store=True` is its `--store`: an on-disk store as well, for corpora too big to load for each query).

    Named so as not to shadow the `aflm_graph.graph.build` module (the stage that turns documents into quads).
    """
    from pathlib import Path

    from .publish.pipeline import build as _build

    return _build([Path(p) for p in paths] if paths else None, out, store=store)


def query(
    name_or_text: str,
    *,
    build: Path | str = "build",
    params: Mapping[str, str] | None = None,
) -> Result:
    """Run a named query, a `.rq` file or SPARQL text on a build; `.records()` / `.to_dataframe()` on the result."""
    from .sparql.catalogue import NamedQuery, QueryError, resolve
    from .sparql.run import run

    try:
        named = resolve(name_or_text)
    except QueryError:
        if "{" not in name_or_text and len(name_or_text.split()) < 2:  # a name or a path, not SPARQL text
            raise
        named = NamedQuery(name="<query>", text=name_or_text)
    return run(named, build=build, params=params)


def load(build_dir: Path | str = "build", *, store: str = "Oxigraph") -> rdflib.Dataset:
    """The whole build as an rdflib Dataset (named graphs for data, ontology, reference and vocabularies).

    The default `store="Oxigraph"` keeps rdflib's API over pyoxigraph (via oxrdflib), which loads
    and queries many times faster than rdflib's memory store; pass `store="default"` for that one.
    """
    from pathlib import Path

    import rdflib

    dump = Path(build_dir) / "aflm.nq"
    if not dump.is_file():
        raise FileNotFoundError(f"{dump}: no build here; run `aflm-graph build` first")
    dataset = rdflib.Dataset(store=store)
    dataset.parse(str(dump), format="ox-nquads" if store == "Oxigraph" else "nquads")
    return dataset
