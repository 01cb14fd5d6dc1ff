"""`make bench`: performance figures, side by side with rdflib and raw pyoxigraph, in one run.

Everything is measured on this machine in this run, on synthetic corpora (`bench/synth.py`, seed
1; never real sources), each measurement in a fresh Python process so that one cannot warm or
bloat the next (peak memory is that process's own high-water mark, from `wait4`):

- build: documents/s and recommendations/s end to end and per stage (parse, annotate, link, build,
  export, store, validate, views) at 100, 1,000 and 10,000 documents, and each stage's growth
  factor time(10x)/time(1x). The store (in memory, for the views: the statements they read) loads
  in a thread while the exports are written, and validation runs while a helper process writes
  JSON-LD and RDF/XML, so stage times add up to more than the total;
- load: the build's N-Quads (about 1M triples) into our default store (`engine.open_store` on a
  build without `--store`: pyoxigraph in memory), raw pyoxigraph in memory and rdflib's memory
  store (rdflib.Dataset), in triples/s and peak memory;
- queries: every competency query (the named queries that are not violation checks, with the
  parameters of their examples) at about 100k and 1M triples, on our engine (`engine.run` on the
  default store), raw pyoxigraph in memory (`Store.query`, every row read), rdflib's own SPARQL
  engine, and, for information, our engine on the on-disk store of `aflm-graph build --store`
  (one run, at 100k triples only: at 1M its big answers take over a minute in all). Ours and
  pyoxigraph are the best of a few runs. An rdflib query runs in a forked process that is killed
  at a time limit of 15 times our engine's time (at most 10 s) and reported as "> N s": the ratio
  is then a lower bound, and so is the geometric mean;
- Turtle: the build's writer (aflm.nt streamed through pyoxigraph's serialiser into a file) vs
  pyoxigraph's serialiser on triples already parsed vs rdflib's (stopped at 25 times ours), at about
  1M triples;
- start-up: `aflm-graph --help` vs `python -c pass` (best and median of 20 runs),
  `aflm-graph query documents` at 1M triples on the default build and with `--store` (2 runs each),
  and the peak memory of a query run on the 1M-triple build, both ways;
- serve (`serve_figures`; alone with `--only serve --out FILE`): on a real `aflm-graph serve` over the seed
  build, p50/p95 over 100 each of the query page ready in headless Chromium, the resource pages, and a named
  query through /api/run against the same query embedded; then every competency query through /api/run
  against the same run embedded and rendered in the same format, on the seed build (100 each) and on the
  ~100k-triple query dataset (30 each; the round-trip target is this dataset's geometric mean);
- views (bench/views.py; alone with `--only views`): every view of the seed, 100- and 1,000-document builds
  and a ~2,000-node view in headless Chromium: nodes, edges, bytes, first drawing, stable, zoom frames/s.

Results go to `bench/results.json` (and the table to standard output). `--quick` runs the same
code on tiny inputs in a minute or so (a smoke test: its figures mean nothing).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent  # bench/

SEED = 1
TARGETS = {
    "load_vs_rdflib": 8.0,  # load triples/s >= 8x rdflib
    "queries_vs_rdflib": 10.0,  # geometric mean >= 10x faster than rdflib
    "queries_vs_pyoxigraph": 1.5,  # within 1.5x of raw pyoxigraph
    "turtle_vs_rdflib": 20.0,
    "build_recommendations_per_s": 1000.0,  # at 10,000 documents
    "growth": 12.0,  # every stage, 10x the input
    "help_vs_python": 3.0,
    "query_peak_rss_mb": 600.0,  # at 1M triples
    "page_ready_p95_s": 1.0,  # the query page ready in Chromium, on the seed build
    "resource_page_p95_ms": 50.0,  # every resource page (the worst p95)
    # /api/run p50 / embedded p50 (run and rendered in the same format), the geometric mean over every competency
    # query on the ~100k-triple query dataset (queries of realistic cost); the seed build's geometric mean and the
    # fixed overhead of a request (the median of round trip - embedded there) are printed beside it, for information
    "named_query_round_trip_vs_embedded": 1.5,
}
STAGES = ("parse", "annotate", "link", "build", "export", "store", "validate", "views")


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    small_triples: int  # the two query datasets
    large_triples: int
    rdflib_timeout: float  # per rdflib query or serialisation
    repeats: int  # best of, for our engine and pyoxigraph
    startup_runs: int
    serve_repeats: int = 100  # page loads, and requests of each resource page and of each named query (seeds)
    serve_dataset_repeats: int = 30  # requests (and embedded runs) of each named query on the small query dataset


FULL = Plan(sizes=(100, 1_000, 10_000), small_triples=100_000, large_triples=1_000_000, rdflib_timeout=10.0,
            repeats=3, startup_runs=20)
QUICK = Plan(sizes=(4, 12), small_triples=12_000, large_triples=25_000, rdflib_timeout=5.0, repeats=1,
             startup_runs=3, serve_repeats=4, serve_dataset_repeats=3)


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


# --- child processes: each measurement in a fresh interpreter, its peak RSS from wait4


def _spawn(task: str, args: dict[str, Any], *, timeout: float | None = None) -> tuple[Any, float, float]:
    """Run `TASKS[task](**args)` in a new Python process; (its JSON result, its peak RSS in MB, wall seconds)."""
    # the child imports this script by its folder (bench/ is outside the installed package)
    code = f"import sys; sys.path.insert(0, {str(HERE)!r}); from benchmark import _child; _child(sys.argv[1])"
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([sys.executable, "-c", code, task], stdin=subprocess.PIPE, stdout=out,
                                stderr=subprocess.PIPE, text=False)
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(args).encode())
        proc.stdin.close()
        deadline = None if timeout is None else started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        out.seek(0)
        lines = out.read().decode("utf-8", "replace").strip().splitlines()
    seconds = time.perf_counter() - started
    rss = usage.ru_maxrss / 1024  # KiB on Linux
    if proc.returncode != 0 or not lines:
        if deadline is not None and time.perf_counter() > deadline:
            return {"timeout": True}, rss, seconds
        raise RuntimeError(f"bench task {task} failed ({proc.returncode}): {err.strip()[-2000:]}")
    return json.loads(lines[-1]), rss, seconds


def _child(task: str) -> None:
    args = json.loads(sys.stdin.read() or "{}")
    result = TASKS[task](**args)
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()


# --- tasks (run in the child)


def _task_synth(out: str, documents: int, seed: int) -> dict[str, Any]:
    from synth import write_corpus

    started = time.perf_counter()
    write_corpus(Path(out), documents=documents, seed=seed)
    return {"seconds": time.perf_counter() - started}


def _task_build(corpus: str, out: str, validate: bool, store: bool = False) -> dict[str, Any]:
    from aflm_graph.publish.pipeline import build

    started = time.perf_counter()
    report = build([Path(corpus)], out, validate=validate, store=store)
    manifest = json.loads((Path(out) / "manifest.json").read_text())
    return {
        "seconds": time.perf_counter() - started,
        "documents": report.documents,
        "recommendations": report.recommendations,
        "mentions": report.mentions,
        "links": report.links,
        "quads": report.triples,
        "triples": manifest["triples"],
        "stages": report.stages,
    }


def _task_load(engine: str, path: str) -> dict[str, Any]:
    """Load a build's N-Quads: `ours` through engine.open_store (a build without a store folder: in memory),
    `pyoxigraph` straight into a memory store. (rdflib's load is timed by its query task, which needs it.)"""
    started = time.perf_counter()
    if engine == "ours":
        from aflm_graph.sparql.engine import open_store

        count = len(open_store(Path(path)))
    else:
        import pyoxigraph as ox

        store = ox.Store()
        store.bulk_load(path=str(Path(path) / "aflm.nq"), format=ox.RdfFormat.N_QUADS)
        count = len(store)
    return {"seconds": time.perf_counter() - started, "triples": count}


def _competency_queries(store: Any) -> list[tuple[str, str, dict[str, str]]]:
    """(name, text, params): every named query but the violation checks, with example parameters; a parameter
    that names a document or a recommendation gets one of this build's (the examples name the seeds'); a query
    with a required parameter that has no example is left out."""
    from aflm_graph.sparql.catalogue import named_queries

    first_doc = next(iter(store.query(
        "SELECT ?d WHERE { ?d a <https://w3id.org/aflm/ontology#RecommendationsDocument> } ORDER BY ?d LIMIT 1",
        use_default_graph_as_union=True)))["d"].value
    # the first recommendation that mentions a concept, and that concept (for the queries that take both)
    first = next(iter(store.query(
        "PREFIX aflm: <https://w3id.org/aflm/ontology#> SELECT ?r ?c WHERE { ?r aflm:inDocument ?d . "
        "?m aflm:mentionIn ?r ; aflm:mentionOf ?c } ORDER BY ?r ?c LIMIT 1", use_default_graph_as_union=True)))
    first_rec, first_concept = first["r"].value, first["c"].value
    out = []
    for name, query in sorted(named_queries().items()):
        if name.endswith("-violation"):
            continue
        params: dict[str, str] = {}
        names = {p.name for p in query.params}
        for p in query.params:
            if not p.required:
                continue
            if p.type == "document":
                params[p.name] = first_doc.rsplit("/", 1)[-1]
            elif p.name == "recommendation":
                params[p.name] = first_rec
            elif p.name == "concept" and "recommendation" in names:  # one it mentions: an answer with rows
                params[p.name] = first_concept
            elif p.example is not None:
                params[p.name] = p.example
        if all(p.name in params for p in query.params if p.required):  # else: a required parameter has no example
            out.append((name, query.text, params))
    return out


def _consume(answer: Any) -> int:
    """Read every value of a pyoxigraph answer (what a caller does with it); the number of rows."""
    import pyoxigraph as ox

    if isinstance(answer, ox.QueryBoolean):
        return 1 if bool(answer) else 0
    rows = 0
    if isinstance(answer, ox.QueryTriples):
        for t in answer:
            _ = (t.subject, t.predicate, t.object)
            rows += 1
        return rows
    for solution in answer:
        for _value in solution:
            pass
        rows += 1
    return rows


ENGINES = ("ours", "ours-disk", "pyoxigraph")
"""ours: engine.run on a build without a store folder (aflm.nq loaded into memory, the default); ours-disk:
engine.run on the on-disk store of `aflm-graph build --store`; pyoxigraph: raw Store.query in memory."""


def _task_queries(build: str, engine: str, repeats: int) -> dict[str, Any]:
    """Each competency query `repeats` times on one engine; best seconds and rows per query."""
    import pyoxigraph as ox

    from aflm_graph.sparql.catalogue import bind_values, bindings_for, named_queries
    from aflm_graph.sparql.engine import open_store, run_embedded
    from aflm_graph.sparql.textsearch import search_build

    folder = Path(build)
    catalogue = named_queries()
    started = time.perf_counter()
    if engine == "ours":
        store = open_store(_memory_build(folder))
    elif engine == "ours-disk":
        store = open_store(folder)
    else:
        store = ox.Store()
        store.bulk_load(path=str(folder / "aflm.nq"), format=ox.RdfFormat.N_QUADS)
    opened = time.perf_counter() - started
    results: dict[str, Any] = {}
    for name, text, params in _competency_queries(store):
        bindings = bindings_for(catalogue[name], params)
        if catalogue[name].extra.get("fulltext"):  # search-text as its SPARQL runs it (with its patterns bound)
            bindings = search_build(catalogue[name], bindings, None)[1]
        best = math.inf
        rows = 0
        for attempt in range(repeats):
            if attempt and best > 0.5:  # a slow query's first run is its figure: no need to wait for more
                break
            t = time.perf_counter()
            if engine != "pyoxigraph":
                result = run_embedded(store, text, bindings)
                rows = len(result.rows) if result.form != "ask" else 1
            else:
                substitutions = {ox.Variable(k): v for k, v in bindings.items()} or None
                try:
                    answer = store.query(text, use_default_graph_as_union=True, substitutions=substitutions)
                except RuntimeError:  # a parameter that is not projected: a VALUES block, as engine.py does
                    answer = store.query(bind_values(text, bindings), use_default_graph_as_union=True)
                rows = _consume(answer)
            best = min(best, time.perf_counter() - t)
        results[name] = {"seconds": best, "rows": rows}
    return {"open_seconds": opened, "queries": results}


def _memory_build(folder: Path) -> Path:
    """A folder beside the build that holds only its aflm.nq (a link): a build without the on-disk store."""
    target = folder.with_name(folder.name + "-nq")
    target.mkdir(exist_ok=True)
    if not (target / "aflm.nq").exists():
        os.symlink(folder / "aflm.nq", target / "aflm.nq")
    return target


def _in_fork(work: Callable[[], Any], timeout: float) -> tuple[Any, float] | None:
    """Run `work` in a forked child (it shares the loaded graph); (its result, seconds), or None at the time limit."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        try:
            t = time.perf_counter()
            value = work()
            payload = json.dumps({"value": value, "seconds": time.perf_counter() - t})
        except Exception as exc:
            payload = json.dumps({"error": f"{type(exc).__name__}: {exc}"[:300]})
        with os.fdopen(write, "w") as handle:
            handle.write(payload)
        os._exit(0)
    os.close(write)
    deadline = time.perf_counter() + timeout
    while True:
        done, _ = os.waitpid(pid, os.WNOHANG)[0:2]
        if done:
            break
        if time.perf_counter() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            os.close(read)
            return None
        time.sleep(0.01)
    with os.fdopen(read) as handle:
        data = json.loads(handle.read() or '{"error": "no answer"}')
    if "error" in data:
        raise RuntimeError(data["error"])
    return data["value"], data["seconds"]


def _task_rdflib(build: str, timeouts: dict[str, float], turtle_timeout: float | None) -> dict[str, Any]:
    """Load the build's N-Quads into rdflib's memory store (timed: the load figure), then run each competency
    query and (with `turtle_timeout`) the Turtle serialisation, each in a forked child killed at its time
    limit (`timeouts`, per query)."""

    import pyoxigraph as ox
    import rdflib

    from aflm_graph.sparql.catalogue import bind_values, bindings_for, named_queries

    folder = Path(build)
    catalogue = named_queries()
    started = time.perf_counter()
    dataset = rdflib.Dataset(default_union=True)
    dataset.parse(str(folder / "aflm.nq"), format="nquads")
    loaded = time.perf_counter() - started
    triples = len(dataset)  # the union of the graphs, as the other engines count it
    rss = peak_rss_mib()
    store = ox.Store()  # only to pick the example parameters, as the other engines do
    store.bulk_load(path=str(folder / "aflm.nq"), format=ox.RdfFormat.N_QUADS)
    queries = _competency_queries(store)
    del store
    results: dict[str, Any] = {}
    for name, text, params in queries:
        if catalogue[name].extra.get("fulltext"):  # its folding's \p{L} classes: Python's re (rdflib) has none
            results[name] = {"error": "not run: rdflib's REGEX (Python's re) has no \\p{...} classes"}
            continue
        # bound as a remote endpoint gets them (a VALUES block): rdflib's initBindings reach into sub-selects,
        # and refuse a variable that one of them does not project (the list queries' filters)
        bound = bind_values(text, bindings_for(catalogue[name], params))

        def work(text: str = bound) -> int:
            answer = dataset.query(text)
            if answer.type == "ASK":
                return 1
            return sum(1 for _ in answer)

        limit = timeouts[name]
        try:
            outcome = _in_fork(work, limit)
        except RuntimeError as exc:
            results[name] = {"error": str(exc)}
            continue
        results[name] = {"timeout": limit} if outcome is None else {"seconds": outcome[1], "rows": outcome[0]}
    turtle = None
    if turtle_timeout is not None:  # the union of the graphs, as one Turtle graph
        outcome = _in_fork(lambda: len(dataset.serialize(format="turtle", encoding="utf-8")), turtle_timeout)
        turtle = {"timeout": turtle_timeout} if outcome is None else {"seconds": outcome[1], "bytes": outcome[0]}
    return {"load_seconds": loaded, "triples": triples, "load_peak_rss_mb": rss, "queries": results,
            "turtle": turtle}


def _task_turtle(build: str, engine: str) -> dict[str, Any]:
    import pyoxigraph as ox

    from aflm_graph.graph.export import EXPORT_PREFIXES, write_serialized

    folder = Path(build)
    target = Path(tempfile.mkdtemp()) / "out.ttl"
    try:
        if engine == "ours":  # what a build does: aflm.nt streamed through pyoxigraph's serialiser, to a file
            t = time.perf_counter()
            triples = ox.parse(path=str(folder / "aflm.nt"), format=ox.RdfFormat.N_TRIPLES)
            size, _ = write_serialized(target, triples, ox.RdfFormat.TURTLE)
            return {"seconds": time.perf_counter() - t, "bytes": size}
        triples = list(ox.parse(path=str(folder / "aflm.nt"), format=ox.RdfFormat.N_TRIPLES))
        t = time.perf_counter()
        data = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=EXPORT_PREFIXES)
        return {"seconds": time.perf_counter() - t, "bytes": len(data)}
    finally:
        shutil.rmtree(target.parent, ignore_errors=True)


SERVE_QUERY = ("recommendations-by-theme", {"theme": "health-care"})
"""The named query of the round-trip figure, with its parameter (rows on the seed build)."""
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # the design's servers.md
PAGE_READY = ("() => window.aflmPage && window.aflmPage.ready === true && !!window.aflmPage.editor "
              "&& document.querySelectorAll('#gallery .card').length > 0 && !!document.querySelector('.cm-content')")
"""The query page is ready: workbench.js has drawn the gallery of named queries and set `aflmPage.ready` (it
marks `aflm-ready`), and the editor is there (what tests/test_workbench.py waits for before it clicks)."""


def _task_embedded(build: str, name: str, params: dict[str, str], repeats: int) -> dict[str, Any]:
    """A named query run embedded (`sparql.run.run` on the build, warm: store loaded, one run first), `repeats`
    times: its seconds per run, and (for information) per run and rendering as JSON (`engine.render`, what
    `aflm-graph query --format json` writes); the paths of a document, a recommendation with a theme and that theme."""
    from aflm_graph.sparql.catalogue import named_queries
    from aflm_graph.sparql.engine import open_store, render
    from aflm_graph.sparql.run import run as run_query
    from aflm_graph.terms.namespaces import BASE

    folder = Path(build)
    query = named_queries()[name]
    result = run_query(query, build=folder, params=params)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        result = run_query(query, build=folder, params=params)
        times.append(time.perf_counter() - t)
    rendered = []
    for _ in range(repeats):
        t = time.perf_counter()
        render(run_query(query, build=folder, params=params), "json")
        rendered.append(time.perf_counter() - t)
    first = next(iter(open_store(folder).query(
        "PREFIX aflm: <https://w3id.org/aflm/ontology#> SELECT ?d ?r ?c WHERE { ?r aflm:inDocument ?d ; "
        "aflm:hasTheme ?c } ORDER BY ?d ?r ?c LIMIT 1", use_default_graph_as_union=True)))
    paths = {kind: "/" + first[var].value.removeprefix(BASE)
             for kind, var in (("document", "d"), ("recommendation", "r"), ("concept", "c"))}
    return {"seconds": times, "rendered_seconds": rendered, "rows": len(result.rows),
            "paths": {**paths, "ontology": "/ontology"}}


def _task_named_round_trips(build: str, base: str, repeats: int, warm: int) -> dict[str, Any]:
    """Every competency query (`_competency_queries`: the examples' parameters, a document or recommendation of
    this build) both ways, `repeats` times each, the two alternating so that both see the same machine: embedded,
    `sparql.run.run` on the build (warm: one run first) and rendered in the format asked of /api/run, SELECT and
    ASK as SPARQL JSON (`engine.to_json`), CONSTRUCT and DESCRIBE as Turtle (`engine.to_graph`); and through
    `base`'s /api/run (`name`, `p.NAME`, `format`; one keep-alive connection, after `warm` untimed requests).
    {name: {params, form, format, rows, http_rows, bytes, embedded: [s], round_trip: [s]}}."""
    import urllib.parse

    from aflm_graph.sparql.catalogue import named_queries
    from aflm_graph.sparql.engine import open_store, to_graph, to_json
    from aflm_graph.sparql.run import run as run_query

    folder = Path(build)
    catalogue = named_queries()
    accept = {"json": "application/sparql-results+json", "turtle": "text/turtle"}
    fetch, close = _fetcher(base)
    out: dict[str, Any] = {}
    try:
        for name, _text, params in _competency_queries(open_store(folder)):
            query = catalogue[name]
            graph = query.form in {"construct", "describe"}
            fmt = "turtle" if graph else "json"
            path = "/api/run?" + urllib.parse.urlencode([("name", name), *((f"p.{k}", v) for k, v in params.items()),
                                                         ("format", fmt)])

            def embedded(query: Any = query, params: dict[str, str] = params, graph: bool = graph) -> int:
                result = run_query(query, build=folder, params=params)
                if graph:
                    to_graph(result, "turtle")
                else:
                    to_json(result)
                return len(result.rows)

            def request(path: str = path, fmt: str = fmt) -> tuple[int, dict[str, str], int]:
                status, headers, size = fetch(path, accept[fmt])
                if status != 200:
                    raise RuntimeError(f"GET {path}: {status}")
                return status, headers, size

            rows = embedded()
            for _ in range(warm):
                request()
            alone, trip = [], []
            for _ in range(repeats):
                t = time.perf_counter()
                embedded()
                alone.append(time.perf_counter() - t)
                t = time.perf_counter()
                _, headers, size = request()
                trip.append(time.perf_counter() - t)
            out[name] = {"params": params, "form": query.form, "format": fmt, "path": path, "rows": rows,
                         "http_rows": int(headers.get("x-result-rows", -1)), "bytes": size, "embedded": alone,
                         "round_trip": trip}
    finally:
        close()
    return out


def _fetcher(base: str) -> tuple[Callable[[str, str], tuple[int, dict[str, str], int]], Callable[[], None]]:
    """(fetch, close) over one keep-alive connection to `base`: fetch(path, Accept) -> (status, headers, body
    size), the whole body read; a connection the server closed while idle is opened again once."""
    import http.client
    import urllib.parse

    address = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)

    def fetch(path: str, accept: str) -> tuple[int, dict[str, str], int]:
        for attempt in (1, 2):
            try:
                connection.request("GET", path, headers={"Accept": accept})
                response = connection.getresponse()
                body = response.read()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, len(body)
            except (http.client.RemoteDisconnected, ConnectionError):  # the server closed an idle connection
                connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    return fetch, connection.close


def _task_http(base: str, gets: dict[str, list[str]], repeats: int, warm: int) -> dict[str, Any]:
    """Each of `gets` ({label: [path, Accept]}) `repeats` times over one keep-alive connection, after `warm`
    untimed requests: seconds per request (the status line to the last byte of the body), status, size."""
    fetch, close = _fetcher(base)
    out: dict[str, Any] = {}
    try:
        for label, (path, accept) in gets.items():
            for _ in range(warm):
                fetch(path, accept)
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                status, headers, size = fetch(path, accept)
                times.append(time.perf_counter() - t)
                if status != 200:
                    raise RuntimeError(f"GET {path} ({accept}): {status}")
            out[label] = {"path": path, "accept": accept, "seconds": times, "bytes": size,
                          "content_type": headers.get("content-type", ""), "rows": headers.get("x-result-rows")}
    finally:
        close()
    return out


def _task_page(base: str, repeats: int, executable: str) -> dict[str, Any]:
    """Load the query page `repeats` times in headless Chromium (launched once; a fresh browser context per
    load, so nothing is cached; every request to anything but `base` aborted): seconds from `goto` to PAGE_READY,
    and the page's own `aflm-ready` mark (ms after navigation start)."""
    import re

    from playwright.sync_api import sync_playwright

    others = re.compile(rf"^(?!{re.escape(base)}/)")  # only requests elsewhere are intercepted (and aborted)
    wall, marks, blocked, errors = [], [], [], []
    with sync_playwright() as playwright:
        t = time.perf_counter()
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        launch = time.perf_counter() - t
        try:
            for _ in range(repeats + 1):  # the first load warms the browser process: not counted
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                context.route(others, lambda route: (blocked.append(route.request.url), route.abort()))
                page = context.new_page()
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                t = time.perf_counter()
                page.goto(base + "/", wait_until="commit")
                page.wait_for_function(PAGE_READY, timeout=30_000)
                wall.append(time.perf_counter() - t)
                marks.append(page.evaluate("() => performance.getEntriesByName('aflm-ready')[0].startTime") / 1000)
                context.close()
        finally:
            browser.close()
    return {"seconds": wall[1:], "mark_seconds": marks[1:], "first_seconds": wall[0], "launch_seconds": launch,
            "blocked": blocked, "errors": errors}


TASKS: dict[str, Callable[..., Any]] = {
    "synth": _task_synth,
    "build": _task_build,
    "load": _task_load,
    "queries": _task_queries,
    "rdflib": _task_rdflib,
    "turtle": _task_turtle,
    "embedded": _task_embedded,
    "named_round_trips": _task_named_round_trips,
    "http": _task_http,
    "page": _task_page,
}


# --- the parent: plan, measure, report


def _machine() -> dict[str, Any]:
    import pyoxigraph
    import rdflib

    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_mb": memory,
        "load_average": list(os.getloadavg()),
        "pyoxigraph": pyoxigraph.__version__ if hasattr(pyoxigraph, "__version__") else "",
        "rdflib": rdflib.__version__,
    }


