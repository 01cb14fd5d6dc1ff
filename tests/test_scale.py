"""Correctness at scale: 1,000 synthetic documents build, validate and answer the competency queries.

This guards what a big build produces, not how fast (the speed lives in `make bench`): the
counts in the report, the manifest and the store agree with what the generator wrote, validation
runs (shapes streamed over every statement, SPARQL checks on the whole graph) and passes, and every
competency query answers on the build.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aflm_graph.publish.pipeline import build
from aflm_graph.sparql.catalogue import named_queries
from aflm_graph.sparql.engine import open_store
from aflm_graph.sparql.run import run
from synth import MANIFEST_NAME, write_corpus

DOCUMENTS = 1_000


@pytest.fixture(scope="module")
def big_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    root = tmp_path_factory.mktemp("scale")
    corpus, out = root / "corpus", root / "build"
    write_corpus(corpus, documents=DOCUMENTS, seed=7)
    report = build([corpus], out)  # validates: a violation would raise BuildError
    return corpus, out, report


@pytest.mark.slow
def test_a_thousand_documents_build_with_the_counts_the_generator_wrote(big_build: tuple[Path, Path, object]) -> None:
    corpus, out, report = big_build
    synth = json.loads((corpus / MANIFEST_NAME).read_text())
    expected = synth["recommendations"]
    assert expected == sum(f["recommendations"] for f in synth["files"])
    assert report.documents == DOCUMENTS  # type: ignore[attr-defined]
    assert report.recommendations == expected  # type: ignore[attr-defined]
    assert "validate" in report.stages  # type: ignore[attr-defined]
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["documents"]) == DOCUMENTS
    assert sum(d["recommendations"] for d in manifest["documents"]) == expected
    assert manifest["quads"] == report.triples > 1_000_000  # type: ignore[attr-defined]
    assert len(open_store(out)) == manifest["quads"]
    rows = run("SELECT (COUNT(*) AS ?n) WHERE { ?r a <https://w3id.org/aflm/ontology#Recommendation> }", build=out)
    assert int(rows.rows[0][0].value) == expected  # type: ignore[union-attr]
    assert report.links.get("similar", 0) > DOCUMENTS and report.links.get("duplicate", 0) > 0  # type: ignore[attr-defined]


@pytest.mark.slow
def test_every_competency_query_answers_on_the_big_build(big_build: tuple[Path, Path, object]) -> None:
    _, out, _ = big_build
    contract = {"documents": DOCUMENTS, "recommendations": None, "annotations": None, "duplicates": None}
    for name, query in named_queries().items():
        if name.endswith("-violation"):
            assert not run(query, build=out).rows, f"{name} finds a violation in the big build"
            continue
        params = {p.name: p.example for p in query.params if p.required and p.example is not None}
        if any(p.type == "document" or p.name == "recommendation" for p in query.params if p.required):
            continue  # their examples name the seeds
        result = run(query, build=out, params=params)
        assert result.form in {"select", "ask", "graph"}
        if name in contract:
            assert result.rows, f"{name} answers nothing"
            if contract[name] is not None:
                assert len(result.rows) == contract[name]
