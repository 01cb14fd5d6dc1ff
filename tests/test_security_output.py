"""Nothing lost (issue 15): an output option never deletes a user's folder or replaces a link or a device.

Every case runs on real temporary folders: a folder of someone's files, the inputs themselves, the home
folder (a throwaway HOME), `/`, the current folder, `''`, a read-only folder, a symbolic link, a device.
Each is refused with one line that names the folder and why, and nothing in it is touched.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import aflm_graph
from aflm_graph.cli import cli
from aflm_graph.fsutil import OutputError, atomic_write_bytes, check_output_folder
from aflm_graph.graph.export import ExportError
from aflm_graph.publish.bundle import write_bundle
from aflm_graph.publish.docs import DocsError, write_docs
from aflm_graph.publish.pipeline import BuildError, is_build
from conftest import SEEDS, require_system

CLI = [sys.executable, "-c", "from aflm_graph._entry import main; main()"]  # `aflm-graph` in a child process


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under `folder` (hidden ones too) with its bytes (None for a folder)."""
    return {p.relative_to(folder).as_posix(): (None if p.is_dir() else p.read_bytes())
            for p in sorted(folder.rglob("*"))}


def refused(args: list[str], *, cwd: Path | None = None) -> str:
    """Run the CLI in a child process (its own current folder); it must fail with one line; return that line."""
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=120)
    assert done.returncode == 1, (args, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


@pytest.fixture
def users_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "papers"
    (folder / "sub").mkdir(parents=True)
    (folder / "thesis.docx").write_bytes(b"years of work")
    (folder / "sub" / "notes.txt").write_text("notes", encoding="utf-8")
    return folder


def test_a_folder_of_other_files_is_refused_and_untouched(users_folder: Path) -> None:
    before = snapshot(users_folder)
    line = refused(["build", str(SEEDS), "--out", str(users_folder)])
    assert str(users_folder) in line and "holds other files" in line and "--force" in line
    assert snapshot(users_folder) == before
    assert not [p for p in users_folder.parent.iterdir() if p.name.startswith(".")], "a staging folder was left"


def test_force_replaces_a_folder_of_other_files_but_nothing_else(users_folder: Path) -> None:
    result = CliRunner().invoke(cli, ["build", str(SEEDS), "--out", str(users_folder), "--force", "-q"])
    assert result.exit_code == 0, result.output
    assert is_build(users_folder) and not (users_folder / "thesis.docx").exists()


def test_the_inputs_are_never_the_output(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    shutil.copytree(SEEDS, inputs)
    before = snapshot(inputs)
    for out, why in [(inputs, "holds the input"), (tmp_path, "holds the input"),
                     (inputs / "out", "inside the input folder")]:
        for extra in ([], ["--force"]):
            line = refused(["build", str(inputs), "--out", str(out), *extra])
            assert why in line, line
    # a file given as input counts too: its folder would be replaced with it
    line = refused(["build", str(inputs / "000_c29556925cd8fb24.txt"), "--out", str(inputs), "--force"])
    assert "holds the input" in line
    assert snapshot(inputs) == before


def test_home_root_current_and_empty_are_refused_even_with_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "precious.txt").write_text("mine", encoding="utf-8")
    work = home / "project" / "chapter"
    work.mkdir(parents=True)
    (work / "draft.md").write_text("draft", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    root_before = sorted(os.listdir("/"))
    cases = {
        str(home): "home folder",
        "/": "root folder",
        ".": "current folder",
        "": "current folder",  # click reads '' as the current folder
        str(tmp_path): "holds the home folder",
        "..": "holds the current folder",
        "/usr": "top-level system folder",
    }
    for out, why in cases.items():
        for extra in ([], ["--force"]):
            line = refused(["build", str(SEEDS), "--out", out, *extra], cwd=work)
            assert why in line, (out, line)
    assert (home / "precious.txt").read_text(encoding="utf-8") == "mine"
    assert (work / "draft.md").read_text(encoding="utf-8") == "draft"
    assert sorted(os.listdir("/")) == root_before, "something was left in /"
    monkeypatch.chdir(work)
    with pytest.raises(BuildError, match="empty path"):
        aflm_graph.run_pipeline([SEEDS], "")
    with pytest.raises(BuildError, match="home folder"):
        aflm_graph.run_pipeline([SEEDS], home, force=True)
    assert sorted(p.name for p in work.iterdir()) == ["draft.md"]


def test_a_read_only_folder_is_refused_and_nothing_is_left_behind(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "kept.txt").write_text("kept", encoding="utf-8")
    folder.chmod(0o555)
    try:
        line = refused(["build", str(SEEDS), "--out", str(folder), "--force"])
        assert "read-only" in line
        assert (folder / "kept.txt").read_text(encoding="utf-8") == "kept"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["locked"], "a hidden staging folder was left"
    finally:
        folder.chmod(0o755)


def test_a_previous_build_and_an_empty_folder_are_replaced(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    aflm_graph.run_pipeline([SEEDS], empty)
    assert is_build(empty)
    manifest = (empty / "manifest.json").read_bytes()
    aflm_graph.run_pipeline([SEEDS], empty)  # a previous build: replaced without --force
    assert (empty / "manifest.json").read_bytes() == manifest
    (empty / "manifest.json").write_text('{"tool": "something-else"}', encoding="utf-8")
    with pytest.raises(BuildError, match="not a previous build"):
        aflm_graph.run_pipeline([SEEDS], empty)


def test_a_file_is_not_an_output_folder(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    line = refused(["build", str(SEEDS), "--out", str(target), "--force"])
    assert "not a folder" in line and target.read_text(encoding="utf-8") == "x"


def test_bundle_and_docs_follow_the_same_rules(seed_build: Path, users_folder: Path, tmp_path: Path) -> None:
    before = snapshot(users_folder)
    with pytest.raises(ExportError, match="holds other files"):
        write_bundle(seed_build, users_folder)
    with pytest.raises(DocsError, match="holds other files"):
        write_docs(users_folder)
    assert snapshot(users_folder) == before
    with pytest.raises(ExportError, match="holds the input"):
        write_bundle(seed_build, seed_build, force=True)
    with pytest.raises(ExportError, match="inside the input folder"):
        write_bundle(seed_build, seed_build / "release", force=True)
    line = refused(["export", "--build", str(seed_build), "--bundle", str(users_folder), "--no-docs"])
    assert "bundle folder" in line and str(users_folder) in line
    line = refused(["docs", "--out", str(users_folder)])
    assert "docs folder" in line
    assert snapshot(users_folder) == before
    # their own earlier output is replaced
    release = tmp_path / "release"
    write_bundle(seed_build, release, docs=False)
    write_bundle(seed_build, release, docs=False)
    docs = tmp_path / "docs"
    write_docs(docs)
    write_docs(docs)
    assert (release / "SHA256SUMS").is_file() and (docs / "index.html").is_file()


def test_export_out_writes_through_a_link_and_refuses_devices(seed_build: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.ttl"
    link = tmp_path / "link.ttl"
    link.symlink_to(target)
    result = CliRunner().invoke(cli, ["export", "--build", str(seed_build), "--format", "turtle", "--out", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes().startswith(b"@prefix")
    for device in ["/dev/null", "/dev/stdout"]:
        line = refused(["export", "--build", str(seed_build), "--format", "turtle", "--out", device])
        assert "not a regular file" in line, line
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null was replaced"
    fifo = tmp_path / "pipe.ttl"
    os.mkfifo(fifo)
    assert "a FIFO" in refused(["export", "--build", str(seed_build), "--format", "turtle", "--out", str(fifo)])
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    with pytest.raises(OutputError, match="a folder"):
        atomic_write_bytes(tmp_path, b"x")


def test_export_to_a_full_disk_is_one_line(seed_build: Path) -> None:
    require_system(Path("/dev/full").exists(), "no /dev/full on this system")
    with open("/dev/full", "wb") as full:
        done = subprocess.run([*CLI, "export", "--build", str(seed_build), "--format", "turtle"], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: cannot write to standard output: No space left on device", done.stderr


def test_check_output_folder_names_the_folder(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError) as caught:
        check_output_folder(tmp_path / "a", is_previous=lambda _: False, what="test")
    assert str(tmp_path / "a") in str(caught.value) and "test folder" in str(caught.value)
    assert check_output_folder(tmp_path / "new", is_previous=lambda _: False) == (tmp_path / "new").resolve()


def test_a_file_out_never_silently_replaces_someone_elses_file(seed_build: Path, tmp_path: Path) -> None:
    """`view --out /etc/passwd` as root replaced the password file with a web page: an existing file is replaced
    only when it is an earlier output of that kind (by its name) or with --force. Tried on files of the test's own."""
    precious = tmp_path / "thesis.docx"
    precious.write_bytes(b"years of work")
    passwd_like = tmp_path / "passwd"
    passwd_like.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    cases = [
        ["view", "overview", "--build", str(seed_build), "--out", str(passwd_like)],
        ["view", "overview", "--build", str(seed_build), "--out", str(precious)],
        ["export", "--build", str(seed_build), "--format", "turtle", "--out", str(precious)],
        ["query", "documents", "--build", str(seed_build), "--format", "csv", "--out", str(passwd_like)],
    ]
    for args in cases:
        line = refused(args)
        assert "refused: it exists and is not a" in line and "--force" in line, line
    assert precious.read_bytes() == b"years of work"
    assert passwd_like.read_text(encoding="utf-8").startswith("root:x:0:0")
    # an earlier output of the same kind is replaced; --force replaces anything
    earlier = tmp_path / "overview.html"
    earlier.write_text("<p>old</p>", encoding="utf-8")
    runner = CliRunner()
    for args in (["view", "overview", "--build", str(seed_build), "--out", str(earlier)],
                 ["export", "--build", str(seed_build), "--format", "turtle", "--out", str(precious), "--force"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    assert "<!DOCTYPE html>" in earlier.read_text(encoding="utf-8")
    assert precious.read_bytes().startswith(b"@prefix")
