"""The `aflm-graph` command line: verbs that call library functions, in the manner of sqlite-utils.

Every command imports its stage (and whatever else only it needs) inside its function: importing them
all here would make `aflm-graph --help`, a typo and every command pay for every stage's libraries
(tests/test_cli.py, test_entry.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .safetext import brief, neutralise_formula, printable

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar  # what click.progressbar returns

BUILD_OPTION = click.option(
    "--build", "build_dir", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
    help="Folder written by `aflm-graph build`.",
)

QUERY_SUFFIXES = {"table": (".txt",), "csv": (".csv",), "tsv": (".tsv",), "json": (".json", ".srj"),
                  "turtle": (".ttl",), "ntriples": (".nt",)}
EXPORT_SUFFIXES = {"turtle": (".ttl",), "ntriples": (".nt",), "nquads": (".nq",), "trig": (".trig",),
                   "jsonld": (".jsonld", ".json"), "rdfxml": (".rdf", ".xml", ".owl")}
"""The names an existing --out file must have to be replaced without --force (an earlier output of that format)."""

FORCE_OPTION = click.option(
    "--force", is_flag=True,
    help="Replace the output folder even when it holds other files, or an --out file of another kind (never the "
    "home folder, /, the current folder or an input).",
)


def _param_values(params: tuple[str, ...]) -> dict[str, str]:
    """`--param NAME=VALUE` options as a mapping (the value may itself contain `=`)."""
    values: dict[str, str] = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.ClickException(f"--param {brief(item)}: expected NAME=VALUE")
        values[name.strip()] = value
    return values


def _write_stdout(data: bytes) -> None:
    """Write bytes to standard output; a full disk or a closed pipe is a one-line error, not a traceback."""
    stream = sys.stdout.buffer
    try:
        stream.write(data)
        stream.flush()
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python exits
        sys.exit(1)
    except OSError as exc:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise click.ClickException(f"cannot write to standard output: {exc.strerror or exc}") from None


def _fail(exc: BaseException) -> click.ClickException:
    """The error as one line, with control characters escaped: a file name may hold terminal escapes."""
    return click.ClickException(printable(" ".join(str(exc).split()) or exc.__class__.__name__))


class _BadParameter(click.ClickException):
    """A query parameter whose value names nothing known: one line, exit 2 (like a usage error)."""

    exit_code = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aflm-graph")
def cli() -> None:
    """Build and query a knowledge graph of ASEAN / AFML recommendations on migrant workers.

    \b
    Example:
        aflm-graph build                      # seeds/ -> build/
        aflm-graph query recommendations --format csv
    """


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
              help="Output folder (replaced atomically when the build succeeds).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--no-validate", is_flag=True,
              help="Skip the SHACL shapes and violation queries (run `aflm-graph validate` later).")
@click.option("--keep-going", "-k", is_flag=True,
              help="Leave out a document that cannot be read (each named on stderr with its reason), build the "
              "rest, and exit with status 1.")
@click.option("--store", "disk_store", is_flag=True,
              help="Also write an on-disk pyoxigraph store (build/store): queries open it at once instead of "
              "loading aflm.nq into memory, for a corpus of millions of triples.")
@click.option("--pdf-timeout", type=click.FloatRange(min=1), default=30.0, show_default=True, metavar="SECONDS",
              help="Wall-clock limit of the text extraction of one PDF (it runs in its own process).")
@click.option("--pdf-memory", type=click.IntRange(min=64), default=512, show_default=True, metavar="MB",
              help="Memory limit of the PDF extraction process (a decompression bomb stops there).")
@click.option("--pdf-max-pages", type=click.IntRange(min=1), default=500, show_default=True,
              help="Largest PDF read, in pages.")
@FORCE_OPTION
def build(paths: tuple[Path, ...], out: Path, quiet: bool, no_validate: bool, keep_going: bool, disk_store: bool,
          pdf_timeout: float, pdf_memory: int, pdf_max_pages: int, force: bool) -> None:
    """Build the graph from documents (files or folders; default seeds/).

    Writes every export (Turtle, N-Triples, N-Quads, TriG, JSON-LD, RDF/XML), the dataset
    description (void.ttl, dataset.jsonld) and the views. The graph is validated first; a graph
    that violates the shapes is not written and the previous folder stays. The output folder is
    replaced only when it is new, empty or a previous build (--force: also a folder of other files). Queries load
    aflm.nq into an in-memory store; with --store the build also writes an on-disk store that
    opens at once (for corpora of millions of triples).

    \b
    Example:
        aflm-graph build
        aflm-graph build seeds/ more-documents/ --out build
        aflm-graph build --no-validate --out draft
        aflm-graph build corpus/ --store --out big
    """
    from .ingest.pdf import PdfLimits
    from .publish.pipeline import BuildError
    from .publish.pipeline import build as run_build

    bars: dict[str, ProgressBar[int]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if quiet or total < 20:
            return
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = click.progressbar(length=total, label=f"{stage:<9}", file=sys.stderr)
            bar.__enter__()
        bar.update(1)
        if done == total:
            bar.__exit__(None, None, None)

    try:
        report = run_build(list(paths) or None, out, progress=progress, validate=not no_validate,
                           keep_going=keep_going, pdf_limits=PdfLimits(pdf_timeout, pdf_memory, pdf_max_pages),
                           store=disk_store, force=force)
    except (BuildError, OSError, ValueError) as exc:
        raise _fail(exc) from None
    for reason in report.failed.values():
        click.echo(f"Left out: {reason}", err=True)
    if not quiet:
        links = ", ".join(f"{n} {r}" for r, n in sorted(report.links.items())) or "no links"
        click.echo(
            f"Built {printable(report.out)}/: {report.documents} documents, {report.recommendations} recommendations, "
            f"{report.mentions} concept mentions, {links}, {report.triples} triples in {report.seconds:.2f} s"
        )
    if report.failed:
        click.echo(f"{len(report.failed)} document(s) left out (see above); the build holds the others", err=True)
        sys.exit(1)


@cli.command()
@click.argument("name_or_file")
@BUILD_OPTION
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="Bind a query parameter.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "tsv", "json", "turtle", "ntriples"]),
              default="table", show_default=True, help="Output format (turtle/ntriples for CONSTRUCT).")
@click.option("--endpoint", metavar="URL", help="Run on this SPARQL 1.1 endpoint instead of the build.")
@click.option("--timeout", type=click.FloatRange(min=0.1), metavar="SECONDS",
              help="Stop the query after this long (remote: HTTP timeout, default 60 s; embedded: a killed worker).")
@click.option("--allow-partial", is_flag=True,
              help="Accept an answer the endpoint cut short (time or row limit), with a warning, instead of failing.")
@click.option("--row-cap", type=click.IntRange(min=1), metavar="N",
              help="The endpoint's result-row limit, to detect truncation (default: 10000 for Virtuoso).")
@click.option("--default-graph", "default_graphs", multiple=True, metavar="IRI",
              help="Remote only: query the merge of these graphs (default-graph-uri) instead of the server's default.")
@click.option("--max-memory", "max_memory_mb", type=click.IntRange(min=64), metavar="MB",
              help="Embedded: run in a worker whose memory is capped at MB (default with --timeout: 2048).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the result to this file (atomically) instead of standard output.")
@click.option("--csv-formulas/--no-csv-formulas", "csv_formulas", default=None,
              help="CSV: keep values that a spreadsheet runs as formulas (=, +, -, @ first) as they are, or put a "
              "' before them. Default: kept on standard output (SPARQL's CSV), neutralised in an --out file.")
@click.option("--force", is_flag=True, help="Replace an existing --out file even when its name is not one of this "
              "format's (.csv, .tsv, .json, .txt, .ttl, .nt).")
def query(
    name_or_file: str, build_dir: Path, params: tuple[str, ...], fmt: str, endpoint: str | None,
    timeout: float | None, allow_partial: bool, row_cap: int | None, default_graphs: tuple[str, ...],
    max_memory_mb: int | None, out_file: Path | None, csv_formulas: bool | None, force: bool,
) -> None:
    """Run a named query (see `aflm-graph queries`) or a .rq file on the build or a SPARQL endpoint.

    \b
    Example:
        aflm-graph query recommendations --format csv
        aflm-graph query recommendations --format csv --out recommendations.csv
        aflm-graph query my-question.rq --param theme=fair-recruitment
        aflm-graph query search-text -p words=recruitment --endpoint http://127.0.0.1:7878/query
    """
    from .fsutil import OutputError, atomic_write_bytes, check_output_file
    from .sparql.catalogue import ParameterError, QueryError, resolve
    from .sparql.engine import render, to_csv
    from .sparql.run import run

    values = _param_values(params)
    try:
        if out_file is not None:  # before the work, not after
            check_output_file(out_file, suffixes=QUERY_SUFFIXES[fmt], force=force)
        named = resolve(name_or_file)
        result = run(
            named, build=build_dir, params=values, endpoint=endpoint, timeout=timeout, allow_partial=allow_partial,
            row_cap=row_cap, default_graphs=default_graphs, max_memory_mb=max_memory_mb,
        )
        # a CSV file is meant for a spreadsheet: its formulas are neutralised unless --csv-formulas
        keep = csv_formulas if csv_formulas is not None else out_file is None
        text = to_csv(result, neutralise_formulas=not keep) if fmt == "csv" else render(result, fmt)
        if out_file is None:
            click.echo(text, nl=False)
        else:
            data = text.encode("utf-8")
            atomic_write_bytes(out_file, data)
            click.echo(printable(f"Wrote {out_file}: {len(data):,} bytes"), err=True)
        for warning in result.warnings:
            click.echo(printable(f"Warning: {warning}"), err=True)
    except ParameterError as exc:  # a value that names nothing known: a usage error, exit 2 (one line)
        raise _BadParameter(_fail(exc).message) from None
    except (QueryError, OutputError, OSError) as exc:
        raise _fail(exc) from None


@cli.command("queries")
@click.option("--tag", help="Only queries with this tag.")
@click.option("--markdown", is_flag=True, help="Print queries/README.md (the table of competency questions).")
def list_queries(tag: str | None, markdown: bool) -> None:
    """List the named queries with their summaries and parameters.

    \b
    Example:
        aflm-graph queries
        aflm-graph queries --markdown > queries/README.md
    """
    from .sparql.catalogue import named_queries

    if markdown:
        from .publish.catalogue_docs import markdown as catalogue_markdown

        click.echo(catalogue_markdown(), nl=False)
        return
    catalogue = named_queries()
    width = max((len(n) for n in catalogue), default=0)
    for name, q in catalogue.items():
        if tag and tag not in q.tags:
            continue
        params = " ".join(f"[{p.name}]" if not p.required else f"<{p.name}>" for p in q.params)
        click.echo(f"{name.ljust(width)}  {q.summary}" + (f"  {params}" if params else ""))


@cli.command()
@BUILD_OPTION
def info(build_dir: Path) -> None:
    """Say what a build holds: documents, counts, files and checksums.

    \b
    Example:
        aflm-graph info --build build
    """
    import json

    manifest = build_dir / "manifest.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise click.ClickException(f"{manifest}: no build here; run `aflm-graph build` first") from None
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{manifest}: unreadable ({exc})") from None
    click.echo(f"aflm-graph {data['version']} build in {build_dir}/")
    for doc in data["documents"]:
        click.echo(f"  {doc['source_file']}: {doc['recommendations']} recommendations (id {doc['id']})")
    click.echo(f"  {data['triples']} triples, {data['quads']} quads")
    for graph, count in data["graphs"].items():
        click.echo(f"    {graph}: {count}")
    for name, meta in data["files"].items():
        click.echo(f"  {name}: {meta['bytes']} bytes, sha256 {meta['sha256'][:16]}…")


@cli.command()
@click.argument("kind", type=click.Choice(["overview", "compare", "member-state", "theme", "actor", "group",
                                           "instrument", "query"]))
@click.argument("arg", required=False)
@BUILD_OPTION
@click.option("--out", type=click.Path(path_type=Path), help="HTML file to write (default: VIEW-NAME.html here).")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="Bind a parameter of a query view.")
@click.option("--force", is_flag=True, help="Replace an existing --out file even when it is not an .html file.")
def view(kind: str, arg: str | None, build_dir: Path, out: Path | None, params: tuple[str, ...], force: bool) -> None:
    """Write an interactive network view: one HTML file that opens offline in any browser.

    \b
    KIND is overview, compare, member-state NAME, theme SLUG, actor SLUG, group SLUG,
    instrument SLUG, or query NAME_OR_FILE (a SELECT with ?source ?target, or a CONSTRUCT).
    `aflm-graph build` already writes the overview, compare and member-state views to build/views/.

    \b
    Example:
        aflm-graph view overview
        aflm-graph view member-state Cambodia --out cambodia.html
        aflm-graph view theme health-care
        aflm-graph view query theme-network --param theme=health-care
    """
    from .fsutil import OutputError
    from .sparql.catalogue import QueryError
    from .views.network import ViewError, write_view

    values = _param_values(params)
    try:
        path, rendered = write_view(kind, arg, build=build_dir, out=out, params=values, force=force)
    except (ViewError, QueryError, OutputError, OSError) as exc:
        raise _fail(exc) from None
    click.echo(f"Wrote {path}: {rendered.nodes} nodes, {rendered.edges} links, {rendered.bytes:,} bytes")


@cli.command()
@BUILD_OPTION
@click.option("--out", type=click.Path(path_type=Path), help="Folder for the CSV files (default: BUILD/stats).")
@click.option("--top", type=int, default=15, show_default=True, help="Rows printed per table (the CSVs have all).")
@click.option("--csv-formulas/--no-csv-formulas", "csv_formulas", default=False, show_default=True,
              help="Keep values that a spreadsheet runs as formulas (=, +, -, @ first) as they are in the CSV files; "
              "by default they get a ' before them.")
def stats(build_dir: Path, out: Path | None, top: int, csv_formulas: bool) -> None:
    """Network measures: central concepts, communities of themes, member states alike by theme.

    \b
    Prints the tables and writes them as CSV (concepts.csv, theme-communities.csv,
    member-state-similarity.csv) to BUILD/stats/.

    \b
    Example:
        aflm-graph stats
        aflm-graph stats --build build --top 30
    """
    import dataclasses

    from .fsutil import OutputError
    from .sparql.catalogue import QueryError
    from .sparql.engine import open_store
    from .views.stats import compute, write_stats

    try:
        tables = compute(open_store(build_dir))
        folder = out or build_dir / "stats"
        written = tables if csv_formulas else [  # CSV files are opened in spreadsheets: no formula runs there
            dataclasses.replace(table, rows=[[neutralise_formula(v) if isinstance(v, str) else v for v in row]
                                             for row in table.rows])
            for table in tables
        ]
        write_stats(written, folder)
    except (QueryError, OutputError, OSError) as exc:
        raise _fail(exc) from None
    for table in tables:
        click.echo("\n".join(printable(line) for line in table.to_text(limit=top).splitlines()) + "\n")
    click.echo(printable(f"Wrote {', '.join(t.name + '.csv' for t in tables)} to {folder}/"))


@cli.command()
@BUILD_OPTION
@click.option("--endpoint", required=True, metavar="URL",
              help="Graph Store Protocol URL (Oxigraph: .../store; Virtuoso: .../sparql-graph-crud-auth).")
@click.option("--graph", metavar="IRI", help="Put every triple into this one graph (default: each graph to its own).")
@click.option("--chunk-triples", type=click.IntRange(min=1), default=50_000, show_default=True,
              help="Triples per request (Virtuoso stalls on very large PUTs).")
@click.option("--timeout", type=click.FloatRange(min=1), default=300.0, show_default=True, metavar="SECONDS",
              help="Whole-request deadline: each upload (connect, send and the server's full answer) must end "
              "within this time, however slowly the server trickles.")
@click.option("--loader", type=click.Choice(["gsp", "virtuoso-bulk"]), default="gsp", show_default=True,
              help="gsp: Graph Store HTTP Protocol; virtuoso-bulk: Virtuoso's ld_dir/rdf_loader_run over isql.")
@click.option("--isql", "isql_address", metavar="HOST:PORT", help="virtuoso-bulk: the server's SQL port.")
@click.option("--load-dir", type=click.Path(path_type=Path), help="virtuoso-bulk: a folder in its DirsAllowed.")
def push(
    build_dir: Path, endpoint: str, graph: str | None, chunk_triples: int, timeout: float, loader: str,
    isql_address: str | None, load_dir: Path | None,
) -> None:
    """Load the build into a remote store (each graph replaced, then appended in chunks).

    Credentials, when the store needs them, come from AFLM_ENDPOINT_USER and
    AFLM_ENDPOINT_PASSWORD; they are never sent over plain http:// to a non-loopback host
    and never forwarded across a redirect (virtuoso-bulk gives the password to isql on its
    stdin, never on its command line).

    A push that stops partway exits non-zero with one line saying that the remote graph is
    incomplete and the command to re-run (each graph is replaced, so re-running is safe),
    then which graphs and chunks were sent. The bulk loader checks afterwards that each
    graph holds exactly the triples sent.

    \b
    Example:
        aflm-graph push --endpoint http://127.0.0.1:7878/store
        AFLM_ENDPOINT_USER=dba AFLM_ENDPOINT_PASSWORD=... \\
          aflm-graph push --endpoint http://127.0.0.1:8890/sparql-graph-crud-auth
    """
    from .sparql.catalogue import QueryError
    from .sparql.remote import PushError, describe_push, virtuoso_bulk_load
    from .sparql.remote import push as run_push

    try:
        if loader == "virtuoso-bulk":
            if not isql_address or load_dir is None:
                raise click.ClickException("--loader virtuoso-bulk needs --isql HOST:PORT and --load-dir DIR")
            report = virtuoso_bulk_load(build_dir, isql_address=isql_address, load_dir=load_dir, graph=graph)
        else:
            report = run_push(build_dir, endpoint, graph=graph, chunk_triples=chunk_triples, timeout=timeout)
    except PushError as exc:  # one line (what failed, the retry command), then what was and was not sent
        detail = "".join(f"\n  {printable(' '.join(line.split()))}" for line in exc.detail)
        raise click.ClickException(_fail(exc).message + detail) from None
    except (QueryError, OSError) as exc:
        raise _fail(exc) from None
    for line in describe_push(report):
        click.echo(line)


@cli.command()
@BUILD_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=7878, show_default=True, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Query worker processes (queries that run at the same time).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=20.0, show_default=True, metavar="SECONDS",
              help="Wall-clock limit per query (its worker is killed and replaced).")
@click.option("--max-rows", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Largest result served; a larger one is refused (422), never silently cut.")
@click.option("--max-body", type=click.IntRange(min=1024), default=65_536, show_default=True,
              help="Largest request body in bytes (a larger one is refused, 413).")
@click.option("--max-memory", "max_memory_mb", type=click.IntRange(min=64), default=2048, show_default=True,
              metavar="MB", help="Memory cap of each query worker; a query that needs more is stopped (500).")
@click.option("--max-waiting", type=click.IntRange(min=0), default=64, show_default=True,
              help="Requests that may wait for a busy worker; more are refused at once (429, Retry-After).")
@click.option("--read-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True, metavar="SECONDS",
              help="Time a client has to send a whole request (headers and body) once connected or answered; "
                   "a slower connection is closed (408), so half-sent requests cannot pile up (slowloris).")
@click.option("--keep-alive", type=click.FloatRange(min=0.1), default=5.0, show_default=True, metavar="SECONDS",
              help="An idle connection is closed after this long without a new request.")
@click.option("--max-client-connections", type=click.IntRange(min=0), default=64, show_default=True,
              help="Connections one client address may hold open at once; more are refused at once (429). "
                   "0: no cap (behind a proxy, where every client has the proxy's address).")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Also answer requests whose Host header is NAME (repeatable; '*': any). The bound address, "
                   "localhost, 127.0.0.1 and [::1] always are; any other Host gets 400 (DNS rebinding).")
def serve(
    build_dir: Path, host: str, port: int, workers: int, timeout: float, max_rows: int, max_body: int,
    max_memory_mb: int, max_waiting: int, read_timeout: float, keep_alive: float, max_client_connections: int,
    allow_hosts: tuple[str, ...],
) -> None:
    """Serve the build as a read-only SPARQL 1.1 endpoint at http://HOST:PORT/sparql.

    Updates, SERVICE, LOAD and FROM a graph outside the build are refused (403). Requests for any host name
    but the bound address, localhost, 127.0.0.1, [::1] and --allow-host names are refused (400).

    \b
    Example:
        aflm-graph serve --port 7878
        curl -H 'Accept: text/csv' --data-urlencode 'query=SELECT * { ?s ?p ?o } LIMIT 5' \\
          http://127.0.0.1:7878/sparql
        # behind a reverse proxy on this machine that serves graph.example.org:
        aflm-graph serve --allow-host graph.example.org --max-client-connections 0
    """
    from .serve.endpoint import Limits, served_host_names
    from .serve.endpoint import serve as run_serve
    from .sparql.catalogue import QueryError
    from .sparql.engine import check_build

    try:
        served_host_names(host, allow_hosts)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--allow-host") from None
    try:
        check_build(build_dir)  # before saying it serves: no build is the one-line error alone
    except QueryError as exc:
        raise _fail(exc) from None
    limits = Limits(timeout=timeout, max_rows=max_rows, max_body=max_body, workers=workers,
                    max_memory_mb=max_memory_mb, max_waiting=max_waiting, read_timeout=read_timeout,
                    keep_alive=keep_alive, max_client_connections=max_client_connections)
    click.echo(
        f"Serving {build_dir}/ read-only at http://{host}:{port}/sparql ({workers} workers, {timeout:g} s and "
        f"{max_rows} rows per query); Ctrl-C stops it.", err=True,
    )
    try:
        run_serve(build_dir, host=host, port=port, limits=limits, allow_hosts=allow_hosts)
    except QueryError as exc:
        raise _fail(exc) from None


@cli.command()
@BUILD_OPTION
@click.option("--format", "fmt", type=click.Choice(["turtle", "ntriples", "nquads", "trig", "jsonld", "rdfxml"]),
              help="Write the build in this RDF format (to --out, or to standard output).")
@click.option("--out", type=click.Path(path_type=Path), help="File for --format (default: standard output).")
@click.option("--bundle", type=click.Path(path_type=Path),
              help="Write a release bundle to this folder: every format, ontology, vocabularies, shapes, "
              "dataset description, docs, README and SHA256SUMS.")
@click.option("--no-docs", is_flag=True, help="Leave the HTML documentation out of the bundle.")
@FORCE_OPTION
def export(build_dir: Path, fmt: str | None, out: Path | None, bundle: Path | None, no_docs: bool, force: bool
           ) -> None:
    """Export the build in one RDF format, or write a release bundle.

    \b
    Example:
        aflm-graph export --format jsonld > aflm.jsonld
        aflm-graph export --format rdfxml --out aflm.rdf
        aflm-graph export --bundle release/
    """
    from .fsutil import OutputError, atomic_write_bytes, check_output_file
    from .graph.export import ExportError, load_build_quads, serialize
    from .publish.bundle import write_bundle
    from .publish.docs import DocsError

    if (fmt is None) == (bundle is None):
        raise click.UsageError("give either --format FMT or --bundle DIR")
    try:
        if bundle is not None:
            sizes = write_bundle(build_dir, bundle, docs=not no_docs, force=force)
            click.echo(f"Wrote {bundle}/: {len(sizes)} files, {sum(sizes.values()):,} bytes (see SHA256SUMS)")
            return
        if out is not None:  # a device, a folder or someone's file is refused before the work, not after
            check_output_file(out, suffixes=EXPORT_SUFFIXES[str(fmt)], force=force)
        data = serialize(load_build_quads(build_dir), str(fmt))
        if out is not None:
            atomic_write_bytes(out, data)
    except (ExportError, DocsError, OutputError, OSError) as exc:
        raise _fail(exc) from None
    if out is None:
        _write_stdout(data)
    else:
        click.echo(f"Wrote {out}: {len(data):,} bytes", err=True)


@cli.command()
@BUILD_OPTION
def validate(build_dir: Path) -> None:
    """Check the build against ontology/shapes.ttl (pySHACL) and queries/*-violation.rq.

    Prints every violation with the resource, the property and what is wrong; exits with
    status 1 when there is a violation (warnings alone pass). --build also takes one .nq or
    .trig file.

    \b
    Example:
        aflm-graph validate
        aflm-graph validate --build tests/data/shapes/S01-valid.trig
    """
    from .validate.check import validate_build
    from .validate.shacl import ValidationError

    try:
        report = validate_build(build_dir)
    except ValidationError as exc:
        raise _fail(exc) from None
    click.echo(report.text(), nl=False)
    if not report.conforms:
        sys.exit(1)


@cli.command()
@BUILD_OPTION
@click.option("--out", type=click.Path(path_type=Path), help="Folder to write (default: BUILD/docs).")
@FORCE_OPTION
def docs(build_dir: Path, out: Path | None, force: bool) -> None:
    """Write HTML documentation of the ontology and the vocabularies (pyLODE) with a class diagram.

    \b
    Example:
        aflm-graph docs                  # -> build/docs/index.html
        aflm-graph docs --out site/docs
    """
    from .publish.docs import DocsError, write_docs

    folder = out or build_dir / "docs"
    try:
        written = write_docs(folder, force=force)
    except (DocsError, OSError) as exc:
        raise _fail(exc) from None
    click.echo(f"Wrote {len(written)} files to {folder}/ (open {folder / 'index.html'})")


@cli.command()
@click.argument("gold", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@click.option("--documents", "documents_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder with the documents the gold files name (default: next to the gold, then seeds/).")
@click.option("--details", is_flag=True, help="Also list every disagreement with its evidence.")
def evaluate(gold: tuple[Path, ...], documents_dir: Path | None, details: bool) -> None:
    """Score the annotator against gold annotations: precision, recall and F1 per kind and overall.

    A recurrence gold file (recurrence*.yaml, in a gold folder or named) scores the recurrence links
    too: precision and recall against the pairs judged by reading to make the same call.

    \b
    Example:
        aflm-graph evaluate tests/data/gold/
        aflm-graph evaluate tests/data/synthetic/*.gold.yaml --details
    """
    from .enrich.evaluate import RECURRENCE_GLOB, GoldError, evaluate_recurrence, format_recurrence, format_scores
    from .enrich.evaluate import evaluate as run_evaluation

    paths: list[Path] = []
    recurrence: list[Path] = []
    for item in gold:
        if not item.exists():
            raise click.ClickException(printable(f"{item}: no such file or folder"))
        if item.is_dir():
            paths += sorted(item.glob("*.gold.yaml"))
            recurrence += sorted(item.glob(RECURRENCE_GLOB))
        else:
            (recurrence if item.match(RECURRENCE_GLOB) else paths).append(item)
    if not paths and not recurrence:
        raise click.ClickException(f"no *.gold.yaml or {RECURRENCE_GLOB} files in {', '.join(map(str, gold))}")
    try:
        blocks = [format_scores(run_evaluation(paths, documents_dir=documents_dir), details=details)] if paths else []
        blocks += [format_recurrence(evaluate_recurrence(path, documents_dir=documents_dir), details=details)
                   for path in recurrence]
    except (GoldError, OSError, ValueError) as exc:
        raise _fail(exc) from None
    click.echo("\n\n".join(block.rstrip("\n") for block in blocks))


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pdf-timeout", type=click.FloatRange(min=1), default=30.0, show_default=True, metavar="SECONDS",
              help="Wall-clock limit of the text extraction of a PDF.")
@click.option("--pdf-memory", type=click.IntRange(min=64), default=512, show_default=True, metavar="MB",
              help="Memory limit of the PDF extraction process.")
def inspect(file: Path, pdf_timeout: float, pdf_memory: int) -> None:
    """Show how one document is read: title, issuer, items, warnings.

    Prints the title, the issuer and why, the forum, date and place, the sub-themes, each item with
    its first words, the footnotes and page furniture set aside, and warnings.

    \b
    Example:
        aflm-graph inspect seeds/000_c29556925cd8fb24.txt
    """
    from .ingest.errors import ParseError
    from .ingest.inspect import format_inspection, inspect_file
    from .ingest.pdf import PdfLimits

    try:
        result = inspect_file(file, pdf_limits=PdfLimits(timeout_s=pdf_timeout, memory_mb=pdf_memory))
    except (ParseError, OSError) as exc:
        raise _fail(exc) from None
    click.echo(format_inspection(result), nl=False)


def main() -> None:
    cli(prog_name="aflm-graph")


if __name__ == "__main__":  # pragma: no cover
    main()
