"""The benchmark runs end to end and writes every figure (a smoke run: the speed is the bench's business)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmark import QUICK, STAGES, main, run, table


@pytest.mark.slow
def test_the_quick_bench_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    results = run(out, quick=True, workdir=tmp_path)
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    sections = {"machine", "build", "datasets", "load", "queries", "turtle", "startup", "serve", "targets", "seconds"}
    assert sections <= set(results)
    for run_ in results["build"]["runs"].values():
        assert {"recommendations_per_s", "peak_rss_mb", "stages", "quads"} <= set(run_)
        assert set(STAGES) <= set(run_["stages"])
    assert all({"total", *STAGES} <= set(g) for g in results["build"]["growth"].values())
    for engine in ("ours", "pyoxigraph", "rdflib"):
        assert results["load"][engine]["triples_per_s"] > 0 and results["load"][engine]["peak_rss_mb"] > 0
    for label in ("small", "large"):
        figures = results["queries"][label]
        assert figures["queries"] and "geomean_speedup_vs_rdflib" in figures
        for name, row in figures["queries"].items():
            assert {"ours", "pyoxigraph", "vs_pyoxigraph"} <= set(row)
            assert ("ours_disk" in row) == (label == "small")  # the on-disk store: at the small size only
            if name == "search-text":  # its folding's \p{L} classes are not in Python's re: rdflib is not run
                assert "not run" in row["rdflib_error"]
            else:
                assert {"rdflib", "rdflib_timeout"} & set(row), row  # an rdflib error is a defect of the bench
            answers = {row["rows"], row.get("rows_disk", row["rows"]), row["rows_pyoxigraph"],
                       row.get("rdflib_rows", row["rows"])}
            assert len(answers) == 1, "the engines disagree on a query"
    assert {"ours", "pyoxigraph", "rdflib"} <= set(results["turtle"])
    assert {"help_vs_python", "query_vs_python", "query_peak_rss_mb", "query_peak_rss_mb_disk",
            "query_documents_disk"} <= set(results["startup"])
    assert set(results["targets"]) >= {"load_vs_rdflib", "build_recommendations_per_s", "help_vs_python",
                                       "page_ready_p95_s", "resource_page_p95_ms", "named_query_round_trip_vs_embedded"}
    serve = results["serve"]
    assert {"recommendation (HTML)", "concept (HTML)", "document (HTML)", "ontology (HTML)",
            "recommendation (Turtle)"} == set(serve["resources"])
    for figure in [*serve["resources"].values(), serve["named_query"]["round_trip"], serve["named_query"]["embedded"]]:
        assert 0 < figure["p50"] <= figure["p95"] and figure["n"] == serve["repeats"]
    assert serve["named_query"]["round_trip"]["rows"] == serve["named_query"]["embedded"]["rows"] > 0
    # every competency query through /api/run against embedded, on the seeds and on the small query dataset
    named = serve["named_queries"]
    small = results["queries"]["small"]["queries"]
    assert set(named["dataset"]["queries"]) == set(small) and set(named["seeds"]["queries"]) == set(small)
    assert named["dataset"]["triples"] == results["datasets"]["small"]["triples"]
    for side, repeats in (("seeds", serve["repeats"]), ("dataset", QUICK.serve_dataset_repeats)):
        assert named[side]["repeats"] == repeats and named[side]["geomean_ratio"] > 0
        for query in named[side]["queries"].values():
            assert query["format"] == ("turtle" if query["form"] in {"construct", "describe"} else "json")
            for figure in (query["round_trip"], query["embedded"]):
                assert 0 < figure["p50"] <= figure["p95"] and figure["n"] == repeats
    for name, query in named["dataset"]["queries"].items():  # the same answers as the query ratios' (ASK: 1 there)
        assert query["rows"] == small[name]["rows"] or query["form"] == "ask", name
    target = results["targets"]["named_query_round_trip_vs_embedded"]
    assert target["value"] == named["dataset"]["geomean_ratio"] and "seed build" in target["note"]
    page = serve["page"]
    if page["measured"]:  # a real browser: the page loaded with nothing asked of any other host, and no error
        assert 0 < page["p50"] <= page["p95"] and page["blocked"] == [] and page["errors"] == []
    else:  # no Chromium here: said, and the bench still ran
        assert page["reason"] and results["targets"]["page_ready_p95_s"]["value"] is None
    assert "| documents |" in table(results) and "**Serve**" in table(results)


def test_the_stages_script_times_every_step_of_a_build_alone(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_stages", Path(__file__).resolve().parents[1] / "bench"
                                                  / "stages.py")
    assert spec is not None and spec.loader is not None
    stages = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stages)
    out = tmp_path / "stages.json"
    assert stages.main(["--documents", "3", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert set(figures["seconds"]) == {
        "prepare", "link", "recurrence", "statements", "nquads", "merged", "ntriples", "turtle", "trig", "jsonld",
        "rdfxml", "facts", "validate", "views-store", "views"}
    assert figures["documents"] == 3 and figures["recommendations"] >= 30 and figures["quads"] > 5_000


def test_the_bench_checks_its_folders_before_it_starts(tmp_path: Path) -> None:
    """A --workdir or --out that cannot be a folder ends in one line naming the option, not a traceback."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for option in ("--workdir", "--out"):
        target = blocker / "sub" if option == "--workdir" else blocker / "sub" / "results.json"
        with pytest.raises(SystemExit) as stopped:
            main([option, str(target), "--quick"])
        message = str(stopped.value.code)
        assert message.startswith(f"benchmark: {option} ") and "\n" not in message
    with pytest.raises(SystemExit) as stopped:
        main(["--sizes", "ten"])
    assert stopped.value.code == 2
