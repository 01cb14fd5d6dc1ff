"""Text-search figures (issue 19, item 4): the search-text query on a synthetic corpus, on the build's full-text
index (search.sqlite), against the goal p95 <= 100 ms at 1,000 documents.

A corpus of bench/synth.py (default 1,000 documents, seed 7) is built once (or `--build DIR` reuses a build);
then ~50 searches, varied and drawn from the corpus's own words with a fixed seed (frequent and rare words,
words side by side, phrases cut from the texts, alternatives with OR, hyphenated and joined spellings, words
that are nowhere, filters, hostile syntax), each run `--repeats` times through the Python API's path
(sparql/run.run: parameter checks, the index opened, the search, the rows made) after one warm-up run.
A handful also run on the SPARQL fallback (the same build without its index) for comparison.

`python bench/search.py [--documents 1000] [--build DIR] [--workdir DIR] [--out FILE]`, or
`python bench/benchmark.py --only search --sizes 1000 --out FILE`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SEED = 7
GOAL_P95_MS = 100.0
FALLBACK_QUERIES = 3  # each takes tens of seconds at 1,000 documents


def searches(texts: list[str], seed: int = SEED) -> list[dict[str, str]]:
    """About fifty searches (parameter dicts) drawn from the corpus's texts with a fixed seed."""
    rng = random.Random(seed)
    words: dict[str, int] = {}
    hyphenated: set[str] = set()
    for text in texts:
        for word in re.findall(r"[A-Za-z]+(?:-[A-Za-z0-9]+)*", text):
            if "-" in word:
                hyphenated.add(word)
            words[word.lower()] = words.get(word.lower(), 0) + 1
    ranked = sorted((w for w in words if len(w) > 3), key=lambda w: (-words[w], w))
    frequent, rare = ranked[:40], [w for w in ranked if words[w] <= 3][:200] or ranked[-40:]

    def phrase(length: int) -> str:
        tokens = re.findall(r"[A-Za-z]+", rng.choice(texts))
        start = rng.randrange(max(1, len(tokens) - length))
        return '"' + " ".join(tokens[start:start + length]) + '"'

    out: list[dict[str, str]] = []
    out += [{"words": w} for w in rng.sample(frequent, 8)]
    out += [{"words": w} for w in rng.sample(rare, min(8, len(rare)))]
    out += [{"words": f"{a} {b}"} for a, b in zip(rng.sample(frequent, 6), rng.sample(rare, 6), strict=False)]
    out += [{"words": phrase(rng.choice([2, 3]))} for _ in range(8)]
    out += [{"words": f"{a} OR {b}"} for a, b in zip(rng.sample(rare, 4), rng.sample(frequent, 4), strict=False)]
    out += [{"words": f'{phrase(2)} OR {rng.choice(rare)} {rng.choice(frequent)}'} for _ in range(3)]
    for word in sorted(hyphenated)[:3]:
        out += [{"words": word}, {"words": word.replace("-", "")}]
    out += [{"words": w} for w in ("zzyzzyva", "reintegration OR re-integration", "COVID-19 pandemic")]
    out += [{"words": rng.choice(frequent), "member_state": "Cambodia"},
            {"words": rng.choice(frequent), "from": "2020-01-01", "to": "2021-12-31"},
            {"words": rng.choice(frequent), "include_repeats": "false"}]
    out += [{"words": w} for w in ('NEAR(migrant workers) * ^x col:y -z', '"unbalanced quote', "OR health OR")]
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(build: Path, params: list[dict[str, str]], repeats: int) -> dict[str, Any]:
    """Milliseconds per search (every repeat of every search), with the rows each one answered."""
    from aflm_graph.sparql.catalogue import named_queries
    from aflm_graph.sparql.run import run

    query = named_queries()["search-text"]
    run(query, build=build, params=params[0])  # warm: imports, the vocabularies, the page cache
    per_query = []
    samples: list[float] = []
    for p in params:
        times = []
        rows = 0
        for _ in range(repeats):
            started = time.perf_counter()
            result = run(query, build=build, params=p)
            times.append((time.perf_counter() - started) * 1000)
            rows = len(result.rows)
        samples += times
        per_query.append({"params": p, "rows": rows, "ms": round(statistics.median(times), 2)})
    return {
        "searches": len(params), "repeats": repeats, "samples": len(samples),
        "p50_ms": round(_percentile(samples, 0.50), 2), "p95_ms": round(_percentile(samples, 0.95), 2),
        "max_ms": round(max(samples), 2), "rows_max": max(q["rows"] for q in per_query),
        "per_query": per_query,
    }


