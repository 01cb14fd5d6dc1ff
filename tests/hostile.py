"""Hostile counterparts for the security tests: a canary that records every request, misbehaving SPARQL
endpoints, an audit-hook observer, a bounded subprocess runner and an `aflm-graph serve` launcher.

Everything listens on 127.0.0.1 only, on ports the kernel picks; every loop is bounded in count and
time; every process started here is stopped by its own pid.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servers import stop, wait_until_ready

PYTHON = sys.executable
AFLM_GRAPH = str(Path(sys.executable).with_name("aflm-graph"))


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]


Responder = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass
class Recorder:
    """A loopback HTTP server that records every request it gets and answers with `respond`."""

    respond: Responder
    hits: list[Hit] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/canary") -> str:
        return self.base + path


def _handler(recorder: Recorder) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(min(length, 1 << 20))
            recorder.hits.append(Hit(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
            recorder.respond(self)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _any

        def log_message(self, *args: object) -> None:
            return None

    return Handler


@contextlib.contextmanager
def recording_server(respond: Responder) -> Iterator[Recorder]:
    recorder = Recorder(respond)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    server.daemon_threads = True
    recorder.server = server
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def answer(status: int, body: bytes = b"", content_type: str = "text/plain", **headers: str) -> Responder:
    """A responder that always sends the same answer (header names: underscores become dashes)."""

    def respond(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        handler.wfile.write(body)

    return respond


def canary_body() -> Responder:
    """What the canary answers: something every parser would gladly take in, were it ever asked."""
    return answer(200, b'{"@context": {"@vocab": "http://canary.invalid/"}, "pwned": true}', "application/ld+json")


@contextlib.contextmanager
def canary() -> Iterator[Recorder]:
    with recording_server(canary_body()) as recorder:
        yield recorder


@contextlib.contextmanager
def silent_listener() -> Iterator[str]:
    """A port that accepts connections (the kernel completes the handshake) and never answers a byte."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/sparql"
    finally:
        sock.close()


def json_results(columns: list[str], rows: list[list[str]]) -> bytes:
    bindings = [{c: {"type": "literal", "value": v} for c, v in zip(columns, row, strict=True)} for row in rows]
    return json.dumps({"head": {"vars": columns}, "results": {"bindings": bindings}}).encode()


# --- who connects where: an audit hook that sees every Python-level connection and open()


class AuditLog:
    """Records `socket.connect`, `urllib.Request` and `open` audit events while `recording` (process-wide hook)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.recording = False
        self._lock = threading.Lock()

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.recording:
            return
        if event in {"socket.connect", "urllib.Request", "open"}:
            with self._lock:
                self.events.append((event, repr(args[1] if event == "socket.connect" else args[0])))

    @contextlib.contextmanager
    def watching(self) -> Iterator[list[tuple[str, str]]]:
        with self._lock:
            self.events = []
        self.recording = True
        try:
            yield self.events
        finally:
            self.recording = False

    def connections(self) -> list[str]:
        return [what for event, what in self.events if event != "open"]

    def opened(self) -> list[str]:
        return [what for event, what in self.events if event == "open"]


AUDIT = AuditLog()
sys.addaudithook(AUDIT.hook)  # an audit hook cannot be removed; it only records while asked to


# --- bounded subprocesses


def limited(memory_mb: int) -> Callable[[], None]:
    """A preexec_fn that caps the child's data segment (what a billion-laughs expansion would grow)."""

    def apply() -> None:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))

    return apply


def run_python(code: str, *args: str, memory_mb: int = 400, timeout: float = 60, cwd: Path | None = None,
               ) -> subprocess.CompletedProcess[str]:
    """Run Python code in a child under a memory cap and a time limit (what it prints is up to the code)."""
    return subprocess.run(
        [PYTHON, "-c", code, *args], capture_output=True, text=True, timeout=timeout, preexec_fn=limited(memory_mb),
        check=False, cwd=cwd,
    )


def last_json(done: subprocess.CompletedProcess[str]) -> Any:
    """The JSON a child printed last; fails with its stderr when there is none (it crashed)."""
    lines = done.stdout.strip().splitlines()
    assert lines, f"exit {done.returncode}, no output; stderr: {done.stderr[-2000:]}"
    return json.loads(lines[-1])


def children(pid: int | None = None) -> list[int]:
    """The pids whose parent is `pid` (default: this process), read from /proc."""
    pid = os.getpid() if pid is None else pid
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(stat.parent.name))
    return found


def is_query_worker(pid: int) -> bool:
    """A multiprocessing worker (spawn_main), not multiprocessing's resource tracker or a PDF extractor."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"spawn_main" in command


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class PeakWatcher:
    """Samples the resident memory of the query workers of `parent` (default: this process) every 50 ms."""

    def __init__(self, parent: int | None = None) -> None:
        self.parent = parent
        self.peak: dict[int, float] = {}
        self.seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for _ in range(20 * 120):  # at most two minutes
            if self._stop.is_set():
                return
            for pid in children(self.parent):
                if pid not in self.seen and not is_query_worker(pid):
                    continue
                self.seen.add(pid)
                self.peak[pid] = max(self.peak.get(pid, 0.0), rss_mb(pid))
            time.sleep(0.05)

    def __enter__(self) -> PeakWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


# --- aflm-graph serve as a real process


@dataclass(frozen=True)
class Served:
    url: str
    pid: int
    process: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def serve_process(build: Path, workdir: Path, *options: str) -> Iterator[Served]:
    """`aflm-graph serve` on a free loopback port with the given options; stopped by its pid."""
    from conftest import free_port

    port = free_port()
    log = workdir / f"serve-{port}.log"
    args = [AFLM_GRAPH, "serve", "--build", str(build), "--host", "127.0.0.1", "--port", str(port), *options]
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/sparql"
        wait_until_ready(url, process, seconds=60, log=log)
        yield Served(url, process.pid, process, log)
    finally:
        stop(process)


def http_request(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
                 method: str | None = None, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """One request with no redirect following; (status, headers, body) for errors too."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def post_query(url: str, query: str, *, accept: str = "application/sparql-results+json",
               timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    import urllib.parse

    body = urllib.parse.urlencode({"query": query}).encode()
    return http_request(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                 "Accept": accept}, timeout=timeout)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


FIGURES = Path(__file__).resolve().parents[1] / "test-output" / "security"


def record_figure(name: str, value: Any) -> None:
    """Keep a measured figure in test-output/security/figures.json (for the issue's closing note) and print it."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    path = FIGURES / "figures.json"
    try:
        figures = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        figures = {}
    figures[name] = value
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"[figure] {name} = {value}")
