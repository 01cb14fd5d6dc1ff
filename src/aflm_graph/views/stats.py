"""Network analytics over the same networkx graph the views draw: who is central, what goes together, who is alike.

Three tables, printed by `aflm-graph stats` and written as CSV to `<build>/stats/`:

- `concepts.csv`: degree (recommendations that mention it) and betweenness (how often it lies on the
  shortest paths of the corpus graph: a concept that bridges otherwise separate parts) of every
  theme, actor, target group and instrument;
- `theme-communities.csv`: communities of themes that are mentioned in the same recommendations
  (Louvain on the co-occurrence graph, fixed seed);
- `member-state-similarity.csv`: the most similar pairs of member states (or documents whose
  issuer is unknown) by theme profile: cosine of their recommendations-per-theme counts.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx

from ..fsutil import atomic_write_bytes
from .network import CONCEPT_KINDS, Corpus, corpus_graph, load_corpus

if TYPE_CHECKING:
    import pyoxigraph as ox

# Exact betweenness is O(nodes x edges); above this many nodes it is estimated from a fixed sample.
EXACT_BETWEENNESS_MAX_NODES = 2000
BETWEENNESS_SAMPLE = 500
SEED = 7


@dataclass
class StatsTable:
    """One result table: a file name, a title for the terminal, a header and rows of plain values."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[str | int | float]]
    note: str = ""

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(self.columns)
        writer.writerows([_cell(v) for v in row] for row in self.rows)
        return buffer.getvalue()

    def to_text(self, *, limit: int | None = None, width: int = 48) -> str:
        """A plain table for the terminal; long values are cut with an ellipsis."""
        shown = self.rows if limit is None else self.rows[:limit]
        body = [[_clip(_cell(v), width) for v in row] for row in shown]
        widths = [max([len(c)] + [len(r[i]) for r in body]) for i, c in enumerate(self.columns)]
        lines = [self.title, "  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True)).rstrip(),
                 "  ".join("-" * w for w in widths)]
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in body]
        more = len(self.rows) - len(shown)
        rows = f"{len(self.rows)} row" + ("" if len(self.rows) == 1 else "s")
        footer = f"({rows}" + (f", {more} more in {self.name}.csv)" if more else ")")
        lines.append(footer + (f"  {self.note}" if self.note else ""))
        return "\n".join(lines) + "\n"


def _cell(value: str | int | float) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def concept_centrality(corpus: Corpus) -> StatsTable:
    """Degree and betweenness of every concept in the corpus graph (the overview's graph, uncut)."""
    g = corpus_graph(corpus)
    ordered = nx.Graph()
    ordered.add_nodes_from(sorted(g.nodes))
    ordered.add_edges_from(sorted((min(a, b), max(a, b)) for a, b in g.edges))
    sampled = ordered.number_of_nodes() > EXACT_BETWEENNESS_MAX_NODES
    k = min(BETWEENNESS_SAMPLE, ordered.number_of_nodes()) if sampled else None
    betweenness = nx.betweenness_centrality(ordered, k=k, seed=SEED if sampled else None, normalized=True)
    rows: list[list[str | int | float]] = []
    for iri, concept in corpus.concepts.items():
        recs = [r for r in g.neighbors(iri) if g.nodes[r]["kind"] == "recommendation"]
        docs = {corpus.recommendations[r].document for r in recs}
        states = {corpus.documents[d].member_state for d in docs} - {None}
        rows.append([concept.kind, iri.rsplit("/", 1)[-1], concept.label, len(recs), len(docs), len(states),
                     round(betweenness.get(iri, 0.0), 6)])
    kind_rank = {k: i for i, k in enumerate(CONCEPT_KINDS)}
    rows.sort(key=lambda r: (-int(r[3]), -float(r[6]), kind_rank.get(str(r[0]), 9), str(r[1])))
    note = f"betweenness estimated from {k} sampled sources (seed {SEED})" if sampled else ""
    return StatsTable(
        name="concepts",
        title="Concepts by degree (recommendations that mention them) and betweenness",
        columns=["kind", "concept", "label", "degree", "documents", "member_states", "betweenness"],
        rows=rows,
        note=note,
    )


