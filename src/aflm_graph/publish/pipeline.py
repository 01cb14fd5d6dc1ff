"""The main job: documents -> parse -> annotate -> link -> build -> outputs in one folder, swapped in atomically."""

from __future__ import annotations

import collections
import contextlib
import ctypes
import dataclasses
import gc
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .. import __version__
from ..fsutil import OutputError, atomic_write_bytes, check_output_folder, staged_directory
from ..graph.describe import describe_facts, distributions, statement_facts
from ..graph.export import check_predicates, write_build_exports
from ..graph.statements import write_chunks
from ..sparql.catalogue import QueryError, check_safe
from ..sparql.textsearch import INDEX_NAME, index_of
from ..validate import stream as validate_stream  # its functions looked up at call time: tests swap them
from ..validate.shacl import Finding, ValidationError
from ..validate.stream import FULL_QUERY_LIMIT, StatementsReport
from ..views.network import build_views, load_views_store, version_note, words_store

if TYPE_CHECKING:
    from ..graph.build import DocumentStatements
    from ..graph.describe import DatasetFacts
    from ..graph.statements import Statements
    from ..ingest.parse import Document
    from ..ingest.pdf import PdfLimits
    from ..terms.vocab import Vocabulary

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
    (to /etc/passwd, say) is refused, not followed. Only regular files are read: a device (/dev/zero
    never ends), a FIFO (blocks for ever) or a socket, given by name or met in a folder with a document's
    suffix, is refused.
    """
    import os

    from ..ingest.files import not_regular
    from ..safetext import printable

    def special(p: Path) -> str | None:
        """What `p` is if it exists and is neither a regular file nor a folder (stat follows links)."""
        try:
            mode = os.stat(p).st_mode
        except OSError:
            return None
        kind = not_regular(mode)
        return None if kind == "a folder" else kind

    def refuse_special(p: Path, kind: str) -> BuildError:
        return BuildError(printable(f"{p}: not a regular file ({kind}); expected a document (*.txt, *.pdf) or a "
                                    "folder of documents"))

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(
                p for p in path.rglob("*")
                if p.suffix.lower() in DOCUMENT_SUFFIXES and not p.name.startswith(".")
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and (p.is_file() or special(p) is not None)
            )
            root = path.resolve()
            for p in inside:
                if not p.resolve().is_relative_to(root):
                    raise BuildError(printable(
                        f"{p}: refused: a link to {p.resolve()}, outside {path}; only files under "
                        "the given paths are read (name the file itself to build it)"))
                kind = special(p)
                if kind is not None:
                    raise refuse_special(p, kind)
            found += inside
        elif path.is_file():
            found.append(path)
        elif (kind := special(path)) is not None:
            raise refuse_special(path, kind)
        else:
            raise BuildError(printable(f"{path}: no such file or folder"))
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if not unique:
        raise BuildError(printable(f"no documents (*.txt, *.pdf) found in {', '.join(str(p) for p in paths)}"))
    return unique


def is_build(folder: Path) -> bool:
    """Whether `folder` holds a previous build: a manifest.json that aflm-graph wrote (its "tool")."""
    manifest = folder / "manifest.json"
    try:
        if not manifest.is_file() or manifest.stat().st_size > 64 * 1024 * 1024:
            return False
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("tool") == "aflm-graph"


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
    store: bool = False,
    force: bool = False,
) -> BuildReport:
    """Build the graph of every document under `paths` (default `seeds/`) into the folder `out`.

    With `validate` (the default) a graph that violates ontology/shapes.ttl or a violation query
    raises BuildError before anything is written, so the previous `out` stays whole. A document that
    cannot be read stops the build, or with `keep_going` is left out and named in `report.failed`
    with its reason (a PDF that needs a password or OCR, or is damaged or too big for `pdf_limits`).
    With `store`, an on-disk pyoxigraph store is written to `out/store` as well: it opens at once
    for a corpus too big to load into memory for each query (see engine.open_store).

    `out` is replaced only when it is new, empty or a previous build (fsutil.check_output_folder): a folder
    with other files is refused before any work (with `force`, replaced), and the home folder, `/`, the
    current folder and the inputs are refused whatever `force` says.
    """
    from ..enrich.link import link
    from ..enrich.recurrence import recur
    from ..graph.build import build_statements
    from ..terms.vocab import load_vocabulary

    tick = progress or _noop
    started = time.perf_counter()
    stages: dict[str, float] = {}
    inputs = list(paths) if paths is not None else [Path("seeds")]
    if not inputs:
        raise BuildError("no input paths given; expected at least one file or folder (or None for seeds/)")
    try:
        check_output_folder(out, is_previous=is_build, what="build", inputs=inputs, force=force)
    except OutputError as exc:
        raise BuildError(str(exc)) from None
    files = discover(inputs)

    # parse -> annotate -> statements, one document at a time: in worker processes for a big corpus
    t = time.perf_counter()
    documents = []
    prepared = []
    concepts: list[tuple[tuple[str, int], ...]] = []  # per recommendation, for the recurrence linker
    failed: dict[str, str] = {}
    spent = {"parse": 0.0, "annotate": 0.0, "build": 0.0}
    mentions = 0
    vocabulary = load_vocabulary()
    for i, (path, outcome) in enumerate(zip(files, _prepare_all(files, pdf_limits, vocabulary), strict=True), 1):
        if isinstance(outcome, _Failed):
            if outcome.fatal or not keep_going:
                raise BuildError(outcome.reason)
            failed[str(path)] = " ".join(outcome.reason.split())
        else:
            documents.append(outcome.document)
            prepared.append(outcome.statements)
            concepts.extend(outcome.concepts)
            mentions += outcome.mentions
            for stage, seconds in outcome.seconds.items():
                spent[stage] += seconds
        tick("parse", i, len(files))
    if not documents:
        raise BuildError(f"no document could be read ({len(failed)} failed): " + "; ".join(failed.values()))
    seen: dict[str, str] = {}
    for doc in documents:
        if doc.id in seen:
            raise BuildError(f"{doc.source_file}: document id {doc.id!r} is already used by {seen[doc.id]}")
        seen[doc.id] = doc.source_file
    # the stages ran interleaved (and in parallel): the wall time is shared out as their work was
    wall, work = time.perf_counter() - t, sum(spent.values()) or 1.0
    stages.update({stage: wall * seconds / work for stage, seconds in spent.items()})

    t = time.perf_counter()
    texts = [rec.text for doc in documents for rec in doc.recommendations]
    owners = [doc.id for doc in documents for _ in doc.recommendations]
    links = link(texts, owners)
    recurrences = recur(texts, owners, concepts)
    del concepts
    stages["link"] = time.perf_counter() - t

    t = time.perf_counter()
    try:  # sorted N-Triples statements per graph: what every output is written from (statements.py)
        statements = build_statements(prepared, links, vocabulary=vocabulary, recurrences=recurrences)
    except ValueError as exc:
        raise BuildError(str(exc)) from None
    del prepared
    stages["build"] += time.perf_counter() - t

    target = Path(out)
    relations: dict[str, int] = {}
    for item in links:
        relations[item.relation] = relations.get(item.relation, 0) + 1
    if recurrences:
        relations["recurrence"] = len(recurrences)
    counts = {"documents": len(documents), "recommendations": len(texts), "triples": len(statements)}
    # What only the report needed goes now: write_outputs empties the statements and documents once it has
    # read them (`release`), and their memory is then free for the store of everything it loads.
    del texts, owners, links, recurrences
    # Millions of objects now live until the end: out of the collector's sight, a full collection no
    # longer walks them all (and forked validation workers do not copy them by touching their headers).
    gc.freeze()
    try:
        with staged_directory(target) as staging:  # a failed validation removes it: the previous `out` stays
            outputs = write_outputs(staging, statements, documents=documents, validate=validate, stages=stages,
                                    store=store, release=True)
    finally:
        gc.unfreeze()

    return BuildReport(
        out=target,
        documents=counts["documents"],
        recommendations=counts["recommendations"],
        mentions=mentions,
        links=relations,
        triples=counts["triples"],
        seconds=time.perf_counter() - started,
        stages=stages,
        outputs=outputs,
        failed=failed,
    )


@dataclass
class _Prepared:
    """A document parsed, annotated and turned into statements (what a worker sends back)."""

    document: Document
    statements: DocumentStatements
    mentions: int
    seconds: dict[str, float]
    concepts: tuple[tuple[tuple[str, int], ...], ...] = ()  # per recommendation: (concept, evidence start)


@dataclass
class _Failed:
    reason: str
    fatal: bool = False  # not a bad document but a bad value in one (a member state that is none): always stops


PARALLEL_FROM = 64
"""From this many documents, parse, annotate and the per-document statements run in worker processes."""


def _prepare(path: Path, pdf_limits: PdfLimits | None) -> _Prepared | _Failed:
    """parse -> annotate -> statements for one document, timing each (runs in a worker for big corpora)."""
    from ..enrich.annotate import annotate
    from ..graph.build import AnnotatedDocument, document_statements
    from ..ingest.parse import ParseError, parse_file
    from ..safetext import printable

    t0 = time.perf_counter()
    try:
        document = parse_file(path, pdf_limits=pdf_limits)
    except ParseError as exc:
        return _Failed(printable(exc))  # echoed as "Left out: ..." on a terminal
    t1 = time.perf_counter()
    vocabulary = _WORKING["vocabulary"]
    found = tuple(tuple(annotate(rec.text, vocabulary)) for rec in document.recommendations)
    t2 = time.perf_counter()
    try:
        made = document_statements(AnnotatedDocument(document, found))
    except ValueError as exc:
        return _Failed(printable(exc), fatal=True)
    t3 = time.perf_counter()
    concepts = tuple(tuple((m.concept, m.start) for m in mentions) for mentions in found)
    return _Prepared(document, made, sum(map(len, found)), {"parse": t1 - t0, "annotate": t2 - t1, "build": t3 - t2},
                     concepts)


_WORKING: dict[str, Vocabulary] = {}  # the build's vocabulary, set before the workers fork (they inherit it)


def _prepare_all(files: Sequence[Path], pdf_limits: PdfLimits | None, vocabulary: Vocabulary
                 ) -> Iterator[_Prepared | _Failed]:
    """`_prepare` every file, in order: in one process per core (forked, so the vocabulary is read once).

    Each worker dies with this process (orphans.die_with_parent): `kill -9` of a build leaves none behind.
    """
    import os

    _WORKING["vocabulary"] = vocabulary
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if len(files) < PARALLEL_FROM or cores < 2:
        yield from (_prepare(path, pdf_limits) for path in files)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    from ..orphans import die_with_parent

    with ProcessPoolExecutor(max_workers=cores, mp_context=multiprocessing.get_context("fork"),
                             initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        yield from pool.map(partial(_prepare, pdf_limits=pdf_limits), files, chunksize=8)


def write_outputs(
    folder: Path,
    statements: Statements,
    *,
    documents: Sequence[Document],
    validate: bool = True,
    stages: dict[str, float] | None = None,
    store: bool = False,
    release: bool = False,
) -> dict[str, int]:
    """Write the dumps, the full-text index (search.sqlite), the description, the views, the manifest and (with
    `store`) the on-disk store into `folder` (a staging folder).

    The N-Quads dump is written first. With `validate` the shapes are checked on the statements, then
    the SPARQL checks (sh:sparql, queries/*-violation.rq) run on a pyoxigraph store, and a violation raises
    BuildError (the caller's staging folder is discarded, so nothing is published, views included).
    Up to FULL_QUERY_LIMIT statements (and without `store`) one in-memory store of the whole dump serves the
    checks and the views: it loads and the checks run in a thread (pyoxigraph lets go of the GIL) while
    Turtle and TriG are written, the views are drawn while the checks still run, and then the main thread
    takes the checks that are left beside that thread. Otherwise, as before, a store loads in a thread from the
    start for the views alone (the whole dump on disk under `folder/store` with `store`, else in memory only
    what the views read, views.load_views_store) and the checks build their own (validate.stream).
    `release`: the caller lets go of `statements` and `documents`; they are emptied once read, so that the
    store of everything takes the memory they held (docs/design.md). Returns bytes per file; `stages` gets
    the seconds of export, store, validate and views (the store loads while the others run).
    """
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
    nquads = folder / "aflm.nq"
    record("aflm.nq", *write_chunks(nquads, statements.nquads_chunks()))
    put(INDEX_NAME, index_of(documents))  # the full-text index (sparql/textsearch.py), before `release`
    quads = len(statements)
    graph_sizes = {g: len(items) for g, items in sorted(statements.graphs.items())}
    described = [
        {"source_file": d.source_file, "id": d.id, "sha256": d.sha256, "recommendations": len(d.recommendations)}
        for d in documents
    ]
    # One store for the checks and the views when everything fits (see the docstring); else a store for
    # the views loads now, beside the exports, and the checks load their own.
    shared = validate and not store and quads <= FULL_QUERY_LIMIT
    graph_store = ox.Store(str(folder / "store")) if store else ox.Store()

    def load_views() -> None:
        if store:  # the whole graph, kept for `aflm-graph query`
            graph_store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
            graph_store.flush()
            return
        load_views_store(graph_store, statements, scratch=folder / ".views.nt.tmp")

    spent = {"validate": 0.0, "views": 0.0, "wait": 0.0}
    checked = _SharedChecks()
    # The shared store's SPARQL checks (validate_stream.query_checks): the store's thread takes them one by one
    # once the store is loaded, and the main thread joins in when its exports and the views are written.
    # pyoxigraph's query results may only be freed by the thread that made them ("PyQuerySolutions is
    # unsendable"); they end up in reference cycles only through the frames that a query's first safety check
    # keeps (rdflib's parser, catalogue.check_safe), so the checks' texts are checked once in the main thread
    # before the store's thread starts (check_safe caches its verdict), and the collector stays off while both
    # threads query: the main thread collects after the join, when its own are the only ones left.
    jobs: collections.deque[Callable[[], list[Finding]]] = collections.deque()
    findings: list[Finding] = []
    loaded = threading.Event()
    collecting: list[bool] = []  # whether the collector ran before the store's thread started

    def run_checks() -> None:
        while True:
            try:
                job = jobs.popleft()
            except IndexError:
                break
            findings.extend(job())  # list.extend is atomic under the GIL

    def load_and_check() -> None:
        """The thread of the shared store: the whole dump, then the SPARQL checks on it (with the main thread).

        `load`, not `bulk_load`: its peak memory is a fifth lower for the same time. `lenient`: the dump is
        ours, written from the statements; the strict parsers that read the same bytes for Turtle and TriG
        refuse what a lenient load would let through (measured at 1.6M quads: 2.3 s against 3.2 s)."""
        started = time.perf_counter()
        try:
            graph_store.load(path=str(nquads), format=ox.RdfFormat.N_QUADS, lenient=True)
            jobs.extend(validate_stream.query_checks(checked.shapes_done(), graph_store))
            checked.loaded = True
        finally:
            loaded.set()  # also on an error, which the main thread gets from join_store
        checked.store_seconds = time.perf_counter() - started
        checked.queries_started = time.perf_counter()
        run_checks()

    join_store = (lambda: 0.0) if shared else _in_background("store", load_views)
    merged = statements.merged()
    triples = len(merged)
    found: dict[str, DatasetFacts] = {}
    try:

        def first() -> None:  # the last work that reads the statements (after N-Triples and the small JSON-LD)
            nonlocal join_store
            started = time.perf_counter()
            found["facts"] = statement_facts(None, statements)
            # RDF/XML names each predicate by a QName: the merged graph's predicates, known from the facts, are
            # checked here; the helper that writes aflm.rdf scans only for the rest (predicates_checked)
            check_predicates(found["facts"].merged.property_triples)
            if shared:
                try:
                    checked.shapes = validate_stream.check_shapes(statements)
                except ValidationError as exc:
                    raise BuildError(str(exc)) from None
                spent["validate"] = time.perf_counter() - started
                if release:  # the statements' memory goes to the store (~0.3 GB per million quads)
                    merged.clear()
                    for items in statements.graphs.values():
                        items.clear()
                    if isinstance(documents, list):
                        documents.clear()
                    _give_back_memory()
                for text in checked.shapes_done().queries.values():
                    with contextlib.suppress(QueryError):  # the check itself reports it
                        check_safe(text)  # cached: the store's thread then parses nothing (see above)
                collecting.append(gc.isenabled())
                gc.disable()
                join_store = _in_background("store", load_and_check)

        def draw_views() -> None:
            started = time.perf_counter()
            version = version_note(__version__, checksums["aflm.nq"])
            # the views' words: in the store itself when it holds everything, else a store made when needed
            words = None if store or shared else words_store(statements, scratch=folder / ".views-words.nt.tmp")
            for name, view in build_views(graph_store, version=version, details=words).items():
                put(f"views/{name}", view.html.encode("utf-8"))
            spent["views"] = time.perf_counter() - started

        def meanwhile() -> None:  # while the JSON-LD and RDF/XML of a big graph are written by a helper
            if not validate:
                started = time.perf_counter()
                join_store()  # the views read the store: wait for it
                spent["wait"] += time.perf_counter() - started
                draw_views()
                return
            # SHACL shapes + queries/*-violation.rq (validate/stream.py, validate/shacl.py)
            started = time.perf_counter()
            try:
                if shared:
                    # The views are drawn while the store's thread runs the checks (pyoxigraph lets go of the
                    # GIL): on a violation they are thrown away with the staging folder, nothing is published.
                    loaded.wait()
                    spent["wait"] = time.perf_counter() - started
                    if checked.loaded:
                        draw_views()
                    started = time.perf_counter()
                    run_checks()  # the checks left, beside the store's thread
                    join_store()  # the store's thread has finished its last check
                    _collect_again(collecting)
                    spent["wait"] += time.perf_counter() - started  # main-thread time on the checks
                    spent["queries"] = time.perf_counter() - checked.queries_started
                    report = validate_stream.queries_report(checked.shapes_done(), findings,
                                                            spent["queries"])
                else:  # the checks that the statements cannot settle run on a store of their own
                    report = validate_stream.validate_statements(statements)
                    spent["validate"] = time.perf_counter() - started
            except ValidationError as exc:
                raise BuildError(str(exc)) from None
            assert isinstance(report, StatementsReport)
            if not report.conforms:
                raise BuildError(report.summary())
            # The HTML views read the staged graph, so they are part of the atomic build (views/network.py). Drawn
            # once the graph is valid (or while the checks run, above), here: on a big graph, while the helper
            # still writes (else one core would wait for it, then the other for the views).
            if not spent["views"]:
                started = time.perf_counter()
                join_store()  # the views read the store: wait for it (its seconds are taken below)
                spent["wait"] += time.perf_counter() - started
                draw_views()

        # N-Triples, Turtle, TriG, JSON-LD, RDF/XML; then void.ttl + dataset.jsonld describing them all
        write_build_exports(folder, statements, merged, record=record, meanwhile=meanwhile, first=first,
                            predicates_checked=True)
        known = {n: (sizes[n], checksums[n]) for n in sizes if not n.startswith("views/")}
        facts = dataclasses.replace(found["facts"], files=distributions(folder, known))
        for name, data in describe_facts(facts).items():
            put(name, data)
        timing["export"] = time.perf_counter() - t - spent["validate"] - spent["views"] - spent["wait"]
        if validate:  # the shapes, plus the SPARQL checks' own seconds when they ran in the store's thread
            timing["validate"] = spent["validate"] + spent.get("queries", 0.0)
        timing["views"] = spent["views"]
    finally:
        try:
            seconds = join_store()
        finally:
            _collect_again(collecting)
    timing["store"] = checked.store_seconds if checked.store_seconds is not None else seconds

    manifest = {
        "tool": "aflm-graph",
        "version": __version__,
        "documents": described,
        "quads": quads,
        "triples": triples,
        "graphs": graph_sizes,
        "files": {name: {"bytes": sizes[name], "sha256": checksums[name]} for name in sorted(sizes)},
    }
    put("manifest.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return sizes


def _collect_again(collecting: list[bool]) -> None:
    """Turn the collector back on (if it was on before `collecting` got its state) and collect, in this thread."""
    if collecting and collecting.pop():
        gc.enable()
        gc.collect()


def _give_back_memory() -> None:
    """Return freed memory to the system once millions of statements are gone: a collection (out of the
    freeze, which build() set) lets Python drop its emptied arenas, and glibc's malloc_trim the free pages
    of its heap (measured at 1000 documents: 606 MiB -> 225 MiB, where clearing alone gave 463 MiB)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    with contextlib.suppress(OSError, AttributeError):  # not glibc (macOS, musl): freed memory is reused anyway
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@dataclass
class _SharedChecks:
    """What the shared store's thread and the main thread tell each other while the SPARQL checks run."""

    shapes: validate_stream.ShapesChecked | None = None  # the shapes' findings, before the store's checks
    loaded: bool = False  # the store holds the whole dump and the checks are queued
    store_seconds: float | None = None  # how long the load took
    queries_started: float = 0.0  # perf_counter when the checks began

    def shapes_done(self) -> validate_stream.ShapesChecked:
        assert self.shapes is not None, "the shapes run before the store's checks are queued"
        return self.shapes


def _in_background(name: str, work: Callable[[], object]) -> Callable[[], float]:
    """Start `work` in a thread; the returned function waits for it, re-raises its error, returns its seconds."""
    outcome: dict[str, object] = {}

    def run() -> None:
        started = time.perf_counter()
        try:
            work()
        except BaseException as exc:  # re-raised by the waiter, in the caller's thread
            outcome["error"] = exc
        outcome["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=run, name=f"aflm-{name}", daemon=True)
    thread.start()

    def wait() -> float:
        thread.join()
        if "error" in outcome:
            raise outcome.pop("error")  # type: ignore[misc]  # outcome holds what run() stored under that key
        return float(outcome["seconds"])  # type: ignore[arg-type]  # outcome holds what run() stored under that key

    return wait
