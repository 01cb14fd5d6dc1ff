"""Score the annotator against hand-made gold annotations (precision, recall, F1 per kind).

A gold file (YAML, see tests/data/gold/README.md) names one source document and lists, for each
of its recommendations (keyed "<sub-theme>/<label>" as printed, or "<label>" when the document has
no sub-themes), the concept slugs a careful reader assigns, by kind. The document is parsed with
:func:`aflm_graph.ingest.parse.parse_file` and annotated with :func:`aflm_graph.enrich.annotate.annotate`; a
prediction is a (recommendation, concept) pair, however many times the concept is mentioned, so
the scores measure what the graph's hasTheme / addressesActor / targetsGroup / citesInstrument
links say. Scores are micro-averaged over all recommendations of all gold files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..ingest.parse import parse_file
from ..terms.vocab import KINDS, Vocabulary, load_vocabulary
from .annotate import annotate


class GoldError(ValueError):
    """A gold file that cannot be used; the message names the file and the place."""


@dataclass(frozen=True)
class PRF:
    """True/false positive and false negative counts, with the scores they give."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: PRF) -> PRF:
        return PRF(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


@dataclass(frozen=True, order=True)
class Difference:
    """One disagreement: a predicted concept the gold lacks (fp) or a gold concept not predicted (fn)."""

    source_file: str
    recommendation: str  # the gold key, "1/3" or "a"
    kind: str
    slug: str
    error: str  # "fp" | "fn"
    evidence: tuple[str, ...] = ()  # the words that triggered a false positive


@dataclass(frozen=True)
class Gold:
    """One gold file, read and checked."""

    path: Path
    source_file: str
    source_path: Path | None
    recommendations: dict[str, dict[str, frozenset[str]]]  # key -> kind -> slugs


@dataclass(frozen=True)
class Scores:
    """Micro-averaged scores per kind and overall, per document, and every disagreement."""

    by_kind: dict[str, PRF]
    overall: PRF
    documents: dict[str, PRF]  # source_file -> overall counts of that document
    recommendations: int
    differences: tuple[Difference, ...] = field(default=())


def _rec_key(subtheme: str | None, label: str) -> str:
    return f"{subtheme}/{label}" if subtheme else label


def load_gold(path: Path, vocabulary: Vocabulary | None = None) -> Gold:
    """Read a gold YAML file; with a vocabulary, also check that every slug names a concept."""
    path = Path(path)
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GoldError(f"{path}: cannot read the gold file: {exc}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("source_file"), str):
        raise GoldError(f"{path}: expected a mapping with 'source_file' and 'recommendations'")
    recs = data.get("recommendations")
    if not isinstance(recs, Mapping) or not recs:
        raise GoldError(f"{path}: 'recommendations' must be a non-empty mapping of recommendation keys")
    out: dict[str, dict[str, frozenset[str]]] = {}
    for key, entry in recs.items():
        where = f"{path}: recommendation {key!r}"
        if entry is None:
            entry = {}
        if not isinstance(entry, Mapping):
            raise GoldError(f"{where}: expected a mapping of kind -> list of slugs")
        unknown = sorted(set(entry) - set(KINDS))
        if unknown:
            raise GoldError(f"{where}: unknown kind(s) {unknown}; use {list(KINDS)}")
        kinds: dict[str, frozenset[str]] = {}
        for kind in KINDS:
            slugs = entry.get(kind) or []
            if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
                raise GoldError(f"{where}: {kind} must be a list of slugs")
            if len(set(slugs)) != len(slugs):
                raise GoldError(f"{where}: {kind} lists a slug twice")
            if vocabulary is not None:
                for slug in slugs:
                    try:
                        vocabulary.by_slug(kind, slug)
                    except KeyError:
                        raise GoldError(f"{where}: {kind} {slug!r} is not a concept of the vocabulary") from None
            kinds[kind] = frozenset(slugs)
        out[str(key)] = kinds
    source_path = data.get("source_path")
    return Gold(
        path=path,
        source_file=data["source_file"],
        source_path=(path.parent / source_path) if isinstance(source_path, str) else None,
        recommendations=out,
    )


def _project_seeds() -> list[Path]:
    here = Path(__file__).resolve().parents[2] / "seeds"
    return [p for p in (here, Path.cwd() / "seeds") if p.is_dir()]


def find_document(gold: Gold, documents_dir: Path | None = None) -> Path:
    """The source document a gold file names: in documents_dir, at its source_path, next to it, or in seeds/."""
    candidates: list[Path] = []
    if documents_dir is not None:
        candidates.append(Path(documents_dir) / gold.source_file)
    if gold.source_path is not None:
        candidates.append(gold.source_path)
    candidates.append(gold.path.parent / gold.source_file)
    candidates += [d / gold.source_file for d in _project_seeds()]
    for c in candidates:
        if c.is_file():
            return c
    raise GoldError(
        f"{gold.path}: source document {gold.source_file!r} not found (looked in {[str(c) for c in candidates]})"
    )


def evaluate(
    gold_paths: Sequence[Path],
    vocabulary: Vocabulary | None = None,
    *,
    documents_dir: Path | None = None,
) -> Scores:
    """Annotate the documents the gold files name and compare, (recommendation, concept) pair by pair."""
    if not gold_paths:
        raise GoldError("evaluate: no gold files given")
    vocab = vocabulary if vocabulary is not None else load_vocabulary()
    counts = {kind: PRF() for kind in KINDS}
    documents: dict[str, PRF] = {}
    differences: list[Difference] = []
    n_recs = 0
    for gold_path in gold_paths:
        gold = load_gold(Path(gold_path), vocab)
        doc = parse_file(find_document(gold, documents_dir))
        keys = [_rec_key(r.subtheme, r.label) for r in doc.recommendations]
        if len(set(keys)) != len(keys):
            raise GoldError(f"{gold.path}: {doc.source_file} has two recommendations with the same key")
        missing = [k for k in keys if k not in gold.recommendations]
        extra = [k for k in gold.recommendations if k not in set(keys)]
        if missing or extra:
            raise GoldError(
                f"{gold.path}: gold and {doc.source_file} disagree on the recommendations: "
                f"not in the gold {missing}, not in the document {extra}"
            )
        doc_counts = PRF()
        for rec, key in zip(doc.recommendations, keys, strict=True):
            n_recs += 1
            predicted: dict[str, dict[str, list[str]]] = {kind: {} for kind in KINDS}
            for m in annotate(rec.text, vocab):
                slug = vocab.concept(m.concept).slug
                predicted.setdefault(m.kind, {}).setdefault(slug, []).append(m.evidence)
            for kind in KINDS:
                want = gold.recommendations[key][kind]
                got = predicted.get(kind, {})
                tp = len(want & got.keys())
                fps = sorted(got.keys() - want)
                fns = sorted(want - got.keys())
                c = PRF(tp, len(fps), len(fns))
                counts[kind] = counts[kind] + c
                doc_counts = doc_counts + c
                differences += [Difference(doc.source_file, key, kind, s, "fp", tuple(got[s])) for s in fps]
                differences += [Difference(doc.source_file, key, kind, s, "fn") for s in fns]
        documents[doc.source_file] = documents.get(doc.source_file, PRF()) + doc_counts
    overall = PRF()
    for c in counts.values():
        overall = overall + c
    return Scores(
        by_kind=counts,
        overall=overall,
        documents=dict(sorted(documents.items())),
        recommendations=n_recs,
        differences=tuple(sorted(differences)),
    )


def format_scores(scores: Scores, *, details: bool = False) -> str:
    """A plain-text table of the scores (and, with details, every disagreement with its evidence)."""
    header = f"{'':<12} {'precision':>9} {'recall':>7} {'F1':>6} {'TP':>5} {'FP':>5} {'FN':>5}"

    def row(name: str, c: PRF) -> str:
        return f"{name:<12} {c.precision:>9.3f} {c.recall:>7.3f} {c.f1:>6.3f} {c.tp:>5} {c.fp:>5} {c.fn:>5}"

    lines = [header, "-" * len(header)]
    lines += [row(kind, scores.by_kind[kind]) for kind in KINDS if kind in scores.by_kind]
    lines += ["-" * len(header), row("overall", scores.overall), ""]
    lines.append(f"{scores.recommendations} recommendations in {len(scores.documents)} document(s):")
    width = max((len(name) for name in scores.documents), default=0)
    for name, c in scores.documents.items():
        lines.append(f"  {name:<{width}}  P {c.precision:.3f}  R {c.recall:.3f}  F1 {c.f1:.3f}")
    if details and scores.differences:
        lines += ["", "Disagreements (fp: predicted, not in the gold; fn: in the gold, not predicted):"]
        for d in scores.differences:
            evidence = f"  <- {' | '.join(dict.fromkeys(d.evidence))}" if d.evidence else ""
            lines.append(f"  {d.error} {d.source_file} {d.recommendation} {d.kind}:{d.slug}{evidence}")
    return "\n".join(lines)


# --- recurrence: linked pairs against pairs judged by reading (tests/data/gold/recurrence.yaml)

RECURRENCE_GLOB = "recurrence*.yaml"
"""Recurrence gold files in a gold folder (not *.gold.yaml: those are annotation gold, one per document)."""


@dataclass(frozen=True)
class RecurrenceGold:
    """A recurrence gold file: its documents and the pairs judged same, borderline and different."""

    path: Path
    documents: tuple[str, ...]  # source files
    same: frozenset[tuple[str, str]]  # sorted ("<source_file> <key>", "<source_file> <key>")
    borderline: frozenset[tuple[str, str]]
    different: frozenset[tuple[str, str]]


@dataclass(frozen=True)
class RecurrenceScores:
    """Recurrence links scored against the gold: borderline pairs count neither way."""

    counts: PRF
    borderline_linked: int
    borderline: int
    threshold: float
    false_positives: tuple[tuple[str, str, float], ...]  # (a, b, score), not judged the same call
    false_negatives: tuple[tuple[str, str, float | None], ...]  # (a, b, score below threshold or None)


def load_recurrence_gold(path: Path) -> RecurrenceGold:
    """Read a recurrence gold file (format in its own header comment); bad entries raise GoldError."""
    path = Path(path)
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GoldError(f"{path}: cannot read the gold file: {exc}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("documents"), list) or not data.get("same"):
        raise GoldError(f"{path}: expected a mapping with 'documents' (a list) and 'same' (a list of pairs)")
    documents = tuple(str(d) for d in data["documents"])
    groups: dict[str, frozenset[tuple[str, str]]] = {}
    seen: dict[tuple[str, str], str] = {}
    for name in ("same", "borderline", "different"):
        entries = data.get(name) or []
        if not isinstance(entries, list):
            raise GoldError(f"{path}: {name} must be a list of [a, b, reason] entries")
        pairs: set[tuple[str, str]] = set()
        for i, entry in enumerate(entries):
            where = f"{path}: {name}[{i}]"
            if not (isinstance(entry, list) and len(entry) == 3 and all(isinstance(x, str) for x in entry)):
                raise GoldError(f"{where}: expected [\"<source_file> <key>\", \"<source_file> <key>\", reason]")
            a, b = sorted(entry[:2])
            if a.split(" ", 1)[0] == b.split(" ", 1)[0]:
                raise GoldError(f"{where}: both recommendations are in one document; recurrence is across documents")
            for side in (a, b):
                if side.split(" ", 1)[0] not in documents or " " not in side:
                    raise GoldError(f"{where}: {side!r} is not '<source_file> <key>' of a listed document")
            if (a, b) in seen:
                raise GoldError(f"{where}: the pair is already listed in {seen[(a, b)]}")
            seen[(a, b)] = name
            pairs.add((a, b))
        groups[name] = frozenset(pairs)
    return RecurrenceGold(path, documents, groups["same"], groups["borderline"], groups["different"])


def evaluate_recurrence(
    path: Path,
    vocabulary: Vocabulary | None = None,
    *,
    documents_dir: Path | None = None,
    threshold: float | None = None,
) -> RecurrenceScores:
    """Parse and annotate the gold's documents, link them as the build does (recurrence.recur), and score."""
    from .recurrence import DEFAULT_THRESHOLD, recur

    gold = load_recurrence_gold(path)
    vocab = vocabulary if vocabulary is not None else load_vocabulary()
    cut = DEFAULT_THRESHOLD if threshold is None else threshold
    keys: list[str] = []
    texts: list[str] = []
    owners: list[str] = []
    concepts: list[tuple[tuple[str, int], ...]] = []
    for source_file in gold.documents:
        stand_in = Gold(gold.path, source_file, None, {})
        doc = parse_file(find_document(stand_in, documents_dir))
        for rec in doc.recommendations:
            keys.append(f"{source_file} {_rec_key(rec.subtheme, rec.label)}")
            texts.append(rec.text)
            owners.append(doc.id)
            concepts.append(tuple((m.concept, m.start) for m in annotate(rec.text, vocab)))
    known = set(keys)
    for pair in sorted(gold.same | gold.borderline | gold.different):
        for side in pair:
            if side not in known:
                raise GoldError(f"{gold.path}: {side!r} is not a recommendation of the documents")
    # what the build links (same threshold and top-k), and every pair's score to say how far below a miss is
    linked = {_pair(keys, r.a, r.b) for r in recur(texts, owners, concepts, threshold=cut)}
    scored = {_pair(keys, r.a, r.b): r.score for r in recur(texts, owners, concepts, threshold=0.01, top_k=len(texts))}
    judged_different = linked - gold.same - gold.borderline
    counts = PRF(len(linked & gold.same), len(judged_different), len(gold.same - linked))
    return RecurrenceScores(
        counts=counts,
        borderline_linked=len(linked & gold.borderline),
        borderline=len(gold.borderline),
        threshold=cut,
        false_positives=tuple((a, b, scored[(a, b)]) for a, b in sorted(judged_different)),
        false_negatives=tuple((a, b, scored.get((a, b))) for a, b in sorted(gold.same - linked)),
    )


def _pair(keys: Sequence[str], a: int, b: int) -> tuple[str, str]:
    first, second = sorted((keys[a], keys[b]))
    return first, second


def format_recurrence(scores: RecurrenceScores, *, details: bool = False) -> str:
    """Recurrence precision and recall in a few lines (with details, the pairs the linker got wrong)."""
    c = scores.counts
    lines = [
        f"recurrence (threshold {scores.threshold:g}): precision {c.precision:.3f}  recall {c.recall:.3f}  "
        f"F1 {c.f1:.3f}  (TP {c.tp}, FP {c.fp}, FN {c.fn}; {scores.borderline_linked} of {scores.borderline} "
        "borderline pairs linked, counted neither way)"
    ]
    if details:
        lines += [f"  fp {a} ~ {b}  score {s:.4f}" for a, b, s in scores.false_positives]
        lines += [f"  fn {a} ~ {b}  score {'<0.01' if s is None else f'{s:.4f}'}" for a, b, s in scores.false_negatives]
    return "\n".join(lines)
