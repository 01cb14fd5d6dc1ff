"""Shared fixtures: the seed build (made once per session) and the rule for missing system components."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from hostile import Recorder

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_system(present: bool, message: str) -> None:
    """Go on if a system component the test needs is there; outside CI skip with `message`, in CI fail."""
    if present:
        return
    if in_ci():
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


def require_executable(name: str, *, why: str) -> str:
    """The path of a system program; outside CI a missing one skips the test with a reason, in CI it fails."""
    found = shutil.which(name)
    require_system(found is not None, f"{name} is not installed ({why}); `.ci/run` installs it")
    assert found is not None
    return found


def watch_page(page: Any, errors: list[str], dialogs: list[str]) -> None:
    """Collect what went wrong in a browser page: console errors and uncaught exceptions into `errors`, the
    message of every dialog (dismissed at once) into `dialogs`."""
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def seed_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build of the two seed documents, made once for the whole session (read-only for tests)."""
    from aflm_graph.publish.pipeline import build

    out = tmp_path_factory.mktemp("seed-build") / "build"
    build([SEEDS], out)
    return out


@pytest.fixture(scope="module")
def target() -> Iterator[Recorder]:
    """A canary HTTP server for one test module: anything that reaches it is recorded (hostile.py)."""
    from hostile import canary

    with canary() as recorder:
        yield recorder


@pytest.fixture(scope="module")
def small_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The query fixture graph built once per test module (servers.fixture_build)."""
    from servers import fixture_build

    return fixture_build(DATA / "queries" / "fixture.trig", tmp_path_factory.mktemp("security") / "build")


CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
"""Debian's chromium as root on this machine kind (the design's servers.md): no sandbox, nothing fetched."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (Playwright's sync API cannot span modules that each run an event
    loop of their own); Playwright gives it a fresh temporary profile. Missing chromium: a skip, or a failure
    under CI=true."""
    executable = require_executable("chromium", why="the pages are tested in a real browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
