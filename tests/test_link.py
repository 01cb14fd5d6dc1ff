"""Duplicate and similarity links: the seed cases, the pair rules, top-k, determinism and scale."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import sparse

import synth
from aflm_graph.enrich import link as link_module
from aflm_graph.enrich.link import DEFAULT_THRESHOLD, Link, duplicate_key, link, terms, tfidf_matrix, tokens

# Seed texts as the parser gives them (line breaks and hyphenation repaired), keyed by (document, label).
SEED: dict[tuple[str, str], str] = {
    ("000", "1/5"): "Encourage job retention, remote/flexible arrangements, alternative employment, job "
    "creation, and renewal/extensions of contracts, visas, work permits. Allow workers to change jobs without "
    "losing visa/immigration status and implement a system by which workers can report changes to employment "
    "with Cambodian authorities, through the Embassies or labour attachés.",
    ("000", "2/4"): "ASEAN emergency and pandemic preparedness plans should take into account protections for "
    "all migrant workers (regular and irregular).",
    ("000", "2/8"): "Strengthen job-matching, skills recognition, reskilling and upskilling, and trainings.",
    ("000", "2/9"): "Ensure access to justice, including cross-border mechanisms to ensure compensation for "
    "migrant workers, especially for non-payment of wage.",
    ("000", "2/10"): "Strengthen policies and programmes for return and repatriation, and reintegration "
    "programmes and services.",
    ("000", "2/11"): "Encourage private recruitment agencies and governments to take necessary steps to "
    "legislate and ensure implementation of fair recruitment including zero recruitment fee for migrant "
    "workers, especially after the COVID-19.",
    ("000", "2/12"): "Address physical and mental health risks of migrant workers, including those affected by "
    "COVID-19, and ensure migrant workers' access to medical services free of charge.",
    ("000", "2/13"): "Ensure access to justice, including cross-border mechanisms to ensure compensation for "
    "migrant workers, especially for non-payment of wage.",
    ("000", "2/14"): "Strengthen policies and programmes for return and repatriation, and reintegration "
    "programmes and services.",
    ("000", "2/15"): "Encourage private recruitment agencies and governments to take necessary steps to "
    "legislate and ensure implementation of fair recruitment including zero recruitment fee for migrant "
    "workers, especially after the COVID-19.",
    ("002", "7"): "Encourage job retention, remote/flexible arrangements, alternative employment, job creation, "
    "and renewal/extensions of contracts, visas, work permits. Allow workers to change jobs without losing "
    "visa/immigration status.",
    ("002", "8"): "Strengthen labour market information, pre-departure, monitoring, and enforcement systems. "
    "Provide reliable information on job opportunities that are open to migrant workers and effectively "
    "monitor recruitment and placement activities to prevent unfair and illegal practices.",
    ("002", "12"): "Ensure implementation of all applicable labour standards, CLS and SDG 8 Decent work goals "
    "not only to migrant workers but also to all workers.",
    ("002", "13"): "Strengthen Occupational Safety and Health networks (OSH-NET), particularly the use of "
    "digital platforms to promote transparent sharing of information and awareness on matters related to OSH. "
    "Promote ratification of C155 and C168 among ASEAN nations.",
    ("002", "15"): "Strengthen labour market information, pre-departure, monitoring, and enforcement systems. "
    "Provide reliable information on job opportunities that are open to migrant workers and effectively "
    "monitor recruitment and placement activities to prevent unfair and illegal practices, including increase "
    "of recruitment costs.",
    ("002", "18"): "ASEAN emergency and pandemic preparedness plans and implementation of ASEAN Comprehensive "
    "Recovery Framework should include protections for migrant workers",
    ("002", "19"): "Strengthen reintegration programs, job-matching, skills recognition, reskilling and "
    "upskilling, and trainings and accelerate mutual recognition of skills and mobility frameworks.",
    ("002", "20"): "Give effect to the principle of portability of trade union membership to enable migrant "
    "workers to have effective voice and representation in their host and home countries.",
}
KEYS = list(SEED)
TEXTS = [SEED[k] for k in KEYS]
DOCS = [k[0] for k in KEYS]


def at(document: str, label: str) -> int:
    return KEYS.index((document, label))


def pairs(links: list[Link], relation: str) -> dict[tuple[int, int], float]:
    return {(x.a, x.b): x.score for x in links if x.relation == relation}


def test_seed_duplicates_are_linked_with_score_one_and_kept() -> None:
    found = pairs(link(TEXTS, DOCS), "duplicate")
    expected = {(at("000", f"2/{k}"), at("000", f"2/{k + 4}")) for k in (9, 10, 11)}
    assert set(found) == expected
    assert set(found.values()) == {1.0}


def test_seed_similar_pairs_are_found_above_the_threshold() -> None:
    found = pairs(link(TEXTS, DOCS), "similar")
    expected = {
        (at("000", "1/5"), at("002", "7")),
        (at("000", "2/8"), at("002", "19")),
        (at("002", "8"), at("002", "15")),  # one document, not a duplicate: still similar
        (at("000", "2/4"), at("002", "18")),
    }
    assert expected <= set(found)
    assert found[(at("002", "8"), at("002", "15"))] > 0.9
    assert found[(at("000", "1/5"), at("002", "7"))] > 0.75
    # Generic vocabulary alone ("migrant workers", "strengthen") does not make texts similar.
    assert (at("002", "12"), at("002", "20")) not in found
    assert (at("000", "2/10"), at("002", "19")) not in found


def test_no_similar_pair_below_the_threshold_and_scores_are_rounded() -> None:
    for threshold in (0.3, DEFAULT_THRESHOLD, 0.7):
        for x in link(TEXTS, DOCS, threshold=threshold):
            assert threshold <= x.score <= 1.0
            assert x.score == round(x.score, 4)


def test_a_duplicate_pair_is_not_also_similar_and_pairs_are_unique_ordered() -> None:
    links = link(TEXTS, DOCS)
    keys = [(x.a, x.b) for x in links]
    assert len(keys) == len(set(keys))
    assert all(x.a < x.b for x in links)
    assert links == sorted(links)


def test_every_pair_of_a_group_of_duplicates_is_linked() -> None:
    texts = ["Ensure  access to “justice”.", 'ensure access to "justice"', "ENSURE ACCESS TO “JUSTICE” ;", "x"]
    found = pairs(link(texts, ["d"] * 4), "duplicate")
    assert found == {(0, 1): 1.0, (0, 2): 1.0, (1, 2): 1.0}
    assert not pairs(link(texts, ["d"] * 4), "similar").keys() & found.keys()


def test_the_same_text_in_two_documents_is_similar_not_duplicate() -> None:
    texts = [SEED[("000", "2/9")], SEED[("000", "2/9")]]
    assert link(texts, ["000", "999"]) == [Link(0, 1, "similar", 1.0)]


def test_duplicate_key_normalises_case_quotes_spacing_and_end_punctuation() -> None:
    assert duplicate_key("Migrant  workers’ access\nto care.") == duplicate_key("migrant workers' access to care")
    assert duplicate_key("Care;") == duplicate_key("care")
    assert duplicate_key("care for workers") != duplicate_key("care for all workers")


def test_tokens_keep_codes_and_dotted_numbers_and_drop_stopwords() -> None:
    assert tokens("Promote ratification of C155 and SDG target 8.8, in 2020.") == [
        "promote",
        "ratification",
        "c155",
        "sdg",
        "target",
        "8.8",
        "2020",
    ]
    assert "sdg target" in terms("SDG target 10.7")


def test_empty_and_single_inputs_give_no_links() -> None:
    assert link([], []) == []
    assert link(["Ensure access to justice."], ["d"]) == []
    assert link(["", ""], ["d", "d"]) == []  # empty texts neither duplicate nor resemble anything


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="document ids"):
        link(["a"], [])
    with pytest.raises(ValueError, match="threshold"):
        link(["a"], ["d"], threshold=0.0)
    with pytest.raises(ValueError, match="top_k"):
        link(["a"], ["d"], top_k=0)


def _synthetic(count: int, seed: int = 3) -> tuple[list[str], list[str]]:
    return synth.recommendation_texts(count, seed=seed)


def _oracle(texts: list[str], documents: list[str], threshold: float) -> dict[tuple[int, int], float]:
    """Brute-force dense reference: every non-duplicate pair whose rounded cosine reaches the threshold."""
    matrix = tfidf_matrix(texts).toarray().astype(np.float64)
    sims = np.round(np.clip(matrix @ matrix.T, 0.0, 1.0), 4)
    keys = [(d, duplicate_key(t)) for t, d in zip(texts, documents, strict=True)]
    out = {}
    for a, b in zip(*np.nonzero(np.triu(sims >= threshold, 1)), strict=True):
        if not (keys[a] == keys[b] and keys[a][1]):
            out[(int(a), int(b))] = float(sims[a, b])
    return out


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Force many row blocks and a dense head on a small corpus, so both code paths are exercised."""
    monkeypatch.setattr(link_module, "_BLOCK_CELLS", 20_000)
    monkeypatch.setattr(link_module, "_HEAD_MIN_DF", 5)


