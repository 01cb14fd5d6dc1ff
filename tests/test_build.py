"""The build: deterministic output, stable IRIs, atomic replacement, the contract queries on the seeds."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

import aflm_graph
from aflm_graph.fsutil import staged_directory
from aflm_graph.publish.pipeline import BuildError, build
from aflm_graph.sparql.engine import open_store, run_embedded, to_csv
from conftest import DATA, SEEDS

REC = "https://w3id.org/aflm/ontology#Recommendation"


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "store" not in p.relative_to(folder).parts
    }


def _recommendation_triples(nq: Path) -> set[str]:
    """N-Triples lines whose subject is a recommendation of the seeds, links excluded."""
    quads = list(ox.parse(path=str(nq), format=ox.RdfFormat.N_QUADS))
    recs = {q.subject for q in quads if q.predicate.value.endswith("#type") and q.object.value == REC}
    return {
        str(ox.Triple(q.subject, q.predicate, q.object))
        for q in quads
        if q.subject in recs and not q.predicate.value.endswith(("similarTo", "duplicateOf"))
    }


def test_two_builds_are_byte_identical(seed_build: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build([SEEDS], again)
    first, second = _digest(seed_build), _digest(again)
    assert {"aflm.ttl", "aflm.nq", "manifest.json"} <= set(first)
    assert first == second


def test_adding_a_document_changes_no_existing_iri(seed_build: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    shutil.copy(DATA / "build" / "third-document.txt", corpus)
    out = tmp_path / "out"
    build([corpus], out)
    before = _recommendation_triples(seed_build / "aflm.nq")
    after = _recommendation_triples(out / "aflm.nq")
    assert len(before) > 47 * 5
    assert before <= after  # every statement about a seed recommendation is kept, IRIs included
    manifest = json.loads((out / "manifest.json").read_text())
    assert [d["recommendations"] for d in manifest["documents"]] == [26, 21, 2]


def test_manifest_counts_and_checksums(seed_build: Path) -> None:
    manifest = json.loads((seed_build / "manifest.json").read_text())
    assert [d["recommendations"] for d in manifest["documents"]] == [26, 21]
    assert manifest["triples"] > 1000
    for name, meta in manifest["files"].items():
        data = (seed_build / name).read_bytes()
        assert meta == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _rows(build_dir: Path, name: str) -> list[dict[str, str]]:
    result = aflm_graph.query(name, build=build_dir)
    return list(csv.DictReader(io.StringIO(to_csv(result))))


def test_documents_query_on_the_seeds(seed_build: Path) -> None:
    rows = _rows(seed_build, "documents")
    assert [r["source_file"] for r in rows] == ["000_c29556925cd8fb24.txt", "002_71c0a65de23b0458.txt"]
    cambodia, unknown = rows
    assert cambodia["member_state_label"] == "Cambodia"
    assert cambodia["member_state"] == "https://w3id.org/aflm/id/member-state/cambodia"
    assert cambodia["date"] == "2020-09-14"
    assert cambodia["forum"] == "https://w3id.org/aflm/id/forum/13"
    assert unknown["member_state"] == "" and unknown["member_state_label"] == ""  # never guessed
    assert unknown["date"] == "2020-11-09"
    assert unknown["mode"] == "online"
    assert unknown["forum"] == "https://w3id.org/aflm/id/forum/13"


def test_recommendations_query_on_the_seeds(seed_build: Path) -> None:
    rows = _rows(seed_build, "recommendations")
    assert len(rows) == 47
    first = [r for r in rows if r["source_file"].startswith("000")]
    assert [(r["subtheme"], r["label"]) for r in first[:2]] == [("1", "1"), ("1", "2")]
    assert [r["label"] for r in first if r["subtheme"] == "2"] == [str(i) for i in range(1, 16)]
    second = [r for r in rows if r["source_file"].startswith("002")]
    assert [r["label"] for r in second] == [str(i) for i in range(1, 22)]
    assert [int(r["position"]) for r in second] == list(range(1, 22))
    assert second[13]["subtheme"] == "2"
    assert second[13]["subtheme_title"] == (
        "Cohesive and responsive labour migration policy for future preparedness in ASEAN"
    )
    assert second[13]["text"] == (
        "Institute a proper mechanism to prevent non-payment, reduction or substitution of wages"
        " and to recover the same."
    )


def test_query_parameter_filters(seed_build: Path) -> None:
    result = aflm_graph.query("documents", build=seed_build, params={"member_state": "Cambodia"})
    assert [r["source_file"] for r in result.records()] == ["000_c29556925cd8fb24.txt"]
    result = aflm_graph.query("recommendations", build=seed_build, params={"document": "002_71c0a65de23b0458"})
    assert len(result.rows) == 21


def test_every_recommendation_carries_its_source_span_and_provenance(seed_build: Path) -> None:
    store = open_store(seed_build)
    text = (SEEDS / "000_c29556925cd8fb24.txt").read_text(encoding="utf-8")
    result = run_embedded(
        store,
        """PREFIX aflm: <https://w3id.org/aflm/ontology#>
        SELECT ?label ?start ?end ?sha WHERE {
          ?r aflm:inDocument ?d ; aflm:printedLabel ?label ; aflm:sourceStart ?start ; aflm:sourceEnd ?end ;
             aflm:inSubTheme/aflm:printedLabel "1" .
          ?d aflm:sourceFile "000_c29556925cd8fb24.txt" ; aflm:sha256 ?sha .
        } ORDER BY ?start""",
    )
    assert len(result.rows) == 11
    for label, start, end, sha in result.rows:
        assert text[int(start.value):].startswith(label.value + ".")
        assert int(end.value) > int(start.value)
        assert sha.value == hashlib.sha256((SEEDS / "000_c29556925cd8fb24.txt").read_bytes()).hexdigest()


def test_member_states_link_to_wikidata(seed_build: Path) -> None:
    result = run_embedded(
        open_store(seed_build),
        "SELECT ?w WHERE { <https://w3id.org/aflm/id/member-state/cambodia> "
        "<http://www.w3.org/2002/07/owl#sameAs> ?w }",
    )
    assert [r[0].value for r in result.rows] == ["http://www.wikidata.org/entity/Q424"]


def test_forum_13_has_one_theme_the_reference_datas(seed_build: Path) -> None:
    """A document printing the forum theme in other case is the same theme: the curated one is kept, once."""
    result = run_embedded(open_store(seed_build), "SELECT ?theme WHERE { <https://w3id.org/aflm/id/forum/13> "
                          "<https://w3id.org/aflm/ontology#forumTheme> ?theme }")
    assert [r[0].value for r in result.rows] == [
        "Supporting Migrant Workers during the Pandemic for a Cohesive and Responsive ASEAN Community"
    ]


@pytest.mark.parametrize(("printed", "kept"), [
    ("supporting MIGRANT workers during the pandemic for a  cohesive and responsive ASEAN community", False),
    ("Decent work for all migrant workers", True),
])
def test_a_printed_forum_theme_is_added_only_when_it_differs_from_the_reference(printed: str, kept: bool) -> None:
    from aflm_graph.graph.build import AnnotatedDocument, build_statements
    from aflm_graph.ingest.parse import parse_text
    from aflm_graph.terms.vocab import load_vocabulary

    text = f"Recommendations of the 13th ASEAN Forum on Migrant Labour\nTheme: {printed}\n\n1. Do it.\n"
    doc = parse_text(text, source_file="x.txt", sha256="0" * 64)
    assert doc.forum_edition == 13 and doc.theme is not None
    statements = build_statements([AnnotatedDocument(doc, ((),))], [], vocabulary=load_vocabulary(),
                                  include_static=False)
    themes = [q.object.value for q in statements.quads()
              if q.predicate.value == "https://w3id.org/aflm/ontology#forumTheme"]
    assert themes == ([doc.theme] if kept else [])


def test_no_blank_nodes(seed_build: Path) -> None:
    assert "_:" not in (seed_build / "aflm.nq").read_text(encoding="utf-8")


def test_load_returns_an_rdflib_dataset(seed_build: Path) -> None:
    dataset = aflm_graph.load(seed_build)
    graphs = {str(g.identifier) for g in dataset.graphs()}
    assert "https://w3id.org/aflm/graph/data" in graphs
    rows = list(dataset.query(
        "SELECT (COUNT(?r) AS ?n) WHERE { GRAPH ?g { ?r a <https://w3id.org/aflm/ontology#Recommendation> } }"
    ))
    assert int(rows[0][0]) == 47


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.txt", b"", "empty"),
        ("binary.txt", b"\x00\x01\x02PK\x03\x04" * 50, "binary"),
        ("latin1.txt", "1. Ensure accès à la justice.\n".encode("latin-1"), "UTF-8"),
        ("nothing.txt", b"Just a note without any numbered recommendation.\n", "recommendation"),
    ],
)
def test_bad_input_fails_clearly_and_leaves_the_build_whole(
    seed_build: Path, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    out = tmp_path / "build"
    shutil.copytree(seed_build, out)
    before = _digest(out)
    bad = tmp_path / "in" / name
    bad.parent.mkdir()
    bad.write_bytes(content)
    with pytest.raises(BuildError) as info:
        build([SEEDS, bad.parent], out)
    assert name in str(info.value)
    assert expected.lower() in str(info.value).lower()
    assert _digest(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".build")], "staging folder left behind"


def test_clashing_document_ids_are_refused(tmp_path: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        shutil.copy(DATA / "build" / "third-document.txt", tmp_path / sub)
    with pytest.raises(BuildError, match="already used"):
        build([tmp_path / "a", tmp_path / "b"], tmp_path / "out")


def test_staged_directory_keeps_the_old_folder_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    with pytest.raises(RuntimeError), staged_directory(target) as stage:
        (stage / "keep.txt").write_text("new")
        raise RuntimeError("interrupted")
    assert (target / "keep.txt").read_text() == "old"
    with staged_directory(target) as stage:
        (stage / "keep.txt").write_text("new")
    assert (target / "keep.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_outputs_are_readable_by_others(seed_build: Path) -> None:
    # mkstemp/mkdtemp make 0600/0700; a build is meant to be copied to shared drives and served
    assert seed_build.stat().st_mode & 0o055 == 0o055
    assert (seed_build / "aflm.ttl").stat().st_mode & 0o044 == 0o044


def test_a_default_build_has_no_disk_store_and_queries_load_its_nquads(seed_build: Path) -> None:
    assert not (seed_build / "store").exists()
    store = open_store(seed_build)
    manifest = json.loads((seed_build / "manifest.json").read_text(encoding="utf-8"))
    assert len(store) == manifest["quads"]


def test_store_option_writes_a_disk_store_that_answers_every_query_as_the_memory_store(
    seed_build: Path, tmp_path: Path,
) -> None:
    from aflm_graph.sparql.catalogue import bindings_for, named_queries

    out = tmp_path / "with-store"
    aflm_graph.run_pipeline([SEEDS], out, store=True)  # the public API of `aflm-graph build --store`
    assert (out / "store").is_dir()
    disk = ox.Store.read_only(str(out / "store"))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert len(disk) == manifest["quads"]
    # the files are the default build's, byte for byte
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == {
        p.name: p.read_bytes() for p in seed_build.iterdir() if p.is_file()}
    memory = open_store(seed_build)
    answered = 0
    for name, query in sorted(named_queries().items()):
        params = {p.name: p.example for p in query.params if p.required and p.example is not None}
        if any(p.required and p.example is None for p in query.params):
            continue
        bindings = bindings_for(query, params)
        on_disk = run_embedded(open_store(out), query.text, bindings)
        in_memory = run_embedded(memory, query.text, bindings)
        if "ORDER BY" in query.text.upper():
            assert on_disk.rows == in_memory.rows, name
        else:  # CONSTRUCT and unordered answers: the same rows, in whatever order each store gives
            assert sorted(map(repr, on_disk.rows)) == sorted(map(repr, in_memory.rows)), name
        answered += bool(in_memory.rows)
    assert answered >= 20  # most queries have rows on the seeds: the comparison is not of empty answers


def test_the_cli_build_store_flag(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from aflm_graph.cli import cli

    out = tmp_path / "b"
    result = CliRunner().invoke(cli, ["build", str(SEEDS), "--out", str(out), "--store", "--quiet"])
    assert result.exit_code == 0, result.output
    assert (out / "store").is_dir()
    result = CliRunner().invoke(cli, ["query", "documents", "--build", str(out), "--format", "csv"])
    assert result.exit_code == 0 and len(result.output.strip().splitlines()) == 3
