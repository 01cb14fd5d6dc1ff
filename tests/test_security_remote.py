"""Misbehaving remote endpoints (issue 9, tests 5 and 6), played by loopback servers that record what they get.

Test 5: an endpoint that accepts and never answers, one that answers 500, and one that redirects to
another port (the canary). Every client call (the query API, `aflm-graph query --endpoint`, `push`)
fails within its timeout plus one second with a one-line message that says what happened; nothing
reaches the redirect's target, and credentials (sent to the endpoint itself, in answer to its own
challenge) never follow the redirect.

Test 6: answers a server cut short (HTTP 206, HTTP 200 with `X-SQL-State: S1TAT`, a result exactly
as long as the announced or given row cap) are flagged partial and fail, through the API and the
command line, unless the caller allows partial answers; a full page the query's own LIMIT explains
is not partial.

Issue 15: the client's timeout is a deadline for the whole request, not for each socket read: a server
that drips one byte a second (a real TCP server in a thread, bounded to 30 s) is cut off at `--timeout`,
for `push` and for `query --endpoint`. A push that stops partway says that the remote graph is
incomplete, what was sent and the exact command to retry, and that command then works.
"""

from __future__ import annotations

import base64
import http.server
import math
import shlex
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from aflm_graph.cli import cli
from aflm_graph.sparql.catalogue import QueryError
from aflm_graph.sparql.remote import PartialResultError, PushError, push
from aflm_graph.sparql.run import run
from hostile import Recorder, Responder, answer, json_results, recording_server, silent_listener
from servers import drip_server, graph_sizes

TIMEOUT = 1.0
SELECT = "SELECT ?x WHERE { ?x ?p ?o }"
RESULTS = "application/sparql-results+json"


def redirect_to(location: str, *, status: int = 307) -> Responder:
    return answer(status, b"moved", "text/plain", Location=location)


def challenge_then_redirect(location: str) -> Responder:
    """401 with a Basic challenge until the client sends credentials, then a redirect to `location`."""

    def respond(handler: http.server.BaseHTTPRequestHandler) -> None:
        if handler.headers.get("Authorization"):
            redirect_to(location)(handler)
        else:
            answer(401, b"who are you?", "text/plain", WWW_Authenticate='Basic realm="store"')(handler)

    return respond


def _fails_within(call: Callable[[], object], limit: float, *errors: type[BaseException]) -> str:
    started = time.monotonic()
    with pytest.raises(errors) as caught:
        call()
    seconds = time.monotonic() - started
    assert seconds < limit + 1, f"failed only after {seconds:.2f} s"
    message = str(caught.value)
    assert "\n" not in message.strip() and message.strip(), message
    return message


def _cli_fails_within(args: list[str], limit: float) -> str:
    started = time.monotonic()
    result = CliRunner().invoke(cli, args)
    seconds = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert seconds < limit + 1, f"failed only after {seconds:.2f} s"
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


# --- test 5: no answer, an error, a redirect


def test_an_endpoint_that_never_answers(small_build: Path) -> None:
    with silent_listener() as url:
        message = _fails_within(lambda: run(SELECT, endpoint=url, timeout=TIMEOUT), TIMEOUT, QueryError)
        assert "no complete answer within 1 s" in message and "127.0.0.1" in message
        stderr = _cli_fails_within(["query", "documents", "--endpoint", url, "--timeout", str(TIMEOUT)], TIMEOUT)
        assert "no complete answer within 1 s" in stderr
        message = _fails_within(lambda: push(small_build, url.replace("/sparql", "/store"), timeout=TIMEOUT),
                                TIMEOUT, PushError)
        assert "no complete answer within 1 s" in message and "deadline" in message and "incomplete" in message


