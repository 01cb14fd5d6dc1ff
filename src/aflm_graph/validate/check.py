"""Check a build, whatever its size: the one entry point of this room (`aflm-graph validate`, the pipeline's check).

A small graph goes to pySHACL and the SPARQL checks (shacl.py); a big one to the compiled SHACL-core
checker streamed over its statements (stream.py), which reuses the report types and SPARQL checks of shacl.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..graph.statements import Statements
from . import stream as shacl_stream
from .shacl import SHACL_GRAPHS, ValidationReport, graph_iri, load_quads, validate_quads


def validate_build(build: Path | str = "build", **options: Any) -> ValidationReport:
    """Validate the build in a folder (or one .nq / .trig file).

    A big graph (over `shacl_stream.PYSHACL_LIMIT` statements in the graphs the shapes read) is checked
    the way a big build is (stream.py): the shapes streamed over every statement, and the SPARQL
    checks on all of them, on the build's own store when there is one.
    """
    path = Path(build)
    quads = load_quads(path)
    if sum(1 for q in quads if graph_iri(q) in SHACL_GRAPHS) <= shacl_stream.PYSHACL_LIMIT:
        return validate_quads(quads, where=str(path), **options)
    import pyoxigraph as ox

    statements = Statements.from_quads(quads)
    del quads
    store = ox.Store.read_only(str(path / "store")) if (path / "store").is_dir() else None
    return shacl_stream.validate_statements(statements, store, where=str(path), full_query_limit=len(statements),
                                            **options)
