"""No network egress (issue 9, tests 1 and 2): whatever a query or an input file names, nothing is fetched.

A loopback canary records every request it gets. Every query path (the embedded API with and without
a worker, `aflm_graph.query`, the CLI, a query view, and `aflm-graph serve` as a real process) is
given SERVICE, FROM, FROM NAMED and LOAD pointing at it; every RDF input path (the safe reader,
`aflm-graph validate --build FILE`) is given JSON-LD whose `@context` names the canary or a `file:`
URL and RDF/XML whose entities do. Each must refuse with a clear message, and the canary must count
zero hits; the whole battery runs again after a SPARQLWrapper call has installed a process-wide
urllib opener. An audit hook watches the Python side as well (pyoxigraph's SERVICE client is
native code that audit hooks cannot see: the canary is what proves it).

Test 2: a path or URL given where text is expected (document text, a sidecar's source, a string
parameter) stays data and is never opened; a build reads only the files under the paths it is given.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

import aflm_graph
from aflm_graph.cli import cli
from aflm_graph.graph.rdfio import UnsafeInputError, read_quads
from aflm_graph.sparql.catalogue import NamedQuery, Param, QueryError
from aflm_graph.sparql.engine import run_embedded
from aflm_graph.sparql.run import run
from aflm_graph.validate.check import validate_build
from aflm_graph.validate.shacl import ValidationError
from aflm_graph.views.network import ViewError, write_view
from conftest import DATA
from hostile import AUDIT, Recorder, answer, http_request, post_query, recording_server, serve_process

SECURITY = DATA / "security"


def hostile_queries(url: str) -> dict[str, str]:
    """Every way a query could make an engine reach `url`."""
    base = url.rsplit("/", 1)[0]
    return {
        "service": f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "service-silent": f"SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }} }}",
        "service-escaped": f"SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",
        "service-lower-case": f"select * where {{ service <{url}> {{ ?s ?p ?o }} }}",
        "service-variable": f"SELECT * WHERE {{ VALUES ?e {{ <{url}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
        "service-in-construct": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "service-in-ask": f"ASK {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "service-after-comment": f"SELECT * WHERE {{ # }}\n SERVICE <{url}> {{ ?s ?p ?o }} }}",
        # issue 15: spellings that fooled the token scan (a prefixed name ending in an escape read the rest
        # of the line as a comment or a string; `SERVICE:` with the empty prefix scanned as one word)
        "escape-hash": f"PREFIX ex: <http://example.org/>\nSELECT ?a WHERE {{ BIND(ex:x\\# AS ?z) "
                       f"SERVICE <{url}> {{ ?a ?b ?c }} }}",
        "escape-quote": f"PREFIX ex: <http://example.org/>\nSELECT ?a WHERE {{ BIND(ex:x\\' AS ?z) "
                        f"SERVICE <{url}> {{ ?a ?b ?c }} }}",
        "empty-prefix": f"PREFIX : <{url}>\nSELECT ?a WHERE {{ SERVICE: {{ ?a ?b ?c }} }}",
        "relative-to-base": f"BASE <{base}/> SELECT ?a WHERE {{ SERVICE <sparql> {{ ?a ?b ?c }} }}",
        "escaped-lower-case": f"SELECT * WHERE {{ \\u0073ervice <{url}> {{ ?s ?p ?o }} }}",
        "in-exists": f"SELECT * WHERE {{ ?a ?b ?c FILTER EXISTS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
        "in-subquery": f"SELECT * WHERE {{ {{ SELECT ?s WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
        "from": f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
        "from-prefixed": f"PREFIX c: <{base}/> SELECT * FROM c:x WHERE {{ ?s ?p ?o }}",
        "from-named": f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        "load": f"LOAD <{url}>",
        "load-into": f"LOAD SILENT <{url}> INTO GRAPH <urn:x:g>",
    }


def jsonld_inputs(url: str) -> dict[str, str]:
    """JSON-LD documents whose reading would fetch `url` or read a local file, were contexts followed."""
    template = (SECURITY / "remote-context.jsonld").read_text(encoding="utf-8")
    return {
        "context-url": template.replace("CONTEXT", url),
        "context-file": template.replace("CONTEXT", "file:///etc/passwd"),
        "context-in-array": f'{{"@context": [{{"ex": "http://ex/"}}, "{url}"], "@id": "http://ex/a", "ex:p": "v"}}',
        "context-in-node": f'{{"@id": "http://ex/a", "http://ex/p": {{"@context": "{url}", "@id": "http://ex/b"}}}}',
        "context-import": f'{{"@context": {{"@version": 1.1, "@import": "{url}"}}, "@id": "http://ex/a"}}',
    }


def rdfxml_inputs(url: str) -> dict[str, str]:
    template = (SECURITY / "external-entity.rdf").read_text(encoding="utf-8")
    return {
        "entity-url": template.replace("ENTITY_TARGET", url),
        "entity-file": template.replace("ENTITY_TARGET", "file:///etc/passwd"),
    }


def _refused(call: object) -> str:
    """Run a call that must fail; return its message."""
    assert callable(call)
    try:
        call()
    except (QueryError, ViewError, ValidationError, UnsafeInputError) as exc:
        return str(exc)
    raise AssertionError("not refused")


def query_battery(url: str, build: Path, folder: Path) -> dict[str, list[str]]:
    """Every hostile query through every in-process query path; the refusal messages, by path."""
    store = ox.Store()
    messages: dict[str, list[str]] = {}
    runner = CliRunner()
    for name, text in hostile_queries(url).items():
        rq = folder / f"{name}.rq"
        rq.write_text(text + "\n", encoding="utf-8")
        messages[name] = [
            _refused(lambda text=text: run_embedded(store, text)),
            _refused(lambda text=text: run(text, build=build)),
            _refused(lambda text=text: run(text, build=build, timeout=10)),
            _refused(lambda text=text: aflm_graph.query(text, build=build)),
            _refused(lambda rq=rq: write_view("query", str(rq), build=build, out=folder / "v.html")),
        ]
        outcome = runner.invoke(cli, ["query", str(rq), "--build", str(build)])
        assert outcome.exit_code == 1 and outcome.stderr.count("\n") == 1, (name, outcome.output)
        messages[name].append(outcome.stderr)
    return messages


def input_battery(url: str, folder: Path) -> dict[str, list[str]]:
    """Every hostile RDF input through every reading path; the refusal messages, by input."""
    messages: dict[str, list[str]] = {}
    files = {f"{k}.jsonld": v for k, v in jsonld_inputs(url).items()}
    files |= {f"{k}.rdf": v for k, v in rdfxml_inputs(url).items()}
    runner = CliRunner()
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        fmt = ox.RdfFormat.JSON_LD if name.endswith(".jsonld") else ox.RdfFormat.RDF_XML
        messages[name] = [
            _refused(lambda path=path: read_quads(path)),
            _refused(lambda text=text, fmt=fmt: read_quads(text.encode(), fmt)),
            _refused(lambda path=path: validate_build(path)),
        ]
        outcome = runner.invoke(cli, ["validate", "--build", str(path)])
        assert outcome.exit_code == 1 and "refused" in outcome.stderr, (name, outcome.output)
        messages[name].append(outcome.stderr)
    return messages


def _check_battery(target: Recorder, small_build: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    url = target.url("/sparql")
    with AUDIT.watching():
        queries = query_battery(url, small_build, folder)
        inputs = input_battery(target.url("/context.jsonld"), folder)
    for name, texts in queries.items():
        for text in texts:
            assert "refused" in text, (name, text)
    for name, texts in inputs.items():
        for text in texts:
            assert "refused" in text and "/etc/passwd" not in text.replace("file:///etc/passwd", ""), (name, text)
    assert not [c for c in AUDIT.connections() if str(target.port) in c], "a Python-level connection to the canary"
    assert "passwd" not in " ".join(AUDIT.opened()), "a file named by an input was opened"
    assert target.hits == [], target.hits


def test_every_query_and_input_path_refuses_and_the_canary_gets_no_hit(
    target: Recorder, small_build: Path, tmp_path: Path,
) -> None:
    _check_battery(target, small_build, tmp_path / "first")

    # SPARQLWrapper installs a process-wide urllib opener when it sends Digest credentials: the battery
    # must hold just the same afterwards (our client never uses the installed opener).
    from SPARQLWrapper import DIGEST, JSON, SPARQLWrapper

    with recording_server(answer(200, b'{"head": {}, "boolean": true}', "application/sparql-results+json")) as other:
        client = SPARQLWrapper(other.url("/sparql"))
        client.setHTTPAuth(DIGEST)
        client.setCredentials("someone", "secret")
        client.setReturnFormat(JSON)
        client.setQuery("ASK {}")
        client.setTimeout(5)
        assert client.query().convert() == {"head": {}, "boolean": True}
        assert len(other.hits) == 1
    import urllib.request

    assert urllib.request._opener is not None, "SPARQLWrapper installed its opener"  # type: ignore[attr-defined]
    _check_battery(target, small_build, tmp_path / "after-sparqlwrapper")


@pytest.mark.parametrize("how", ["form", "direct", "get"])
def test_serve_refuses_every_form_and_the_canary_gets_no_hit(
    target: Recorder, small_build: Path, tmp_path_factory: pytest.TempPathFactory, how: str,
) -> None:
    import urllib.parse

    folder = tmp_path_factory.mktemp("serve-egress")
    with serve_process(small_build, folder, "--timeout", "5") as served:
        for name, text in hostile_queries(target.url("/sparql")).items():
            if how == "form":
                status, _, body = post_query(served.url, text)
            elif how == "direct":
                status, _, body = http_request(served.url, data=text.encode(),
                                               headers={"Content-Type": "application/sparql-query"})
            else:
                status, _, body = http_request(f"{served.url}?{urllib.parse.urlencode({'query': text})}")
            assert status == 403, (name, status, body)
            assert b"refused" in body or b"read-only" in body, (name, body)
    assert target.hits == []


def test_without_the_lexical_refusal_pyoxigraph_would_reach_the_canary(target: Recorder) -> None:
    """Why check_safe exists: pyoxigraph's own SERVICE client goes out from native code (audit hooks miss it)."""
    before = len(target.hits)
    store = ox.Store()
    with pytest.raises((RuntimeError, OSError, SyntaxError, ValueError)):
        list(store.query(hostile_queries(target.url("/sparql"))["service"]))  # type: ignore[arg-type]
    assert len(target.hits) == before + 1
    del target.hits[before:]


