"""The command line: verbs, help with examples, one-line errors with a non-zero exit."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from aflm_graph.cli import cli
from conftest import ROOT, SEEDS

CONTRACT = ["document", "source_file", "subtheme", "subtheme_title", "label", "position", "text"]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_every_command_has_help_with_an_example_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert cli.commands
    for name in cli.commands:
        code, out, _ = invoke(name, "--help")
        assert code == 0
        assert "Example" in out, f"{name} --help has no example"
        assert f"aflm-graph {name}" in readme, f"README does not show `aflm-graph {name}`"


def test_console_script_help_runs() -> None:
    exe = Path(sys.executable).with_name("aflm-graph")
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0
    assert "build" in result.stdout and "query" in result.stdout


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys; from aflm_graph.cli import cli\n"
        "heavy = [m for m in ('rdflib', 'pyvis', 'pyshacl', 'scipy', 'numpy', 'SPARQLWrapper', 'networkx')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""


def test_build_then_query_recommendations_as_csv(tmp_path: Path) -> None:
    out = tmp_path / "build"
    code, stdout, _ = invoke("build", str(SEEDS), "--out", str(out))
    assert code == 0
    assert "2 documents, 47 recommendations" in stdout
    code, stdout, _ = invoke("query", "recommendations", "--build", str(out), "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(stdout)))
    assert rows[0] == CONTRACT
    assert len(rows) == 48
    code, stdout, _ = invoke("info", "--build", str(out))
    assert code == 0 and "000_c29556925cd8fb24.txt: 26 recommendations" in stdout


def test_queries_lists_the_named_queries() -> None:
    code, stdout, _ = invoke("queries")
    assert code == 0
    names = [line.split()[0] for line in stdout.splitlines() if line.strip()]
    assert "documents" in names and "recommendations" in names


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "no-such-query"], "no named query"),
        (["query", "SELECT ?x WHERE { ?x ?y }"], "no named query"),
        (["query", "documents", "--param", "member_state=Atlantis"], "member state"),
        (["query", "documents", "--param", "nonsense"], "NAME=VALUE"),
        (["query", "documents", "--build", "does-not-exist"], "no build here"),
    ],
)
def test_errors_are_one_line_with_non_zero_exit(seed_build: Path, args: list[str], message: str) -> None:
    if "--build" not in args:
        args = [*args, "--build", str(seed_build)]
    code, _, stderr = invoke(*args)
    assert code != 0
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert message in lines[0]


# A missing or unusable path given to any command: `{build}` is the seed build, `{file}` a regular file (so
# `{file}/x` cannot be created), `{missing}` a path that does not exist.
BAD_PATHS = [
    ["info", "--build", "{missing}"],
    ["query", "recommendations", "--build", "{missing}"],
    ["query", "{missing}/nosuch.rq", "--build", "{build}"],
    ["query", "recommendations", "--build", "{build}", "--out", "{file}/x.csv"],
    ["view", "overview", "--build", "{missing}"],
    ["view", "overview", "--build", "{build}", "--out", "{file}/x.html"],
    ["stats", "--build", "{missing}"],
    ["stats", "--build", "{build}", "--out", "{file}/x"],
    ["docs", "--out", "{file}/x"],
    ["export", "--build", "{missing}", "--format", "turtle"],
    ["export", "--build", "{build}", "--format", "turtle", "--out", "{file}/x.ttl"],
    ["export", "--build", "{build}", "--bundle", "{file}/x"],
    ["serve", "--build", "{missing}", "--port", "9"],
    ["push", "--build", "{missing}", "--endpoint", "http://127.0.0.1:9/store"],
    ["validate", "--build", "{missing}"],
    ["evaluate", "{missing}"],
    ["build", str(SEEDS), "--out", "{file}/x"],
]


@pytest.mark.parametrize("args", BAD_PATHS, ids=[" ".join(a[:2]) + f" #{i}" for i, a in enumerate(BAD_PATHS)])
def test_a_bad_path_is_a_one_line_error_not_a_traceback(seed_build: Path, tmp_path: Path, args: list[str]) -> None:
    regular = tmp_path / "a-file"
    regular.write_text("not a folder\n")
    where = {"build": str(seed_build), "file": str(regular), "missing": str(tmp_path / "no" / "such")}
    exe = Path(sys.executable).with_name("aflm-graph")
    result = subprocess.run([str(exe), *(a.format(**where) for a in args)], capture_output=True, text=True,
                            timeout=120, check=False, cwd=tmp_path)
    assert result.returncode in (1, 2), result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert not (tmp_path / "no").exists() and regular.read_text() == "not a folder\n"


def test_an_out_file_in_a_new_folder_creates_the_folder(seed_build: Path, tmp_path: Path) -> None:
    for args, out in ((["view", "overview"], tmp_path / "new" / "views" / "o.html"),
                      (["export", "--format", "ntriples"], tmp_path / "new" / "export" / "x.nt"),
                      (["query", "recommendations"], tmp_path / "new" / "query" / "r.csv")):
        code, _, stderr = invoke(*args, "--build", str(seed_build), "--out", str(out))
        assert code == 0, stderr
        assert out.is_file() and out.stat().st_size > 0


def test_syntax_error_names_line_and_column(seed_build: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text("SELECT ?s\nWHERE { ?s ?p }\n")
    code, _, stderr = invoke("query", str(bad), "--build", str(seed_build))
    assert code != 0
    assert "syntax error at line" in stderr and "column" in stderr


def test_service_is_refused_from_the_cli(seed_build: Path, tmp_path: Path) -> None:
    query = tmp_path / "service.rq"
    query.write_text("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }\n")
    code, _, stderr = invoke("query", str(query), "--build", str(seed_build))
    assert code != 0 and "SERVICE" in stderr


def test_build_error_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    code, _, stderr = invoke("build", str(empty), "--out", str(tmp_path / "out"))
    assert code != 0
    assert "empty.txt" in stderr and len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_default_paths_are_seeds_and_build(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    for p in SEEDS.iterdir():
        (tmp_path / "seeds" / p.name).write_bytes(p.read_bytes())
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        code, stdout, _ = invoke("build", "--quiet")
    finally:
        os.chdir(cwd)
    assert code == 0 and stdout == ""
    assert (tmp_path / "build" / "aflm.ttl").is_file()


# --- issue 19: the measured cases of unchecked parameters


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["recommendations-by-theme", "--param", "theme=women"], "did you mean gender?"),
        (["recommendations-by-theme", "--param", "theme=no-such-theme"], "is not a theme of the vocabulary"),
        (["annotations", "--param", "kind=instruments"], "did you mean instrument?"),
        (["documents", "--param", "member_state=Cambodja"], "did you mean Cambodia?"),
        (["recommendations", "--param", "document=Thailand"], "no document of the build is issued by Thailand"),
        (["recommendations", "--param", "document=000_c29556925cd8fb2"], "did you mean 000_c29556925cd8fb24?"),
    ],
)
def test_a_bad_parameter_is_a_usage_error_with_close_matches(seed_build: Path, args: list[str], message: str) -> None:
    code, out, err = invoke("query", *args, "--build", str(seed_build))
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    ("args", "rows"),
    [
        (["recommendations-by-theme", "--param", "theme=Health care"], None),
        (["recommendations-by-theme", "--param", "theme=gender-equality"], None),
        (["recommendations-by-actor", "--param", "actor=employers"], None),
        (["recommendations", "--param", "document=Cambodia"], 26),
        (["annotations", "--param", "kind=Instrument"], None),
    ],
)
def test_labels_names_and_unique_member_states_are_accepted(
    seed_build: Path, args: list[str], rows: int | None
) -> None:
    code, out, err = invoke("query", *args, "--build", str(seed_build), "--format", "csv")
    assert code == 0, err
    found = list(csv.DictReader(io.StringIO(out)))
    assert found and (rows is None or len(found) == rows)
