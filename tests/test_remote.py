"""Remote engines: every competency query on a real Oxigraph server and a real Virtuoso gives the embedded answer.

Both servers run on 127.0.0.1 and a free port, once for this module, and are stopped by pid. The
build is pushed with `aflm-graph push` (Graph Store Protocol, Digest auth for Virtuoso). Also here:
partial answers (Virtuoso's row cap and "anytime" timeouts) are detected, parameters cannot change
a query's structure whatever their text, and push never leaks credentials.
"""

from __future__ import annotations

import contextlib
import csv
import http.server
import io
import math
import re
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from aflm_graph.cli import cli
from aflm_graph.sparql.catalogue import (
    NamedQuery,
    Param,
    ParameterError,
    QueryError,
    _tokens,
    bind_values,
    bindings_for,
    named_queries,
    to_term,
)
from aflm_graph.sparql.engine import Result, open_store, run_embedded
from aflm_graph.sparql.remote import (
    PartialResultError,
    PushError,
    check_push_url,
    is_loopback,
    push,
    run_remote,
    virtuoso_bulk_load,
)
from aflm_graph.sparql.run import run
from aflm_graph.sparql.textsearch import search_build
from conftest import free_port, require_executable
from servers import Server, fixture_build, graph_sizes, load, merged_size, oxigraph_server, virtuoso_server
from test_competency import CASES, FIXTURES, LISTS, QUERIES, Case, as_set, check

CATALOGUE = named_queries(QUERIES)
ENGINES = ["oxigraph", "virtuoso"]


def oxigraph_executable() -> str:
    beside = Path(sys.executable).with_name("oxigraph")  # the PyPI package installs it next to python
    return str(beside) if beside.is_file() else require_executable("oxigraph", why="the Oxigraph server tests")


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with oxigraph_server(oxigraph_executable(), free_port(), tmp_path_factory.mktemp("oxigraph")) as server:
        yield server


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    executable = require_executable("virtuoso-t", why="Debian virtuoso-opensource, for the Virtuoso tests")
    workdir = tmp_path_factory.mktemp("virtuoso")
    with virtuoso_server(executable, free_port(), free_port(), workdir) as server:
        yield server


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def fixture_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture_build(FIXTURES / "fixture.trig", tmp_path_factory.mktemp("fixture") / "build")


def canonical(result: Result) -> object:
    """Rows as a multiset of full terms (type, value, datatype, language); graphs as a set of triples.

    A list column (LISTS) is compared as its sorted items: Virtuoso and Oxigraph join them in other orders."""
    if result.form == "ask":
        return result.boolean
    lists = {i for i, column in enumerate(result.columns) if column in LISTS}
    rows = [tuple((t.type, as_set(t.value) if i in lists else t.value, t.datatype, t.lang)
                  if t else None for i, t in enumerate(row)) for row in result.rows]
    if result.form == "graph":
        return set(rows)
    return (tuple(result.columns), Counter(rows))


def examples(name: str) -> dict[str, str]:
    return {p.name: p.example for p in CATALOGUE[name].params if p.example is not None}


# --- the same answers everywhere


@pytest.mark.server
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_known_answers_on_a_real_server(engine: Server, fixture_dataset: Path, case: Case) -> None:
    load(engine, fixture_dataset)
    check(case, run(CATALOGUE[case.query], params=case.params, endpoint=engine.query_url), lists_as_sets=True)


@pytest.mark.server
@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_seed_answers_match_the_embedded_engine(engine: Server, seed_build: Path, name: str) -> None:
    load(engine, seed_build)
    query = CATALOGUE[name]
    embedded = run(query, build=seed_build, params=examples(name))
    if query.extra.get("fulltext"):  # the build's index ranks; an endpoint runs the SPARQL: compare with that
        bindings = search_build(query, bindings_for(query, examples(name)), None)[1]
        embedded = run_embedded(open_store(seed_build), query.text, bindings)
    remote = run(query, params=examples(name), endpoint=engine.query_url)
    assert canonical(remote) == canonical(embedded)
    if query.form == "select" and "ORDER BY" in query.text:
        order = [i for i, column in enumerate(embedded.columns) if column not in LISTS]
        assert [[row[i] for i in order] for row in remote.rows] == [[row[i] for i in order] for row in embedded.rows]