@pytest.mark.usefixtures("small_blocks")
def test_blocked_product_matches_a_dense_reference() -> None:
    texts, documents = _synthetic(600)
    expected = _oracle(texts, documents, DEFAULT_THRESHOLD)
    found = pairs(link(texts, documents, top_k=len(texts)), "similar")
    assert set(found) == set(expected)
    assert all(abs(found[p] - expected[p]) <= 1e-4 for p in found)


@pytest.mark.usefixtures("small_blocks")
def test_top_k_keeps_the_union_of_each_texts_best_neighbours() -> None:
    texts, documents = _synthetic(600)
    top_k = 2
    reference = _oracle(texts, documents, DEFAULT_THRESHOLD)
    neighbours: dict[int, list[tuple[float, int]]] = {}
    for (a, b), score in reference.items():
        neighbours.setdefault(a, []).append((-score, b))
        neighbours.setdefault(b, []).append((-score, a))
    chosen = {i: {j for _, j in sorted(ns)[:top_k]} for i, ns in neighbours.items()}
    expected = {(a, b) for (a, b) in reference if b in chosen[a] or a in chosen[b]}
    found = set(pairs(link(texts, documents, top_k=top_k), "similar"))
    assert found == expected
    assert len(found) < len(reference)  # the cap did cut something
    assert len(found) <= top_k * len(texts)


