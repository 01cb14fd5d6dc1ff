"""Benchmark: each step of a build run alone, one after the other, on one synthetic corpus (a script, not a test).

`make bench` (benchmark.py) times a build as it runs, its outputs written side by side (a helper process, a
loader thread), so a stage's seconds there include waiting for the others. This script runs the same
library functions one at a time in one process on the same statements, so that the growth of each
step with the corpus can be read on its own: run it at two sizes and divide. Synthetic documents come
from `bench/synth.py`, never from real sources.

Example:
    .venv/bin/python bench/stages.py --documents 1000
    .venv/bin/python bench/stages.py --documents 10000 --json /tmp/stages-10000.json
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from benchmark import peak_rss_mib

T = TypeVar("T")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1_000, help="number of synthetic documents")
    parser.add_argument("--seed", type=int, default=1, help="synthetic corpus seed")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    import pyoxigraph as ox

    from aflm_graph.enrich.link import link
    from aflm_graph.enrich.recurrence import recur
    from aflm_graph.graph.build import build_statements
    from aflm_graph.graph.describe import statement_facts
    from aflm_graph.graph.export import jsonld_chunks, write_rdfxml_file, write_serialized
    from aflm_graph.graph.statements import ntriples_chunks, write_chunks
    from aflm_graph.publish import pipeline
    from aflm_graph.terms.vocab import load_vocabulary
    from aflm_graph.validate.stream import validate_statements
    from aflm_graph.views.network import build_views, load_views_store, words_store
    from synth import write_corpus

    work = Path(tempfile.mkdtemp(prefix="aflm-stages-"))
    seconds: dict[str, float] = {}

    def step(name: str, work_: Callable[[], T]) -> T:
        started = time.perf_counter()
        value = work_()
        seconds[name] = time.perf_counter() - started
        print(f"{name:<12} {seconds[name]:8.2f} s", file=sys.stderr, flush=True)
        return value

    try:
        write_corpus(work / "corpus", documents=args.documents, seed=args.seed)
        vocabulary = load_vocabulary()
        files = pipeline.discover([work / "corpus"])
        # parse, annotate and each document's statements, in worker processes as the pipeline does
        prepared = [p for p in step("prepare", lambda: list(pipeline._prepare_all(files, None, vocabulary)))
                    if isinstance(p, pipeline._Prepared)]
        documents = [p.document for p in prepared]
        texts = [r.text for d in documents for r in d.recommendations]
        owners = [d.id for d in documents for _ in d.recommendations]
        concepts = [c for p in prepared for c in p.concepts]  # per recommendation, as the pipeline collects them
        links = step("link", lambda: link(texts, owners))
        recurrences = step("recurrence", lambda: recur(texts, owners, concepts))
        statements = step("statements", lambda: build_statements([p.statements for p in prepared], links,
                                                                 vocabulary=vocabulary, recurrences=recurrences))
        prepared.clear()  # the pipeline lets these go too
        gc.freeze()  # as the pipeline does from here on
        out = work / "out"
        out.mkdir()
        step("nquads", lambda: write_chunks(out / "aflm.nq", statements.nquads_chunks()))
        merged = step("merged", statements.merged)
        step("ntriples", lambda: write_chunks(out / "aflm.nt", ntriples_chunks(merged)))
        step("turtle", lambda: write_serialized(out / "aflm.ttl", ox.parse(path=str(out / "aflm.nt")),
                                                ox.RdfFormat.TURTLE))
        step("trig", lambda: write_serialized(out / "aflm.trig", ox.parse(path=str(out / "aflm.nq")),
                                              ox.RdfFormat.TRIG))
        step("jsonld", lambda: write_chunks(out / "aflm.jsonld", jsonld_chunks(merged)))
        step("rdfxml", lambda: write_rdfxml_file(out / "aflm.rdf", out / "aflm.nt"))
        step("facts", lambda: statement_facts(None, statements))
        step("validate", lambda: validate_statements(statements))
        store = ox.Store()
        step("views-store", lambda: load_views_store(store, statements, scratch=out / "views.nt"))

        words = words_store(statements, scratch=out / "words.nt")  # as the pipeline does
        step("views", lambda: build_views(store, version="bench", details=words))
        figures = {
            "documents": args.documents,
            "recommendations": len(texts),
            "recurrence_links": len(recurrences),
            "quads": len(statements),
            "seconds": seconds,
            "peak_rss_mib": peak_rss_mib(),
            "machine": {"platform": platform.platform(), "python": platform.python_version()},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(figures, indent=2, sort_keys=True)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