@pytest.mark.server
def test_cli_query_on_an_endpoint_prints_the_embedded_csv(oxigraph: Server, fixture_dataset: Path) -> None:
    load(oxigraph, fixture_dataset)
    runner = CliRunner()
    args = ["query", "recommendations-by-theme", "--param", "theme=health-care", "--format", "csv"]
    local = runner.invoke(cli, [*args, "--build", str(fixture_dataset)], catch_exceptions=False)
    remote = runner.invoke(cli, [*args, "--endpoint", oxigraph.query_url, "--timeout", "30"], catch_exceptions=False)
    assert local.exit_code == remote.exit_code == 0
    assert remote.stdout == local.stdout
    assert remote.stdout.count("\n") == 3  # header + 2 recommendations


# --- partial answers


ALL_TRIPLES = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"


@pytest.mark.server
def test_virtuoso_row_cap_is_reported_not_passed_off_as_complete(virtuoso: Server, fixture_dataset: Path) -> None:
    load(virtuoso, fixture_dataset)  # with Virtuoso's own system graphs: far more triples than the cap
    with pytest.raises(PartialResultError, match="row cap"):
        run_remote(virtuoso.query_url, ALL_TRIPLES)
    accepted = run_remote(virtuoso.query_url, ALL_TRIPLES, allow_partial=True)
    assert accepted.partial and len(accepted.rows) == virtuoso.row_cap
    assert accepted.warnings and "row cap" in accepted.warnings[0]
    # a LIMIT of the query's own explains a full page: not partial
    assert not run_remote(virtuoso.query_url, ALL_TRIPLES + " LIMIT 10").partial


@pytest.mark.server
def test_cli_fails_on_a_partial_answer_unless_allowed(virtuoso: Server, fixture_dataset: Path, tmp_path: Path) -> None:
    load(virtuoso, fixture_dataset)
    query = tmp_path / "everything.rq"
    query.write_text(ALL_TRIPLES + "\n", encoding="utf-8")
    runner = CliRunner()
    refused = runner.invoke(cli, ["query", str(query), "--endpoint", virtuoso.query_url, "--format", "csv"])
    assert refused.exit_code != 0
    assert "partial result" in refused.stderr and "--allow-partial" in refused.stderr
    assert refused.stdout == ""  # no rows that could be mistaken for the whole answer
    allowed = runner.invoke(cli, ["query", str(query), "--endpoint", virtuoso.query_url, "--format", "csv",
                                  "--allow-partial"])
    assert allowed.exit_code == 0
    assert len(list(csv.reader(io.StringIO(allowed.stdout)))) == 1 + (virtuoso.row_cap or 0)
    assert "Warning: " in allowed.stderr and "partial result" in allowed.stderr


@pytest.mark.server
def test_virtuoso_anytime_answer_is_reported(virtuoso: Server, fixture_dataset: Path) -> None:
    """Virtuoso answers a timed-out query with HTTP 200, an empty COUNT and `X-SQL-State: S1TAT`."""
    load(virtuoso, fixture_dataset)
    costly = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with pytest.raises(PartialResultError, match="S1TAT"):
        run_remote(virtuoso.query_url, costly, extra_params={"timeout": "300"}, timeout=60)


@pytest.mark.server
def test_a_row_count_equal_to_a_given_cap_is_reported(oxigraph: Server, fixture_dataset: Path) -> None:
    load(oxigraph, fixture_dataset)
    nine = "PREFIX aflm: <https://w3id.org/aflm/ontology#> SELECT ?r WHERE { ?r a aflm:Recommendation }"
    with pytest.raises(PartialResultError, match="9 rows"):
        run_remote(oxigraph.query_url, nine, row_cap=9)
    assert len(run_remote(oxigraph.query_url, nine, row_cap=10).rows) == 9


# --- parameters cannot change a query's structure


TEMPLATE = (
    "PREFIX ex: <http://example.org/>\n"
    "SELECT ?s ?name WHERE { ?s ex:name ?name . FILTER (STRLEN(?name) >= 0) } # the end\n"
)
BY_NAME = NamedQuery("by-name", TEMPLATE, params=(Param("name", "string", example="x"),))
ECHO = NamedQuery("echo", "SELECT ?value WHERE { }", params=(Param("value", "string", example="x"),))
HOSTILE = [
    '"', "'", '"""', "\\", '\\"', '"} UNION { ?s ?p ?o } #', "}\n# comment\n{", "> <http://evil.example/>",
    "') . ?s ?p ?o . FILTER('", "\\u0022 } \\U0000007D", "é – “quoted” 🐘 ∅", "tab\there\r\nnew line", "#",
    "?name", "$s", "<>", "${}",
]


