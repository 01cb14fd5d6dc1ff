"""`aflm-graph serve`: a read-only SPARQL 1.1 Protocol endpoint, run as a real process on loopback.

What users rely on: the competency queries give the embedded answers through any SPARQL client
(SPARQLWrapper here); updates, SERVICE, LOAD and remote FROM are refused; a runaway query is
stopped at its limit without holding up a cheap one; many clients at once all get answers.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from aflm_graph.serve.endpoint import negotiate
from aflm_graph.sparql.catalogue import named_queries
from aflm_graph.sparql.run import run
from conftest import free_port, require_system
from servers import fixture_build, stop, wait_until_ready
from test_competency import FIXTURES, QUERIES
from test_remote import canonical, examples

TIMEOUT = 2.0  # the served per-query limit
MAX_ROWS = 1000
MAX_BODY = 16384  # search-text's SPARQL, its diacritics percent-encoded, is ~12 kB as a form
CATALOGUE = named_queries(QUERIES)
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
CHEAP = "PREFIX aflm: <https://w3id.org/aflm/ontology#> SELECT ?d WHERE { ?d a aflm:RecommendationsDocument }"


@dataclass(frozen=True)
class Served:
    url: str
    pid: int


@contextlib.contextmanager
def serving(build: Path, workdir: Path, *, workers: int = 2) -> Iterator[Served]:
    port = free_port()
    log = workdir / f"serve-{port}.log"
    exe = Path(sys.executable).with_name("aflm-graph")
    args = [str(exe), "serve", "--build", str(build), "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--timeout", str(TIMEOUT), "--max-rows", str(MAX_ROWS),
            "--max-body", str(MAX_BODY)]
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/sparql"
        wait_until_ready(url, process, seconds=60, log=log)
        yield Served(url, process.pid)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def endpoint(seed_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(seed_build, tmp_path_factory.mktemp("serve")) as served:
        yield served


def request(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
            method: str | None = None, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def post_query(url: str, query: str, accept: str = "application/sparql-results+json",
               timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    body = urllib.parse.urlencode({"query": query}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
    return request(url, data=body, headers=headers, timeout=timeout)


# --- the same answers as the embedded engine


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_competency_queries_through_sparqlwrapper_give_the_embedded_answer(
    endpoint: Served, seed_build: Path, name: str
) -> None:
    query = CATALOGUE[name]
    served = run(query, params=examples(name), endpoint=endpoint.url)
    embedded = run(query, build=seed_build, params=examples(name))
    if query.extra.get("fulltext"):  # the build's full-text index scores its rows; an endpoint has no index
        assert embedded.columns[0] == "score" and all(row[0] is None for row in served.rows)
        embedded.rows = [[None, *row[1:]] for row in embedded.rows]
    assert canonical(served) == canonical(embedded)


def test_get_and_post_and_direct_post_agree(endpoint: Served) -> None:
    get = request(f"{endpoint.url}?{urllib.parse.urlencode({'query': CHEAP})}", headers={"Accept": "text/csv"})
    form = post_query(endpoint.url, CHEAP, accept="text/csv")
    direct = request(endpoint.url, data=CHEAP.encode(), headers={"Content-Type": "application/sparql-query",
                                                                 "Accept": "text/csv"})
    assert get[0] == form[0] == direct[0] == 200
    assert get[2] == form[2] == direct[2]
    assert sorted(get[2].decode().splitlines()[1:]) == [
        "https://w3id.org/aflm/id/document/000_c29556925cd8fb24",
        "https://w3id.org/aflm/id/document/002_71c0a65de23b0458",
    ]


def test_content_negotiation(endpoint: Served) -> None:
    select = "SELECT DISTINCT ?n WHERE { ?f <https://w3id.org/aflm/ontology#forumNumber> ?n FILTER(?n = 13) }"
    status, headers, body = post_query(endpoint.url, select, accept="application/sparql-results+json")
    assert status == 200 and headers["content-type"].startswith("application/sparql-results+json")
    assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == "13"
    status, headers, body = post_query(endpoint.url, select, accept="application/sparql-results+xml")
    assert status == 200 and headers["content-type"].startswith("application/sparql-results+xml")
    assert b'<literal datatype="http://www.w3.org/2001/XMLSchema#integer">13</literal>' in body
    status, headers, body = post_query(endpoint.url, select, accept="text/tab-separated-values")
    assert headers["content-type"].startswith("text/tab-separated-values")
    assert body.decode().splitlines() == ["?n", '"13"^^<http://www.w3.org/2001/XMLSchema#integer>']
    status, headers, body = post_query(endpoint.url, select, accept="image/png;q=0.9, text/csv;q=0.5")
    assert headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(body.decode()))) == [["n"], ["13"]]
    assert post_query(endpoint.url, select, accept="image/png")[0] == 406

    construct = ("CONSTRUCT { ?f <https://w3id.org/aflm/ontology#forumNumber> ?n } "
                 "WHERE { ?f <https://w3id.org/aflm/ontology#forumNumber> ?n FILTER(?n = 13) }")
    status, headers, body = post_query(endpoint.url, construct, accept="*/*")
    assert status == 200 and headers["content-type"].startswith("text/turtle")
    assert len(list(ox.parse(body, format=ox.RdfFormat.TURTLE))) == 1
    status, headers, body = post_query(endpoint.url, construct, accept="application/n-triples")
    assert headers["content-type"].startswith("application/n-triples")
    assert body.decode().strip() == (
        "<https://w3id.org/aflm/id/forum/13> <https://w3id.org/aflm/ontology#forumNumber> "
        '"13"^^<http://www.w3.org/2001/XMLSchema#integer> .'
    )


def test_negotiate() -> None:
    offered = {"application/sparql-results+json": "json", "text/csv": "csv"}
    assert negotiate("", offered, "json") == "json"
    assert negotiate("text/csv;q=0.2, application/sparql-results+json;q=0.8", offered, "json") == "json"
    assert negotiate("text/*", offered, "json") == "csv"
    assert negotiate("text/csv;q=0, */*;q=0.1", offered, "json") == "json"
    assert negotiate("image/png", offered, "json") is None


# --- read-only, capped


@pytest.mark.parametrize(
    ("how", "payload"),
    [
        ("form-update", {"update": "INSERT DATA { <urn:x:s> <urn:x:p> <urn:x:o> }"}),
        ("form-query-update", {"query": "INSERT DATA { <urn:x:s> <urn:x:p> <urn:x:o> }"}),
        ("delete", {"query": "DELETE WHERE { ?s ?p ?o }"}),
        ("clear", {"query": "CLEAR ALL"}),
        ("load", {"query": "LOAD <http://127.0.0.1:9/data.ttl>"}),
        ("service", {"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}),
        ("escaped-service", {"query": "SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}),
        ("remote-from", {"query": "SELECT * FROM <http://127.0.0.1:9/data.ttl> WHERE { ?s ?p ?o }"}),
        ("dataset-param", {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "default-graph-uri": "http://x/"}),
    ],
)
def test_writes_and_network_access_are_refused(endpoint: Served, how: str, payload: dict[str, str]) -> None:
    status, _, body = request(endpoint.url, data=urllib.parse.urlencode(payload).encode(),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert 400 <= status < 500, (how, status, body)
    assert body.strip(), "a refusal says why"


def test_other_update_routes_are_refused_and_nothing_changed(endpoint: Served) -> None:
    update = b"INSERT DATA { <urn:x:s> <urn:x:p> <urn:x:o> }"
    assert request(endpoint.url, data=update, headers={"Content-Type": "application/sparql-update"})[0] == 403
    assert request(endpoint.url.replace("/sparql", "/update"), data=update,
                   headers={"Content-Type": "application/sparql-update"})[0] == 403
    get = f"{endpoint.url}?{urllib.parse.urlencode({'update': update.decode()})}"
    assert request(get)[0] == 403
    status, _, body = post_query(endpoint.url, "ASK { <urn:x:s> ?p ?o }")
    assert status == 200 and json.loads(body)["boolean"] is False


def test_request_body_and_result_size_are_capped(endpoint: Served) -> None:
    big = "SELECT * WHERE { ?s ?p ?o } " + "#" * (MAX_BODY + 10)
    assert post_query(endpoint.url, big)[0] == 413
    status, _, body = post_query(endpoint.url, "SELECT * WHERE { ?s ?p ?o }")  # thousands of triples
    assert status == 422 and str(MAX_ROWS).encode() in body
    status, headers, body = post_query(endpoint.url, f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {MAX_ROWS}")
    assert status == 200 and headers["x-result-rows"] == str(MAX_ROWS)
    assert len(json.loads(body)["results"]["bindings"]) == MAX_ROWS


def test_a_runaway_query_is_stopped_while_a_cheap_one_succeeds(endpoint: Served) -> None:
    def timed(query: str) -> tuple[int, float]:
        started = time.monotonic()
        status = post_query(endpoint.url, query, timeout=30)[0]
        return status, time.monotonic() - started

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        runaway = pool.submit(timed, RUNAWAY)
        time.sleep(0.2)  # the runaway holds a worker when the cheap query arrives
        cheap = pool.submit(timed, CHEAP)
        cheap_status, cheap_seconds = cheap.result(timeout=30)
        runaway_status, runaway_seconds = runaway.result(timeout=30)
    assert cheap_status == 200 and cheap_seconds < 1.5
    assert runaway_status == 503
    assert TIMEOUT <= runaway_seconds < TIMEOUT + 1.5
    # the killed worker is replaced: the endpoint keeps answering, two at a time
    deadline = time.monotonic() + 20
    statuses = []
    while time.monotonic() < deadline and len(statuses) < 3:
        statuses.append(post_query(endpoint.url, CHEAP)[0])
    assert statuses == [200, 200, 200]


def test_fifty_concurrent_clients_all_get_answers(endpoint: Served) -> None:
    def ask(i: int) -> tuple[int, int]:
        query = f"SELECT ?s WHERE {{ ?s a <https://w3id.org/aflm/ontology#Recommendation> }} LIMIT {i + 1}"
        status, _, body = post_query(endpoint.url, query, timeout=60)
        return status, len(json.loads(body)["results"]["bindings"]) if status == 200 else -1

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(ask, range(50), timeout=60))
    assert answers == [(200, min(i + 1, 47)) for i in range(50)]
    assert time.monotonic() - started < 30


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def test_stopping_the_server_stops_its_workers(tmp_path: Path) -> None:
    require_system(Path("/proc").is_dir(), "reads /proc to find the worker processes")
    build = fixture_build(FIXTURES / "fixture.trig", tmp_path / "build")
    with serving(build, tmp_path, workers=3) as served:
        workers = _children(served.pid)
        assert len(workers) >= 3  # the query workers (and multiprocessing's helper)
        os.kill(served.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
            time.sleep(0.1)
        alive = [w for w in workers if Path(f"/proc/{w}").exists()
                 and "Z" not in Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[:1]]
        assert alive == []


def test_embedded_query_with_a_timeout_is_stopped(tmp_path: Path) -> None:
    """pyoxigraph cannot stop a query; `--timeout` runs it in a worker process that is killed at the limit."""
    from click.testing import CliRunner

    from aflm_graph.cli import cli

    build = fixture_build(FIXTURES / "fixture.trig", tmp_path / "build")
    runaway = tmp_path / "runaway.rq"
    runaway.write_text(RUNAWAY + "\n", encoding="utf-8")
    started = time.monotonic()
    stopped = CliRunner().invoke(cli, ["query", str(runaway), "--build", str(build), "--timeout", "1"])
    assert stopped.exit_code != 0
    assert "stopped after 1 s" in stopped.stderr
    assert time.monotonic() - started < 6
    quick = CliRunner().invoke(cli, ["query", "recommendations-by-theme", "--param", "theme=health-care",
                                     "--build", str(build), "--timeout", "20", "--format", "csv"])
    assert quick.exit_code == 0 and len(quick.stdout.splitlines()) == 3  # header + 2 recommendations


def test_results_as_a_pandas_dataframe(tmp_path: Path) -> None:
    import pandas  # in the test extra; an optional extra for users
    build = fixture_build(FIXTURES / "fixture.trig", tmp_path / "build")
    frame = run(CATALOGUE["member-states-for-theme"], build=build, params={"theme": "social-protection"}).to_dataframe()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == ["member_state", "member_state_label", "documents", "recommendations"]
    assert frame["member_state_label"].tolist() == ["Cambodia", "Viet Nam"]
