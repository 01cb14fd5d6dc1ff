"""The `aflm-graph` command line: verbs that call library functions, in the manner of sqlite-utils."""

from __future__ import annotations

import sys
from pathlib import Path

import click

BUILD_OPTION = click.option(
    "--build", "build_dir", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
    help="Folder written by `aflm-graph build`.",
)


def _fail(exc: BaseException) -> click.ClickException:
    return click.ClickException(" ".join(str(exc).split()) or exc.__class__.__name__)


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
def build(paths: tuple[Path, ...], out: Path, quiet: bool) -> None:
    """Build the graph from documents (files or folders; default seeds/).

    \b
    Example:
        aflm-graph build
        aflm-graph build seeds/ more-documents/ --out build
    """
    from .pipeline import BuildError
    from .pipeline import build as run_build

    bars: dict[str, object] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if quiet or total < 20:
            return
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = click.progressbar(length=total, label=f"{stage:<9}", file=sys.stderr)
            bar.__enter__()  # type: ignore[attr-defined]
        bar.update(1)  # type: ignore[attr-defined]
        if done == total:
            bar.__exit__(None, None, None)  # type: ignore[attr-defined]

    try:
        report = run_build(list(paths) or None, out, progress=progress)
    except (BuildError, OSError, ValueError) as exc:
        raise _fail(exc) from None
    if not quiet:
        links = ", ".join(f"{n} {r}" for r, n in sorted(report.links.items())) or "no links"
        click.echo(
            f"Built {report.out}/: {report.documents} documents, {report.recommendations} recommendations, "
            f"{report.mentions} concept mentions, {links}, {report.triples} triples in {report.seconds:.2f} s"
        )


@cli.command()
@click.argument("name_or_file")
@BUILD_OPTION
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="Bind a query parameter.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "tsv", "json", "turtle", "ntriples"]),
              default="table", show_default=True, help="Output format (turtle/ntriples for CONSTRUCT).")
def query(name_or_file: str, build_dir: Path, params: tuple[str, ...], fmt: str) -> None:
    """Run a named query (see `aflm-graph queries`) or a .rq file on the build.

    \b
    Example:
        aflm-graph query recommendations --format csv
        aflm-graph query my-question.rq --param theme=fair-recruitment
    """
    from .engine import render, run
    from .queries import QueryError, resolve

    values: dict[str, str] = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.ClickException(f"--param {item!r}: expected NAME=VALUE")
        values[name.strip()] = value
    try:
        named = resolve(name_or_file)
        result = run(named, build=build_dir, params=values)
        click.echo(render(result, fmt), nl=False)
    except QueryError as exc:
        raise _fail(exc) from None


@cli.command("queries")
@click.option("--tag", help="Only queries with this tag.")
def list_queries(tag: str | None) -> None:
    """List the named queries with their summaries and parameters.

    \b
    Example:
        aflm-graph queries
    """
    from .queries import named_queries

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
        raise _fail(f"{manifest}: unreadable ({exc})") from None
    click.echo(f"aflm-graph {data['version']} build in {build_dir}/")
    for doc in data["documents"]:
        click.echo(f"  {doc['source_file']}: {doc['recommendations']} recommendations (id {doc['id']})")
    click.echo(f"  {data['triples']} triples, {data['quads']} quads")
    for graph, count in data["graphs"].items():
        click.echo(f"    {graph}: {count}")
    for name, meta in data["files"].items():
        click.echo(f"  {name}: {meta['bytes']} bytes, sha256 {meta['sha256'][:16]}…")


def main() -> None:
    cli(prog_name="aflm-graph")


if __name__ == "__main__":  # pragma: no cover
    main()