def skeleton(text: str) -> list[tuple[str, str]]:
    """The query's tokens with every string literal's content blanked: what must never change."""
    return [(t.kind, '"…"' if t.kind == "string" else t.value) for t in _tokens(text) if t.kind not in {"space"}]


def _store_with(value: str) -> ox.Store:
    store = ox.Store()
    ex = "http://example.org/"
    store.add(ox.Quad(ox.NamedNode(ex + "hit"), ox.NamedNode(ex + "name"), ox.Literal(value)))
    store.add(ox.Quad(ox.NamedNode(ex + "other"), ox.NamedNode(ex + "name"), ox.Literal(value + " (not it)")))
    return store


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=30) | st.sampled_from(HOSTILE))
def test_hostile_string_values_never_change_the_query_structure(value: str) -> None:
    bindings = bindings_for(BY_NAME, {"name": value})
    bound = bind_values(TEMPLATE, bindings)
    assert skeleton(bound) == skeleton(bind_values(TEMPLATE, bindings_for(BY_NAME, {"name": "x"})))
    store = _store_with(value)
    for result in (run_embedded(store, bound), run_embedded(store, TEMPLATE, bindings)):
        assert [(r[0].value, r[1].value) for r in result.rows] == [("http://example.org/hit", value)]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=30) | st.sampled_from(HOSTILE))
def test_hostile_iri_values_are_refused_or_stay_one_iri(value: str) -> None:
    template = "SELECT ?s WHERE { ?s <http://www.w3.org/2004/02/skos/core#broader> ?concept }"
    try:
        term = to_term(Param("concept", "theme"), value)
    except QueryError:
        return  # refused with a message: nothing reached the query
    bound = bind_values(template, {"concept": term})
    reference = bind_values(template, {"concept": ox.NamedNode("https://w3id.org/aflm/vocab/theme/x")})
    blank = [(k, "<…>" if k == "iri" else v) for k, v in skeleton(bound)]
    assert blank == [(k, "<…>" if k == "iri" else v) for k, v in skeleton(reference)]


@pytest.mark.server
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_round_trip_through_a_real_server(engine: Server, fixture_dataset: Path, value: str) -> None:
    """Bound as an escaped term in a VALUES block, the value reaches the server intact and stays a value."""
    load(engine, fixture_dataset)
    echoed = run(ECHO, params={"value": value}, endpoint=engine.query_url)
    assert [row[0].value for row in echoed.rows] == [value]
    query = CATALOGUE["search-text"]
    if re.search(r"[^\W_]", value):  # its words (folded, as regular expressions) match no text of the fixture
        assert run(query, params={"words": value}, endpoint=engine.query_url).rows == []
    else:  # no words at all: refused before anything is sent
        with pytest.raises(ParameterError, match="no words to search for"):
            run(query, params={"words": value}, endpoint=engine.query_url)
    hit = run(query, params={"words": "reskilling programmes"}, endpoint=engine.query_url)
    assert len(hit.rows) == 2


# --- push


def test_credentials_never_go_over_plain_http_to_another_host() -> None:
    for url in ("http://192.0.2.10/store", "http://example.org:8890/sparql-graph-crud-auth", "http://10.0.0.1/x"):
        with pytest.raises(PushError, match="plain http"):
            check_push_url(url, with_credentials=True)
        check_push_url(url, with_credentials=False)  # no credentials: nothing to leak
    for url in ("http://127.0.0.1:8890/store", "http://localhost/store", "http://[::1]:7878/store",
                "https://example.org/store"):
        check_push_url(url, with_credentials=True)
    assert not is_loopback("http://127.0.0.1.example.org/")
    with pytest.raises(PushError, match="not in the URL"):
        check_push_url("http://dba:secret@127.0.0.1/store", with_credentials=False)
    with pytest.raises(PushError, match="plain http"):  # refused before any connection is tried
        push(FIXTURES, "http://192.0.2.10/store", credentials=("dba", "secret"))


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str | None]]
    location: str | None = None

    def _any(self) -> None:
        self.seen.append((self.command, self.path, self.headers.get("Authorization")))
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.location:
            self.send_response(307)
            self.send_header("Location", self.location)
        else:
            self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_POST = do_GET = _any

    def log_message(self, *args: object) -> None:
        return None


def _recording_server(location: str | None) -> tuple[http.server.HTTPServer, list]:
    seen: list = []
    handler = type("Handler", (_Recorder,), {"seen": seen, "location": location})
    server = http.server.HTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, seen


