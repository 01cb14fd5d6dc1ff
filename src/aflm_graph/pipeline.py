"""The main job: documents -> parse -> annotate -> link -> build -> outputs in one folder, swapped in atomically."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .fsutil import atomic_write_bytes, staged_directory

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


def discover(paths: Iterable[Path]) -> list[Path]:
    """Document files under the given files and folders (recursively), in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES and not p.name.startswith(".")
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
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
) -> BuildReport:
    """Build the graph of every document under `paths` (default `seeds/`) into the folder `out`.

    With `validate` (the default) a graph that violates ontology/shapes.ttl or a violation query
    raises BuildError before anything is written, so the previous `out` stays whole.
    """
    from .annotate import annotate
    from .build import AnnotatedDocument, build_quads
    from .link import link
    from .parse import ParseError, parse_file
    from .vocab import load_vocabulary

    tick = progress or _noop
    started = time.perf_counter()
    stages: dict[str, float] = {}
    files = discover(paths or [Path("seeds")])

    t = time.perf_counter()
    documents = []
    for i, path in enumerate(files, 1):
        try:
            documents.append(parse_file(path))
        except ParseError as exc:
            raise BuildError(str(exc)) from None
        tick("parse", i, len(files))
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
    try:
        quads = build_quads(annotated, links, vocabulary=vocabulary)
    except ValueError as exc:
        raise BuildError(str(exc)) from None
    stages["build"] = time.perf_counter() - t

    if validate:  # SHACL shapes + queries/*-violation.rq (validate.py)
        from .validate import ValidationError, validate_quads

        t = time.perf_counter()
        try:
            checked = validate_quads(quads)
        except ValidationError as exc:
            raise BuildError(str(exc)) from None
        stages["validate"] = time.perf_counter() - t
        if not checked.conforms:
            raise BuildError(checked.summary())

    t = time.perf_counter()
    out = Path(out)
    with staged_directory(out) as stage:
        outputs = write_outputs(stage, quads, documents=documents)
    stages["write"] = time.perf_counter() - t

    relations: dict[str, int] = {}
    for item in links:
        relations[item.relation] = relations.get(item.relation, 0) + 1
    return BuildReport(
        out=out,
        documents=len(documents),
        recommendations=len(texts),
        mentions=sum(len(m) for d in annotated for m in d.mentions),
        links=relations,
        triples=len(quads),
        seconds=time.perf_counter() - started,
        stages=stages,
        outputs=outputs,
    )


def write_outputs(folder: Path, quads: list, *, documents: Sequence) -> dict[str, int]:  # type: ignore[type-arg]
    """Write the dumps, the store and the manifest into `folder` (a staging folder); return bytes per file."""
    import pyoxigraph as ox

    from .export import canonical_quads, turtle, write_exports

    quads = canonical_quads(quads, assume_sorted=True)  # stable blank-node labels, if any (export.py)
    sizes: dict[str, int] = {}
    checksums: dict[str, str] = {}

    def put(name: str, data: bytes) -> None:
        atomic_write_bytes(folder / name, data)
        sizes[name] = len(data)
        checksums[name] = hashlib.sha256(data).hexdigest()

    put("aflm.nq", ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    triples = sorted({ox.Triple(q.subject, q.predicate, q.object) for q in quads}, key=_triple_key)
    put("aflm.ttl", turtle(triples))  # prefixes declared in sorted order (export.py)
    # N-Triples, JSON-LD, RDF/XML, TriG, then void.ttl + dataset.jsonld describing them all (export.py)
    write_exports(folder, quads, put=put, triples=triples)

    store = ox.Store(str(folder / "store"))
    store.bulk_extend(quads)
    store.flush()
    # the HTML views read this staged store, so they are part of the atomic build (views.py)
    from .views import build_views, version_note

    for name, view in build_views(store, version=version_note(__version__, checksums["aflm.nq"])).items():
        put(f"views/{name}", view.html.encode("utf-8"))
    del store

    graphs: dict[str, int] = {}
    for q in quads:
        graphs[q.graph_name.value] = graphs.get(q.graph_name.value, 0) + 1
    manifest = {
        "tool": "aflm-graph",
        "version": __version__,
        "documents": [
            {"source_file": d.source_file, "id": d.id, "sha256": d.sha256, "recommendations": len(d.recommendations)}
            for d in documents
        ],
        "quads": len(quads),
        "triples": len(triples),
        "graphs": dict(sorted(graphs.items())),
        "files": {name: {"bytes": sizes[name], "sha256": checksums[name]} for name in sorted(sizes)},
    }
    put("manifest.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return sizes


def _triple_key(triple: object) -> tuple[str, str, str]:
    return (str(triple.subject), str(triple.predicate), str(triple.object))  # type: ignore[attr-defined]
