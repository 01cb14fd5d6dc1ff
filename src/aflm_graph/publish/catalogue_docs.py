"""queries/README.md, generated from the `#+` headers of the queries so the table cannot drift from them.

`aflm-graph queries --markdown > queries/README.md` rewrites it; a test compares the file with
`markdown()` and fails when someone edits a query without regenerating the table.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from ..sparql.catalogue import NamedQuery, named_queries

INTRO = """\
# Competency queries

Questions a migration-policy researcher asks of the AFML recommendations graph, one SPARQL 1.1
query per file. Each file opens with a grlc-style `#+` YAML header (summary, description, tags,
parameters with their type and an example, and the promised columns) that SPARQL reads as
comments, so every file also runs unchanged in any SPARQL tool. No engine extensions are used:
the same files give the same rows on the embedded store, on an Oxigraph server and on Virtuoso
(the test suite checks all three).

Run one on the local build, on any SPARQL endpoint, or through `aflm-graph serve`:

    aflm-graph query recommendations-by-theme --param theme=health-care
    aflm-graph query member-state-theme-matrix --format csv > matrix.csv
    aflm-graph query search-text --param words=recruitment --endpoint http://127.0.0.1:7878/query

Parameters are bound by the engine (pyoxigraph substitution, or a `VALUES` block of escaped RDF
terms for a remote endpoint), never pasted into the text. Typed parameters accept the short
forms shown: a concept slug (`fair-recruitment`), a member state's usual name (`Viet Nam`), a
document id, or a prefixed IRI (`theme:health-care`, `id:document/...`). A parameter in
*italics* is optional: leave it out and the query answers for everything.

This file is generated: edit the headers, then run `aflm-graph queries --markdown > queries/README.md`.
"""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _params(query: NamedQuery) -> str:
    if not query.params:
        return "none"
    parts = []
    for p in query.params:
        name = f"`{p.name}`" if p.required else f"*`{p.name}`*"
        default = f", default {p.default}" if p.default is not None else ""
        parts.append(f"{name} ({p.type}{default})")
    return "<br>".join(parts)


def example_command(query: NamedQuery) -> str:
    """The command that runs the query with its required parameters set to their example values; a query with
    none shows its first optional one that has an example (a list query's every filter at once would find
    nothing on the seeds and read as a wall)."""
    words = ["aflm-graph", "query", query.name]
    shown = [p for p in query.params if p.required and p.example is not None]
    if not any(p.required for p in query.params):
        shown = [p for p in query.params if p.example is not None][:1]
    for p in shown:
        words += ["--param", f"{p.name}={p.example}"]
    if query.form in {"construct", "describe"}:
        words += ["--format", "turtle"]
    return " ".join(shlex.quote(w) for w in words)


def _answer(query: NamedQuery) -> str:
    if query.form in {"construct", "describe"}:
        return "a graph (CONSTRUCT)"
    if query.form == "ask":
        return "true or false (ASK)"
    return ", ".join(query.columns) if query.columns else "(see the query)"


def markdown(catalogue: Mapping[str, NamedQuery] | None = None) -> str:
    """The whole README: an introduction and one table row per query, in name order."""
    catalogue = named_queries() if catalogue is None else catalogue
    lines = [INTRO, f"## The {len(catalogue)} queries", "",
             "| name | question | parameters | answer | example |", "|---|---|---|---|---|"]
    for name, query in sorted(catalogue.items()):
        lines.append(
            f"| [{name}]({name}.rq) | {_cell(query.summary)} | {_params(query)} | {_cell(_answer(query))} "
            f"| `{example_command(query)}` |"
        )
    tags: dict[str, list[str]] = {}
    for name, query in sorted(catalogue.items()):
        for tag in query.tags:
            tags.setdefault(tag, []).append(name)
    lines += ["", "## By tag", ""]
    lines += [f"- **{tag}**: {', '.join(names)}" for tag, names in sorted(tags.items())]
    return "\n".join(lines) + "\n"