def test_push_never_follows_a_redirect(fixture_dataset: Path) -> None:
    target, target_seen = _recording_server(None)
    redirector, redirector_seen = _recording_server(f"http://127.0.0.1:{target.server_port}/store")
    try:
        with pytest.raises(PushError, match="redirect"):
            push(fixture_dataset, f"http://127.0.0.1:{redirector.server_port}/store", credentials=("dba", "secret"))
    finally:
        redirector.shutdown()
        target.shutdown()
    assert len(redirector_seen) == 1
    assert redirector_seen[0][2] is None  # credentials are only ever sent in answer to a challenge
    assert target_seen == []  # nothing, and no credentials, went to where the redirect pointed


@pytest.mark.server
def test_push_in_chunks_replaces_each_graph(tmp_path: Path, fixture_dataset: Path) -> None:
    with oxigraph_server(oxigraph_executable(), free_port(), tmp_path) as server:
        first = push(fixture_dataset, server.store_url, chunk_triples=50)
        again = push(fixture_dataset, server.store_url, chunk_triples=50)  # PUT first: a second push replaces
        sizes = graph_sizes(fixture_dataset)
        assert set(sizes) == {f"https://w3id.org/aflm/graph/{g}" for g in ("data", "ontology", "reference", "vocab")}
        assert first.graphs == again.graphs == sizes
        assert first.requests == sum(math.ceil(n / 50) for n in sizes.values())
        counts = run_remote(server.query_url, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        assert {g.value: int(n.value) for g, n in counts.rows} == sizes
        # --default-graph: the merge of the named graphs only (default-graph-uri)
        recommendations = CATALOGUE["recommendations"]
        data = run(recommendations, endpoint=server.query_url, default_graphs=["https://w3id.org/aflm/graph/data"])
        vocab = run(recommendations, endpoint=server.query_url, default_graphs=["https://w3id.org/aflm/graph/vocab"])
        assert (len(data.rows), len(vocab.rows)) == (9, 0)


@pytest.mark.server
def test_push_to_virtuoso_with_credentials_from_the_environment(virtuoso: Server, fixture_dataset: Path) -> None:
    graph = "urn:x-aflm-test:cli-push"
    runner = CliRunner()
    args = ["push", "--build", str(fixture_dataset), "--endpoint", virtuoso.store_url, "--graph", graph,
            "--chunk-triples", "200"]
    wrong = runner.invoke(cli, args, env={"AFLM_ENDPOINT_USER": "dba", "AFLM_ENDPOINT_PASSWORD": "wrong"})
    assert wrong.exit_code != 0 and "401" in wrong.stderr
    env = {"AFLM_ENDPOINT_USER": virtuoso.user or "", "AFLM_ENDPOINT_PASSWORD": virtuoso.password or ""}
    try:
        done = runner.invoke(cli, args, env=env, catch_exceptions=False)
        assert done.exit_code == 0, done.stderr
        merged = merged_size(fixture_dataset)  # the quads into one graph: a triple in two graphs counts once
        assert merged < sum(graph_sizes(fixture_dataset).values())
        assert f"{merged} triples in {math.ceil(merged / 200)} requests" in done.stdout
        count = run_remote(virtuoso.query_url, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        assert count.rows[0][0].value == str(merged)
    finally:
        _drop(virtuoso, graph)


@pytest.mark.server
def test_push_of_a_big_chunk_with_credentials_to_virtuoso(virtuoso: Server, tmp_path: Path) -> None:
    """Virtuoso answers an unsigned PUT with 401 and closes the connection unread: a chunk of over ~240 KB
    failed with a broken pipe (the seed build's data graph crossed that line). Signed from the first byte now."""
    graph = "urn:x-aflm-test:big-chunk"
    quads = [ox.Quad(ox.NamedNode(f"urn:x-aflm-test:s{i}"), ox.NamedNode("urn:x-aflm-test:text"),
                     ox.Literal(f"text {i} " + "words of a long recommendation " * 8), ox.NamedNode(graph))
             for i in range(3_000)]
    trig = tmp_path / "big.trig"
    trig.write_bytes(ox.serialize(quads, format=ox.RdfFormat.TRIG))
    build = fixture_build(trig, tmp_path / "build")
    assert len(ox.serialize([q.triple for q in quads], format=ox.RdfFormat.N_TRIPLES)) > 600_000  # one request
    credentials = (virtuoso.user or "", virtuoso.password or "")
    try:
        report = push(build, virtuoso.store_url, credentials=credentials, chunk_triples=10_000)
        assert report.requests == 1 and report.triples == 3_000
        count = run_remote(virtuoso.query_url, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        assert count.rows[0][0].value == "3000"
    finally:
        _drop(virtuoso, graph)


@pytest.mark.server
def test_virtuoso_bulk_loader(virtuoso: Server, fixture_dataset: Path) -> None:
    require_executable("isql-vt", why="Virtuoso's SQL client, for the bulk loader")
    graph = "urn:x-aflm-test:bulk"
    assert virtuoso.sql_address and virtuoso.load_dir
    credentials = (virtuoso.user or "", virtuoso.password or "")
    try:
        for _ in range(2):  # loading again replaces (ld_dir would skip a file name it has seen)
            report = virtuoso_bulk_load(fixture_dataset, isql_address=virtuoso.sql_address,
                                        load_dir=virtuoso.load_dir, graph=graph, credentials=credentials)
            assert report.graphs == {graph: merged_size(fixture_dataset)}
            count = run_remote(virtuoso.query_url, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
            assert count.rows[0][0].value == str(merged_size(fixture_dataset))
        with pytest.raises(PushError, match="failed"):
            virtuoso_bulk_load(fixture_dataset, isql_address=virtuoso.sql_address, load_dir=virtuoso.load_dir,
                               graph=graph, credentials=("dba", "wrong"))
    finally:
        _drop(virtuoso, graph)


def _command_lines() -> dict[int, str]:
    """Every process's command line as `ps` shows it (from /proc/PID/cmdline), by pid."""
    lines = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                lines[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return lines


@pytest.mark.server
def test_virtuoso_bulk_loader_keeps_the_password_off_every_command_line(
    virtuoso: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While a real bulk load runs, no process's command line (what `ps` shows every user) holds the password.

    /proc is polled during the load, which must be long enough to be seen: the poll has to catch the
    isql process at least once, else the test proves nothing and fails. The argv actually passed to
    isql is recorded too. The load itself is checked by the loader (counts read back) and here.
    """
    require_executable("isql-vt", why="Virtuoso's SQL client, for the bulk loader")
    assert virtuoso.sql_address and virtuoso.load_dir and virtuoso.password
    source = tmp_path / "big.trig"
    graph = "urn:x-aflm-test:bulk-password"
    source.write_text(f"<{graph}> {{\n" + "".join(f'<urn:x-aflm-test:s{i}> <urn:x-aflm-test:p> "v{i}" .\n'
                                                  for i in range(50_000)) + "}\n")
    build = fixture_build(source, tmp_path / "build")
    # A password of this test's own (another session's test server may run with the shared one), with the
    # characters isql's own syntax gives a meaning to: quotes, backslash, `$` macros, `;`, a space.
    user, password = f"aflm_loader_{secrets.token_hex(4)}", f"pw {secrets.token_hex(8)} '\\\"$U{{x}};"
    _isql(virtuoso, f"DB.DBA.USER_CREATE({_sql_string(user)}, {_sql_string(password)}, "
                    "vector('SQL_ENABLE', 1, 'PRIMARY_GROUP', 'dba'));")  # the loader needs dba's rights
    argvs: list[list[str]] = []
    real_popen = subprocess.Popen

    def recording_popen(args: list[str], *rest: object, **kwargs: object) -> subprocess.Popen[str]:
        argvs.append([str(a) for a in args])
        return real_popen(args, *rest, **kwargs)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    outcome: list[object] = []

    def load_it() -> None:
        try:
            outcome.append(virtuoso_bulk_load(build, isql_address=virtuoso.sql_address or "",
                                              load_dir=virtuoso.load_dir or tmp_path, graph=graph,
                                              credentials=(user, password)))
        except Exception as exc:  # reported below, in the test's thread
            outcome.append(exc)

    loader = threading.Thread(target=load_it, daemon=True)
    loader.start()
    seen_isql: set[int] = set()
    leaks: dict[int, str] = {}
    deadline = time.monotonic() + 120
    try:
        while loader.is_alive() and time.monotonic() < deadline:
            for pid, line in _command_lines().items():
                if "isql-vt" in line:
                    seen_isql.add(pid)
                if password in line or secrets_part(password) in line:
                    leaks[pid] = line
            time.sleep(0.005)
        loader.join(5)
    finally:
        monkeypatch.undo()
    try:
        assert not loader.is_alive(), "the bulk load took over 120 s"
        assert len(outcome) == 1 and not isinstance(outcome[0], BaseException), outcome
        assert outcome[0].graphs == {graph: 50_000}  # type: ignore[union-attr]
        assert leaks == {}, f"the password is on a command line: {leaks}"
        assert seen_isql, "the poll never saw isql run: it proves nothing (make the load longer)"
        isql_argv = [argv for argv in argvs if argv and argv[0].endswith("isql-vt")]
        assert len(isql_argv) == 1 and not any(secrets_part(password) in arg for arg in isql_argv[0]), isql_argv
        count = run_remote(virtuoso.query_url, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        assert count.rows[0][0].value == "50000"
    finally:
        _drop(virtuoso, graph)
        _isql(virtuoso, f"DB.DBA.USER_DROP({_sql_string(user)});")


def secrets_part(password: str) -> str:
    """The random part of a test password: what would show on a command line however it was quoted."""
    return password.split()[1]


def _sql_string(text: str) -> str:
    """A Virtuoso SQL string literal (its strings take backslash escapes; `$` is doubled against isql's macros)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("$", "$$") + "'"


def _isql(server: Server, *statements: str) -> str:
    """Run SQL statements as dba through isql-vt (login on stdin); fail the test on any error."""
    def quoted(text: str) -> str:  # an isql literal: backslash escapes backslash and quote
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    login = f"SET UID={quoted(server.user or '')};\nSET PWD={quoted(server.password or '')};\n"
    done = subprocess.run(["isql-vt", f"DSN={server.sql_address}", "VERBOSE=OFF", "BANNER=OFF", "PROMPT=OFF",
                           "ECHO=OFF"], input=login + "\n".join(statements) + "\n", capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and "*** Error" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done.stdout


NOT_LOADABLE = """\
<urn:x-aflm-test:good> { <urn:x-aflm-test:a> <urn:x-aflm-test:p> "kept" . }
<urn:x-aflm-test:bad> {
  <urn:x-aflm-test:a> <urn:x-aflm-test:says> <<( <urn:x-aflm-test:a> <urn:x-aflm-test:p> "one" )>> .
  <urn:x-aflm-test:b> <urn:x-aflm-test:says> <<( <urn:x-aflm-test:b> <urn:x-aflm-test:p> "two" )>> .
}
"""


@pytest.mark.server
def test_a_bulk_load_that_loads_nothing_is_an_error(virtuoso: Server, tmp_path: Path) -> None:
    """Virtuoso 7's loader skips N-Triples it cannot parse (here RDF 1.2 triple terms) without an error, and
    isql exits 0: only the triple count read back shows the graph is empty. The push must fail and say so."""
    require_executable("isql-vt", why="Virtuoso's SQL client, for the bulk loader")
    assert virtuoso.sql_address and virtuoso.load_dir
    source = tmp_path / "not-loadable.trig"
    source.write_text(NOT_LOADABLE)
    build = fixture_build(source, tmp_path / "build")
    env = {"AFLM_ENDPOINT_USER": virtuoso.user or "", "AFLM_ENDPOINT_PASSWORD": virtuoso.password or ""}
    args = ["push", "--build", str(build), "--endpoint", virtuoso.store_url, "--loader", "virtuoso-bulk",
            "--isql", virtuoso.sql_address, "--load-dir", str(virtuoso.load_dir)]
    try:
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 1, result.output
        first = result.stderr.splitlines()[0]
        assert "the bulk load failed" in first and "incomplete" in first, first
        assert "<urn:x-aflm-test:bad>: 0 of the 2 triples sent are in the store" in first, first
        assert "urn:x-aflm-test:good>: " not in first  # the graph that did load is not blamed
        assert (virtuoso.password or "?") not in result.output
        counts = run_remote(virtuoso.query_url, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                            "FILTER(STRSTARTS(STR(?g), 'urn:x-aflm-test:')) } GROUP BY ?g")
        found = {g.value: int(n.value) for g, n in counts.rows}
        assert found.get("urn:x-aflm-test:good") == 1 and "urn:x-aflm-test:bad" not in found, found
    finally:
        _drop(virtuoso, "urn:x-aflm-test:good")
        _drop(virtuoso, "urn:x-aflm-test:bad")


def _drop(server: Server, graph: str) -> None:
    from aflm_graph.sparql.remote import _graph_url, _opener, _send

    opener = _opener(server.store_url, (server.user or "", server.password or ""))
    with contextlib.suppress(PushError):  # already gone
        _send(opener, "DELETE", _graph_url(server.store_url, graph), b"", 60)
