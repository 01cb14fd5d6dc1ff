"""`aflm-graph --help` is answered from a pre-rendered copy of click's help: it must be click's, byte for byte."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from aflm_graph import _entry
from aflm_graph._help import HELP, VERSION

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("aflm-graph")


def test_the_saved_help_is_what_click_prints_today() -> None:
    import aflm_graph

    assert aflm_graph.__version__ == VERSION
    assert _entry.render_help() == HELP, "the help changed: run `python -m aflm_graph._entry` to save it again"


def test_the_console_script_is_the_fast_entry_point() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["aflm-graph"] == "aflm_graph._entry:main"


def _run(*args: str, columns: str | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ)
    env.pop("COLUMNS", None)
    if columns is not None:
        env["COLUMNS"] = columns
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=False, env=env)


def test_help_from_the_copy_equals_clicks_own_at_any_width() -> None:
    click = [sys.executable, "-c", "from aflm_graph.cli import main; main()"]
    for flag in ("--help", "-h"):
        for columns in (None, "80", "120", "60"):
            fast, slow = _run(str(EXE), flag, columns=columns), _run(*click, flag, columns=columns)
            assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)


def test_the_fast_path_imports_neither_click_nor_pathlib() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['aflm-graph', '--help']\n"
        "from aflm_graph._entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LOADED', ','.join(m for m in ('click', 'pathlib', 'typing') if m in sys.modules), file=sys.stderr)\n"
    )
    result = _run(sys.executable, "-c", code)
    assert result.stdout == HELP
    assert "LOADED \n" in result.stderr


def test_everything_else_goes_to_click() -> None:
    result = _run(str(EXE), "queries")
    assert result.returncode == 0 and "recommendations" in result.stdout
    result = _run(str(EXE), "--no-such-option")
    assert result.returncode == 2 and "No such option" in result.stderr