def test_an_endpoint_that_trickles_its_answer_is_cut_at_the_deadline() -> None:
    """A server that sends a byte now and then keeps each read alive: the client's deadline is for the whole answer."""

    def trickle(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", RESULTS)
        handler.end_headers()
        for _ in range(40):  # 4 s at most, then the server gives up
            try:
                handler.wfile.write(b" ")
                handler.wfile.flush()
            except OSError:
                return
            time.sleep(0.1)

    with recording_server(trickle) as slow:
        message = _fails_within(lambda: run(SELECT, endpoint=slow.url("/sparql"), timeout=TIMEOUT), TIMEOUT,
                                QueryError)
    assert "within 1 s" in message


def test_an_endpoint_that_answers_500(small_build: Path) -> None:
    with recording_server(answer(500, b"Virtuoso 42000 Error: something broke", "text/plain")) as broken:
        url = broken.url("/sparql")
        message = _fails_within(lambda: run(SELECT, endpoint=url, timeout=TIMEOUT), TIMEOUT, QueryError)
        assert "HTTP 500" in message and "something broke" in message
        stderr = _cli_fails_within(["query", "documents", "--endpoint", url, "--timeout", str(TIMEOUT)], TIMEOUT)
        assert "HTTP 500" in stderr
        message = _fails_within(lambda: push(small_build, broken.url("/store"), timeout=TIMEOUT), TIMEOUT, PushError)
        assert "HTTP 500" in message


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_refused_and_nothing_reaches_its_target(status: int, target: Recorder,
                                                              small_build: Path) -> None:
    with recording_server(redirect_to(target.url("/elsewhere"), status=status)) as moved:
        url = moved.url("/sparql")
        message = _fails_within(lambda: run(SELECT, endpoint=url, timeout=TIMEOUT), TIMEOUT, QueryError)
        assert f"redirected ({status})" in message and "not followed" in message
        stderr = _cli_fails_within(["query", "documents", "--endpoint", url, "--timeout", str(TIMEOUT)], TIMEOUT)
        assert "redirected" in stderr
        message = _fails_within(lambda: push(small_build, moved.url("/store"), timeout=TIMEOUT), TIMEOUT, PushError)
        assert "redirected" in message
        assert len(moved.hits) == 3
    assert target.hits == []


def test_credentials_answer_the_endpoints_own_challenge_and_never_follow_a_redirect(
    target: Recorder, small_build: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AFLM_ENDPOINT_USER", "dba")
    monkeypatch.setenv("AFLM_ENDPOINT_PASSWORD", "s3cret")
    with recording_server(challenge_then_redirect(target.url("/elsewhere"))) as store:
        message = _fails_within(lambda: push(small_build, store.url("/store"), timeout=TIMEOUT), TIMEOUT, PushError)
        result = CliRunner().invoke(cli, ["push", "--build", str(small_build), "--endpoint", store.url("/store"),
                                          "--timeout", "1"])
    assert "redirected" in message and result.exit_code == 1 and "redirected" in result.stderr
    sent = [hit.headers.get("authorization") for hit in store.hits]
    assert sent[0] is None, "credentials before any challenge"
    assert f"Basic {base64.b64encode(b'dba:s3cret').decode()}" in sent
    assert target.hits == [], "the redirect's target was contacted"
    assert "s3cret" not in message + result.output


# --- issue 15: whole-request deadlines, and a push that stops partway

DRIP_SECONDS = 30.0  # the drip server gives up by itself after this long
DEADLINE = 2.0


def test_a_server_that_drips_one_byte_a_second_is_cut_at_the_whole_request_deadline(small_build: Path) -> None:
    """Each read gets a byte within a second (under any per-read timeout): only a whole-request deadline ends it."""
    with drip_server(seconds=DRIP_SECONDS, interval=1.0) as drip:
        store = f"{drip.url}/store"
        started = time.monotonic()
        pushed = CliRunner().invoke(cli, ["push", "--build", str(small_build), "--endpoint", store,
                                          "--timeout", f"{DEADLINE:g}"])
        push_seconds = time.monotonic() - started
        started = time.monotonic()
        queried = CliRunner().invoke(cli, ["query", "documents", "--endpoint", f"{drip.url}/sparql",
                                           "--timeout", f"{DEADLINE:g}"])
        query_seconds = time.monotonic() - started
        started = time.monotonic()
        with pytest.raises(PushError) as caught:
            push(small_build, store, timeout=DEADLINE)
        api_seconds = time.monotonic() - started
        for _ in range(50):  # the server notices each hang-up within its 1 s drip interval
            if len(drip.held) >= 3:
                break
            time.sleep(0.1)

    assert pushed.exit_code == 1 and queried.exit_code == 1, pushed.output + queried.output
    for seconds in (push_seconds, query_seconds, api_seconds):
        assert seconds < DEADLINE + 2, f"returned after {seconds:.1f} s (the drip lasts {DRIP_SECONDS:g} s)"
    first = pushed.stderr.splitlines()[0]
    assert first.startswith("Error: push stopped at graph <https://w3id.org/aflm/graph/data>, chunk 1 of 1: PUT ")
    assert f"no complete answer within {DEADLINE:g} s (the whole-request deadline, --timeout)" in first
    assert "the remote graph <https://w3id.org/aflm/graph/data> is incomplete" in first
    retry = shlex.join(["aflm-graph", "push", "--build", str(small_build), "--endpoint", store,
                        "--chunk-triples", "50000", "--timeout", f"{DEADLINE:g}"])
    assert first.endswith(f"retry: {retry}"), first
    assert "  sent and acknowledged: nothing" in pushed.stderr
    assert queried.stderr.strip() == (f"Error: {drip.url}/sparql: no complete answer within {DEADLINE:g} s "
                                      "(the client's whole-request deadline)")
    message = str(caught.value)
    assert "\n" not in message and "deadline" in message and "incomplete" in message and retry in message
    assert drip.requests == 3
    assert len(drip.held) == 3 and max(drip.held) < DEADLINE + 2, f"the client kept the connection: {drip.held}"


def _fails_after(answered: int, lock: threading.Lock, seen: list[str], healthy: list[bool]) -> Responder:
    """Answer 201 to the first `answered` uploads, then close the connection without a word (until healthy)."""

    def respond(handler: http.server.BaseHTTPRequestHandler) -> None:
        with lock:
            seen.append(f"{handler.command} {handler.path}")
            ok = healthy[0] or len(seen) <= answered
        if ok:
            answer(201)(handler)
        else:
            handler.close_connection = True  # no status line: the client sees the connection drop

    return respond


def test_a_push_that_fails_partway_says_what_was_sent_and_how_to_retry(small_build: Path) -> None:
    lock, seen, healthy = threading.Lock(), [], [False]
    with recording_server(_fails_after(2, lock, seen, healthy)) as store:
        url = store.url("/store")
        started = time.monotonic()
        failed = CliRunner().invoke(cli, ["push", "--build", str(small_build), "--endpoint", url,
                                          "--chunk-triples", "200", "--timeout", "5"])
        assert time.monotonic() - started < 6
        assert failed.exit_code == 1, failed.output
        lines = failed.stderr.splitlines()
        retry = shlex.join(["aflm-graph", "push", "--build", str(small_build), "--endpoint", url,
                            "--chunk-triples", "200", "--timeout", "5"])
        assert lines[0].startswith("Error: push stopped at graph <https://w3id.org/aflm/graph/ontology>, chunk 1 of 1:")
        assert "the remote graph <https://w3id.org/aflm/graph/ontology> is incomplete and 2 more graph(s) were not " \
               "sent" in lines[0]
        assert lines[0].endswith(f"retry: {retry}"), lines[0]
        data = graph_sizes(small_build)["https://w3id.org/aflm/graph/data"]
        assert 200 < data <= 400  # two chunks of 200
        assert lines[1:] == [
            f"  sent and acknowledged: <https://w3id.org/aflm/graph/data> (2 of 2 chunks, all; {data} triples)",
            "  failed: <https://w3id.org/aflm/graph/ontology> chunk 1 of 1 (the server may hold part of it)",
            "  not sent: <https://w3id.org/aflm/graph/reference>, <https://w3id.org/aflm/graph/vocab>",
            "  a retry replaces each graph (its first chunk is a PUT), so re-running the whole command is safe",
        ]
        assert [hit.split("?")[0] for hit in seen] == ["PUT /store", "POST /store", "PUT /store"]

        healthy[0] = True  # the store is back: the printed command, run as printed, completes the push
        argv = shlex.split(retry)
        assert argv[:2] == ["aflm-graph", "push"]
        again = CliRunner().invoke(cli, argv[1:])
        assert again.exit_code == 0, again.output
        sizes = graph_sizes(small_build)
        assert f"{sum(sizes.values())} triples in {sum(math.ceil(n / 200) for n in sizes.values())} requests" \
            in again.stdout


# --- test 6: partial answers


def _rows(n: int) -> bytes:
    return json_results(["x"], [[f"row {i}"] for i in range(n)])


PARTIAL = {
    "http-206": answer(206, _rows(2), RESULTS),
    "x-sql-state": answer(200, _rows(2), RESULTS, X_SQL_State="S1TAT"),
    "announced-row-cap": answer(200, _rows(3), RESULTS, X_SPARQL_MaxRows="3"),
}


@pytest.fixture(scope="module")
def select_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("rq") / "any-x.rq"
    path.write_text(SELECT + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("case", sorted(PARTIAL))
def test_a_partial_answer_is_flagged_and_fails_unless_allowed(case: str, select_file: str) -> None:
    with recording_server(PARTIAL[case]) as endpoint:
        url = endpoint.url("/sparql")
        with pytest.raises(PartialResultError, match="partial result") as caught:
            run(SELECT, endpoint=url, timeout=5)
        assert caught.value.result.partial
        allowed = run(SELECT, endpoint=url, timeout=5, allow_partial=True)
        assert allowed.partial and allowed.warnings and len(allowed.rows) in {2, 3}

        refused = CliRunner().invoke(cli, ["query", select_file, "--endpoint", url, "--format", "csv"])
        assert refused.exit_code == 1 and "partial result" in refused.stderr and "--allow-partial" in refused.stderr
        assert refused.stdout == "", "a partial table must not be printed as if complete"
        accepted = CliRunner().invoke(cli, ["query", select_file, "--endpoint", url, "--format", "csv",
                                            "--allow-partial"])
        assert accepted.exit_code == 0 and "Warning: " in accepted.stderr and "partial result" in accepted.stderr
        assert accepted.stdout.splitlines()[0] == "x"


def test_a_result_exactly_at_a_given_row_cap_is_flagged(select_file: str) -> None:
    with recording_server(answer(200, _rows(5), RESULTS)) as endpoint:
        url = endpoint.url("/sparql")
        with pytest.raises(PartialResultError, match="row cap"):
            run(SELECT, endpoint=url, timeout=5, row_cap=5)
        assert not run(SELECT, endpoint=url, timeout=5, row_cap=6).partial
        assert not run(SELECT + " LIMIT 5", endpoint=url, timeout=5, row_cap=5).partial  # its own LIMIT explains it
        result = CliRunner().invoke(cli, ["query", select_file, "--endpoint", url, "--row-cap", "5"])
        assert result.exit_code == 1 and "row cap" in result.stderr
