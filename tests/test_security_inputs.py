"""Hostile inputs at the edges (issue 15): devices and FIFOs, orphaned workers, odd API arguments, escapes in
file names, long sidecar values, spreadsheet formulas in CSV.

Real files, real FIFOs and real processes: a build is killed with SIGKILL while its parse workers run,
and every worker must be gone within seconds. Each test fails without the defence it names.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import aflm_graph
from aflm_graph.cli import cli
from aflm_graph.ingest.parse import MAX_META_BYTES, ParseError, parse_file, parse_text, sidecar_path
from aflm_graph.ingest.pdf import PdfNotAFileError, PdfTooBigError, extract_text
from aflm_graph.publish.pipeline import PARALLEL_FROM, BuildError, discover
from aflm_graph.safetext import brief, neutralise_formula, printable
from aflm_graph.sparql.catalogue import Param, QueryError, to_term
from aflm_graph.sparql.engine import Result, Term, to_csv
from conftest import SEEDS, require_system
from hostile import AFLM_GRAPH

ESC = "\x1b"
DOCUMENT = (
    "Cambodia National Recommendations for the 13th ASEAN Forum on Migrant Labour\n\n14 September 2020\n\n"
    "1. Protect migrant workers and their families.\n\n2. Ensure fair recruitment for all migrant workers.\n"
)


def write_document(path: Path, text: str = DOCUMENT) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe.txt"
    os.mkfifo(path)
    yield path


def in_thread(work: object, seconds: float = 10) -> object:
    """Run `work()` in a thread and return what it returned or raised; fail if it blocks (a FIFO read)."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = work()  # type: ignore[operator]
        except BaseException as exc:
            outcome["value"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():  # a daemon thread: it cannot keep the test run from ending
        pytest.fail(f"blocked for more than {seconds} s (reading a FIFO?)")
    return outcome["value"]


# --------------------------------------------------------------------------- 1. devices, FIFOs, size


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_is_refused_as_not_a_regular_file(device: str) -> None:
    require_system(os.path.exists(device), f"{device} does not exist here")
    outcome = in_thread(lambda: parse_file(Path(device)))
    assert isinstance(outcome, ParseError)
    assert f"{device}:1: not a regular file (a character device)" in str(outcome)


def test_a_fifo_is_refused_without_blocking(fifo: Path) -> None:
    outcome = in_thread(lambda: parse_file(fifo))
    assert isinstance(outcome, ParseError), outcome
    assert "not a regular file (a FIFO, a named pipe)" in str(outcome)
    assert "no such file" not in str(outcome)


def test_a_fifo_named_pdf_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    os.mkfifo(path)
    outcome = in_thread(lambda: parse_file(path))
    assert isinstance(outcome, ParseError) and "not a regular file (a FIFO, a named pipe)" in str(outcome)
    outcome = in_thread(lambda: extract_text(path))
    assert isinstance(outcome, PdfNotAFileError) and "a FIFO" in str(outcome), outcome


def test_a_fifo_as_sidecar_is_refused_without_blocking(tmp_path: Path) -> None:
    doc = write_document(tmp_path / "doc.txt")
    os.mkfifo(sidecar_path(doc))
    outcome = in_thread(lambda: parse_file(doc))
    assert isinstance(outcome, ParseError)
    assert "doc.txt.meta.toml:1: not a regular file (a FIFO, a named pipe)" in str(outcome)


def test_a_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.txt"
    link.symlink_to("/dev/zero")
    outcome = in_thread(lambda: parse_file(link))
    assert isinstance(outcome, ParseError) and "not a regular file (a character device)" in str(outcome)


def test_discover_refuses_a_fifo_or_device_given_by_name_or_met_in_a_folder(fifo: Path, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"pipe\.txt: not a regular file \(a FIFO, a named pipe\)"):
        discover([fifo])
    with pytest.raises(BuildError, match=r"not a regular file \(a character device\)"):
        discover([Path("/dev/zero")])
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_document(folder / "good.txt")
    os.mkfifo(folder / "bad.txt")
    with pytest.raises(BuildError, match=r"bad\.txt: not a regular file \(a FIFO"):
        discover([folder])


def test_the_cli_build_refuses_a_fifo_in_one_line(fifo: Path, tmp_path: Path) -> None:
    proc = subprocess.run([AFLM_GRAPH, "build", str(fifo), "--out", str(tmp_path / "out")], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert "not a regular file (a FIFO, a named pipe)" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_huge_text_document_is_refused_with_its_size_and_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(21 * 1024 * 1024)  # sparse: nothing is written to disk
    with pytest.raises(ParseError, match=r"file is 22020096 bytes, over the limit of 20971520 bytes \(20 MB\)"):
        parse_file(path)


def test_a_huge_sidecar_is_refused_with_its_size_and_the_limit(tmp_path: Path) -> None:
    doc = write_document(tmp_path / "doc.txt")
    with sidecar_path(doc).open("wb") as handle:
        handle.truncate(MAX_META_BYTES + 1)
    with pytest.raises(ParseError, match=rf"meta\.toml:1: file is {MAX_META_BYTES + 1} bytes, over the limit"):
        parse_file(doc)


def test_a_pdf_bigger_than_the_extractor_memory_is_refused_before_it_starts(tmp_path: Path) -> None:
    path = tmp_path / "big.pdf"
    with path.open("wb") as handle:
        handle.truncate(65 * 1024 * 1024)
    with pytest.raises(PdfTooBigError, match=r"68157440 bytes, over the extractor's memory limit of 64 MB"):
        extract_text(path, memory_mb=64)


# --------------------------------------------------------------------------- 2. orphaned workers


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def _children(pid: int) -> dict[int, int]:
    """Children of `pid`: pid -> start time (to tell them from a later process that reuses the pid)."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            info = _stat(int(entry.name))
            if info is not None and info[1] == pid and info[0] != "Z":
                found[int(entry.name)] = info[2]
    return found


def _alive(processes: dict[int, int]) -> list[int]:
    """Those of `processes` that still run (a zombie waiting for init to reap it is dead)."""
    alive = []
    for pid, started in processes.items():
        info = _stat(pid)
        if info is not None and info[2] == started and info[0] not in ("Z", "X"):
            alive.append(pid)
    return alive


def test_kill_9_of_a_build_leaves_no_parse_worker_alive(tmp_path: Path) -> None:
    require_system(Path("/proc/self/stat").exists() and sys.platform.startswith("linux"),
                   "reads /proc; PR_SET_PDEATHSIG is Linux's")
    cores = len(os.sched_getaffinity(0))
    require_system(cores >= 2, "one core: the build parses in its own process, there are no workers")
    from synth import write_corpus

    corpus = tmp_path / "corpus"
    write_corpus(corpus, documents=max(PARALLEL_FROM, 400), seed=15)
    proc = subprocess.Popen([AFLM_GRAPH, "build", str(corpus), "--out", str(tmp_path / "out"), "--quiet",
                             "--no-validate"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    workers: dict[int, int] = {}
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            workers = _children(proc.pid)
            if len(workers) >= min(cores, 2):
                break
            time.sleep(0.01)
        assert len(workers) >= 2, f"the build ended (status {proc.returncode}) before its workers were seen"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive(workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = _alive(workers)
        assert not left, f"workers {left} outlived their parent (kill -9) by 5 s"
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # the session this test started: nothing else is in it
        proc.wait(timeout=10)


CHILD = """
import os, sys, time
from aflm_graph.orphans import die_with_parent
parent = os.getpid()
pid = os.fork()
if pid == 0:
    die_with_parent(parent)
    time.sleep(60)
    os._exit(0)
print(pid, flush=True)
time.sleep(60)
"""


def test_die_with_parent_kills_the_child_when_the_parent_is_killed() -> None:
    require_system(sys.platform.startswith("linux"), "PR_SET_PDEATHSIG is Linux's")
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        info = _stat(child)
        assert info is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive({child: info[2]}) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive({child: info[2]}), "the child outlived its parent (kill -9) by 5 s"
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_a_pdf_extractor_whose_parent_is_already_gone_exits_at_once(tmp_path: Path) -> None:
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    not_parent = os.getpid() + 1_000_000  # no process: as if the parent had died before the child asked
    proc = subprocess.run([sys.executable, "-m", "aflm_graph.ingest.pdf", "--parent-pid", str(not_parent), str(pdf)],
                          capture_output=True, timeout=60, check=False)
    assert proc.returncode == 1 and proc.stdout == b""
    ok = subprocess.run([sys.executable, "-m", "aflm_graph.ingest.pdf", "--parent-pid", str(os.getpid()), str(pdf)],
                        capture_output=True, timeout=60, check=False)
    assert ok.returncode == 0 and b'"error"' in ok.stdout  # runs as usual under its real parent


# --------------------------------------------------------------------------- 3. smaller problems


def test_run_pipeline_takes_one_str_as_one_path(tmp_path: Path) -> None:
    report = aflm_graph.run_pipeline(str(SEEDS), tmp_path / "out")
    assert report.documents == 2


def test_run_pipeline_refuses_an_empty_list_and_odd_items(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="no input paths given"):
        aflm_graph.run_pipeline([], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(TypeError, match=r"paths: got int 5; expected a str or Path"):
        aflm_graph.run_pipeline([5], tmp_path / "out")  # type: ignore[list-item]


def test_query_parameter_values_of_other_types_are_converted_or_refused(seed_build: Path) -> None:
    with pytest.raises(QueryError, match=r"parameter document: got int 5; expected a string"):
        aflm_graph.query("recommendations", build=seed_build, params={"document": 5})  # type: ignore[dict-item]
    with pytest.raises(QueryError, match=r"parameter member_state: got list \['x'\]; expected a string"):
        aflm_graph.query("documents", build=seed_build, params={"member_state": ["x"]})  # type: ignore[dict-item]
    with pytest.raises(QueryError, match=r"unknown parameter 'x'"):
        aflm_graph.query("recommendations", build=seed_build, params={"x": 5})  # type: ignore[dict-item]
    with pytest.raises(QueryError, match=r"parameter name 5 is of type int"):
        aflm_graph.query("recommendations", build=seed_build, params={5: "x"})  # type: ignore[dict-item]
    loose = aflm_graph.query("duplicates", build=seed_build, params={"min_score": 0.5})  # type: ignore[dict-item]
    strict = aflm_graph.query("duplicates", build=seed_build, params={"min_score": "0.5"})
    assert loose.rows == strict.rows
    assert to_term(Param("n", "integer"), 7).value == "7"
    assert to_term(Param("b", "boolean"), True).value == "true"
    assert to_term(Param("d", "date"), dt.date(2020, 9, 14)).value == "2020-09-14"
    with pytest.raises(QueryError, match="got bool True; expected a string for this decimal parameter"):
        to_term(Param("m", "decimal"), True)
    with pytest.raises(QueryError, match="got datetime"):
        to_term(Param("d", "date"), dt.datetime(2020, 9, 14, 10, 0))


def test_item_100000_is_an_item_of_its_own() -> None:
    text = ("Cambodia National Recommendations\n\n99999. Ensure fair recruitment.\n"
            "100000. Protect migrant workers.\n1000000. Never an item: not the next number.\n")
    doc = parse_text(text, source_file="x.txt", sha256="0" * 64)
    assert [(r.label, r.text) for r in doc.recommendations] == [
        ("99999", "Ensure fair recruitment."),
        ("100000", "Protect migrant workers. 1000000. Never an item: not the next number."),
    ]


def test_escapes_in_a_file_name_never_reach_the_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    bad = folder / f"bad{ESC}[31mred{ESC}]0;title\x07.txt"
    bad.write_bytes(b"\x00\x01 binary")
    # the build of a folder: "Left out:" line and the final error
    proc = subprocess.run([AFLM_GRAPH, "build", str(folder), "--keep-going", "--out", str(tmp_path / "out")],
                          capture_output=True, timeout=120, check=False)
    assert proc.returncode == 1
    assert b"\\x1b[31m" in proc.stderr and b"\\x07" in proc.stderr
    assert b"\x1b" not in proc.stderr + proc.stdout and b"\x07" not in proc.stderr + proc.stdout
    # a file given by name that is not there, and a FIFO by name
    for args in ([str(folder / f"gone{ESC}[2J.txt")], [str(bad)]):
        result = CliRunner().invoke(cli, ["build", *args, "--out", str(tmp_path / "out2")])
        assert result.exit_code == 1
        assert ESC not in result.output and "\\x1b" in result.output
    assert printable(printable(f"a{ESC}b\u202ec")) == "a\\x1bb\\u202ec"


def test_a_long_sidecar_value_is_cut_in_the_message(tmp_path: Path) -> None:
    doc = write_document(tmp_path / "doc.txt")
    sidecar_path(doc).write_text(f'mode = "{"x" * 100_000}"\n', encoding="utf-8")
    with pytest.raises(ParseError) as caught:
        parse_file(doc)
    message = str(caught.value)
    assert "… (100000 characters)" in message and len(message) < 400, message[:500]
    assert brief("y" * 81) == repr("y" * 80) + "… (81 characters)"


# --------------------------------------------------------------------------- 4. spreadsheet formulas


def _formula_result() -> Result:
    cells = ['=HYPERLINK("http://x","click")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "-0.5", "plain"]
    return Result(form="select", columns=["text"], rows=[[Term("literal", c)] for c in cells])


def test_to_csv_neutralises_formulas_only_when_asked() -> None:
    raw = [row[0] for row in csv.reader(io.StringIO(to_csv(_formula_result())))][1:]
    assert raw[0] == '=HYPERLINK("http://x","click")'  # SPARQL's CSV by default
    safe = [row[0] for row in csv.reader(io.StringIO(to_csv(_formula_result(), neutralise_formulas=True)))][1:]
    assert safe == ['\'=HYPERLINK("http://x","click")', "'+1+2", "'-2+3", "'@SUM(A1)", "'\tx", "-0.5", "plain"]
    assert neutralise_formula("\r=1") == "'\r=1"


@pytest.fixture(scope="module")
def formula_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build of one document whose recommendation starts with a spreadsheet formula."""
    from aflm_graph.publish.pipeline import build

    folder = tmp_path_factory.mktemp("formula")
    write_document(folder / "doc.txt", DOCUMENT.replace("Protect migrant", '=HYPERLINK("http://x") Protect migrant'))
    out = folder / "build"
    build([folder / "doc.txt"], out, validate=False)
    return out


def test_query_csv_file_is_neutralised_and_stdout_is_standard(formula_build: Path, tmp_path: Path) -> None:
    base = ["query", "search-text", "-p", "words=HYPERLINK", "--build", str(formula_build), "--format", "csv"]
    stdout = CliRunner().invoke(cli, base, catch_exceptions=False)
    assert stdout.exit_code == 0 and ',"=HYPERLINK(""http://x"")' in stdout.output
    out = tmp_path / "rows.csv"
    written = CliRunner().invoke(cli, [*base, "--out", str(out)], catch_exceptions=False)
    assert written.exit_code == 0 and f"Wrote {out}" in written.output
    text = out.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ',"=HYPERLINK' not in text and ",=HYPERLINK" not in text
    kept = tmp_path / "kept.csv"
    CliRunner().invoke(cli, [*base, "--out", str(kept), "--csv-formulas"], catch_exceptions=False)
    assert "'=HYPERLINK" not in kept.read_text(encoding="utf-8")
    asked = CliRunner().invoke(cli, [*base, "--no-csv-formulas"], catch_exceptions=False)
    assert "'=HYPERLINK" in asked.output


def test_stats_csv_files_are_neutralised(seed_build: Path, tmp_path: Path) -> None:
    import shutil

    build = tmp_path / "build"
    shutil.copytree(seed_build, build)
    dump = build / "aflm.nq"
    text = dump.read_text(encoding="utf-8")
    assert '"Health care"@en' in text
    dump.write_text(text.replace('"Health care"@en', '"=HYPERLINK(\\"http://x\\") Health care"@en'), encoding="utf-8")
    result = CliRunner().invoke(cli, ["stats", "--build", str(build), "--out", str(tmp_path / "s")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert '=HYPERLINK("http://x") Health care' in result.output  # the terminal table is not a spreadsheet
    concepts = (tmp_path / "s" / "concepts.csv").read_text(encoding="utf-8")
    assert ""","'=HYPERLINK(""http://x"") Health care",""" in concepts
    for name in ("concepts.csv", "theme-communities.csv", "member-state-similarity.csv"):
        for row in csv.reader(io.StringIO((tmp_path / "s" / name).read_text(encoding="utf-8"))):
            assert not any(cell.startswith(("=", "+", "@")) for cell in row), (name, row)
    kept = CliRunner().invoke(cli, ["stats", "--build", str(build), "--out", str(tmp_path / "k"), "--csv-formulas"],
                              catch_exceptions=False)
    assert kept.exit_code == 0
    assert ""","=HYPERLINK(""http://x"") Health care",""" in (tmp_path / "k" / "concepts.csv").read_text("utf-8")
