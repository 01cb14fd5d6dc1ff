"""A release: the exports with their dataset description (`write_exports`), and the bundle to publish (`write_bundle`).

Every format, the ontology, the vocabularies and shapes, the VoID/DCAT and schema.org descriptions,
the HTML documentation, a README with licence and citation, and SHA256SUMS (`aflm-graph export --bundle`).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..fsutil import OutputError, atomic_write_bytes, check_output_folder, staged_directory
from ..graph.describe import DESCRIPTION, LICENSE, TITLE, citation, dataset_facts, describe_files
from ..graph.export import (
    FORMATS,
    WRITTEN_BY_PIPELINE,
    ExportError,
    load_build_quads,
    merged_triples,
    serialize,
)
from ..terms.resources import ontology_dir
from .docs import write_docs

if TYPE_CHECKING:
    import pyoxigraph as ox


def write_exports(
    folder: Path,
    quads: Sequence[ox.Quad],
    *,
    put: Callable[[str, bytes], None],
    triples: Sequence[ox.Triple] | None = None,
    skip: Iterable[str] = WRITTEN_BY_PIPELINE,
) -> list[str]:
    """Write the exports not yet in `folder`, then the dataset description of them all; return the names written.

    `put(name, data)` writes one file atomically (the pipeline's writer, which also records its size
    and checksum in the manifest).
    """
    merged = merged_triples(quads) if triples is None else triples
    written = []
    skipped = set(skip)
    for spec in FORMATS.values():
        if spec.file in skipped:
            continue
        put(spec.file, serialize(quads, spec.name, triples=merged))
        written.append(spec.file)
    for name, data in describe_files(folder, quads, triples=merged).items():
        put(name, data)
        written.append(name)
    return written


def sha256sums(folder: Path) -> bytes:
    """`sha256sum`-compatible lines for every file under `folder` (relative paths, sorted)."""
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(folder).as_posix()}\n")
    return "".join(lines).encode("utf-8")


def _bundle_readme(files: dict[str, int], *, version: str, citation: str) -> str:
    rows = "\n".join(f"| `{name}` | {size:,} |" for name, size in sorted(files.items()))
    return f"""# {TITLE}, version {version}

{DESCRIPTION}

## Licence

The data in this bundle (the dumps, the ontology, the vocabularies, the shapes and the
descriptions) is published under the Creative Commons Attribution 4.0 International licence
(CC BY 4.0, {LICENSE}). The recommendation texts are quoted from source documents issued by
ASEAN member states and AFML meetings; those documents remain the work of their issuers and keep
their own terms. Every document records its source file and checksum (prov:wasDerivedFrom).

## Citation

{citation}

## Files

The dumps hold the same graph. Turtle, N-Triples, JSON-LD (inline `@context`) and RDF/XML hold
the merged graph; N-Quads and TriG keep the named graphs (`https://w3id.org/aflm/graph/data`,
`.../ontology`, `.../reference`, `.../vocab`). `void.ttl` describes the dataset in VoID and DCAT
(counts, distributions with sizes and checksums), `dataset.jsonld` in schema.org for dataset
search engines. `ontology/` holds the edited sources (see `ontology/README.md`), `docs/` their
HTML documentation. `SHA256SUMS` lists every file's checksum: check with `sha256sum -c SHA256SUMS`.

| file | bytes |
|---|---|
{rows}
"""


def is_bundle(folder: Path) -> bool:
    """Whether `folder` holds a release bundle that `write_bundle` wrote: its SHA256SUMS lists aflm.nq."""
    sums = folder / "SHA256SUMS"
    try:
        if not sums.is_file() or sums.stat().st_size > 16 * 1024 * 1024:
            return False
        lines = sums.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return False
    return any(re.fullmatch(r"[0-9a-f]{64}  aflm\.nq", line) for line in lines)


def write_bundle(build: Path, out: Path, *, docs: bool = True, force: bool = False) -> dict[str, int]:
    """A release bundle in `out` (replaced atomically): every format, the ontology, vocabularies, shapes,
    dataset description, documentation, a README with licence and citation, and SHA256SUMS. Returns bytes per file.

    `out` is replaced only when it is new, empty or an earlier bundle (with `force`, a folder of other files
    too; never the home folder, `/`, the current folder or the build): see fsutil.check_output_folder.
    """
    try:
        check_output_folder(out, is_previous=is_bundle, what="bundle", inputs=[build], force=force)
    except OutputError as exc:
        raise ExportError(str(exc)) from None
    quads = load_build_quads(build)
    triples = merged_triples(quads)
    sizes: dict[str, int] = {}
    with staged_directory(Path(out)) as stage:

        def put(name: str, data: bytes) -> None:
            atomic_write_bytes(stage / name, data)
            sizes[name] = len(data)

        for spec in FORMATS.values():
            put(spec.file, serialize(quads, spec.name, triples=triples))
        for name, data in describe_files(stage, quads, triples=triples).items():
            put(name, data)
        source = ontology_dir()
        for path in sorted(source.rglob("*")):
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(source).parts):
                put(f"ontology/{path.relative_to(source).as_posix()}", path.read_bytes())
        if docs:
            for path in write_docs(stage / "docs"):
                sizes[path.relative_to(stage).as_posix()] = path.stat().st_size
        facts = dataset_facts(stage, quads, triples)
        put("README.md", _bundle_readme(sizes, version=__version__, citation=citation(facts)).encode("utf-8"))
        put("SHA256SUMS", sha256sums(stage))
        # temporary files are created private (0600); a bundle is for publishing: world-readable
        for path in [stage, *stage.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return sizes
