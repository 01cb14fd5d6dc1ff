"""Link recommendations of different documents that make the same call in other words (recurrence).

`link.py`'s `similar` relation finds near-identical text; it misses paraphrase ("portability of social
protection" vs "a framework on portable social security rights"). A recurrence link joins two
recommendations of DIFFERENT documents whose combined evidence says they ask for the same thing.

Score: the cosine of two feature vectors, each an L2-normalised bag of
  * words: content words (link.py's folding, tokens and stopwords, plus a few call verbs that every
    recommendation uses: "ensure", "strengthen", "promote", ...), stemmed by truncation to
    ``STEM_LENGTH`` (6) characters ("portability"/"portable" -> "portab", "accessible"/"access" ->
    "access"; "re-integration" is joined to "reintegration" first), and the bigrams of adjacent stems;
  * concepts: every theme, actor, group and instrument the annotator found, weighted ``CONCEPT_WEIGHT``
    (1.5), so the graph's own reading counts a little more than one word.
Each feature is binary (present or not) times its smoothed idf over the recommendations linked
(ln((1+n)/(1+df)) + 1): "migrant workers", "government" or the theme "return and reintegration" weigh
little, "portab" or the instrument "ASEAN Declaration on Social Protection" much. A recommendation's
call is its head: the words before the first sentence end, semicolon or colon, or before "including",
"especially", "particularly", "in particular", "such as". Words and concepts (by where their evidence
starts) after the head are examples and side clauses and weigh ``TAIL_WEIGHT`` (0.3); a feature in both
parts takes the higher weight. Scores are rounded to 4 decimals.

Threshold (``DEFAULT_THRESHOLD`` = 0.15), from the two seeds' 546 cross-document pairs against
tests/data/gold/recurrence.yaml (21 pairs judged by reading to make the same call, 13 borderline ones
ignored, judged before any tuning). Gold pairs score 0.16-0.97, except three: 0.098 twice (000 2/9 and
its repeat 2/13 vs 002 2/14, unpaid wages said in other words) and 0.104 (000 2/3 vs 002 2/17, where
000's portability call is its second sentence, weighted as tail). Pairs judged different score at most
0.135, except one: 0.168 (000 2/2 vs 002 1/13, safe workplaces vs an OSH network, which share
occupational safety and health). Any threshold in [0.136, 0.161] gives precision 0.947 (18 / 19) and
recall 0.857 (18 / 21), with 3 of the 13 borderline pairs linked; 0.15 sits in that band. Without the
head weighting the best threshold gave F1 0.79 (P 0.70, R 0.90). A few hundred configurations (stem
length, bigrams, concept weight, tail weight, cosine vs containment) were tried; the chosen one is on a
plateau, not at a single best point, but it was chosen on the seeds alone: the figures are in-sample
(docs/design.md, "Recurrence").

Scale: link.py's machinery (`scored_pairs`), pruned for a low threshold: never the n² matrix, each text
keeps its ``top_k`` best neighbours above the threshold, pairs inside one document are blanked (the
document is the "group"). Up to ``link.EXACT_LIMIT`` texts every pair is compared and a candidate is
rescored exactly only where it can still enter a text's top-k; above, only texts that share rare features
are compared (the windows of `similar`'s blocked path) and each text's top-k is kept while the windows are
scored, instead of collecting, de-duplicating and rescoring every pair above 0.15 (1.9 million at 25,482
texts). Both give exactly the links the unpruned paths give (tests compare them). `feature_matrix` is numpy
over token ids; only the tokenising is per text. ``DEFAULT_TOP_K`` is 3, not `similar`'s 10: on the
synthetic corpus of 1,000 documents (25,482 texts, made from a few sentence frames and the vocabularies'
labels, so far more alike than real documents) 10 gave 174,107 links (6.8 per text, 1.6 million triples,
as many as the rest of the build), 5 gave 89,640 and 3 gives 55,243 (+0.52 million triples, +32%). `recur`
takes 1.3 s CPU there at top_k 3 (1.9 s at 10; 0.5 s of it the features), 300 MiB peak for the whole
benchmark; before the pruning 4.7 s CPU, 566 MiB (docs/design.md, "Recurrence";
``.venv/bin/python bench/recurrence.py --texts 25482 --seed 1 --top-k 3``). A recurring call still shows
as a connected cluster (each member keeps its 3 nearest); on the seeds every top_k from 2 up gives the
same links. Deterministic: sorted feature columns, float64 exact rescoring, rounded scores, ties to the
lower index, sorted output.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .link import EXACT_LIMIT, STOPWORDS, _fold, scored_pairs

DEFAULT_THRESHOLD = 0.15
"""Minimum rounded score of a recurrence link; see the module docstring for the seed evidence."""
CONCEPT_WEIGHT = 1.5
"""A concept the annotator found counts this much, before idf (a word counts 1)."""
TAIL_WEIGHT = 0.3
"""Weight of the words and concepts after a recommendation's head (its call) relative to the head's."""
DEFAULT_TOP_K = 3
"""Neighbours each recommendation keeps (a pair stays when either side keeps it): see "Scale" above."""
STEM_LENGTH = 6
"""Words are cut to this many characters: a stemmer with no data that joins portable/portability."""

CALL_WORDS: frozenset[str] = frozenset(
    ["all", "also", "develop", "encourage", "ensure", "especially", "include", "including", "promote", "provide",
     "strengthen", "support"]
)
"""Verbs and fillers that open or join nearly every recommendation: they say nothing about the call."""

_HEAD_END = re.compile(
    r"[.;:](?:\s|$)|\b(?:including|especially|particularly|in particular|such as)\b", re.IGNORECASE
)
_HEAD_END_FOLDED = re.compile(_HEAD_END.pattern)  # the same on lower-case ASCII text, without IGNORECASE
_TOKEN = re.compile(r"\d+(?:\.\d+)+|[^\W_]+")
_JOINED_PREFIX = re.compile(r"\b(re|co|pre|non)-(?=[^\W\d_])")
_CONCEPT = "\x00"  # a concept column's prefix: no word feature starts with it

_DROPPED = STOPWORDS | CALL_WORDS


@dataclass(frozen=True, order=True)
class Recurrence:
    """Two recommendations of different documents that make the same call; `a` < `b` index the input."""

    a: int
    b: int
    score: float  # in [threshold, 1], rounded to 4 decimals
    shared: tuple[str, ...]  # concept IRIs both carry, sorted: what a reader checks the link against


def head_end(text: str) -> int:
    """Offset where a recommendation's head (its call) ends: see the module docstring."""
    found = _HEAD_END.search(text)
    return found.start() if found else len(text)