def bench(documents: int, *, build: Path | None, workdir: Path | None, repeats: int, keep: bool,
          fallback: int = FALLBACK_QUERIES) -> dict[str, Any]:
    import aflm_graph
    from aflm_graph.sparql.textsearch import INDEX_NAME

    work = Path(tempfile.mkdtemp(prefix="aflm-search-", dir=workdir))
    results: dict[str, Any] = {"documents": documents, "load_average_before": list(os.getloadavg())}
    try:
        if build is None:
            from synth import write_corpus

            corpus = work / "corpus"
            write_corpus(corpus, documents=documents, seed=SEED)
            started = time.perf_counter()
            report = aflm_graph.run_pipeline(corpus, work / "build")
            results["build_seconds"] = round(time.perf_counter() - started, 2)
            results["recommendations"] = report.recommendations
            build = report.out
        texts = [r["text"] or "" for r in aflm_graph.query("recommendations", build=build).records()]
        results["recommendations"] = len(texts)
        results["index_bytes"] = (build / INDEX_NAME).stat().st_size
        params = searches(texts)
        results["index"] = measure(build, params, repeats)
        if fallback:  # the SPARQL fallback on the same build without its index, for a few of the searches
            bare = work / "bare"
            bare.mkdir()
            (bare / "aflm.nq").symlink_to((build / "aflm.nq").resolve())
            results["fallback"] = measure(bare, params[:fallback], 1)
        results["goal_p95_ms"] = GOAL_P95_MS
        results["met"] = results["index"]["p95_ms"] <= GOAL_P95_MS
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    results["load_average_after"] = list(os.getloadavg())
    return results


def report(results: dict[str, Any]) -> str:
    index, fallback = results["index"], results.get("fallback")
    lines = [
        f"search-text at {results['documents']:,} documents ({results['recommendations']:,} recommendations; "
        f"index {results['index_bytes'] / 1e6:.1f} MB" + (f", build {results['build_seconds']} s)"
                                                           if "build_seconds" in results else ")"),
        f"  index:    {index['searches']} searches x {index['repeats']}: p50 {index['p50_ms']} ms, "
        f"p95 {index['p95_ms']} ms, max {index['max_ms']} ms (largest answer {index['rows_max']:,} rows); "
        f"goal p95 <= {results['goal_p95_ms']:g} ms: {'met' if results['met'] else 'NOT met'}",
        *([f"  fallback: {fallback['searches']} searches (SPARQL regex, no index): p50 {fallback['p50_ms']} ms, "
           f"max {fallback['max_ms']} ms"] if fallback else []),
        f"  load average before/after: {results['load_average_before'][0]:.2f} / "
        f"{results['load_average_after'][0]:.2f}",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Text-search figures: search-text on a synthetic corpus.")
    parser.add_argument("--documents", type=int, default=1000, help="synthetic documents (default 1000)")
    parser.add_argument("--build", type=Path, help="an existing build to search instead of a new corpus")
    parser.add_argument("--workdir", type=Path, help="folder for the temporary corpus and build")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each search (default 3)")
    parser.add_argument("--out", type=Path, help="write the results as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary corpus and build")
    parser.add_argument("--fallback", type=int, default=FALLBACK_QUERIES,
                        help=f"searches also timed on the SPARQL fallback (default {FALLBACK_QUERIES}; 0: none)")
    args = parser.parse_args(argv)
    if args.documents < 1 or args.repeats < 1:
        parser.error("--documents and --repeats are at least 1")
    results = bench(args.documents, build=args.build, workdir=args.workdir, repeats=args.repeats, keep=args.keep,
                    fallback=args.fallback)
    results["command"] = "python bench/search.py " + " ".join(argv if argv is not None else sys.argv[1:])
    sys.stdout.write(report(results))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"Wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
