"""The paths a big build takes give the bytes the small paths give (the seeds, forced down the big paths)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from aflm_graph.enrich import link
from aflm_graph.graph import export
from aflm_graph.publish import pipeline
from aflm_graph.publish.pipeline import BuildError, build
from aflm_graph.validate import stream as shacl_stream
from conftest import SEEDS
from synth import recommendation_texts


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "store" not in p.relative_to(folder).parts
    }


def test_the_export_helper_process_and_the_sampled_checks_change_no_byte(
    seed_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export, "HELPER_THRESHOLD", 0)  # JSON-LD and RDF/XML from a second process
    monkeypatch.setattr(pipeline, "PARALLEL_FROM", 0)  # parse, annotate and statements in worker processes
    monkeypatch.setattr(shacl_stream, "PYSHACL_LIMIT", 0)  # the streamed shapes, not pySHACL
    monkeypatch.setattr(shacl_stream, "FULL_QUERY_LIMIT", 0)  # SPARQL checks on a sample, views on the disk store
    big = tmp_path / "big"
    report = build([SEEDS], big)
    assert "validate" in report.stages
    assert _digest(big) == _digest(seed_build)


def test_worker_processes_report_bad_documents_as_the_serial_build_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed in sorted(SEEDS.glob("*.txt")):
        (corpus / seed.name).write_bytes(seed.read_bytes())
    (corpus / "broken.txt").write_bytes(b"\xff\xfe\x00binary\x00")
    outcomes = {}
    for parallel_from in (10_000, 0):
        monkeypatch.setattr(pipeline, "PARALLEL_FROM", parallel_from)
        with pytest.raises(BuildError, match=r"broken\.txt") as raised:
            build([corpus], tmp_path / "out", validate=False)
        report = build([corpus], tmp_path / f"out-{parallel_from}", validate=False, keep_going=True)
        assert [Path(f).name for f in report.failed] == ["broken.txt"]
        outcomes[parallel_from] = (str(raised.value), report.failed, report.recommendations, report.mentions,
                                   _digest(tmp_path / f"out-{parallel_from}"))
    assert outcomes[0] == outcomes[10_000]
    assert not (tmp_path / "out").exists()


def test_the_blocked_linker_is_deterministic_and_finds_most_exact_pairs() -> None:
    texts, documents = recommendation_texts(3_000, seed=5)
    exact = link.link(texts, documents)
    blocked = link.link(texts, documents, exact_limit=0)
    assert blocked == link.link(texts, documents, exact_limit=0)
    assert {(x.a, x.b) for x in exact if x.relation == "duplicate"} == {
        (x.a, x.b) for x in blocked if x.relation == "duplicate"}
    similar = {(x.a, x.b): x.score for x in exact if x.relation == "similar"}
    found = {(x.a, x.b): x.score for x in blocked if x.relation == "similar"}
    assert len(set(found) & set(similar)) >= 0.85 * len(similar)
    assert all(x.score >= link.DEFAULT_THRESHOLD for x in blocked if x.relation == "similar")
    assert all(found[p] == similar[p] for p in set(found) & set(similar)), "the same pair, the same score"
    assert not {(x.a, x.b) for x in blocked if x.relation == "similar"} & {
        (x.a, x.b) for x in blocked if x.relation == "duplicate"}


def test_a_violation_found_while_the_helper_writes_stops_it_and_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import subprocess

    from aflm_graph.validate.shacl import ValidationError
    from aflm_graph.validate.stream import query_checks

    monkeypatch.setattr(export, "HELPER_THRESHOLD", 0)  # JSON-LD and RDF/XML from a second process
    helpers: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def popen(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        process = real_popen(*args, **kwargs)  # type: ignore[call-overload]
        helpers.append(process)
        return process

    def failing(*args: object, **kwargs: object) -> object:  # the SPARQL checks, shared by the pipeline's threads
        def fail() -> list[object]:
            raise ValidationError("shape check failed on purpose")

        return [*query_checks(*args, **kwargs), fail]  # type: ignore[arg-type]

    monkeypatch.setattr(subprocess, "Popen", popen)
    monkeypatch.setattr(shacl_stream, "query_checks", failing)
    out = tmp_path / "out"
    with pytest.raises(BuildError, match="on purpose"):
        build([SEEDS], out)
    assert len(helpers) == 1 and helpers[0].returncode is not None, "the helper was stopped and waited for"
    assert not out.exists()
    assert not [p.name for p in tmp_path.iterdir()], "no staging folder left behind"


def test_the_blocked_linker_gives_the_same_links_in_two_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    texts, documents = recommendation_texts(3_000, seed=7)
    serial = link.link(texts, documents, exact_limit=0)
    monkeypatch.setattr(link, "PARALLEL_FROM", 0)
    monkeypatch.setattr(link.os, "cpu_count", lambda: 2)  # two workers even on a one-core machine
    parallel = link.link(texts, documents, exact_limit=0)
    assert sum(x.relation == "similar" for x in serial) > 500
    assert parallel == serial
