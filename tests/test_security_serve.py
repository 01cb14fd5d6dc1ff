"""`aflm-graph serve` under hostile use (issue 9, test 8): read-only, capped, and standing under load.

Every SPARQL Update form and every Graph Store Protocol write gets a 4xx and the build's files are
byte for byte unchanged afterwards; request bodies over `--max-body` get 413 (with or without a
Content-Length), and query strings over it get 414. Then a bounded loopback load test: for 8 s, 200
clients keep sending a slow query (waiting as told after a 429) while four clients keep asking a
cheap one. Every answer is 200, 429 (too many waiting: told at once, with
Retry-After) or 503 (waited out the time limit), never a reset connection or a crash; the server
answers a cheap query afterwards. The cheap queries' p50/p95 latency is recorded in
test-output/security/figures.json.

Issue 15, connections: hundreds of idle half-sent requests (slowloris) from one loopback address are
capped per address (the rest refused at once, 429) and each held one is closed after `--read-timeout`
(measured), while a client from another address is answered; an idle keep-alive connection is closed
after `--keep-alive`. Host header: only the bound address, the loopback names and `--allow-host`
names are answered; any other name (DNS rebinding) gets 400.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import http.client
import json
import select
import socket
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
                       str(TIMEOUT), "--max-body", str(MAX_BODY), "--max-waiting", "32",
                       # 200 clients share 127.0.0.1 here: the per-address cap is tested on its own server below
                       "--max-client-connections", str(CLIENTS + CHEAP_CLIENTS + 8)) as served:
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
                            ("--max-memory", "2048"), ("--max-waiting", "64"), ("--workers", "2"),
                            ("--read-timeout", "10.0"), ("--keep-alive", "5.0"), ("--max-client-connections", "64")]:
        assert option in serve_help and f"default: {default}" in serve_help, option
    assert "--allow-host NAME" in serve_help and "serve --allow-host graph.example.org" in serve_help
    refused = CliRunner().invoke(cli, ["serve", "--allow-host", "not a host"])
    assert refused.exit_code == 2 and "not a host name" in refused.output
    build_help = " ".join(CliRunner().invoke(cli, ["build", "--help"]).output.split())
    for option, default in [("--pdf-timeout", "30.0"), ("--pdf-memory", "512"), ("--pdf-max-pages", "500")]:
        assert option in build_help and f"default: {default}" in build_help, option
    assert "--keep-going" in build_help


# --- issue 15: connections that cannot pile up, and only the served host names

READ_TIMEOUT = 3.0  # short, to keep the test quick (the default is 10 s)
KEEP_ALIVE = 1.0
PER_ADDRESS = 32
IDLE_SOCKETS = 240
ATTACKER = "127.0.0.2"  # another loopback address (Linux routes all of 127/8 to lo): the cap counts it apart
HALF_SENT = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "  # never finished
ASK = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture(scope="module")
def guarded(seed_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`serve` with short connection timeouts, a cap of 32 connections per address and one more Host name."""
    with serve_process(seed_build, tmp_path_factory.mktemp("serve-guarded"), "--workers", "1", "--read-timeout",
                       str(READ_TIMEOUT), "--keep-alive", str(KEEP_ALIVE), "--max-client-connections",
                       str(PER_ADDRESS), "--allow-host", "graph.test") as served:
        yield served


def _port(served: Served) -> int:
    port = urllib.parse.urlsplit(served.url).port
    assert port is not None
    return port


