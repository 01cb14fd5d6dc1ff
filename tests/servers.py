"""Real SPARQL servers for the integration tests: Oxigraph and Virtuoso on 127.0.0.1, stopped by pid.

Each helper starts one server process on a free loopback port, waits (bounded in count and
time) until it answers `ASK {}`, and stops it by its own pid in a `finally`. Nothing here
touches a non-loopback address. The Virtuoso configuration is written from scratch into a
temp dir (small buffers, relative database files, no plugins) so the test never depends on
the system instance or its passwords.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

VIRTUOSO_PASSWORD = "aflm-test-pw"  # a throwaway instance on loopback; never a real credential
VIRTUOSO_ROW_CAP = 2000  # ResultSetMaxRows, kept small so a row-limit test is cheap


@dataclass(frozen=True)
class Server:
    """A running server: where to query it, where to push to it, and how to stop it."""

    name: str
    pid: int
    query_url: str
    store_url: str  # Graph Store Protocol endpoint (authenticated for Virtuoso)
    base: str
    user: str | None = None
    password: str | None = None
    row_cap: int | None = None
    log: Path | None = None
    sql_address: str | None = None  # Virtuoso's SQL port (isql, the bulk loader)
    load_dir: Path | None = None  # a folder in Virtuoso's DirsAllowed


def _answers(url: str) -> bool:
    query = urllib.parse.urlencode({"query": "ASK {}"})
    request = urllib.request.Request(f"{url}?{query}", headers={"Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def wait_until_ready(url: str, process: subprocess.Popen[bytes], *, seconds: float, log: Path | None = None) -> None:
    """Poll `ASK {}` every 0.2 s; fail with the server's log if it exits or does not answer in time."""
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / 0.2) + 1):
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{url}: the server exited with {process.returncode} before answering\n{tail}")
        if _answers(url):
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{url}: no answer to ASK {{}} within {seconds} s\n{tail}")


def stop(process: subprocess.Popen[bytes], *, seconds: float = 10) -> None:
    """SIGTERM by pid, then SIGKILL if it has not exited in time."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=seconds)


@contextlib.contextmanager
def oxigraph_server(executable: str, port: int, workdir: Path) -> Iterator[Server]:
    """`oxigraph serve` in memory, every named graph in the default graph (as the embedded engine runs)."""
    log = workdir / "oxigraph.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [executable, "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
            stdout=out, stderr=subprocess.STDOUT, cwd=workdir,
        )
    try:
        wait_until_ready(f"{base}/query", process, seconds=20, log=log)
        yield Server("oxigraph", process.pid, f"{base}/query", f"{base}/store", base, log=log)
    finally:
        stop(process)


VIRTUOSO_INI = """\
[Database]
DatabaseFile       = virtuoso.db
ErrorLogFile       = virtuoso.log
LockFile           = virtuoso.lck
TransactionFile    = virtuoso.trx
xa_persistent_file = virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = virtuoso-temp.db
TransactionFile    = virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort               = 127.0.0.1:{sql_port}
LiteMode                 = 0
DisableUnixSocket        = 1
DisableTcpSocket         = 0
MaxClientConnections     = 10
CheckpointInterval       = 0
O_DIRECT                 = 0
CaseMode                 = 2
MaxStaticCursorRows      = 5000
AllowOSCalls             = 0
DirsAllowed              = ., {data_dir}
ThreadCleanupInterval    = 0
ThreadThreshold          = 10
ResourcesCleanupInterval = 0
FreeTextBatchSize        = 100000
SingleCPU                = 0
PrefixResultNames        = 0
RdfFreeTextRulesSize     = 100
IndexTreeMaps            = 64
MaxMemPoolSize           = 40000000
MaxQueryMem              = 200M
VectorSize               = 1000
MaxVectorSize            = 1000000
AdjustVectorSize         = 0
ThreadsPerQuery          = 2
AsyncQueueMaxThreads     = 4
NumberOfBuffers          = 10000
MaxDirtyBuffers          = 6000

[HTTPServer]
ServerPort                  = 127.0.0.1:{http_port}
ServerRoot                  = .
MaxClientConnections        = 10
DavRoot                     = DAV
EnabledDavVSP               = 0
HTTPProxyEnabled            = 0
TempASPXDir                 = 0
ServerThreads               = 10
MaxKeepAlives               = 10
KeepAliveTimeout            = 10
HTTPThreadSize              = 280000
HttpPrintWarningsInOutput   = 0
Charset                     = UTF-8
EnabledGzipContent          = 0