def _stems(text: str) -> list[str]:
    folded = _JOINED_PREFIX.sub(r"\1", _fold(text))
    return [
        word[:STEM_LENGTH]
        for word in _TOKEN.findall(folded)
        if word not in STOPWORDS and word not in CALL_WORDS and (len(word) > 1 or word.isdigit())
    ]


def features(text: str, concepts: Sequence[tuple[str, int]]) -> dict[str, float]:
    """Weighted features (before idf) of one recommendation; `concepts` are (concept IRI, evidence start)."""
    cut = head_end(text)
    out: dict[str, float] = {}
    for part, weight in ((text[:cut], 1.0), (text[cut:], TAIL_WEIGHT)):
        stems = _stems(part)
        for feature in itertools.chain(stems, (f"{a} {b}" for a, b in itertools.pairwise(stems))):
            if out.get(feature, 0.0) < weight:
                out[feature] = weight
    for concept, start in concepts:
        key = _CONCEPT + concept
        weight = CONCEPT_WEIGHT * (1.0 if start < cut else TAIL_WEIGHT)
        if out.get(key, 0.0) < weight:
            out[key] = weight
    return out


def feature_matrix(texts: Sequence[str], concepts: Sequence[Sequence[tuple[str, int]]]) -> sparse.csr_matrix:
    """L2-normalised rows of weight x idf (float64 CSR, columns in sorted-feature order, sorted indices).

    The same values, bit for bit, as building each row from `features` (a test checks it), but only the
    tokenising is Python: the bigrams, the per-row maximum weight, idf and norms are numpy over id arrays.
    """
    n = len(texts)
    if len(concepts) != n:
        raise ValueError(f"feature_matrix: {n} texts but {len(concepts)} concept lists")
    words: list[str] = []  # every token, text by text, head then tail (`_stems` before its filter)
    part_sizes: list[int] = []  # 2 per text: its head's tokens, its tail's
    concept_names: list[str] = []
    concept_rows: list[int] = []
    concept_tail: list[bool] = []
    for row, (text, found) in enumerate(zip(texts, concepts, strict=True)):
        if text.isascii():  # casefold keeps offsets: fold once, cut the folded text (the fast path)
            folded = text.casefold()
            end = _HEAD_END_FOLDED.search(folded)
            cut = end.start() if end else len(text)
            parts = (folded[:cut], folded[cut:])
        else:
            cut = head_end(text)
            parts = (_fold(text[:cut]), _fold(text[cut:]))
        for piece in parts:
            tokens = _TOKEN.findall(_JOINED_PREFIX.sub(r"\1", piece) if "-" in piece else piece)
            words += tokens
            part_sizes.append(len(tokens))
        for concept, start in found:
            concept_names.append(concept)
            concept_rows.append(row)
            concept_tail.append(start >= cut)
    # `_stems`' filter and cut, once per distinct token
    distinct = list(dict.fromkeys(words))
    stem_id: dict[str, int] = {}
    token_stem = np.array(
        [-1 if word in _DROPPED or (len(word) == 1 and not word.isdigit())
         else stem_id.setdefault(word[:STEM_LENGTH], len(stem_id)) for word in distinct],
        dtype=np.int64,
    )
    stems = list(stem_id)
    token_id = {word: i for i, word in enumerate(distinct)}
    ids = token_stem[np.fromiter(map(token_id.__getitem__, words), dtype=np.int64, count=len(words))]
    part = np.repeat(np.arange(2 * n, dtype=np.int64), np.asarray(part_sizes, dtype=np.int64))
    kept = ids >= 0
    ids, part = ids[kept], part[kept]
    is_bigram = part[1:] == part[:-1]  # adjacent stems of one part
    pair_keys, pair_code = np.unique(ids[:-1][is_bigram] * len(stems) + ids[1:][is_bigram], return_inverse=True)
    first, second = np.divmod(pair_keys, max(1, len(stems)))
    bigrams = [f"{stems[x]} {stems[y]}" for x, y in zip(first.tolist(), second.tolist(), strict=True)]
    concept_id = {concept: i for i, concept in enumerate(dict.fromkeys(concept_names))}
    # feature keys: stems, then bigrams, then concepts (each set is disjoint: no stem holds a space or \x00)
    names = [*stems, *bigrams, *(_CONCEPT + concept for concept in concept_id)]
    part_weight = np.where(part % 2 == 0, 1.0, TAIL_WEIGHT)
    keys = np.concatenate([
        ids,
        len(stems) + pair_code.astype(np.int64).ravel(),
        len(stems) + len(bigrams) + np.fromiter(map(concept_id.__getitem__, concept_names), dtype=np.int64,
                                                count=len(concept_names)),
    ])
    rows = np.concatenate([part // 2, part[1:][is_bigram] // 2, np.asarray(concept_rows, dtype=np.int64)])
    weights = np.concatenate([
        part_weight,
        part_weight[1:][is_bigram],
        np.where(np.asarray(concept_tail, dtype=bool), CONCEPT_WEIGHT * TAIL_WEIGHT, CONCEPT_WEIGHT * 1.0),
    ])
    vocabulary = len(names)
    rank = np.empty(vocabulary, dtype=np.int64)
    rank[np.array(sorted(range(vocabulary), key=names.__getitem__), dtype=np.int64)] = np.arange(vocabulary)
    cells = rows * vocabulary + rank[keys]  # (row, column) in one int64; columns in sorted-feature order
    order = np.argsort(cells, kind="stable")
    cells, weights = cells[order], weights[order]
    starts = np.flatnonzero(np.concatenate([[True], cells[1:] != cells[:-1]])) if len(cells) else order
    values = np.maximum.reduceat(weights, starts) if len(cells) else weights  # a feature's highest weight
    rows, cols = np.divmod(cells[starts], max(1, vocabulary))
    kept = values > 0.0  # as in `features`: a zero weight adds no feature
    values, rows, cols = values[kept], rows[kept], cols[kept]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int64)
    df = np.bincount(cols, minlength=vocabulary)
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    values = values * idf[cols]
    # each row's squares summed in column order by np.add.reduceat, as scipy's row sum does: the same norms
    squares = np.zeros(n, dtype=np.float64)
    filled = np.flatnonzero(np.diff(indptr))
    if len(filled):
        squares[filled] = np.add.reduceat(values * values, indptr[filled])
    norms = np.sqrt(squares)
    norms[norms == 0.0] = 1.0
    values = values * (1.0 / norms)[rows]
    return sparse.csr_matrix((values, cols, indptr), shape=(n, vocabulary))


def recur(
    texts: Sequence[str],
    documents: Sequence[str],
    concepts: Sequence[Sequence[tuple[str, int]]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    top_k: int = DEFAULT_TOP_K,
    exact_limit: int = EXACT_LIMIT,
) -> list[Recurrence]:
    """Recurrence links among recommendations, sorted by (a, b).

    ``texts[i]`` is recommendation i's text, ``documents[i]`` its document id, ``concepts[i]`` the
    (concept IRI, evidence start) of each mention the annotator found in it. Only pairs of different
    documents are linked; ``top_k`` caps the neighbours each text keeps (the union of both sides' lists).
    """
    if not len(texts) == len(documents) == len(concepts):
        raise ValueError(f"recur: {len(texts)} texts, {len(documents)} document ids, {len(concepts)} concept lists")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"recur: threshold must be in (0, 1], got {threshold}")
    if top_k < 1:
        raise ValueError(f"recur: top_k must be at least 1, got {top_k}")
    if len(set(documents)) < 2:
        return []
    ids: dict[str, int] = {}
    group = np.array([ids.setdefault(d, i) for i, d in enumerate(documents)], dtype=np.int64)
    matrix = feature_matrix(texts, concepts)
    a, b, scores = scored_pairs(matrix, group, threshold=threshold, top_k=top_k, exact_limit=exact_limit)
    found = [frozenset(concept for concept, _ in found) for found in concepts]
    # scored_pairs' pairs are distinct and sorted by (a, b): so is the list
    return [
        Recurrence(x, y, score, tuple(sorted(found[x] & found[y])))
        for x, y, score in zip(a.tolist(), b.tolist(), scores.tolist(), strict=True)
    ]

