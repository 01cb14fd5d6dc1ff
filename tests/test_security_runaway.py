"""Runaway queries (issue 9, test 4): stopped at the time limit (plus one second), worker gone, memory capped.

Three runaways on the seed build (a four-way cartesian join, a `(<p>|!<p>)*` closure over every node
twice, and an ORDER BY of a ten-million-row cross product, which grew to 2.3 GB in 8 s before
workers had a memory cap) go through the embedded API, the command line and `aflm-graph serve`.
Each must end within LIMIT + 1 s with a message that says which limit stopped it; the worker that
ran it must be gone; no worker may hold more than the memory cap; and a cheap query sent while the
runaway runs must be answered at once.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from aflm_graph.cli import cli
from aflm_graph.sparql.catalogue import QueryError
from aflm_graph.sparql.run import run
from hostile import PeakWatcher, Served, alive, children, is_query_worker, post_query, record_figure, serve_process

LIMIT = 2.0  # seconds
MEMORY_MB = 1024  # the ORDER BY runaway reaches it in ~0.6 s: still running when the cheap query is sent at 0.3 s
RSS_SLACK_MB = 160  # interpreter, libraries and the store's file maps, which RLIMIT_DATA does not count
RUNAWAYS = {
    "cartesian-join": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    "negated-path-closure": "SELECT (COUNT(*) AS ?n) WHERE { ?a (<urn:x:p>|!<urn:x:p>)* ?b . "
                            "?c (<urn:x:p>|!<urn:x:p>)* ?d }",
    "huge-order-by": "SELECT ?a ?b ?c ?d WHERE { ?a ?p ?b . ?c ?q ?d } ORDER BY ?b ?d ?a ?c",
}
CHEAP = "PREFIX aflm: <https://w3id.org/aflm/ontology#> SELECT ?d WHERE { ?d a aflm:RecommendationsDocument }"
STOPPED = ("time limit", "memory limit")


def _cheap_while(runaway: concurrent.futures.Future[object], ask: object) -> float:
    """Ask a cheap question while the runaway still runs; its latency in seconds."""
    assert callable(ask)
    time.sleep(0.3)  # the runaway is under way
    assert not runaway.done(), "the runaway ended before the cheap query was sent"
    started = time.monotonic()
    ask()
    return time.monotonic() - started


@pytest.mark.parametrize("name", sorted(RUNAWAYS))
def test_runaway_through_the_api(name: str, seed_build: Path) -> None:
    def runaway() -> str:
        try:
            run(RUNAWAYS[name], build=seed_build, timeout=LIMIT, max_memory_mb=MEMORY_MB)
        except QueryError as exc:
            return str(exc)
        return "finished"

    before = set(children())
    with PeakWatcher() as watcher, concurrent.futures.ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        future = pool.submit(runaway)
        cheap = _cheap_while(future, lambda: run(CHEAP, build=seed_build).rows)
        message = future.result(timeout=30)
        seconds = time.monotonic() - started
    assert any(s in message for s in STOPPED), message
    assert seconds < LIMIT + 1, f"{name}: stopped after {seconds:.2f} s"
    assert cheap < 1.0, f"a cheap query took {cheap:.2f} s beside the runaway"
    workers = watcher.seen - before
    assert workers, "the query ran in no worker process"
    assert not [pid for pid in workers if alive(pid)], "the worker outlived its query"
    peak = max(watcher.peak[pid] for pid in workers)
    assert peak < MEMORY_MB + RSS_SLACK_MB, f"a worker held {peak:.0f} MB"
    record_figure(f"runaway.api.{name}", {"seconds": round(seconds, 2), "peak_mb": round(peak), "why": message})


@pytest.mark.parametrize("name", sorted(RUNAWAYS))
def test_runaway_through_the_cli(name: str, seed_build: Path, tmp_path: Path) -> None:
    query = tmp_path / f"{name}.rq"
    query.write_text(RUNAWAYS[name] + "\n", encoding="utf-8")
    before = set(children())
    with PeakWatcher() as watcher:
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["query", str(query), "--build", str(seed_build), "--timeout", str(LIMIT),
                                          "--max-memory", str(MEMORY_MB)])
        seconds = time.monotonic() - started
    assert result.exit_code == 1 and any(s in result.stderr for s in STOPPED), result.output
    assert result.stderr.count("\n") == 1
    assert seconds < LIMIT + 1, f"{name}: stopped after {seconds:.2f} s"
    workers = watcher.seen - before
    assert workers and not [pid for pid in workers if alive(pid)]
    assert max(watcher.peak[pid] for pid in workers) < MEMORY_MB + RSS_SLACK_MB


@pytest.fixture(scope="module")
def served(seed_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve_process(seed_build, tmp_path_factory.mktemp("runaway"), "--timeout", str(LIMIT), "--workers", "2",
                       "--max-memory", str(MEMORY_MB)) as served:
        yield served


@pytest.mark.parametrize("name", sorted(RUNAWAYS))
def test_runaway_through_serve(name: str, served: Served) -> None:
    def wait_for_workers(count: int) -> list[int]:
        for _ in range(100):  # a killed worker is replaced in the background: at most 10 s
            found = [pid for pid in children(served.pid) if alive(pid) and is_query_worker(pid)]
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"fewer than {count} workers")

    before = set(wait_for_workers(2))
    with PeakWatcher(served.pid) as watcher, concurrent.futures.ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        future = pool.submit(post_query, served.url, RUNAWAYS[name])
        cheap = _cheap_while(future, lambda: post_query(served.url, CHEAP)[0] == 200 or pytest.fail("cheap failed"))
        status, _, body = future.result(timeout=30)
        seconds = time.monotonic() - started
    assert status in {503, 500}, (status, body)
    assert any(s.encode() in body for s in ("limit of", "memory limit")), body
    assert seconds < LIMIT + 1, f"{name}: stopped after {seconds:.2f} s"
    assert cheap < 1.0, f"a cheap query took {cheap:.2f} s beside the runaway"
    after = set(wait_for_workers(2))
    gone = before - after
    assert len(gone) >= 1 and not [pid for pid in gone if alive(pid)], "the runaway's worker was not replaced"
    assert max(watcher.peak.values()) < MEMORY_MB + RSS_SLACK_MB
    assert served.process.poll() is None
    assert post_query(served.url, CHEAP)[0] == 200


def test_the_python_api_takes_the_cli_limits(seed_build: Path) -> None:
    """`aflm_graph.query` (what SECURITY.md recommends for untrusted queries) stops a runaway at its timeout."""
    import aflm_graph

    started = time.monotonic()
    with pytest.raises(QueryError, match=r"time limit|memory limit"):
        aflm_graph.query(RUNAWAYS["cartesian-join"], build=seed_build, timeout=LIMIT, max_memory_mb=MEMORY_MB)
    assert time.monotonic() - started < LIMIT + 1


def test_a_huge_query_is_refused_at_once_whatever_the_path(seed_build: Path, tmp_path: Path) -> None:
    """A 50 MB literal took 16.6 s and 8.7 GB under `--timeout 5 --max-memory 500`, and the message blamed the
    worker: now its length is refused before anything reads it, on every path."""
    text = 'SELECT * WHERE { BIND("' + "a" * 50_000_000 + '" AS ?x) }'
    expected = r"refused: the query is 50,000,0\d\d characters long; the limit is 1,000,000"
    for limits in ({"timeout": 5, "max_memory_mb": 500}, {}):
        started = time.monotonic()
        with pytest.raises(QueryError, match=expected):
            run(text, build=seed_build, **limits)  # type: ignore[arg-type]
        assert time.monotonic() - started < 2
    path = tmp_path / "huge.rq"
    path.write_text(text, encoding="utf-8")
    del text
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["query", str(path), "--build", str(seed_build), "--timeout", "5",
                                      "--max-memory", "500"])
    assert result.exit_code == 1 and "too long for a query" in result.stderr, result.output
    assert result.stderr.count("\n") == 1 and time.monotonic() - started < 2