def _connect(port: int, source: str) -> socket.socket:
    """A TCP connection to the server from a given loopback source address."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    return sock


def _read_answer(sock: socket.socket) -> bytes:
    """One whole answer (head and Content-Length body) from a keep-alive connection, left open."""
    data = b""
    for _ in range(100):  # bounded: a small answer comes in one or two pieces
        head, _, body = data.partition(b"\r\n\r\n")
        lengths = [line.split(b":")[1] for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")]
        if lengths and len(body) >= int(lengths[0]):
            return data
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _closings(opened: dict[socket.socket, float], seconds: float) -> dict[socket.socket, tuple[float, bytes]]:
    """For each socket the server closed within `seconds`: how long after its `opened` time, and what it sent."""
    import selectors

    received = dict.fromkeys(opened, b"")
    closed: dict[socket.socket, tuple[float, bytes]] = {}
    deadline = time.monotonic() + seconds
    with selectors.DefaultSelector() as selector:
        for sock in opened:
            selector.register(sock, selectors.EVENT_READ)
        while len(closed) < len(opened) and (left := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(min(left, 0.5)):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    chunk = sock.recv(65536)
                except (ConnectionResetError, TimeoutError):
                    chunk = b""
                received[sock] += chunk
                if not chunk:
                    closed[sock] = (time.monotonic() - opened[sock], received[sock])
                    selector.unregister(sock)
    return closed


def test_idle_half_sent_requests_are_capped_per_address_and_closed_in_time(guarded: Served) -> None:
    port = _port(guarded)
    sockets: dict[socket.socket, float] = {}
    try:
        started = time.monotonic()
        for _ in range(IDLE_SOCKETS):
            sock = _connect(port, ATTACKER)
            sockets[sock] = time.monotonic()
            with contextlib.suppress(OSError):  # one over the cap may be closed already
                sock.sendall(HALF_SENT)
        opened = time.monotonic() - started
        assert opened < READ_TIMEOUT / 2, f"opening {IDLE_SOCKETS} sockets took {opened:.2f} s"
        # Over the cap, a connection is answered 429 and closed at once; the first 32 are held, waiting.
        refused = _closings(sockets, 0.5)
        held = {sock: at for sock, at in sockets.items() if sock not in refused}
        assert len(held) == PER_ADDRESS, (len(held), len(refused))
        told = sum(answer.startswith(b"HTTP/1.1 429") for _, answer in refused.values())
        assert told >= len(refused) // 2, f"{told} of {len(refused)} refused connections were told 429"
        # While the attacker's 32 are held, a client on another address is answered at once...
        asked = time.monotonic()
        status, _, body = post_query(guarded.url, CHEAP, timeout=30)
        answered_ms = 1000 * (time.monotonic() - asked)
        assert status == 200 and b"bindings" in body, (status, body[:200])
        # ... and one more connection from the attacker's address is refused at once.
        extra = _connect(port, ATTACKER)
        sockets[extra] = time.monotonic()
        answer = _closings({extra: sockets[extra]}, 2)
        assert extra in answer and answer[extra][1].startswith(b"HTTP/1.1 429"), answer
        assert not _closings(held, 0), "the held sockets were closed before the checks above ended"
        # Each held half-sent request is closed (408) about --read-timeout seconds after it connected.
        closings = _closings(held, READ_TIMEOUT + 10)
        lifetimes = sorted(seconds for seconds, _ in closings.values())
        assert len(closings) == PER_ADDRESS, f"{PER_ADDRESS - len(closings)} idle sockets outlived the read timeout"
        assert all(answer.startswith(b"HTTP/1.1 408") for _, answer in closings.values())
        assert lifetimes[0] >= READ_TIMEOUT - 0.5 and lifetimes[-1] < READ_TIMEOUT + 5 < 40, lifetimes
        # The attacker's count went back to zero: a whole request from its address is answered.
        again = _connect(port, ATTACKER)
        sockets[again] = time.monotonic()
        again.sendall(ASK)
        assert _read_answer(again).startswith(b"HTTP/1.1 200")
    finally:
        for sock in sockets:
            sock.close()
    assert guarded.process.poll() is None, "the server died"
    record_figure("serve.slowloris", {
        "idle_half_sent_sockets": IDLE_SOCKETS, "held": len(held), "refused_at_once": len(refused),
        "refused_told_429": told, "normal_query_ms_while_held": round(answered_ms, 1),
        "read_timeout_s": READ_TIMEOUT, "idle_socket_closed_after_s": [round(lifetimes[0], 2), round(lifetimes[-1], 2)],
    })


def test_idle_sockets_from_many_addresses_cannot_fill_the_server(guarded: Served) -> None:
    from aflm_graph.serve.endpoint import MAX_CONNECTIONS

    port = _port(guarded)
    count = MAX_CONNECTIONS + 8  # more than the server holds, from 20 addresses each under the per-address cap
    sources = [f"127.0.1.{i}" for i in range(1, 21)]
    assert count / len(sources) < PER_ADDRESS
    sockets: dict[socket.socket, float] = {}
    try:
        started = time.monotonic()
        for i in range(count):
            sock = _connect(port, sources[i % len(sources)])
            sockets[sock] = time.monotonic()
            with contextlib.suppress(OSError):
                sock.sendall(HALF_SENT)
        opened = time.monotonic() - started
        assert opened < READ_TIMEOUT / 2, f"opening {count} sockets took {opened:.2f} s"
        # The server is full: each new connection closed the one that had waited longest for its request...
        dropped = _closings(sockets, 0.5)
        assert len(dropped) >= count - MAX_CONNECTIONS, len(dropped)
        assert all(answer.startswith(b"HTTP/1.1 503") for _, answer in dropped.values())
        # ... so a client that sends a whole request is answered (uvicorn alone answered 503 to everyone).
        asked = time.monotonic()
        status = post_query(guarded.url, CHEAP, timeout=30)[0]
        answered_ms = 1000 * (time.monotonic() - asked)
        assert status == 200
        held = {sock: at for sock, at in sockets.items() if sock not in dropped}
        assert len(_closings(held, 0)) < 8, "the idle sockets were closed before the check above ended"
    finally:
        for sock in sockets:
            sock.close()
    record_figure("serve.slowloris_many_addresses", {
        "idle_half_sent_sockets": count, "addresses": len(sources), "server_limit": MAX_CONNECTIONS,
        "dropped_oldest": len(dropped), "normal_query_ms_while_held": round(answered_ms, 1)})


def test_idle_trickling_and_slow_body_connections_are_closed(guarded: Served) -> None:
    port = _port(guarded)
    # After an answer, an idle keep-alive connection is closed after --keep-alive seconds.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=("127.0.0.3", 0))
    silent = _connect(port, "127.0.0.3")  # connects and never sends a byte
    slow_body = _connect(port, "127.0.0.3")  # whole headers, then 3 bytes of a 100-byte body
    trickle: socket.socket | None = None
    try:
        opened = {silent: time.monotonic(), slow_body: time.monotonic()}
        slow_body.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
                          b"Content-Length: 100\r\n\r\nASK")
        connection.request("GET", "/sparql?query=ASK%7B%7D")
        response = connection.getresponse()
        assert response.status == 200 and b"true" in response.read()
        assert connection.sock is not None
        opened[connection.sock] = time.monotonic()
        closings = _closings(opened, READ_TIMEOUT + 10)
        assert set(closings) == set(opened), "a connection outlived the timeouts"
        keep_alive_s, said = closings[connection.sock]
        assert KEEP_ALIVE - 0.3 <= keep_alive_s < KEEP_ALIVE + 5 and said == b"", (keep_alive_s, said)
        for sock in (silent, slow_body):
            seconds, said = closings[sock]
            assert READ_TIMEOUT - 0.5 <= seconds < READ_TIMEOUT + 5 and said == b"", (seconds, said)
        # A request head sent a byte at a time (keeping the keep-alive timer at bay) is closed at the read timeout.
        trickle = _connect(port, "127.0.0.3")
        trickle.sendall(ASK)
        assert _read_answer(trickle).startswith(b"HTTP/1.1 200")
        answered = time.monotonic()
        for byte in HALF_SENT * 2:  # bounded: about 40 s of bytes, the server closes far sooner
            try:
                trickle.sendall(bytes([byte]))
            except OSError:
                break
            if select.select([trickle], [], [], 0.3)[0]:
                break
        trickled_s = time.monotonic() - answered
        assert trickled_s < READ_TIMEOUT + 5, trickled_s
        assert trickle.recv(65536).startswith(b"HTTP/1.1 408")
    finally:
        for sock in (silent, slow_body, trickle):
            if sock is not None:
                sock.close()
        connection.close()
    record_figure("serve.idle", {"keep_alive_closed_after_s": round(keep_alive_s, 2),
                                 "silent_closed_after_s": round(closings[silent][0], 2),
                                 "slow_body_closed_after_s": round(closings[slow_body][0], 2),
                                 "trickle_closed_after_s": round(trickled_s, 2)})


def _ask_with_host(port: int, host: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("GET", "/sparql?query=ASK%7B%7D", skip_host=True)
        connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_only_the_served_host_names_are_answered(guarded: Served) -> None:
    port = _port(guarded)
    for host in [f"127.0.0.1:{port}", "127.0.0.1", f"localhost:{port}", "LocalHost", f"[::1]:{port}", "[::1]",
                 "graph.test", f"Graph.Test:{port}"]:
        status, body = _ask_with_host(port, host)
        assert status == 200 and b"true" in body, (host, status, body)
    for host in ["evil.example", f"evil.example:{port}", "localhost.evil.example", f"127.0.0.1.nip.io:{port}",
                 "graph.test.evil.example", "[::2]", "", "127.0.0.1:7878@evil.example"]:
        status, body = _ask_with_host(port, host)
        assert status == 400 and body.count(b"\n") == 1 and b"--allow-host" in body, (host, status, body)
    print(f"Host: evil.example -> 400 {_ask_with_host(port, 'evil.example')[1].decode().strip()}")
