"""The benchmark runs end to end and writes every figure (a smoke run: the speed is the bench's business)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aflm_graph.bench import STAGES, run, table


@pytest.mark.slow
def test_the_quick_bench_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    results = run(out, quick=True, workdir=tmp_path)
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    sections = {"machine", "build", "datasets", "load", "queries", "turtle", "startup", "targets", "seconds"}
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
        for row in figures["queries"].values():
            assert {"ours", "pyoxigraph", "vs_pyoxigraph"} <= set(row)
            assert ("ours_disk" in row) == (label == "small")  # the on-disk store: at the small size only
            assert {"rdflib", "rdflib_timeout"} & set(row), row  # an rdflib error is a defect of the bench
            answers = {row["rows"], row.get("rows_disk", row["rows"]), row["rows_pyoxigraph"],
                       row.get("rdflib_rows", row["rows"])}
            assert len(answers) == 1, "the engines disagree on a query"
    assert {"ours", "pyoxigraph", "rdflib"} <= set(results["turtle"])
    assert {"help_vs_python", "query_vs_python", "query_peak_rss_mb", "query_peak_rss_mb_disk",
            "query_documents_disk"} <= set(results["startup"])
    assert set(results["targets"]) >= {"load_vs_rdflib", "build_recommendations_per_s", "help_vs_python"}
    assert "| documents |" in table(results)


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
    assert set(figures["seconds"]) == {"prepare", "link", "statements", "nquads", "merged", "ntriples", "turtle",
                                       "trig", "jsonld", "rdfxml", "facts", "validate", "views-store", "views"}
    assert figures["documents"] == 3 and figures["recommendations"] >= 30 and figures["quads"] > 5_000


def test_bench_workdir_is_created_or_refused_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from aflm_graph import bench
    from aflm_graph.cli import cli

    seen: list[Path] = []

    def fake_run(out: Path, *, workdir: Path | None = None, **kwargs: object) -> dict[str, object]:
        assert workdir is not None and workdir.is_dir()
        seen.append(workdir)
        return {}

    monkeypatch.setattr(bench, "run", fake_run)
    monkeypatch.setattr(bench, "table", lambda results: "")
    missing = tmp_path / "no" / "such" / "dir"
    result = CliRunner().invoke(cli, ["bench", "--workdir", str(missing), "--out", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    assert seen == [missing]
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    result = CliRunner().invoke(cli, ["bench", "--workdir", str(blocked / "sub"), "--out", str(tmp_path / "r.json")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit | None)
    assert "Traceback" not in result.output and "--workdir" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
