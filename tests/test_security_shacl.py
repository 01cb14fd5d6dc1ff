"""SHACL validation fetches nothing and runs no code (issue 9, test 14).

pySHACL always runs with `js=False`, `do_owl_imports=False`, no inference and no SHACL-AF
(advanced features such as SPARQL targets and rules); SHACL-SPARQL constraints run here on pyoxigraph
after the lexical guard. A shapes graph that holds SERVICE, LOAD, an update or FROM a foreign graph in
any of its SPARQL texts is refused, however the keyword is written. A shapes graph (or data) that
names the canary in owl:imports, sh:shapesGraph or a SHACL-JS library validates without a single hit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aflm_graph.validate.check import validate_build
from aflm_graph.validate.shacl import ValidationError, load_quads, load_shapes, validate_quads
from conftest import DATA, ROOT
from hostile import AUDIT, Recorder

VALID = DATA / "shapes" / "S01-valid.trig"


def shapes_with(folder: Path, extra: str) -> Path:
    path = folder / "shapes.ttl"
    path.write_text((ROOT / "ontology" / "shapes.ttl").read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def test_pyshacl_runs_without_javascript_imports_inference_or_advanced_features(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pyshacl

    seen: list[dict[str, Any]] = []
    real = pyshacl.validate

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(pyshacl, "validate", spy)
    assert validate_build(VALID).conforms
    assert len(seen) == 1
    assert seen[0]["js"] is False and seen[0]["do_owl_imports"] is False
    assert seen[0]["inference"] == "none" and seen[0]["advanced"] is False


def sparql_texts(url: str) -> dict[str, str]:
    return {
        "service": f"SELECT $this WHERE {{ SERVICE <{url}> {{ $this ?p ?o }} }}",
        "service-escaped": f"SELECT $this WHERE {{ \\\\u0053ERVICE <{url}> {{ $this ?p ?o }} }}",
        "service-lower": f"select $this where {{ service silent <{url}> {{ $this ?p ?o }} }}",
        "from": f"SELECT $this FROM <{url}> WHERE {{ $this ?p ?o }}",
        "from-named": f"SELECT $this FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ $this ?p ?o }} }}",
        "load": f"LOAD <{url}>",
        "insert": "INSERT DATA { <urn:x:s> <urn:x:p> <urn:x:o> }",
    }


PLACES = {
    "constraint-select": 'aflmsh:Hostile a sh:NodeShape ; sh:targetClass aflm:Recommendation ; '
                         'sh:sparql [ sh:select """{text}""" ] .',
    "constraint-ask": 'aflmsh:Hostile a sh:NodeShape ; sh:targetClass aflm:Recommendation ; '
                      'sh:sparql [ sh:ask """{text}""" ] .',
    "sparql-target": 'aflmsh:Hostile a sh:NodeShape ; sh:target [ a sh:SPARQLTarget ; sh:select """{text}""" ] ; '
                     "sh:property [ sh:path aflm:text ; sh:minCount 1 ] .",
    "rule": 'aflmsh:Hostile a sh:NodeShape ; sh:targetClass aflm:Recommendation ; '
            'sh:rule [ a sh:SPARQLRule ; sh:construct """{text}""" ] .',
    "update": 'aflmsh:Hostile sh:update """{text}""" .',
}


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("form", sorted(sparql_texts("http://x")))
def test_a_shapes_graph_with_network_or_write_sparql_is_refused(place: str, form: str, target: Recorder,
                                                                tmp_path: Path) -> None:
    text = sparql_texts(target.url("/sparql"))[form]
    path = shapes_with(tmp_path, "\n" + PLACES[place].replace("{text}", text) + "\n")
    with AUDIT.watching():
        with pytest.raises(ValidationError, match="refused"):
            load_shapes(path)
        with pytest.raises(ValidationError, match="refused"):
            validate_quads(load_quads(VALID), shapes_path=path)
    assert target.hits == []
    assert not [c for c in AUDIT.connections() if str(target.port) in c]


def test_imports_shapes_graphs_and_js_libraries_are_never_fetched(target: Recorder, tmp_path: Path) -> None:
    extra = f"""
<https://w3id.org/aflm/shapes> owl:imports <{target.url('/more-shapes.ttl')}> .
aflmsh:Remote a sh:NodeShape ;
    sh:shapesGraph <{target.url('/shapes-graph.ttl')}> ;
    sh:targetClass aflm:Recommendation ;
    sh:js [ a sh:JSConstraint ; sh:jsFunctionName "pwn" ; sh:jsLibrary [ sh:jsLibraryURL "{target.url('/pwn.js')}" ] ] .
"""
    path = shapes_with(tmp_path, extra)
    data = tmp_path / "data.trig"
    data.write_text(VALID.read_text(encoding="utf-8") + f"\n<https://w3id.org/aflm/graph/data> {{ "
                    f"<https://w3id.org/aflm/id/document/x> <http://www.w3.org/2002/07/owl#imports> "
                    f"<{target.url('/data-import.ttl')}> . }}\n", encoding="utf-8")
    with AUDIT.watching():
        report = validate_quads(load_quads(data), shapes_path=path)
    assert report.conforms, report.text()
    assert target.hits == []
    assert not [c for c in AUDIT.connections() if str(target.port) in c]