def test_a_text_keeps_at_most_top_k_of_its_own_neighbours() -> None:
    base = SEED[("002", "8")]
    texts = [f"{base} Variant {k}." for k in range(6)]
    documents = [f"doc{k}" for k in range(6)]
    found = pairs(link(texts, documents, top_k=1), "similar")
    assert 3 <= len(found) <= 6
    for i in range(6):
        assert any(i in p for p in found)


def test_output_is_deterministic_and_independent_of_input_order() -> None:
    texts, documents = _synthetic(800, seed=9)
    first = link(texts, documents, top_k=1000)
    assert link(texts, documents, top_k=1000) == first
    order = list(range(len(texts)))
    random.Random(4).shuffle(order)
    shuffled = link([texts[i] for i in order], [documents[i] for i in order], top_k=1000)
    remapped = sorted(
        Link(min(order[x.a], order[x.b]), max(order[x.a], order[x.b]), x.relation, x.score) for x in shuffled
    )
    assert remapped == first


def test_five_thousand_synthetic_texts_link_and_every_generated_duplicate_is_found() -> None:
    corpus = synth.generate(240, seed=21)
    texts: list[str] = []
    documents: list[str] = []
    expected_duplicates: set[tuple[int, int]] = set()
    for document in corpus:
        offset = len(texts)
        for position, item in enumerate(document.items):
            if item.duplicate_of is not None:
                expected_duplicates.add((offset + item.duplicate_of, offset + position))
            texts.append(item.text)
            documents.append(document.file_name)
    texts, documents = texts[:5000], documents[:5000]
    expected_duplicates = {p for p in expected_duplicates if p[1] < 5000}
    assert len(texts) == 5000 and expected_duplicates
    links = link(texts, documents)
    assert expected_duplicates <= set(pairs(links, "duplicate"))
    assert pairs(links, "similar")


