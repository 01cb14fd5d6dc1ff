"""`aflm-graph serve` under hostile use (issue 9, test 8): read-only, capped, and standing under load.

Every SPARQL Update form and every Graph Store Protocol write gets a 4xx and the build's files are
byte for byte unchanged afterwards; request bodies over `--max-body` get 413 (with or without a
Content-Length), and query strings over it get 414. Then a bounded loopback load test: for 8 s, 200
clients keep sending a slow query (waiting as told after a 429) while four clients keep asking a
cheap one. Every answer is 200, 429 (too many waiting: told at once, with
Retry-After) or 503 (waited out the time limit), never a reset connection or a crash; the server
answers a cheap query afterwards. The cheap queries' p50/p95 latency is recorded in
build/security/figures.json.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from hostile import Served, http_request, percentile, post_query, record_figure, serve_process

MAX_BODY = 8192
TIMEOUT = 3.0
CLIENTS = 200
CHEAP_CLIENTS = 4
LOAD_SECONDS = 8.0
CHEAP = "PREFIX aflm: <https://w3id.org/aflm/ontology#> SELECT ?d WHERE { ?d a aflm:RecommendationsDocument }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { { ?a ?p ?b . ?c ?q ?b } UNION { ?a ?p ?b . ?c ?q ?b } }"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
INSERT = "INSERT DATA { GRAPH <https://w3id.org/aflm/graph/data> { <urn:x:s> <urn:x:p> <urn:x:o> } }"
TURTLE = b"<urn:x:s> <urn:x:p> <urn:x:o> ."


def _files(build: Path) -> dict[str, str]:
    """Checksums of every file of the build (the store's own LOG files aside, which RocksDB rotates)."""
    return {str(p.relative_to(build)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(build.rglob("*")) if p.is_file() and not p.name.startswith("LOG")}


@pytest.fixture(scope="module")
def served(seed_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve_process(seed_build, tmp_path_factory.mktemp("serve-security"), "--workers", "2", "--timeout",
                       str(TIMEOUT), "--max-body", str(MAX_BODY), "--max-waiting", "32") as served:
        yield served


def _writes(url: str) -> dict[str, tuple[str, str, bytes, dict[str, str]]]:
    """Every way to ask for a write: name -> (method, url, body, headers)."""
    base = url.rsplit("/", 1)[0]
    graph = urllib.parse.urlencode({"graph": "https://w3id.org/aflm/graph/data"})
    turtle = {"Content-Type": "text/turtle"}
    forms = {
        "form-update": {"update": INSERT}, "form-query-insert": {"query": INSERT},
        "form-delete-where": {"query": "DELETE WHERE { ?s ?p ?o }"}, "form-clear": {"update": "CLEAR ALL"},
        "form-drop": {"query": "DROP GRAPH <https://w3id.org/aflm/graph/data>"},
        "form-with": {"query": "WITH <urn:x:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"},
        "form-copy": {"query": "COPY DEFAULT TO <urn:x:g>"}, "form-create": {"query": "CREATE GRAPH <urn:x:g>"},
        "form-load": {"update": "LOAD <http://127.0.0.1:9/x> INTO GRAPH <urn:x:g>"},
    }
    writes = {name: ("POST", url, urllib.parse.urlencode(form).encode(), FORM) for name, form in forms.items()}
    writes |= {
        "direct-update": ("POST", url, INSERT.encode(), {"Content-Type": "application/sparql-update"}),
        "get-update": ("GET", f"{url}?{urllib.parse.urlencode({'update': INSERT})}", b"", {}),
        "update-route": ("POST", f"{base}/update", urllib.parse.urlencode({"update": INSERT}).encode(), FORM),
        "gsp-put": ("PUT", f"{url}?{graph}", TURTLE, turtle),
        "gsp-post": ("POST", f"{url}?{graph}", TURTLE, turtle),
        "gsp-delete": ("DELETE", f"{url}?{graph}", b"", {}),
        "gsp-patch": ("PATCH", f"{url}?{graph}", TURTLE, turtle),
        "store-put": ("PUT", f"{base}/store?default", TURTLE, turtle),
        "store-post": ("POST", f"{base}/store?{graph}", TURTLE, turtle),
        "store-delete": ("DELETE", f"{base}/store?{graph}", b"", {}),
        "data-put": ("PUT", f"{base}/data?default", TURTLE, turtle),
        "rdf-graph-store": ("POST", f"{base}/rdf-graph-store?{graph}", TURTLE, turtle),
        "update-put": ("PUT", f"{base}/update", INSERT.encode(), {"Content-Type": "application/sparql-update"}),
    }
    return writes


def test_every_update_and_graph_store_write_is_refused_and_nothing_changes(served: Served,
                                                                           seed_build: Path) -> None:
    before = _files(seed_build)
    count = json.loads(post_query(served.url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[2])
    for name, (method, url, body, headers) in _writes(served.url).items():
        status, _, answer = http_request(url, data=body or None, headers=headers, method=method)
        assert 400 <= status < 500, (name, status, answer[:200])
    assert json.loads(post_query(served.url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[2]) == count
    assert post_query(served.url, "ASK { <urn:x:s> ?p ?o }")[2].count(b"false") == 1
    assert _files(seed_build) == before


def test_bodies_over_the_cap_get_413(served: Served) -> None:
    big = urllib.parse.urlencode({"query": CHEAP + " #" + "x" * MAX_BODY}).encode()
    assert http_request(served.url, data=big, headers=FORM)[0] == 413
    # no Content-Length: the body arrives chunked and is cut at the cap as it streams in
    parts = urllib.parse.urlsplit(served.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest("POST", parts.path)
        connection.putheader("Content-Type", "application/sparql-query")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        chunk = b"# " + b"y" * 4000 + b"\n"
        for _ in range(4):
            connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        connection.send(b"0\r\n\r\n")
        assert connection.getresponse().status == 413
    finally:
        connection.close()
    # a query string over the cap is refused too (414), and the server stays up
    status, _, _ = http_request(f"{served.url}?{urllib.parse.urlencode({'query': CHEAP + ' #' + 'z' * 100_000})}")
    assert status == 414
    assert post_query(served.url, CHEAP)[0] == 200


def test_two_hundred_concurrent_slow_queries_get_answers_or_a_clear_busy(served: Served) -> None:
    deadline = time.monotonic() + LOAD_SECONDS
    cheap: list[tuple[int, float]] = []
    lock = threading.Lock()

    def slow_client(_: int) -> list[int]:
        """One of 200 clients: a slow query, again and again until the deadline (after a 429, wait as told)."""
        statuses = []
        for _ in range(100):  # bounded in count as well as in time
            if time.monotonic() > deadline:
                break
            try:
                status, headers, _ = post_query(served.url, SLOW, timeout=60)
            except OSError as exc:  # a reset or refused connection is what must never happen
                statuses.append(-1)
                print(f"slow client: {exc}")
                break
            statuses.append(status)
            if status in {429, 503}:
                time.sleep(float(headers.get("retry-after", "1")))
        return statuses

    def cheap_client() -> None:
        for _ in range(1000):
            if time.monotonic() > deadline:
                return
            started = time.monotonic()
            status = post_query(served.url, CHEAP, timeout=60)[0]
            with lock:
                cheap.append((status, time.monotonic() - started))
            time.sleep(0.05)

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENTS + CHEAP_CLIENTS) as pool:
        watchers = [pool.submit(cheap_client) for _ in range(CHEAP_CLIENTS)]
        statuses = [s for batch in pool.map(slow_client, range(CLIENTS), timeout=120) for s in batch]
        for watcher in watchers:
            watcher.result(timeout=60)
    seconds = time.monotonic() - started

    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    assert set(statuses) <= {200, 429, 503}, counts
    assert counts.get(200, 0) >= 2, counts
    assert served.process.poll() is None, "the server died"
    assert post_query(served.url, CHEAP)[0] == 200, "no answer after the load"
    latencies = [s for _, s in cheap]
    answered = [s for status, s in cheap if status == 200]
    cheap_counts = {s: [c for c, _ in cheap].count(s) for s in sorted({c for c, _ in cheap})}
    assert cheap and set(cheap_counts) <= {200, 429, 503}, cheap_counts
    figures = {
        "clients": CLIENTS, "seconds": round(seconds, 2), "slow_requests": len(statuses), "slow_statuses": counts,
        "cheap_requests": len(cheap), "cheap_statuses": cheap_counts,
        "cheap_p50_ms": round(1000 * percentile(latencies, 50), 1),
        "cheap_p95_ms": round(1000 * percentile(latencies, 95), 1),
        "cheap_200_p50_ms": round(1000 * percentile(answered, 50), 1) if answered else None,
        "cheap_200_p95_ms": round(1000 * percentile(answered, 95), 1) if answered else None,
    }
    record_figure("serve.load", figures)
    assert percentile(latencies, 95) < TIMEOUT + 1, figures


def test_the_limits_are_settings_shown_with_their_defaults() -> None:
    from click.testing import CliRunner

    from aflm_graph.cli import cli

    serve_help = " ".join(CliRunner().invoke(cli, ["serve", "--help"]).output.split())
    for option, default in [("--timeout", "20.0"), ("--max-rows", "100000"), ("--max-body", "65536"),
                            ("--max-memory", "2048"), ("--max-waiting", "64"), ("--workers", "2")]:
        assert option in serve_help and f"default: {default}" in serve_help, option
    build_help = " ".join(CliRunner().invoke(cli, ["build", "--help"]).output.split())
    for option, default in [("--pdf-timeout", "30.0"), ("--pdf-memory", "512"), ("--pdf-max-pages", "500")]:
        assert option in build_help and f"default: {default}" in build_help, option
    assert "--keep-going" in build_help
