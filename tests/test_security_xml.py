"""Hostile XML (issue 9, test 3): external entities, external DTDs and entity bombs read nothing and fetch nothing.

RDF/XML reaches us as a file to validate and as a remote endpoint's CONSTRUCT answer; SPARQL XML
results as a remote endpoint's SELECT answer. Each hostile document goes through each of those
paths in a child process whose data segment is capped at 300 MB and whose time is capped at 60 s:
an entity bomb that was expanded would kill it. No answer may hold the secret file's content, and
the canary may count no hit. (pyoxigraph's RDF/XML parser expands internal entities without a bound:
`rdfio.check_xml` is what stops the bomb; its XML results parser refuses entities itself.)
"""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import DATA
from hostile import AFLM_GRAPH, Recorder, answer, last_json, limited, recording_server, run_python

SECURITY = DATA / "security"
MEMORY_MB = 300

READ = """
import json, sys
from pathlib import Path
from aflm_graph.graph.rdfio import read_quads
try:
    print(json.dumps({"ok": [q.object.value[:200] for q in read_quads(Path(sys.argv[1]))]}))
except ValueError as exc:
    print(json.dumps({"error": str(exc)}))
"""

REMOTE = """
import json, sys
from aflm_graph.sparql.run import run
from aflm_graph.sparql.catalogue import QueryError
try:
    result = run(sys.argv[1], endpoint=sys.argv[2], timeout=20)
    print(json.dumps({"ok": [[t.value[:200] for t in row if t] for row in result.rows]}))
except QueryError as exc:
    print(json.dumps({"error": str(exc)}))
"""


@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    content = f"XML-SECRET-{uuid.uuid4().hex}"
    path = tmp_path_factory.mktemp("secret") / "secret.txt"
    path.write_text(content, encoding="utf-8")
    return path, content


def documents(kind: str, target: Recorder, secret: Path) -> dict[str, str]:
    """The hostile documents of one kind ("rdf" or "srx"), placeholders filled in."""
    prefix = "" if kind == "rdf" else "results-"
    entity = (SECURITY / f"{prefix}external-entity.{kind}").read_text(encoding="utf-8")
    return {
        "entity-file": entity.replace("ENTITY_TARGET", secret.as_uri()),
        "entity-url": entity.replace("ENTITY_TARGET", target.url("/entity")),
        "external-dtd": (SECURITY / f"{prefix}external-dtd.{kind}").read_text(encoding="utf-8")
        .replace("DTD_URL", target.url("/doc.dtd")),
        "billion-laughs": (SECURITY / f"{prefix}billion-laughs.{kind}").read_text(encoding="utf-8"),
    }


def _check(name: str, outcome: dict[str, object], seconds: float, content: str, target: Recorder) -> None:
    shown = str(outcome)
    assert content not in shown, f"{name}: the secret file's content came back"
    assert seconds < 30, f"{name}: took {seconds:.1f} s"
    assert target.hits == [], f"{name}: {target.hits}"
    if name == "external-dtd":  # legal, and never fetched: the document reads as it is
        assert outcome == {"ok": [["plain text"]]} or outcome == {"ok": ["plain text"]}, shown
    else:
        assert "error" in outcome, shown
        message = str(outcome["error"])
        assert "refused" in message or "parse" in message, message
        assert "lol" * 100 not in message


@pytest.mark.parametrize("name", ["entity-file", "entity-url", "external-dtd", "billion-laughs"])
def test_rdfxml_files_are_read_safely(name: str, target: Recorder, secret: tuple[Path, str], tmp_path: Path) -> None:
    path = tmp_path / f"{name}.rdf"
    path.write_text(documents("rdf", target, secret[0])[name], encoding="utf-8")
    started = time.monotonic()
    done = run_python(READ, str(path), memory_mb=MEMORY_MB)
    _check(name, last_json(done), time.monotonic() - started, secret[1], target)
    if name != "external-dtd":
        # the command line too: one line, non-zero exit, nothing leaked, bounded
        cli = subprocess.run([AFLM_GRAPH, "validate", "--build", str(path)], capture_output=True, text=True,
                             timeout=60, preexec_fn=limited(MEMORY_MB), check=False)
        assert cli.returncode == 1 and "refused" in cli.stderr, cli.stderr[-500:]
        assert secret[1] not in cli.stdout + cli.stderr
    assert target.hits == []


@pytest.mark.parametrize("kind", ["rdf", "srx"])
@pytest.mark.parametrize("name", ["entity-file", "entity-url", "external-dtd", "billion-laughs"])
def test_remote_xml_answers_are_read_safely(name: str, kind: str, target: Recorder,
                                            secret: tuple[Path, str]) -> None:
    body = documents(kind, target, secret[0])[name].encode("utf-8")
    if kind == "rdf":  # a CONSTRUCT answered in RDF/XML
        query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
        media = "application/rdf+xml"
    else:  # a SELECT answered in SPARQL XML results
        query = "SELECT ?value WHERE { ?s ?p ?value }"
        media = "application/sparql-results+xml"
    with recording_server(answer(200, body, media)) as endpoint:
        started = time.monotonic()
        done = run_python(REMOTE, query, endpoint.url("/sparql"), memory_mb=MEMORY_MB)
        seconds = time.monotonic() - started
        assert len(endpoint.hits) == 1
    outcome = last_json(done)
    if name == "external-dtd" and kind == "rdf":
        assert outcome["ok"][0][-1] == "plain text"
        outcome = {"ok": [["plain text"]]}
    _check(name, outcome, seconds, secret[1], target)