def test_scored_pairs_never_pairs_rows_of_one_group_and_keeps_the_threshold() -> None:
    """The shared machinery (recurrence.py uses it with the document as the group)."""
    matrix = tfidf_matrix(["fair recruitment fees", "fair recruitment fees", "zero recruitment fees", "remittances"])
    group = np.array([0, 0, 1, 1])
    a, b, scores = link_module.scored_pairs(matrix, group, threshold=0.1, top_k=5)
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    assert pairs == {(0, 2), (1, 2)}  # 0-1 share a group; 3 shares nothing
    assert scores[0] == scores[1] and 0.1 <= scores[0] < 1.0
    blocked = link_module.scored_pairs(matrix, group, threshold=0.1, top_k=5, exact_limit=1)
    assert set(zip(blocked[0].tolist(), blocked[1].tolist(), strict=True)) == pairs
    assert len(link_module.scored_pairs(matrix[:1], group[:1], threshold=0.1, top_k=5)[0]) == 0


def _document_groups(documents: list[str]) -> np.ndarray:
    ids: dict[str, int] = {}
    return np.array([ids.setdefault(d, i) for i, d in enumerate(documents)], dtype=np.int64)


@pytest.mark.parametrize(("threshold", "top_k"), [(0.15, 3), (0.15, 1), (0.3, 10)])
def test_scored_pairs_fast_paths_keep_what_the_general_ones_keep(threshold: float, top_k: int) -> None:
    """The recurrence paths prune before rescoring: the same (a, b, score) as link()'s paths, at a low threshold."""
    texts, documents = _synthetic(2_500, seed=5)
    matrix, group = tfidf_matrix(texts), _document_groups(documents)
    exact = link_module._similar_pairs(matrix, group, threshold=threshold, top_k=top_k)
    pruned = link_module._similar_pairs(matrix, group, threshold=threshold, top_k=top_k, prune=True)
    blocked = link_module._blocked_pairs(matrix, group, threshold=threshold, top_k=top_k)
    per_row = link_module._blocked_top_pairs(matrix, group, threshold=threshold, top_k=top_k)
    assert len(exact[0]) > 1_000 and len(blocked[0]) > 1_000
    for got, want in ((pruned, exact), (per_row, blocked)):
        for array, expected in zip(got, want, strict=True):
            assert np.array_equal(array, expected)
    assert link_module.scored_pairs(matrix, group, threshold=threshold, top_k=top_k, exact_limit=0)[0].tolist() \
        == per_row[0].tolist()


def test_blocked_top_pairs_are_the_same_in_two_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    texts, documents = _synthetic(2_000, seed=6)
    matrix, group = tfidf_matrix(texts), _document_groups(documents)
    serial = link_module._blocked_top_pairs(matrix, group, threshold=0.15, top_k=3)
    monkeypatch.setattr(link_module, "PARALLEL_FROM", 0)
    monkeypatch.setattr(link_module.os, "cpu_count", lambda: 2)  # two workers even on a one-core machine
    parallel = link_module._blocked_top_pairs(matrix, group, threshold=0.15, top_k=3)
    assert len(serial[0]) > 1_000
    for array, expected in zip(parallel, serial, strict=True):
        assert np.array_equal(array, expected)


def test_window_spans_cut_big_blocks_into_half_overlapping_windows() -> None:
    # eight rows share the rare column 0 (and the common column 1); rows 8-9 share only column 2
    rows = [[0, 1]] * 8 + [[1, 2], [1, 2]]
    dense = np.zeros((10, 3))
    for i, columns in enumerate(rows):
        dense[i, columns] = 1.0
    spans, members = link_module._window_spans(sparse.csr_matrix(dense), key_terms=1, window=4)
    assert [members[start:end].tolist() for start, end in spans] == [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7],
                                                                       [8, 9]]
