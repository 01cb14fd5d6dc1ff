"""The main job: documents -> parse -> annotate -> link -> build -> outputs in one folder, swapped in atomically."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .fsutil import atomic_write_bytes, staged_directory

if TYPE_CHECKING:
    from .pdf import PdfLimits
    from .statements import Statements

Progress = Callable[[str, int, int], None]
DOCUMENT_SUFFIXES = (".txt", ".pdf")


class BuildError(ValueError):
    """The inputs cannot be built (bad document, clashing ids, no documents); nothing was written."""


@dataclass
class BuildReport:
    out: Path
    documents: int
    recommendations: int
    mentions: int
    links: dict[str, int]
    triples: int
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # document -> why it was left out (keep_going)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Document files under the given files and folders (recursively), in a stable order.

    Only files under the given folders are read: a symbolic link in a folder that leads outside it
    (to /etc/passwd, say) is refused, not followed.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES and not p.name.startswith(".")
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            root = path.resolve()
            for p in inside:
                if not p.resolve().is_relative_to(root):
                    raise BuildError(f"{p}: refused: a link to {p.resolve()}, outside {path}; only files under "
                                     "the given paths are read (name the file itself to build it)")
            found += inside
        elif path.is_file():
            found.append(path)
        else:
            raise BuildError(f"{path}: no such file or folder")
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if not unique:
        raise BuildError(f"no documents (*.txt, *.pdf) found in {', '.join(str(p) for p in paths)}")
    return unique


def _noop(stage: str, done: int, total: int) -> None:
    return None


def build(
    paths: Sequence[Path] | None = None,
    out: Path | str = "build",
    *,
    progress: Progress | None = None,
    validate: bool = True,
    keep_going: bool = False,
    pdf_limits: PdfLimits | None = None,
) -> BuildReport:
    """Build the graph of every document under `paths` (default `seeds/`) into the folder `out`.

    With `validate` (the default) a graph that violates ontology/shapes.ttl or a violation query
    raises BuildError before anything is written, so the previous `out` stays whole. A document that
    cannot be read stops the build, or with `keep_going` is left out and named in `report.failed`
    with its reason (a PDF that needs a password or OCR, or is damaged or too big for `pdf_limits`).
    """
    from .annotate import annotate
    from .build import AnnotatedDocument, build_statements
    from .link import link
    from .parse import ParseError, parse_file
    from .vocab import load_vocabulary

    tick = progress or _noop
    started = time.perf_counter()
    stages: dict[str, float] = {}
    files = discover(paths or [Path("seeds")])

    t = time.perf_counter()
    documents = []
    failed: dict[str, str] = {}
    for i, path in enumerate(files, 1):
        try:
            documents.append(parse_file(path, pdf_limits=pdf_limits))
        except ParseError as exc:
            if not keep_going:
                raise BuildError(str(exc)) from None
            failed[str(path)] = " ".join(str(exc).split())
        tick("parse", i, len(files))
    if not documents:
        raise BuildError(f"no document could be read ({len(failed)} failed): " + "; ".join(failed.values()))
    seen: dict[str, str] = {}
    for doc in documents:
        if doc.id in seen:
            raise BuildError(f"{doc.source_file}: document id {doc.id!r} is already used by {seen[doc.id]}")
        seen[doc.id] = doc.source_file
    stages["parse"] = time.perf_counter() - t

    t = time.perf_counter()
    vocabulary = load_vocabulary()
    annotated = []
    for i, doc in enumerate(documents, 1):
        mentions = tuple(tuple(annotate(rec.text, vocabulary)) for rec in doc.recommendations)
        annotated.append(AnnotatedDocument(doc, mentions))
        tick("annotate", i, len(documents))
    stages["annotate"] = time.perf_counter() - t

    t = time.perf_counter()
    texts = [rec.text for doc in documents for rec in doc.recommendations]
    owners = [doc.id for doc in documents for _ in doc.recommendations]
    links = link(texts, owners)
    stages["link"] = time.perf_counter() - t

    t = time.perf_counter()
    try:  # sorted N-Triples statements per graph: what every output is written from (statements.py)
        statements = build_statements(annotated, links, vocabulary=vocabulary)
    except ValueError as exc:
        raise BuildError(str(exc)) from None
    stages["build"] = time.perf_counter() - t

    out = Path(out)
    with staged_directory(out) as stage:  # a failed validation removes the stage: the previous `out` stays
        outputs = write_outputs(stage, statements, documents=documents, validate=validate, stages=stages)

    relations: dict[str, int] = {}
    for item in links:
        relations[item.relation] = relations.get(item.relation, 0) + 1
    return BuildReport(
        out=out,
        documents=len(documents),
        recommendations=len(texts),
        mentions=sum(len(m) for d in annotated for m in d.mentions),
        links=relations,
        triples=len(statements),
        seconds=time.perf_counter() - started,
        stages=stages,
        outputs=outputs,
        failed=failed,
    )


def write_outputs(
    folder: Path,
    statements: Statements,
    *,
    documents: Sequence,  # type: ignore[type-arg]
    validate: bool = True,
    stages: dict[str, float] | None = None,
) -> dict[str, int]:
    """Write the dumps, the store, the description, the views and the manifest into `folder` (a staging folder).

    The N-Quads dump is written first; the store bulk-loads it in a thread (pyoxigraph lets go of the
    GIL) while the other exports are written. With `validate`, the shapes and violation queries then
    run on that store, and a violation raises BuildError before the views are made (the caller's
    staging folder is discarded, so nothing is published). Returns bytes per file; `stages` gets the
    seconds of export, store, validate and views (store overlaps export).
    """
    import threading

    import pyoxigraph as ox

    from .describe import describe_facts, statement_facts
    from .export import write_build_exports
    from .statements import write_chunks

    timing = {} if stages is None else stages
    sizes: dict[str, int] = {}
    checksums: dict[str, str] = {}

    def record(name: str, size: int, digest: str) -> None:
        sizes[name] = size
        checksums[name] = digest

    def put(name: str, data: bytes) -> None:
        atomic_write_bytes(folder / name, data)
        record(name, len(data), hashlib.sha256(data).hexdigest())

    t = time.perf_counter()
    record("aflm.nq", *write_chunks(folder / "aflm.nq", statements.nquads_chunks()))
    store = ox.Store(str(folder / "store"))
    loaded: dict[str, object] = {}

    def load(store: ox.Store) -> None:
        started = time.perf_counter()
        try:
            store.bulk_load(path=str(folder / "aflm.nq"), format=ox.RdfFormat.N_QUADS)
            store.flush()
        except BaseException as exc:  # re-raised in the main thread
            loaded["error"] = exc
        loaded["seconds"] = time.perf_counter() - started

    loader = threading.Thread(target=load, args=(store,), name="aflm-store-load", daemon=True)
    loader.start()
    try:
        merged = statements.merged()
        # N-Triples, Turtle, TriG, JSON-LD, RDF/XML, then void.ttl + dataset.jsonld describing them all
        write_build_exports(folder, statements, merged, record=record)
        facts = statement_facts(folder, statements, known={n: (sizes[n], checksums[n]) for n in sizes})
        for name, data in describe_facts(facts).items():
            put(name, data)
        timing["export"] = time.perf_counter() - t
    finally:
        loader.join()
    if "error" in loaded:
        raise loaded["error"]  # type: ignore[misc]
    timing["store"] = float(loaded["seconds"])  # type: ignore[arg-type]

    if validate:  # SHACL shapes + queries/*-violation.rq, on the staged store (shacl_sparql.py, validate.py)
        from .shacl_sparql import validate_statements
        from .validate import ValidationError

        t = time.perf_counter()
        try:
            checked = validate_statements(statements, store)
        except ValidationError as exc:
            raise BuildError(str(exc)) from None
        timing["validate"] = time.perf_counter() - t
        if not checked.conforms:
            raise BuildError(checked.summary())

    # the HTML views read this staged store, so they are part of the atomic build (views.py)
    from .views import build_views, version_note

    t = time.perf_counter()
    for name, view in build_views(store, version=version_note(__version__, checksums["aflm.nq"])).items():
        put(f"views/{name}", view.html.encode("utf-8"))
    timing["views"] = time.perf_counter() - t
    del store

    manifest = {
        "tool": "aflm-graph",
        "version": __version__,
        "documents": [
            {"source_file": d.source_file, "id": d.id, "sha256": d.sha256, "recommendations": len(d.recommendations)}
            for d in documents
        ],
        "quads": len(statements),
        "triples": len(merged),
        "graphs": {g: len(items) for g, items in sorted(statements.graphs.items())},
        "files": {name: {"bytes": sizes[name], "sha256": checksums[name]} for name in sorted(sizes)},
    }
    put("manifest.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return sizes
