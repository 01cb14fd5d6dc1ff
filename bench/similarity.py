"""Benchmark: time `aflm_graph.enrich.link.link` on synthetic recommendation texts (a script, not a test).

The linker must stay sub-quadratic in memory and fast at corpus scale; this prints the figure
to watch: texts, pairs found, seconds and peak resident memory. Synthetic texts come from
`bench/synth.py`, never from real sources.

Example:
    .venv/bin/python bench/similarity.py --texts 20000 --seed 1
"""

from __future__ import annotations

import argparse
import platform
import time
from collections import Counter

from aflm_graph.enrich.link import DEFAULT_THRESHOLD, link
from benchmark import peak_rss_mib
from synth import recommendation_texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20_000, help="number of synthetic recommendations")
    parser.add_argument("--seed", type=int, default=1, help="synthetic corpus seed")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    texts, documents = recommendation_texts(args.texts, seed=args.seed)
    generated = time.perf_counter() - started
    rss_before = peak_rss_mib()

    timings: list[float] = []
    links = []
    for _ in range(max(1, args.repeat)):
        started = time.perf_counter()
        links = link(texts, documents, threshold=args.threshold, top_k=args.top_k)
        timings.append(time.perf_counter() - started)
    relations = Counter(x.relation for x in links)

    print(f"python {platform.python_version()} on {platform.machine()}, {len(set(documents))} synthetic documents")
    print(f"generate: {len(texts):,} texts in {generated:.2f} s (peak RSS {rss_before:.0f} MiB)")
    print(
        f"link:     {len(texts):,} texts -> {len(links):,} pairs "
        f"({relations['duplicate']:,} duplicate, {relations['similar']:,} similar; "
        f"threshold {args.threshold}, top_k {args.top_k})"
    )
    print(
        f"time:     best {min(timings):.2f} s, median {sorted(timings)[len(timings) // 2]:.2f} s "
        f"over {len(timings)} runs; peak RSS {peak_rss_mib():.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