# --- test 2: paths and URLs where text is expected are data


def test_paths_and_urls_in_text_are_data_never_opened(target: Recorder, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("TOP SECRET: never to be read\n", encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    text = (SECURITY / "paths-as-text.txt").read_text(encoding="utf-8")
    document = folder / "paths.txt"
    document.write_text(text.replace("SECRET_PATH", str(secret)).replace("CANARY_URL", target.url("/doc")),
                        encoding="utf-8")
    (folder / "paths.txt.meta.toml").write_text(f'source = "{target.url("/sidecar")}"\n', encoding="utf-8")
    out = tmp_path / "build"
    with AUDIT.watching():
        report = aflm_graph.run_pipeline([folder], out)
        texts = [r["text"] for r in aflm_graph.query("recommendations", build=out).records()]
        echo = NamedQuery("echo", "SELECT ?value WHERE { }", params=(Param("value", "string"),
                                                                      Param("where", "iri")))
        for value in (str(secret), secret.as_uri(), target.url("/param")):
            rows = run(echo, build=out, params={"value": value, "where": value if ":" in value else "urn:x"})
            assert rows.records() == [{"value": value}]
    assert report.documents == 1
    assert any(str(secret) in t for t in texts) and any(target.url("/doc") in t for t in texts)
    opened = AUDIT.opened()
    assert not [o for o in opened if str(secret) in o], opened
    assert target.hits == []


def test_a_link_out_of_the_input_folder_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text((DATA / "build" / "third-document.txt").read_text(encoding="utf-8"), encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "plain.txt").write_text((DATA / "build" / "third-document.txt").read_text(encoding="utf-8"))
    (folder / "evil.txt").symlink_to(secret)
    with AUDIT.watching():
        result = CliRunner().invoke(cli, ["build", str(folder), "--out", str(tmp_path / "build"), "--no-validate"])
    assert result.exit_code == 1 and "refused" in result.stderr and "evil.txt" in result.stderr
    assert not [o for o in AUDIT.opened() if str(secret) in o]
    assert not (tmp_path / "build").exists()
    # named on the command line, the same file is the user's own choice and is read
    named = CliRunner().invoke(cli, ["build", str(folder / "evil.txt"), "--out", str(tmp_path / "b2"), "--no-validate"])
    assert named.exit_code == 0, named.output