[SPARQL]
ResultSetMaxRows           = {row_cap}
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime      = 60
DefaultGraph               =
"""


@contextlib.contextmanager
def virtuoso_server(executable: str, sql_port: int, http_port: int, workdir: Path) -> Iterator[Server]:
    """A private Virtuoso: create the database and passwords (first run exits), then serve in the foreground."""
    data_dir = workdir / "load"
    data_dir.mkdir(parents=True, exist_ok=True)
    ini = workdir / "virtuoso.ini"
    ini.write_text(
        VIRTUOSO_INI.format(sql_port=sql_port, http_port=http_port, data_dir=data_dir, row_cap=VIRTUOSO_ROW_CAP)
    )
    log = workdir / "virtuoso.log"
    console = workdir / "console.log"
    # First run on an empty directory: make the database, set the passwords, exit.
    with console.open("ab") as out:
        init = subprocess.Popen(
            [executable, "+configfile", str(ini), "+foreground", "+pwdold", "dba", "+pwddba", VIRTUOSO_PASSWORD,
             "+pwddav", VIRTUOSO_PASSWORD],
            stdout=out, stderr=subprocess.STDOUT, cwd=workdir,
        )
    try:
        init.wait(timeout=90)
    except subprocess.TimeoutExpired:
        stop(init)
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"virtuoso: creating the database took over 90 s\n{tail}") from None
    with console.open("ab") as out:
        process = subprocess.Popen(
            [executable, "+configfile", str(ini), "+foreground"], stdout=out, stderr=subprocess.STDOUT, cwd=workdir,
        )
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_until_ready(f"{base}/sparql", process, seconds=60, log=log)
        yield Server(
            "virtuoso", process.pid, f"{base}/sparql", f"{base}/sparql-graph-crud-auth", base,
            user="dba", password=VIRTUOSO_PASSWORD, row_cap=VIRTUOSO_ROW_CAP, log=log,
            sql_address=f"127.0.0.1:{sql_port}", load_dir=data_dir,
        )
    finally:
        stop(process, seconds=20)


# --- datasets on a server


def fixture_build(trig: Path, out: Path) -> Path:
    """A build folder (store/ and aflm.nq, as `aflm-graph build` lays them out) made straight from a TriG file."""
    import pyoxigraph as ox

    out.mkdir(parents=True, exist_ok=True)
    quads = list(ox.parse(path=str(trig), format=ox.RdfFormat.TRIG))
    (out / "aflm.nq").write_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    store = ox.Store(str(out / "store"))
    store.bulk_extend(quads)
    store.flush()
    del store
    return out


_LOADED: dict[int, tuple[Path, frozenset[str]]] = {}  # server pid -> (build, graphs pushed)


def load(server: Server, build: Path) -> None:
    """Make `build` the server's whole dataset (push its graphs, drop graphs an earlier push left behind).

    Pushes only when another build is loaded, so tests that share a server can ask for the
    dataset they need in any order.
    """
    from aflm_graph.sparql.remote import _graph_url, _opener, _send, push

    if _LOADED.get(server.pid, (None,))[0] == build:
        return
    credentials = (server.user, server.password) if server.user and server.password else None
    report = push(build, server.store_url, credentials=credentials, chunk_triples=20_000)
    previous = _LOADED.get(server.pid, (None, frozenset()))[1]
    opener = _opener(server.store_url, credentials)
    for graph in sorted(previous - set(report.graphs)):
        _send(opener, "DELETE", _graph_url(server.store_url, graph), b"", 60)
    _LOADED[server.pid] = (build, frozenset(report.graphs))


# --- a server that drips its answer


DRIP_ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nContent-Length: 64\r\n\r\n"
               + b" " * 64)


@dataclass
class Drip:
    """A running drip server: where to send requests, and how long each connection stayed open (seconds)."""

    url: str
    requests: int = 0
    held: list[float] = field(default_factory=list)  # per connection: seconds from its request to its close


def _drip_one(conn: socket.socket, drip: Drip, answer: bytes, interval: float, until: float,
              stop: threading.Event) -> None:
    """Read one request's head, then send `answer` one byte per `interval` s, draining what the client sends."""
    with conn:
        conn.settimeout(interval)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 1 << 16 and time.monotonic() < until:
            with contextlib.suppress(TimeoutError):
                data = conn.recv(1 << 16)
                if not data:
                    return
                head += data
        drip.requests += 1
        began = time.monotonic()
        for byte in answer:
            if stop.is_set() or time.monotonic() >= until:
                break
            try:
                conn.sendall(bytes([byte]))
                if conn.recv(1 << 16) == b"":  # waits `interval` s, reads the body, sees the client hang up
                    break
            except TimeoutError:
                continue
            except OSError:
                break
        drip.held.append(time.monotonic() - began)


@contextlib.contextmanager
def drip_server(*, seconds: float = 30.0, interval: float = 1.0, answer: bytes = DRIP_ANSWER) -> Iterator[Drip]:
    """A TCP server on 127.0.0.1 that answers every request one byte per `interval` seconds.

    Each read of the client's gets a byte well within any per-read timeout, so only a deadline for the
    whole request ends it. It stops by itself `seconds` after it started (and at the end of the block);
    its threads are daemons, and it never connects anywhere.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    drip = Drip(f"http://127.0.0.1:{listener.getsockname()[1]}")
    until = time.monotonic() + seconds
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set() and time.monotonic() < until:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=_drip_one, args=(conn, drip, answer, interval, until, stop), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield drip
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def graph_sizes(build: Path) -> dict[str, int]:
    """Quads per named graph in a build's aflm.nq: what a push sends, read from the fixture itself."""
    import pyoxigraph as ox

    sizes: dict[str, int] = {}
    for quad in ox.parse(path=str(build / "aflm.nq"), format=ox.RdfFormat.N_QUADS):
        name = quad.graph_name.value  # type: ignore[union-attr]  # every quad of a build is in a named graph
        sizes[name] = sizes.get(name, 0) + 1
    return dict(sorted(sizes.items()))


def merged_size(build: Path) -> int:
    """Distinct triples of a build's graphs merged into one (a triple in two graphs counts once)."""
    import pyoxigraph as ox

    return len({quad.triple for quad in ox.parse(path=str(build / "aflm.nq"), format=ox.RdfFormat.N_QUADS)})