def theme_cooccurrence(corpus: Corpus) -> nx.Graph:
    """Themes joined when one recommendation mentions both; weight = how many recommendations do."""
    themes_of: dict[str, list[str]] = defaultdict(list)
    for rec, concept in corpus.mentions:
        if corpus.concepts[concept].kind == "theme":
            themes_of[rec].append(concept)
    g = nx.Graph()
    g.add_nodes_from(sorted(c for c in corpus.concepts if corpus.concepts[c].kind == "theme"))
    for rec in sorted(themes_of):
        themes = sorted(set(themes_of[rec]))
        for i, a in enumerate(themes):
            for b in themes[i + 1 :]:
                weight = g.edges[a, b]["weight"] + 1 if g.has_edge(a, b) else 1
                g.add_edge(a, b, weight=weight)
    return g


def theme_communities(corpus: Corpus) -> StatsTable:
    """Communities of themes that go together (Louvain with a fixed seed: the same build, the same answer)."""
    g = theme_cooccurrence(corpus)
    mentions: dict[str, int] = defaultdict(int)
    for _rec, concept in corpus.mentions:
        mentions[concept] += 1
    communities = nx.community.louvain_communities(g, weight="weight", seed=SEED) if g.number_of_nodes() else []
    ordered = sorted((sorted(c) for c in communities), key=lambda c: (-len(c), -sum(mentions[t] for t in c), c))
    rows: list[list[str | int | float]] = []
    for number, members in enumerate(ordered, 1):
        for theme in sorted(members, key=lambda t: (-mentions[t], t)):
            partners = sorted(g.neighbors(theme), key=lambda t: (-g.edges[theme, t]["weight"], t))
            rows.append([number, theme.rsplit("/", 1)[-1], corpus.concepts[theme].label, mentions[theme],
                         "; ".join(corpus.concepts[p].label for p in partners[:5])])
    return StatsTable(
        name="theme-communities",
        title="Communities of themes mentioned in the same recommendations",
        columns=["community", "theme", "label", "recommendations", "most_often_with"],
        rows=rows,
    )


def member_state_similarity(corpus: Corpus) -> StatsTable:
    """Pairs of member states (or documents of unknown issuer) by the cosine of their theme profiles."""
    profile: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for doc in corpus.documents.values():
        profile.setdefault(doc.origin, defaultdict(int))  # an origin without themes has a zero profile
    for rec, concept in corpus.mentions:
        if corpus.concepts[concept].kind == "theme":
            profile[corpus.origin_of(rec)][concept] += 1
    origins = sorted(profile)
    rows: list[list[str | int | float]] = []
    for i, a in enumerate(origins):
        for b in origins[i + 1 :]:
            pa, pb = profile[a], profile[b]
            dot = sum(pa[t] * pb.get(t, 0) for t in pa)
            norm = math.sqrt(sum(v * v for v in pa.values())) * math.sqrt(sum(v * v for v in pb.values()))
            shared = sorted((t for t in pa if t in pb), key=lambda t: (-(pa[t] + pb[t]), t))
            rows.append([a, b, round(dot / norm, 6) if norm else 0.0, len(shared),
                         "; ".join(corpus.concepts[t].label for t in shared[:6])])
    rows.sort(key=lambda r: (-float(r[2]), -int(r[3]), str(r[0]), str(r[1])))
    return StatsTable(
        name="member-state-similarity",
        title="Member states (or documents of unknown issuer) most alike by theme profile (cosine)",
        columns=["a", "b", "cosine", "shared_themes", "top_shared"],
        rows=rows,
    )


def compute(store: ox.Store) -> list[StatsTable]:
    """Every table, computed from a build's store."""
    corpus = load_corpus(store)
    return [concept_centrality(corpus), theme_communities(corpus), member_state_similarity(corpus)]


def write_stats(tables: list[StatsTable], folder: Path) -> dict[str, int]:
    """Write each table as `<name>.csv` in `folder`; return bytes per file."""
    sizes: dict[str, int] = {}
    for table in tables:
        data = table.to_csv().encode("utf-8")
        atomic_write_bytes(folder / f"{table.name}.csv", data)
        sizes[f"{table.name}.csv"] = len(data)
    return sizes