def _timed_runs(command: list[str], runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t)
    return {"best": min(times), "median": statistics.median(times)}


def _peak_rss(command: list[str]) -> float:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return usage.ru_maxrss / 1024


def _geomean(values: list[float]) -> float:
    values = [v for v in values if v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _dataset(work: Path, size_builds: dict[int, dict[str, Any]], triples: int, label: str) -> dict[str, Any]:
    """A build of at least `triples` triples (and not many more): documents chosen from the per-document size
    of the nearest build so far; a corpus that comes out short (fewer documents link less densely) is made
    again with as many more documents as it lacked."""
    static = 5_000  # the ontology, reference and vocabulary graphs
    per_doc = 2_000.0
    if size_builds:  # from the build whose size is nearest (links per document grow with the corpus)
        nearest = min(size_builds, key=lambda n: abs(size_builds[n]["triples"] - triples))
        per_doc = max(1.0, (size_builds[nearest]["triples"] - static) / nearest)
    # a smaller corpus links less densely, so it holds fewer triples per document than the nearest build:
    # 8% more documents than the plain estimate (seen here: 5-8% short without), so one build usually does
    documents = max(1, round((triples - static) / per_doc * 1.08))
    corpus, out = work / f"corpus-{label}", work / f"build-{label}"
    attempts = 0
    while True:
        attempts += 1
        shutil.rmtree(corpus, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        _spawn("synth", {"out": str(corpus), "documents": documents, "seed": SEED + 1})
        # with the on-disk store too, for the ours-disk engine (the others read only aflm.nq)
        info, _, _ = _spawn("build", {"corpus": str(corpus), "out": str(out), "validate": False, "store": True})
        if info["triples"] >= triples or attempts == 3:
            break
        documents = math.ceil(documents * (triples - static) / max(1, info["triples"] - static) * 1.01)
    info["path"] = str(out)
    info["attempts"] = attempts
    return info


def run(out: Path | None = None, *, quick: bool = False, workdir: Path | None = None,
        sizes: tuple[int, ...] | None = None, keep: bool = False, only: str | None = None) -> dict[str, Any]:
    """Run the benchmark; write the results as JSON to `out` (default bench/results.json); return them.
    `only="serve"`: the serve figures alone (serve_figures, which then makes the small query dataset itself) and
    their targets."""
    plan = QUICK if quick else FULL
    if sizes:
        plan = dataclasses.replace(plan, sizes=tuple(sizes))
    out = HERE / "results.json" if out is None else Path(out)
    started = time.perf_counter()
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="aflm-bench-", dir=workdir))
    results: dict[str, Any] = {
        "command": ("make bench" if only is None else f"python bench/benchmark.py --only {only}")
        + (" (--quick)" if quick else ""),
        "quick": quick,
        "machine": _machine(),
    }
    small = None  # the small query dataset: made here, or by serve_figures (`only="serve"`)
    try:
        if only != "serve":
            results["build"] = _bench_builds(work, plan)
            runs = {int(k): v for k, v in results["build"]["runs"].items()}
            _say(f"datasets of ~{plan.small_triples:,} and ~{plan.large_triples:,} triples")
            small = _dataset(work, runs, plan.small_triples, "small")
            large = _dataset(work, runs, plan.large_triples, "large")
            results["datasets"] = {"small": {k: small[k] for k in ("documents", "triples", "quads", "attempts")},
                                   "large": {k: large[k] for k in ("documents", "triples", "quads", "attempts")}}
            results["queries"] = {}
            rdflib_runs = {}
            turtle = None
            for label, info in (("small", small), ("large", large)):
                _say(f"queries at {info['triples']:,} triples")
                if label == "large":  # ours first: rdflib's time limit for the Turtle is set from it
                    turtle = _bench_turtle(Path(info["path"]))
                # the on-disk store only on the small dataset: on the large one its answers take minutes
                figures, rdflib_runs[label] = _bench_queries(Path(info["path"]), plan, turtle=turtle,
                                                             disk=label == "small")
                results["queries"][label] = figures
            results["load"] = _bench_load(Path(large["path"]), rdflib_runs["large"])
            results["turtle"] = _rdflib_turtle(turtle or {}, rdflib_runs["large"])
            results["startup"] = _bench_startup(Path(large["path"]), plan)
        results["serve"] = serve_figures(work, plan, dataset=small)
        results["targets"] = _targets(results, plan) if only is None else _serve_targets(results["serve"])
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    results["machine"]["load_average_after"] = list(os.getloadavg())
    results["seconds"] = time.perf_counter() - started
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return results


