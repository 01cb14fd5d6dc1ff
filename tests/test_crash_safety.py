"""Crash safety (issue 9, test 11): SIGKILL at a random moment leaves the previous output or the new one, whole.

`aflm-graph build`, `export` (one format to a file, and a bundle folder) and `view` run as real
processes and are killed with SIGKILL after a random delay (a fixed seed; delays spread over the
whole run, the writing phase included). After every kill the output must be byte for byte one of the
two complete outputs (the store must open and hold the manifest's quad count), never a mix, a
truncated file or a missing one; the output is then what the next run starts from. Leftovers of a
killed run (`.build.new-<pid>-*` staging folders, `.<file>.<pid>.*.tmp` files) are removed by the
next run that writes the same target, never taken for the output, and never more than one killed
run's worth at a time. The number of runs survived is recorded in test-output/security/figures.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import SEEDS
from hostile import AFLM_GRAPH, record_figure

SEED = 11
BUILD_RUNS = 20
EXPORT_RUNS = 12
VIEW_RUNS = 12


def digest(path: Path) -> dict[str, str]:
    """sha256 of a file, or of every file under a folder (the RocksDB store aside: its files are not canonical)."""
    if path.is_file():
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()}
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file() and "store" not in p.relative_to(path).parts}


def store_is_whole(build: Path) -> None:
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    store = ox.Store.read_only(str(build / "store"))
    assert len(store) == manifest["quads"]
    del store


def leftovers(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}."))


def run_to_completion(args: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(args, check=True, capture_output=True, timeout=120)
    return time.monotonic() - started


def kill_at_random(args: list[str], delay: float) -> int | None:
    """Start a command, SIGKILL it after `delay` s (by its own pid); its exit code if it finished first."""
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=delay)
        return process.returncode
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        return None


def survive(name: str, target: Path, commands: list[list[str]], states: list[dict[str, str]], runs: int,
            check: Callable[[Path], None] | None = None) -> dict[str, int]:
    """Kill `runs` runs at random moments, alternating between the commands whose outputs are `states`."""
    rng = random.Random(f"{SEED}-{name}")
    durations = [run_to_completion(command) for command in commands]  # also leaves the last state in place
    assert digest(target) == states[-1]
    killed = finished = mid_write = 0
    for run in range(runs):
        which = run % len(commands)
        delay = rng.uniform(0.05, 1.0) * durations[which]
        code = kill_at_random(commands[which], delay)
        if code is None:
            killed += 1
        else:
            assert code == 0
            finished += 1
        now = digest(target)
        assert now in states, f"{name} run {run} (killed after {delay:.2f} s): a mix or a truncated output"
        if check is not None:
            check(target)
        left = [p for p in leftovers(target) if ".new-" in p or ".old-" in p or p.endswith(".tmp")]
        assert len(left) <= 1, f"{name}: leftovers pile up: {left}"
        mid_write += bool(left)
    run_to_completion(commands[0])  # a run that finishes removes every leftover of the killed ones
    assert leftovers(target) == [], leftovers(target)
    assert digest(target) == states[0]
    return {"runs": runs, "killed": killed, "killed_while_writing": mid_write, "finished_before_the_kill": finished}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("crash-inputs")
    one = folder / "one"
    one.mkdir()
    for path in SEEDS.glob("000_*"):
        shutil.copy(path, one / path.name)
    return {"one": one, "both": SEEDS}


def _build(source: Path, out: Path) -> list[str]:
    return [AFLM_GRAPH, "build", str(source), "--out", str(out), "--no-validate", "--quiet", "--store"]


@pytest.fixture(scope="module")
def references(inputs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("crash-references")
    out = {}
    for name, source in inputs.items():
        out[name] = folder / name
        run_to_completion(_build(source, out[name]))
    return out


def test_a_killed_build_leaves_the_old_build_or_the_new_one(inputs: dict[str, Path], references: dict[str, Path],
                                                            tmp_path: Path) -> None:
    target = tmp_path / "build"
    states = [digest(references["one"]), digest(references["both"])]
    assert states[0] != states[1]
    commands = [_build(inputs["one"], target), _build(inputs["both"], target)]
    outcome = survive("build", target, commands, states, BUILD_RUNS, check=store_is_whole)
    record_figure("crash.build", outcome)


def test_a_killed_export_leaves_the_old_file_or_the_new_one(references: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "aflm.ttl"
    states = []
    commands = []
    for name in ("one", "both"):
        commands.append([AFLM_GRAPH, "export", "--build", str(references[name]), "--format", "turtle",
                         "--out", str(target)])
        states.append({target.name: hashlib.sha256((references[name] / "aflm.ttl").read_bytes()).hexdigest()})
    outcome = survive("export", target, commands, states, EXPORT_RUNS // 2)

    bundle = tmp_path / "release"
    bundles = [[AFLM_GRAPH, "export", "--build", str(references[name]), "--bundle", str(bundle), "--no-docs"]
               for name in ("one", "both")]
    bundle_states = []
    for command in bundles:
        run_to_completion(command)
        bundle_states.append(digest(bundle))
    outcome_bundle = survive("bundle", bundle, bundles, bundle_states, EXPORT_RUNS - EXPORT_RUNS // 2)
    record_figure("crash.export", {"file": outcome, "bundle": outcome_bundle})


def test_a_killed_view_leaves_the_old_page_or_the_new_one(references: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "overview.html"
    commands = [[AFLM_GRAPH, "view", "overview", "--build", str(references[name]), "--out", str(target)]
                for name in ("one", "both")]
    states = []
    for command in commands:
        run_to_completion(command)
        states.append(digest(target))
    assert states[0] != states[1]
    outcome = survive("view", target, commands, states, VIEW_RUNS)
    record_figure("crash.view", outcome)
