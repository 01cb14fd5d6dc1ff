"""Evaluation against hand-made gold: the floors the annotator must keep, and the scorer itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from aflm_graph.enrich.evaluate import PRF, GoldError, Scores, evaluate, format_scores, load_gold
from aflm_graph.terms.vocab import KINDS, Vocabulary, load_vocabulary

DATA = Path(__file__).resolve().parent / "data"
SEED_GOLD = sorted((DATA / "gold").glob("*.gold.yaml"))
SYNTHETIC_GOLD = sorted((DATA / "synthetic").glob("*.gold.yaml"))

# Floors at what the annotator reaches (seeds: P 0.994 R 0.981 F1 0.988; synthetic: P 0.973 R 0.989 F1 0.981),
# rounded down: a change that lowers them needs a reason (and new floors), not a silent regression.
SEED_FLOORS = {"theme": 0.97, "actor": 0.98, "group": 0.98, "instrument": 1.0, "overall": 0.98}
SYNTHETIC_FLOORS = {"theme": 0.96, "actor": 0.98, "group": 0.95, "instrument": 1.0, "overall": 0.97}


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def _check_floors(scores: Scores, floors: dict[str, float]) -> None:
    report = format_scores(scores, details=True)
    for kind in KINDS:
        assert scores.by_kind[kind].f1 >= floors[kind], f"{kind} F1 below {floors[kind]}\n{report}"
    assert scores.overall.f1 >= floors["overall"], report
    assert scores.by_kind["instrument"].recall == 1.0, report


def test_seed_gold_covers_both_seeds() -> None:
    assert [p.name for p in SEED_GOLD] == ["000_c29556925cd8fb24.txt.gold.yaml", "002_71c0a65de23b0458.txt.gold.yaml"]


def test_seeds_keep_their_floor(vocab: Vocabulary) -> None:
    scores = evaluate(SEED_GOLD, vocab)
    assert scores.recommendations == 47
    assert len(scores.documents) == 2
    assert scores.overall.f1 >= 0.85  # the project's requirement; the floors below are stricter
    _check_floors(scores, SEED_FLOORS)


def test_synthetic_documents_keep_their_floor(vocab: Vocabulary) -> None:
    assert len(SYNTHETIC_GOLD) >= 3
    for gold in SYNTHETIC_GOLD:
        source = gold.parent / load_gold(gold).source_file
        assert source.read_text(encoding="utf-8").startswith("SYNTHETIC TEST FIXTURE — not a real source")
        assert gold.read_text(encoding="utf-8").startswith("# SYNTHETIC TEST FIXTURE — not a real source")
    _check_floors(evaluate(SYNTHETIC_GOLD, vocab), SYNTHETIC_FLOORS)


def test_documents_dir_is_searched(vocab: Vocabulary, tmp_path: Path) -> None:
    gold = tmp_path / "g.gold.yaml"
    gold.write_text((DATA / "synthetic" / "synthetic_vietnam_10th_afml.txt.gold.yaml").read_text(encoding="utf-8"))
    with pytest.raises(GoldError, match="not found"):
        evaluate([gold], vocab)
    assert evaluate([gold], vocab, documents_dir=DATA / "synthetic").recommendations == 10


TINY_DOC = """SYNTHETIC TEST FIXTURE — not a real source

Recommendations of a test meeting

1. Ratify C189 and protect domestic workers.

2. Provide vaccines to migrant workers in irregular situations.
"""


def _tiny(tmp_path: Path, gold_body: str) -> Path:
    (tmp_path / "tiny.txt").write_text(TINY_DOC, encoding="utf-8")
    gold = tmp_path / "tiny.txt.gold.yaml"
    gold.write_text("source_file: tiny.txt\nrecommendations:\n" + gold_body, encoding="utf-8")
    return gold


TINY_GOLD = """  "1":
    theme: [labour-standards]
    group: [domestic-workers]
    instrument: [ilo-c189]
  "2":
    theme: [health-care]
    group: [irregular-migrant-workers]
"""


def test_a_gold_that_says_what_the_text_says_scores_one(vocab: Vocabulary, tmp_path: Path) -> None:
    scores = evaluate([_tiny(tmp_path, TINY_GOLD)], vocab)
    assert scores.overall == PRF(tp=5, fp=0, fn=0)
    assert (scores.overall.precision, scores.overall.recall, scores.overall.f1) == (1.0, 1.0, 1.0)
    assert not scores.differences
    assert scores.by_kind["actor"] == PRF()  # nothing to find, nothing found


def test_disagreements_are_counted_and_listed(vocab: Vocabulary, tmp_path: Path) -> None:
    body = TINY_GOLD.replace("instrument: [ilo-c189]", "instrument: [ilo-c189, ilo-c190]").replace(
        "theme: [health-care]", "theme: []"
    )
    scores = evaluate([_tiny(tmp_path, body)], vocab)
    assert scores.by_kind["instrument"] == PRF(tp=1, fp=0, fn=1)
    assert scores.by_kind["theme"] == PRF(tp=1, fp=1, fn=0)
    kinds = {(d.recommendation, d.kind, d.slug, d.error) for d in scores.differences}
    assert kinds == {("1", "instrument", "ilo-c190", "fn"), ("2", "theme", "health-care", "fp")}
    fp = next(d for d in scores.differences if d.error == "fp")
    assert fp.evidence == ("vaccines",)
    text = format_scores(scores, details=True)
    assert "overall" in text and "fn tiny.txt 1 instrument:ilo-c190" in text and "<- vaccines" in text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (TINY_GOLD.replace("ilo-c189", "ilo-c189x"), "not a concept"),
        (TINY_GOLD.replace("theme: [health-care]", "topic: [health-care]"), "unknown kind"),
        (TINY_GOLD.replace('"2":', '"3":'), "disagree on the recommendations"),
        (TINY_GOLD.replace("group: [domestic-workers]", "group: domestic-workers"), "must be a list"),
    ],
)
def test_bad_gold_files_are_refused(vocab: Vocabulary, tmp_path: Path, body: str, message: str) -> None:
    gold = _tiny(tmp_path, body)
    with pytest.raises(GoldError, match=message) as info:
        evaluate([gold], vocab)
    assert str(gold) in str(info.value)


def test_prf_arithmetic() -> None:
    assert PRF(3, 1, 0).precision == 0.75
    assert PRF(3, 0, 1).recall == 0.75
    assert PRF().f1 == 1.0  # no decisions at all: precision and recall are both 1 by convention
    assert PRF(0, 2, 2).f1 == 0.0
    assert PRF(1, 2, 3) + PRF(4, 5, 6) == PRF(5, 7, 9)


def test_format_scores_lists_every_kind(vocab: Vocabulary) -> None:
    text = format_scores(evaluate(SEED_GOLD, vocab))
    for word in (*KINDS, "overall", "precision", "recall", "F1", "000_c29556925cd8fb24.txt"):
        assert word in text