def _bench_builds(work: Path, plan: Plan) -> dict[str, Any]:
    runs: dict[str, Any] = {}
    for n in plan.sizes:
        corpus, out = work / f"corpus-{n}", work / f"build-{n}"
        _say(f"synth {n} documents")
        synth, _, _ = _spawn("synth", {"out": str(corpus), "documents": n, "seed": SEED})
        _say(f"build {n} documents")
        info, rss, _ = _spawn("build", {"corpus": str(corpus), "out": str(out), "validate": True})
        info["synth_seconds"] = synth["seconds"]
        info["peak_rss_mb"] = rss
        info["recommendations_per_s"] = info["recommendations"] / info["seconds"]
        info["documents_per_s"] = info["documents"] / info["seconds"]
        runs[str(n)] = info
        shutil.rmtree(corpus, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    growth: dict[str, dict[str, float]] = {}
    for a, b in zip(plan.sizes, plan.sizes[1:], strict=False):
        first, second = runs[str(a)], runs[str(b)]
        factors = {s: second["stages"][s] / first["stages"][s] for s in STAGES
                   if s in first["stages"] and s in second["stages"] and first["stages"][s] > 0}
        factors["total"] = second["seconds"] / first["seconds"]
        growth[f"{a}->{b}"] = {"input": b / a, "quads": second["quads"] / first["quads"], **factors}
    return {"runs": runs, "growth": growth}


def _bench_load(build: Path, rdflib_run: dict[str, Any]) -> dict[str, Any]:
    """The build's N-Quads into our default store, raw pyoxigraph and rdflib (timed by its query run)."""
    figures: dict[str, Any] = {}
    for engine, path in (("ours", _memory_build(build)), ("pyoxigraph", build)):
        _say(f"load into {engine}")
        info, rss, _ = _spawn("load", {"engine": engine, "path": str(path)})
        figures[engine] = {"seconds": info["seconds"], "triples": info["triples"],
                           "triples_per_s": info["triples"] / info["seconds"], "peak_rss_mb": rss}
    seconds = rdflib_run["load_seconds"]
    figures["rdflib"] = {"seconds": seconds, "triples": rdflib_run["triples"],
                         "triples_per_s": rdflib_run["triples"] / seconds,
                         "peak_rss_mb": rdflib_run["load_peak_rss_mb"]}
    figures["ours_vs_rdflib"] = figures["ours"]["triples_per_s"] / figures["rdflib"]["triples_per_s"]
    figures["ours_vs_pyoxigraph"] = figures["ours"]["triples_per_s"] / figures["pyoxigraph"]["triples_per_s"]
    return figures


RDFLIB_QUERY_LIMIT = 15.0
"""rdflib's time limit on a query is this many times our engine's time (at most the plan's limit, at least
0.5 s): a query it does not finish is then at least 15x slower, half as much again as the 10x target, and
the geometric mean a lower bound (a query that rdflib answers within the limit counts at its real time)."""
RDFLIB_TURTLE_LIMIT = 25.0
"""The same for the Turtle serialisation, against its 20x target."""


def _bench_queries(build: Path, plan: Plan, *, turtle: dict[str, Any] | None, disk: bool = True
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The competency queries on each engine; `disk`: also on the on-disk store (one run each, for information)."""
    engines = {}
    for engine in ENGINES if disk else tuple(e for e in ENGINES if e != "ours-disk"):
        repeats = 1 if engine == "ours-disk" else plan.repeats
        info, rss, _ = _spawn("queries", {"build": str(build), "engine": engine, "repeats": repeats})
        info["peak_rss_mb"] = rss
        engines[engine] = info
    limits = {name: min(plan.rdflib_timeout, max(0.5, RDFLIB_QUERY_LIMIT * q["seconds"]))
              for name, q in engines["ours"]["queries"].items()}
    turtle_limit = None if turtle is None else max(1.0, RDFLIB_TURTLE_LIMIT * turtle["ours"]["seconds"])
    rdflib_run, rss, _ = _spawn("rdflib", {"build": str(build), "timeouts": limits, "turtle_timeout": turtle_limit})
    rdflib_run["peak_rss_mb"] = rss
    per_query: dict[str, Any] = {}
    vs_rdflib, vs_raw, vs_disk = [], [], []
    lower_bound = False
    floor = 1e-5  # a query faster than the clock's grain
    for name, ours in engines["ours"]["queries"].items():
        raw = engines["pyoxigraph"]["queries"][name]
        theirs = rdflib_run["queries"].get(name, {})
        row = {"ours": ours["seconds"], "pyoxigraph": raw["seconds"], "rows": ours["rows"],
               "rows_pyoxigraph": raw["rows"]}
        on_disk = engines["ours-disk"]["queries"][name] if disk else None
        if on_disk is not None:
            row.update(ours_disk=on_disk["seconds"], rows_disk=on_disk["rows"])
        if "seconds" in theirs:
            row["rdflib"] = theirs["seconds"]
            row["rdflib_rows"] = theirs["rows"]
            rdflib_seconds = theirs["seconds"]
        elif "timeout" in theirs:
            row["rdflib_timeout"] = theirs["timeout"]
            rdflib_seconds = theirs["timeout"]
            lower_bound = True
        else:
            row["rdflib_error"] = theirs.get("error", "not run")
            rdflib_seconds = None
        if rdflib_seconds is not None:
            row["speedup_vs_rdflib"] = rdflib_seconds / max(ours["seconds"], floor)
            vs_rdflib.append(row["speedup_vs_rdflib"])
            if on_disk is not None:
                row["disk_speedup_vs_rdflib"] = rdflib_seconds / max(on_disk["seconds"], floor)
                vs_disk.append(row["disk_speedup_vs_rdflib"])
        row["vs_pyoxigraph"] = ours["seconds"] / max(raw["seconds"], floor)
        vs_raw.append(row["vs_pyoxigraph"])
        per_query[name] = row
    figures = {
        "queries": per_query,
        "geomean_speedup_vs_rdflib": _geomean(vs_rdflib),
        "geomean_speedup_vs_rdflib_is_lower_bound": lower_bound,
        "geomean_time_vs_pyoxigraph": _geomean(vs_raw),
        "disk_geomean_speedup_vs_rdflib": _geomean(vs_disk),
        "geomean_seconds": {e: _geomean([q["seconds"] for q in engines[e]["queries"].values()]) for e in engines},
        "open_seconds": {e: engines[e]["open_seconds"] for e in engines},
        "rdflib_load_seconds": rdflib_run["load_seconds"],
        "rdflib_peak_rss_mb": rdflib_run["peak_rss_mb"],
        "ours_peak_rss_mb": engines["ours"]["peak_rss_mb"],
    }
    if disk:
        figures["ours_disk_peak_rss_mb"] = engines["ours-disk"]["peak_rss_mb"]
    return figures, rdflib_run


def _bench_turtle(build: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for engine in ("ours", "pyoxigraph"):
        info, _, _ = _spawn("turtle", {"build": str(build), "engine": engine})
        figures[engine] = info
    figures["ours_vs_pyoxigraph"] = figures["ours"]["seconds"] / figures["pyoxigraph"]["seconds"]
    return figures


def _rdflib_turtle(figures: dict[str, Any], rdflib_run: dict[str, Any]) -> dict[str, Any]:
    turtle = rdflib_run.get("turtle") or {}
    figures["rdflib"] = turtle
    rdflib_seconds = turtle.get("seconds", turtle.get("timeout"))
    if rdflib_seconds:
        figures["ours_vs_rdflib"] = rdflib_seconds / figures["ours"]["seconds"]
        figures["ours_vs_rdflib_is_lower_bound"] = "timeout" in turtle
    return figures


def _bench_startup(build: Path, plan: Plan) -> dict[str, Any]:
    """`--help` and a small query against `python -c pass`; the query on the default build (it loads aflm.nq
    into memory) and on the on-disk store; the peak memory of a big query on the default build."""
    script = Path(sys.executable).with_name("aflm-graph")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "aflm_graph"]
    _say("start-up")
    memory = _memory_build(build)
    python = _timed_runs([sys.executable, "-c", "pass"], plan.startup_runs)
    helped = _timed_runs([*command, "--help"], plan.startup_runs)
    runs = max(1, plan.startup_runs // 10)  # seconds each at a million triples: fewer runs
    queried = _timed_runs([*command, "query", "documents", "--build", str(memory), "--format", "csv"], runs)
    on_disk = _timed_runs([*command, "query", "documents", "--build", str(build), "--format", "csv"], runs)
    rss = _peak_rss([*command, "query", "recommendations", "--build", str(memory), "--format", "csv"])
    rss_disk = _peak_rss([*command, "query", "recommendations", "--build", str(build), "--format", "csv"])
    return {
        "python": python,
        "help": helped,
        "query_documents": queried,
        "query_documents_disk": on_disk,
        "help_vs_python": helped["best"] / python["best"],
        "help_vs_python_median": helped["median"] / python["median"],
        "query_vs_python": queried["best"] / python["best"],
        "query_peak_rss_mb": rss,
        "query_peak_rss_mb_disk": rss_disk,
    }


def _percentiles(seconds: list[float]) -> dict[str, Any]:
    """p50 (the median) and p95 (nearest rank) of a list of times, with their count."""
    ranked = sorted(seconds)
    return {"p50": statistics.median(ranked), "p95": ranked[max(0, math.ceil(0.95 * len(ranked)) - 1)],
            "n": len(ranked)}


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_sparql(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 60.0) -> None:
    """Poll `ASK {}` on /sparql until it answers 200; a one-line error with the log's tail if it exits or is late."""
    import urllib.error
    import urllib.request

    probe = urllib.request.Request(f"{url}?query=ASK%7B%7D", headers={"Accept": "application/sparql-results+json"})
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(probe, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
    raise RuntimeError(f"aflm-graph serve did not answer {url} (exit code {process.poll()}): {tail}")


@contextlib.contextmanager
def _served(build: Path, log: Path) -> Iterator[tuple[str, float]]:
    """A real `aflm-graph serve` (default options) over `build` on 127.0.0.1, a free port, for the block: (its base
    URL, seconds until /sparql answered). Stopped by its pid at the end, also on an error."""
    import signal

    script = Path(sys.executable).with_name("aflm-graph")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "aflm_graph"]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as sink:
        process = subprocess.Popen([*command, "serve", "--build", str(build), "--host", "127.0.0.1", "--port",
                                    str(port)], stdout=sink, stderr=subprocess.STDOUT)
    try:
        t = time.perf_counter()
        _wait_for_sparql(f"{base}/sparql", process, log)
        yield base, time.perf_counter() - t
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


def _round_trips(answered: dict[str, Any], repeats: int) -> dict[str, Any]:
    """`_task_named_round_trips`' answer, per query: p50/p95 through /api/run and embedded (run and rendered), the
    ratio of the p50s and their difference; the geometric mean of the ratios and the median difference. The rows
    must agree."""
    queries: dict[str, Any] = {}
    for name, got in answered.items():
        if got["http_rows"] != got["rows"]:
            raise RuntimeError(f"{name}: {got['http_rows']} rows through /api/run, {got['rows']} embedded")
        trip, alone = _percentiles(got["round_trip"]), _percentiles(got["embedded"])
        queries[name] = {"params": got["params"], "form": got["form"], "format": got["format"], "rows": got["rows"],
                         "bytes": got["bytes"], "round_trip": trip, "embedded": alone,
                         "ratio": trip["p50"] / alone["p50"], "overhead_seconds": trip["p50"] - alone["p50"]}
    return {"repeats": repeats, "queries": queries, "geomean_ratio": _geomean([q["ratio"] for q in queries.values()]),
            "median_overhead_seconds": statistics.median(q["overhead_seconds"] for q in queries.values())}


def serve_figures(work: Path, plan: Plan, *, build: Path | None = None,
                  dataset: dict[str, Any] | None = None) -> dict[str, Any]:
    """Issue 17's serve figures, p50/p95 over `plan.serve_repeats` each, on a real `aflm-graph serve` (default
    options) over the seed build (`build`, or the seeds built here) on 127.0.0.1:

    - page: the query page at / ready in headless Chromium (Playwright, Debian's /usr/bin/chromium, every
      request but the server's aborted), from `goto` to the gallery and the editor drawn (PAGE_READY); not
      measured, with the reason, when Chromium or Playwright is missing;
    - resources: GETs of the HTML pages of a recommendation, a concept, a document and the ontology, and the
      recommendation in Turtle (one keep-alive connection, after a few untimed requests);
    - named query: SERVE_QUERY through /api/run (JSON) against the same query embedded (`sparql.run.run` on the
      build, warm, in a fresh process), and the ratio of the p50s;
    - named queries: every competency query through /api/run (SELECT and ASK as JSON, CONSTRUCT as Turtle) against
      the same run embedded and rendered in that format, alternating (`_task_named_round_trips`), p50s and their
      ratio per query and its geometric mean, on the seed build (`plan.serve_repeats` each) and on the small
      query dataset (`dataset`, `_dataset`'s answer, or one made here; its aflm.nq in memory, the default store;
      `plan.serve_dataset_repeats` each); the fixed overhead: the median of round trip - embedded on the seeds.
    Each server is stopped by its pid at the end, also on an error."""
    repeats = plan.serve_repeats
    warm = 2 if repeats < 10 else 5
    if build is None:
        _say("serve: build the seeds")
        build = work / "build-seeds"
        shutil.rmtree(build, ignore_errors=True)
        _spawn("build", {"corpus": str(HERE.parent / "seeds"), "out": str(build), "validate": True})
    name, params = SERVE_QUERY
    _say(f"serve: {name} embedded, {repeats} runs")
    embedded, _, _ = _spawn("embedded", {"build": str(build), "name": name, "params": params, "repeats": repeats})
    figures: dict[str, Any] = {"build": "the seeds", "repeats": repeats, "warm_requests": warm,
                               "server": "aflm-graph serve --host 127.0.0.1 (default options)"}
    with _served(build, work / "serve.log") as (base, ready):
        figures["server_ready_seconds"] = ready
        query = "&".join([f"name={name}", *(f"p.{k}={v}" for k, v in params.items()), "format=json"])
        gets = {"api/queries": ["/api/queries", "application/json"]}  # warms the page's choices (read once)
        gets |= {f"{kind} (HTML)": [path, "text/html"] for kind, path in embedded["paths"].items()}
        gets["recommendation (Turtle)"] = [embedded["paths"]["recommendation"], "text/turtle"]
        gets["named query /api/run"] = [f"/api/run?{query}", "application/sparql-results+json"]
        _say(f"serve: resource pages and /api/run, {repeats} requests each")
        answered, _, _ = _spawn("http", {"base": base, "gets": gets, "repeats": repeats, "warm": warm})
        _say(f"serve: every named query through /api/run and embedded on the seeds, {repeats} of each")
        seeds_answer, _, _ = _spawn("named_round_trips", {"build": str(build), "base": base, "repeats": repeats,
                                                          "warm": warm})
        executable = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
        if executable is None:
            figures["page"] = {"measured": False, "reason": f"Chromium is not installed ({CHROMIUM} is missing)"}
        else:
            _say(f"serve: the query page in Chromium, {repeats} loads")
            try:
                page, _, _ = _spawn("page", {"base": base, "repeats": repeats, "executable": executable},
                                    timeout=120 + 30 * repeats)
            except RuntimeError as exc:  # no Playwright, or a browser that does not start: said, not fatal
                page = {"measured": False, "reason": " ".join(str(exc).split())[-400:]}
            if page.get("timeout"):
                page = {"measured": False, "reason": "the page loads did not end in time"}
            if "seconds" in page:
                page = {"measured": True, **_percentiles(page["seconds"]),
                        "mark": _percentiles(page["mark_seconds"]), "first_seconds": page["first_seconds"],
                        "launch_seconds": page["launch_seconds"], "blocked": page["blocked"],
                        "errors": page["errors"], "seconds": page["seconds"]}
            figures["page"] = page
    if dataset is None:
        _say(f"serve: the query dataset of ~{plan.small_triples:,} triples")
        dataset = _dataset(work, {}, plan.small_triples, "small")
    in_memory = _memory_build(Path(dataset["path"]))  # the default store (aflm.nq in memory), as the query ratios'
    n = plan.serve_dataset_repeats
    with _served(in_memory, work / "serve-dataset.log") as (base, _ready):
        _say(f"serve: every named query through /api/run and embedded at {dataset['triples']:,} triples, {n} of each")
        data_answer, _, _ = _spawn("named_round_trips", {"build": str(in_memory), "base": base, "repeats": n,
                                                         "warm": 2})
    seeds = _round_trips(seeds_answer, repeats)
    figures["named_queries"] = {
        "seeds": {"build": "the seeds", **seeds},
        "dataset": {"build": f"the small query dataset ({dataset['documents']:,} synthetic documents)",
                    "triples": dataset["triples"], **_round_trips(data_answer, n)},
        "fixed_overhead_seconds": seeds["median_overhead_seconds"],  # HTTP, routing, the worker's pipe
    }
    figures["resources"] = {label: {"path": got["path"], "accept": got["accept"], "bytes": got["bytes"],
                                    "content_type": got["content_type"], **_percentiles(got["seconds"])}
                            for label, got in answered.items() if label not in {"api/queries", "named query /api/run"}}
    round_trip = answered["named query /api/run"]
    figures["named_query"] = {
        "name": name, "params": params,
        "round_trip": {"rows": int(round_trip["rows"]), **_percentiles(round_trip["seconds"])},
        "embedded": {"rows": embedded["rows"], **_percentiles(embedded["seconds"])},
        "embedded_json": _percentiles(embedded["rendered_seconds"]),  # for information: run and render as JSON
    }
    both = figures["named_query"]
    both["round_trip_vs_embedded"] = both["round_trip"]["p50"] / both["embedded"]["p50"]
    both["round_trip_overhead_seconds"] = both["round_trip"]["p50"] - both["embedded"]["p50"]  # HTTP, worker, JSON
    if both["round_trip"]["rows"] != both["embedded"]["rows"]:
        raise RuntimeError(f"{name}: {both['round_trip']['rows']} rows through /api/run, {both['embedded']['rows']} "
                           "embedded")
    figures["resource_page_p95_worst"] = max(r["p95"] for r in figures["resources"].values())
    return figures


def _serve_targets(serve: dict[str, Any]) -> dict[str, Any]:
    """The serve targets: page ready p95 (s), the worst resource page's p95 (ms), round trip / embedded (the
    geometric mean of the queries' ratios of p50s on the small query dataset)."""
    page = serve["page"]
    ready = {"value": page["p95"], "target": TARGETS["page_ready_p95_s"], "met": page["p95"] <= TARGETS[
        "page_ready_p95_s"]} if page.get("measured") else {"value": None, "target": TARGETS["page_ready_p95_s"],
                                                           "met": None, "note": page["reason"]}
    worst = serve["resource_page_p95_worst"] * 1000
    named = serve["named_queries"]
    ratio = named["dataset"]["geomean_ratio"]  # the ~100k-triple dataset: the seeds' and the overhead for information
    note = (f"geometric mean of {len(named['dataset']['queries'])} queries at {named['dataset']['triples']:,} "
            f"triples; seed build {named['seeds']['geomean_ratio']:.2f}x, fixed overhead "
            f"{_s(named['fixed_overhead_seconds'])}")
    return {
        "page_ready_p95_s": ready,
        "resource_page_p95_ms": {"value": worst, "target": TARGETS["resource_page_p95_ms"],
                                 "met": worst <= TARGETS["resource_page_p95_ms"]},
        "named_query_round_trip_vs_embedded": {"value": ratio, "target": TARGETS["named_query_round_trip_vs_embedded"],
                                               "met": ratio <= TARGETS["named_query_round_trip_vs_embedded"],
                                               "note": note},
    }


def _targets(results: dict[str, Any], plan: Plan) -> dict[str, Any]:
    runs = results["build"]["runs"]
    biggest = str(max(plan.sizes))
    growth = results["build"]["growth"]
    worst = max((f for g in growth.values() for s, f in g.items() if s in STAGES), default=float("nan"))
    large = results["queries"]["large"]
    small = results["queries"]["small"]

    def target(value: float, goal: float, *, at_most: bool = False) -> dict[str, Any]:
        met = value <= goal if at_most else value >= goal
        return {"value": value, "target": goal, "met": bool(met) if not math.isnan(value) else False}

    return {
        "load_vs_rdflib": target(results["load"]["ours_vs_rdflib"], TARGETS["load_vs_rdflib"]),
        "queries_vs_rdflib_large": target(large["geomean_speedup_vs_rdflib"], TARGETS["queries_vs_rdflib"]),
        "queries_vs_rdflib_small": target(small["geomean_speedup_vs_rdflib"], TARGETS["queries_vs_rdflib"]),
        "queries_vs_pyoxigraph_large": target(large["geomean_time_vs_pyoxigraph"], TARGETS["queries_vs_pyoxigraph"],
                                              at_most=True),
        "queries_vs_pyoxigraph_small": target(small["geomean_time_vs_pyoxigraph"], TARGETS["queries_vs_pyoxigraph"],
                                              at_most=True),
        "turtle_vs_rdflib": target(results["turtle"].get("ours_vs_rdflib", float("nan")), TARGETS["turtle_vs_rdflib"]),
        "build_recommendations_per_s": target(runs[biggest]["recommendations_per_s"],
                                              TARGETS["build_recommendations_per_s"]),
        "stage_growth": target(worst, TARGETS["growth"], at_most=True),
        "help_vs_python": target(results["startup"]["help_vs_python"], TARGETS["help_vs_python"], at_most=True),
        "query_peak_rss_mb": target(results["startup"]["query_peak_rss_mb"], TARGETS["query_peak_rss_mb"],
                                    at_most=True),
        **_serve_targets(results["serve"]),
    }


# --- the table


def _s(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.1f} s"


def table(results: dict[str, Any]) -> str:
    """The results as Markdown tables (what the README shows)."""
    if "build" not in results:  # `--only serve`
        return _serve_table(results)
    m = results["machine"]
    lines = [
        f"`{results['command']}`: {m['cpus']} cores, {m['memory_mb'] / 1024:.0f} GB, Python {m['python']}, "
        f"pyoxigraph {m['pyoxigraph']}, rdflib {m['rdflib']}; load average "
        f"{m['load_average'][0]:.1f} before, {m.get('load_average_after', [float('nan')])[0]:.1f} after; "
        f"{results.get('seconds', float('nan')) / 60:.1f} min in all.",
        "",
        "**Build** (synthetic documents, seed 1; validation on; seconds per stage; the store loads while the "
        "exports are written)",
        "",
        "| documents | recommendations | quads | total | rec/s | " + " | ".join(STAGES) + " | peak RSS |",
        "|---:|---:|---:|---:|---:|" + "---:|" * len(STAGES) + "---:|",
    ]
    for n, run in results["build"]["runs"].items():
        stages = " | ".join(_s(run["stages"].get(s)) for s in STAGES)
        lines.append(f"| {int(n):,} | {run['recommendations']:,} | {run['quads']:,} | {_s(run['seconds'])} | "
                     f"{run['recommendations_per_s']:,.0f} | {stages} | {run['peak_rss_mb']:,.0f} MB |")
    for step, g in results["build"]["growth"].items():
        factors = " | ".join(f"{g[s]:.1f}x" if s in g else "-" for s in STAGES)
        lines.append(f"| growth {step} | | {g['quads']:.1f}x | {g['total']:.1f}x | | {factors} | |")
    load = results["load"]
    lines += [
        "",
        f"**Load** (the build's N-Quads, {load['rdflib']['triples']:,} triples; ours: `engine.open_store` on a build "
        "without `--store`)",
        "",
        "| | seconds | triples/s | peak RSS | vs rdflib |",
        "|---|---:|---:|---:|---:|",
    ]
    for engine in ("ours", "pyoxigraph", "rdflib"):
        f = load[engine]
        ratio = f["triples_per_s"] / load["rdflib"]["triples_per_s"]
        lines.append(f"| {engine} | {f['seconds']:.1f} | {f['triples_per_s']:,.0f} | {f['peak_rss_mb']:,.0f} MB | "
                     f"{ratio:.1f}x |")
    for label in ("small", "large"):
        q = results["queries"][label]
        d = results["datasets"][label]
        bound = "≥ " if q["geomean_speedup_vs_rdflib_is_lower_bound"] else ""
        lines += [
            "",
            f"**Queries at {d['triples']:,} triples** (best of runs; ours: the default store, in memory; "
            f"ours on disk: a build with `--store`, one run; `>`: rdflib stopped at its time limit, "
            f"{RDFLIB_QUERY_LIMIT:g}x ours): geometric mean {bound}{q['geomean_speedup_vs_rdflib']:.1f}x faster than "
            f"rdflib and {q['geomean_time_vs_pyoxigraph']:.2f}x raw pyoxigraph's time"
            + (f"; on disk {bound}{q['disk_geomean_speedup_vs_rdflib']:.1f}x faster than rdflib"
               if "ours_disk_peak_rss_mb" in q else "; ours on disk not run at this size"),
            "",
            "| query | rows | ours | pyoxigraph | rdflib | vs rdflib | vs pyoxigraph | ours on disk |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, row in q["queries"].items():
            if "rdflib" in row:
                theirs = _s(row["rdflib"])
            elif "rdflib_timeout" in row:
                theirs = f"> {_s(row['rdflib_timeout'])}"
            else:
                theirs = "error"
            speed = f"{row['speedup_vs_rdflib']:.0f}x" if "speedup_vs_rdflib" in row else "-"
            if "rdflib_timeout" in row:
                speed = "> " + speed
            lines.append(f"| {name} | {row['rows']:,} | {_s(row['ours'])} | {_s(row['pyoxigraph'])} | "
                         f"{theirs} | {speed} | {row['vs_pyoxigraph']:.2f}x | {_s(row.get('ours_disk'))} |")
    t = results["turtle"]
    rd = t["rdflib"]
    rdflib_turtle = _s(rd["seconds"]) if "seconds" in rd else (f"> {_s(rd['timeout'])}" if rd else "-")
    bound = "≥ " if t.get("ours_vs_rdflib_is_lower_bound") else ""
    lines += [
        "",
        f"**Turtle** ({load['rdflib']['triples']:,} triples): ours {_s(t['ours']['seconds'])}, pyoxigraph "
        f"{_s(t['pyoxigraph']['seconds'])}, rdflib {rdflib_turtle}: "
        f"{bound}{t.get('ours_vs_rdflib', float('nan')):.0f}x rdflib",
    ]
    s = results["startup"]
    lines += [
        "",
        f"**Start-up** (best / median of runs): `python -c pass` {_s(s['python']['best'])} / "
        f"{_s(s['python']['median'])}; `aflm-graph --help` {_s(s['help']['best'])} / {_s(s['help']['median'])} "
        f"({s['help_vs_python']:.1f}x). At {load['rdflib']['triples']:,} triples: `aflm-graph query documents` "
        f"{_s(s['query_documents']['best'])} (it loads aflm.nq), {_s(s['query_documents_disk']['best'])} with "
        f"`--store`; peak memory of `aflm-graph query recommendations` {s['query_peak_rss_mb']:,.0f} MB, "
        f"{s['query_peak_rss_mb_disk']:,.0f} MB with `--store`",
        *_serve_lines(results["serve"]),
    ]
    return "\n".join(lines + _target_lines(results["targets"])) + "\n"


def _target_lines(targets: dict[str, Any]) -> list[str]:
    lines = ["", "**Targets**", "", "| target | goal | measured | met |", "|---|---:|---:|---|"]
    for name, tgt in targets.items():
        if tgt["value"] is None:  # not measured (the reason is in the results)
            lines.append(f"| {name} | {tgt['target']:g} | not measured | - |")
        else:
            note = f" ({tgt['note']})" if tgt.get("note") else ""
            lines.append(f"| {name} | {tgt['target']:g} | {tgt['value']:.2f}{note} | "
                         f"{'yes' if tgt['met'] else '**no**'} |")
    return lines


def _serve_lines(serve: dict[str, Any]) -> list[str]:
    """The serve figures: p50 / p95 of the page, each resource page and the named query both ways."""
    q = serve["named_query"]
    params = "&".join(f"p.{k}={v}" for k, v in q["params"].items())
    lines = [
        "",
        f"**Serve** (`aflm-graph serve` on the seed build, 127.0.0.1; {serve['repeats']} of each, p50 / p95): "
        f"{q['name']} ({params}) through /api/run is {q['round_trip_vs_embedded']:.2f}x its time embedded "
        f"(p50s; {_s(q['round_trip_overhead_seconds'])} more)",
        "",
        "| what | p50 | p95 |",
        "|---|---:|---:|",
    ]
    page = serve["page"]
    if page.get("measured"):
        lines.append(f"| query page / ready in Chromium (fresh context each) | {_s(page['p50'])} | {_s(page['p95'])} |")
        lines.append(f"| the same, the page's own `aflm-ready` mark | {_s(page['mark']['p50'])} | "
                     f"{_s(page['mark']['p95'])} |")
    else:
        lines.append(f"| query page / ready in Chromium | not measured: {page['reason'][:120]} | |")
    for label, r in serve["resources"].items():
        lines.append(f"| `{r['path']}` {label.split(' ', 1)[1]} | {_s(r['p50'])} | {_s(r['p95'])} |")
    lines.append(f"| {q['name']}: /api/run round trip ({q['round_trip']['rows']} rows, JSON) | "
                 f"{_s(q['round_trip']['p50'])} | {_s(q['round_trip']['p95'])} |")
    lines.append(f"| {q['name']}: embedded (`sparql.run.run`, warm) | {_s(q['embedded']['p50'])} | "
                 f"{_s(q['embedded']['p95'])} |")
    if "embedded_json" in q:
        lines.append(f"| {q['name']}: embedded and rendered as JSON (for information) | "
                     f"{_s(q['embedded_json']['p50'])} | {_s(q['embedded_json']['p95'])} |")
    if "named_queries" in serve:
        lines += _named_query_lines(serve["named_queries"])
    return lines


def _named_query_lines(named: dict[str, Any]) -> list[str]:
    """Every competency query through /api/run against embedded, on the seed build and the small query dataset."""
    seeds, data = named["seeds"], named["dataset"]
    lines = [
        "",
        f"**Named queries through /api/run vs embedded** (p50s; embedded: `sparql.run.run`, warm, and rendered in "
        "the same format, SELECT and ASK as JSON, CONSTRUCT as Turtle): geometric mean of the ratios "
        f"{data['geomean_ratio']:.2f}x at {data['triples']:,} triples ({data['repeats']} of each; the target's), "
        f"{seeds['geomean_ratio']:.2f}x on the seed build ({seeds['repeats']} of each); fixed overhead "
        f"{_s(named['fixed_overhead_seconds'])} (the median of round trip - embedded on the seed build)",
        "",
        f"| query | format | rows (seeds) | embedded | round trip | ratio | rows ({data['triples']:,}) | embedded | "
        "round trip | ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in sorted({*seeds["queries"], *data["queries"]}):
        cells = []
        for side in (seeds, data):
            q = side["queries"].get(name)
            cells.append("| - | - | - | -" if q is None else
                         f"| {q['rows']:,} | {_s(q['embedded']['p50'])} | {_s(q['round_trip']['p50'])} | "
                         f"{q['ratio']:.2f}x")
        fmt = (seeds["queries"].get(name) or data["queries"][name])["format"]
        lines.append(f"| {name} | {fmt} {' '.join(cells)} |")
    return lines


def _serve_table(results: dict[str, Any]) -> str:
    m = results["machine"]
    head = (f"`{results['command']}`: {m['cpus']} cores, {m['memory_mb'] / 1024:.0f} GB, Python {m['python']}; "
            f"load average {m['load_average'][0]:.1f} before, {m.get('load_average_after', [float('nan')])[0]:.1f} "
            f"after; {results.get('seconds', float('nan')):.0f} s in all.")
    return "\n".join([head, *_serve_lines(results["serve"]), *_target_lines(results["targets"])]) + "\n"


def _folder(option: str, path: Path) -> Path:
    """`path` as a folder that exists (created if need be), or a one-line error naming the option."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SystemExit(f"benchmark: {option} {path}: cannot create the folder ({exc.strerror or exc})") from None
    if not os.access(path, os.W_OK):
        raise SystemExit(f"benchmark: {option} {path}: the folder is not writable")
    return path


def main(argv: list[str] | None = None) -> int:
    """`make bench`: run the benchmark, print the table, write the results as JSON."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run on tiny inputs (about a minute; its figures mean nothing)")
    parser.add_argument("--out", type=Path, help="where to write the results (JSON; default bench/results.json)")
    parser.add_argument("--sizes", metavar="N,N,...", help="build sizes in documents (default 100,1000,10000)")
    parser.add_argument("--only", choices=["serve", "views", "search"],
                        help="serve: only the serve figures (serve_figures: page, resource pages, named query); "
                        "needs --out, the results being partial. views: the interactive views in headless "
                        "Chromium (bench/views.py; --sizes default 100,1000; --out default bench/views.json). "
                        "search: search-text on the full-text index (bench/search.py; at the first of --sizes, "
                        "default 1000; --out optional)")
    parser.add_argument("--workdir", type=Path,
                        help="folder for the temporary corpora and builds (default: the system's temporary folder)")
    args = parser.parse_args(argv)
    if args.only == "search":  # bench/search.py: search-text on the full-text index, at the first size given
        from search import main as search_main

        documents = (args.sizes or "1000").split(",")[0]
        return search_main(["--documents", documents, *(["--out", str(args.out)] if args.out else []),
                            *(["--workdir", str(args.workdir)] if args.workdir else [])])
    try:
        sizes = tuple(int(n) for n in args.sizes.split(",")) if args.sizes else None
    except ValueError:
        parser.error(f"--sizes {args.sizes!r}: expected numbers separated by commas")
    if sizes is not None and min(sizes) < 1:
        parser.error(f"--sizes {args.sizes!r}: sizes are numbers of documents, at least 1")
    if args.only == "views":
        from views import run as run_views
        from views import table as views_table

        out = args.out or HERE / "views.json"
        _folder("--out", out.parent)
        figures = run_views(out, sizes=sizes or (100, 1000),
                            workdir=_folder("--workdir", args.workdir) if args.workdir is not None else None)
        sys.stdout.write(views_table(figures))
        print(f"Wrote {out}", file=sys.stderr)
        return 0
    if args.out is None:
        if args.only:
            parser.error(f"--only {args.only} writes partial results: give --out FILE (not bench/results.json)")
        args.out = HERE / "results.json"
    if args.out.is_dir():
        parser.error(f"--out {args.out}: is a folder; give a file name")
    _folder("--out", args.out.parent)
    workdir = _folder("--workdir", args.workdir) if args.workdir is not None else None
    results = run(args.out, quick=args.quick, sizes=sizes, workdir=workdir, only=args.only)
    sys.stdout.write(table(results))
    print(f"Wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
