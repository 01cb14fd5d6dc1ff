"""Benchmark: time `aflm_graph.enrich.recurrence.recur` on synthetic recommendations (a script, not a test).

The recurrence linker must stay linear at corpus scale; this prints texts, links found, seconds (wall,
and CPU: this process's and its workers', the steadier figure on a shared machine) and peak resident
memory. The texts come from `bench/synth.py` (never real sources) and are annotated first, as in a
build; annotation is not timed. The 1,000-document corpus of seed 1 has 25,482 texts.

Example:
    .venv/bin/python bench/recurrence.py --texts 25482 --seed 1 --top-k 3
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

from aflm_graph.enrich.annotate import annotate
from aflm_graph.enrich.recurrence import DEFAULT_THRESHOLD, DEFAULT_TOP_K, recur
from aflm_graph.terms.vocab import load_vocabulary
from benchmark import peak_rss_mib
from synth import recommendation_texts


def cpu_seconds() -> float:
    """User and system CPU of this process and of its finished workers (the blocked path may fork two)."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=25_482, help="number of synthetic recommendations")
    parser.add_argument("--seed", type=int, default=1, help="synthetic corpus seed")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--top-k", type=int, default=DEFAULT_TOP_K)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs; the best is reported")
    args = parser.parse_args(argv)

    texts, documents = recommendation_texts(args.texts, seed=args.seed)
    vocabulary = load_vocabulary()
    concepts = [tuple((m.concept, m.start) for m in annotate(text, vocabulary)) for text in texts]
    timings: list[float] = []
    cpu: list[float] = []
    found = []
    for _ in range(max(1, args.repeat)):
        started, used = time.perf_counter(), cpu_seconds()
        found = recur(texts, documents, concepts, threshold=args.threshold, top_k=args.top_k)
        timings.append(time.perf_counter() - started)
        cpu.append(cpu_seconds() - used)
    print(f"python {platform.python_version()} on {platform.machine()}, {len(set(documents))} synthetic documents")
    print(f"recur:    {len(texts):,} texts -> {len(found):,} links ({len(found) / max(1, len(texts)):.2f} per text; "
          f"threshold {args.threshold}, top_k {args.top_k})")
    print(f"time:     best {min(timings):.2f} s wall, {min(cpu):.2f} s CPU over {len(timings)} runs; "
          f"peak RSS {peak_rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
