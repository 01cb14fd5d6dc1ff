"""Link recommendations that repeat each other (duplicates) or say nearly the same (similar).

Two relations, both undirected and reported once as ``Link(a, b, ...)`` with ``a < b``:

``duplicate`` (score 1.0)
    The same text twice in ONE document, compared after normalising Unicode (NFKC), case,
    curly vs straight quotes and dashes, runs of whitespace and trailing punctuation. Seed 000
    repeats items 9-11 of its sub-theme 2 word for word as items 13-15. Every pair of a group of
    identical texts is linked (a group of three gives three pairs), not a chain to the first
    occurrence: a researcher asking "what repeats this item?" gets the answer from one
    triple pattern, without a transitive closure, and the graph does not depend on which copy
    happens to come first. Duplicates are kept as separate recommendations, never merged.

``similar`` (score = rounded cosine, in [threshold, 1])
    TF-IDF cosine between any two texts (different documents, or one document when the pair
    is not a duplicate). Features are word unigrams and bigrams: lower-cased Unicode word
    characters, dotted numbers kept whole ("8.8", "10.7"), codes such as "c155" kept, a short
    English stopword list and one-letter words dropped, bigrams formed over the remaining
    words. Term frequency is sublinear (1 + ln tf), idf is smoothed (ln((1+n)/(1+df)) + 1),
    rows are L2-normalised. Word n-grams rather than character n-grams because they are
    several times sparser (cheaper at scale), the bigrams reward shared phrasing ("fair
    recruitment", "social protection") rather than shared vocabulary, and the parser already
    repairs the hyphenation and line-break damage that character n-grams would otherwise
    absorb. The idf is fitted on the texts passed in, so scores are relative to the corpus
    being linked: link the whole corpus at once.

Threshold (``DEFAULT_THRESHOLD`` = 0.4), read off the two seeds (47 recommendations, 1,081
pairs). The four pairs a reader calls "the same recommendation, reworded" score 0.93 (002 items
8/15), 0.81 (000 1/5 vs 002 item 7), 0.65 (000 2/8 vs 002 item 19, one shared phrase on skills)
and 0.48 (000 2/4 vs 002 item 18, "ASEAN emergency and pandemic preparedness plans ... protections
for migrant workers"); every other pair scores 0.25 or less and shares only generic vocabulary
("return and reintegration", "social protection"). 0.4 sits in that empty band, nearer its
bottom so that the weakest true paraphrase keeps a margin of 0.08 and the strongest
non-paraphrase is 0.15 below. Features were chosen on the same evidence: word uni+bigrams with
stopwords separate the two groups by a factor of 1.96 (0.48 / 0.25), unigrams alone by 1.3,
character 3-5-grams by 1.2 with 14 times as many non-zeros per row.

Scale: the product X·Xᵀ is never materialised. Terms that occur in very many texts ("migrant",
"workers", "migrant workers") are the ones that make a sparse product dense, so the columns are
split: the few high-df columns go into a small dense matrix multiplied with BLAS, the long
tail stays sparse (scipy.sparse), and rows are processed in blocks of at most
``_BLOCK_CELLS / n`` rows (<= 2,000). Memory is O(nnz + n·head + block·n), never n²; each
block keeps, per row, its ``top_k`` best neighbours above the threshold. A pair is reported
when either side keeps the other (the union of the per-row top-k lists), so a text can
appear in more than ``top_k`` pairs when it is the nearest neighbour of many others.

Determinism: the vocabulary is sorted (so column order, and floating-point summation order,
never depends on input order or hash seeds). The float32 BLAS product only proposes candidates
(with a 1e-3 margin); every reported score is recomputed in float64 from the sparse rows in a
fixed order and rounded to 4 decimals before it is compared with the threshold or ranked, so
BLAS builds and thread counts cannot change the output (float32 scores alone gave different
outputs for OPENBLAS_NUM_THREADS=1 and 2 on 8,000 texts).
Ties at a top-k cut go to the lower index, and the output is sorted.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing as mp
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from scipy import sparse


@dataclass(frozen=True, order=True)
class Link:
    """An undirected pair of recommendations; `a` sorts before `b`; indexes into the input list."""

    a: int
    b: int
    relation: str  # "duplicate" | "similar"
    score: float  # in [0, 1]


DEFAULT_THRESHOLD = 0.4
"""Minimum rounded cosine for a `similar` link; see the module docstring for the seed evidence."""

SCORE_DECIMALS = 4
"""Scores are rounded to this many decimals so output is identical across machines and BLAS builds."""

STOPWORDS: frozenset[str] = frozenset(
    """
    a about above after all also an and any are as at be been being both but by can could do does
    during each either for from had has have having how if in into is it its itself may might more
    most must no nor not of on or other our over own same shall should so such than that the their
    them then there these they this those through to too under until up upon very via was we were
    what when where whether which while who whom whose why will with within without would
    """.split()  # noqa: SIM905 -- a word list reads better as text
)
"""Function words only: they carry no topic, and dropping them lets bigrams join content words."""

_TOKEN = re.compile(r"\d+(?:\.\d+)+|[^\W_]+")
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00ad": None,  # soft hyphen: an extraction artefact, not text
    }
)
_TRAILING = " .,;:!?-'\""  # stripped from the end of a duplicate key
_BLOCK_CELLS = 16_000_000  # floats per dense block (64 MB as float32)
_MAX_BLOCK_ROWS = 2_000
_HEAD_DF_RATIO = 0.05  # columns in more than 5% of the texts go dense
_HEAD_MIN_DF = 64  # below this a column is cheap enough to stay sparse
_MAX_HEAD = 1_024  # cap on dense columns: n x 1,024 float32 is 80 MB at n = 20,000


def _fold(text: str) -> str:
    """NFKC, straight quotes and dashes, case-folded: the common ground of both comparisons."""
    if not text.isascii():  # the ASCII fast path matters at tens of thousands of texts
        text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return text.casefold()


def duplicate_key(text: str) -> str:
    """The form two texts must share to count as duplicates (case, quotes, spacing, end punctuation)."""
    return _duplicate_key_folded(_fold(text))


def _duplicate_key_folded(folded: str) -> str:
    return " ".join(folded.split()).rstrip(_TRAILING)


def tokens(text: str) -> list[str]:
    """Content words of a text, in order: lower-cased, stopwords and one-letter words dropped."""
    return _tokens_folded(_fold(text))


def _tokens_folded(folded: str) -> list[str]:
    return [t for t in _TOKEN.findall(folded) if t not in STOPWORDS and not (len(t) == 1 and not t.isdigit())]


def terms(text: str) -> list[str]:
    """TF-IDF features of a text: its content words and the bigrams of adjacent content words."""
    return _terms_folded(_fold(text))


def _terms_folded(folded: str) -> list[str]:
    words = _tokens_folded(folded)
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def tfidf_matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    """L2-normalised TF-IDF rows (float64 CSR, columns in sorted-term order, sorted indices) for `texts`."""
    return _tfidf_folded([_fold(text) for text in texts])


def _tfidf_folded(texts: Sequence[str]) -> sparse.csr_matrix:
    n = len(texts)
    ids: dict[str, int] = {}
    indptr = np.zeros(n + 1, dtype=np.int64)
    cols: list[int] = []
    counts: list[int] = []
    for row, text in enumerate(texts):
        bag: dict[int, int] = {}
        for term in _terms_folded(text):
            col = ids.setdefault(term, len(ids))
            bag[col] = bag.get(col, 0) + 1
        cols.extend(bag)
        counts.extend(bag.values())
        indptr[row + 1] = len(cols)
    vocab = len(ids)
    # Renumber columns in sorted-term order so nothing depends on which text came first.
    rank = np.empty(vocab, dtype=np.int64)
    rank[np.array(sorted(range(vocab), key=list(ids).__getitem__), dtype=np.int64)] = np.arange(vocab)
    col_arr = rank[np.asarray(cols, dtype=np.int64)] if cols else np.zeros(0, dtype=np.int64)
    tf = 1.0 + np.log(np.asarray(counts, dtype=np.float64))
    matrix = sparse.csr_matrix((tf, col_arr, indptr), shape=(n, vocab))
    matrix.sort_indices()
    df = np.bincount(matrix.indices, minlength=vocab)
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    matrix = matrix.multiply(idf[np.newaxis, :]).tocsr()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0.0] = 1.0
    matrix = sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)
    matrix.sort_indices()
    return matrix


def _duplicate_groups(folded: Sequence[str], documents: Sequence[str]) -> np.ndarray:
    """Group id per text: the index of the first text with the same document and duplicate key."""
    first: dict[tuple[str, str], int] = {}
    group = np.arange(len(folded), dtype=np.int64)
    for i, (text, document) in enumerate(zip(folded, documents, strict=True)):
        key = _duplicate_key_folded(text)
        if key:  # an empty text duplicates nothing
            group[i] = first.setdefault((document, key), i)
    return group


def _split_head(matrix: sparse.csr_matrix) -> tuple[np.ndarray, sparse.csr_matrix]:
    """The high-df columns as a dense float32 array (BLAS is cheapest there) and the float32 sparse tail."""
    n, vocab = matrix.shape
    df = np.bincount(matrix.indices, minlength=vocab)
    cutoff = max(_HEAD_MIN_DF, math.ceil(n * _HEAD_DF_RATIO))
    candidates = np.flatnonzero(df >= cutoff)
    if len(candidates) > _MAX_HEAD:
        # Keep the most frequent; ties by column so the split is deterministic.
        order = np.lexsort((candidates, -df[candidates]))
        candidates = np.sort(candidates[order[:_MAX_HEAD]])
    is_head = np.zeros(vocab, dtype=bool)
    is_head[candidates] = True
    head = np.ascontiguousarray(matrix[:, candidates].toarray(), dtype=np.float32)
    tail = sparse.csr_matrix(matrix[:, np.flatnonzero(~is_head)], dtype=np.float32)
    return head, tail


def _exact_scores(matrix: sparse.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Rounded float64 cosines of the given pairs, summed in column order (no BLAS, no threads).

    The blocked float32 product only finds candidates; every score that reaches the output is
    recomputed here, so thread counts and BLAS builds cannot move a score across a rounding
    boundary, the threshold or a top-k cut.
    """
    product = sparse.csr_matrix(matrix[rows].multiply(matrix[cols]))
    product.sort_indices()
    row_of = np.repeat(np.arange(len(rows)), np.diff(product.indptr))
    sums = np.bincount(row_of, weights=product.data, minlength=len(rows))
    return np.round(np.clip(sums, 0.0, 1.0), SCORE_DECIMALS)


def _top_k_per_row(
    rows: np.ndarray, cols: np.ndarray, scores: np.ndarray, top_k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's `top_k` best (row, col, score) entries: highest score first, ties to the lower col."""
    rows, cols, scores = _by_row_and_score(rows, cols, scores)
    keep = _rank_in_row(rows) < top_k
    return rows[keep], cols[keep], scores[keep]


def _by_row_and_score(
    rows: np.ndarray, cols: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, col, score) entries sorted by row, then highest (rounded) score, then lower col."""
    n = int(max(rows.max(initial=0), cols.max(initial=0))) + 1
    steps = 10**SCORE_DECIMALS + 1
    if n * n * steps < 2**62:
        # Scores are rounded, so (row, -score, col) packs into one int64: one sort instead of three.
        inverse = steps - 1 - np.rint(scores * (steps - 1)).astype(np.int64)
        order = np.argsort((rows.astype(np.int64) * steps + inverse) * n + cols, kind="stable")
    else:
        order = np.lexsort((cols, -scores, rows))
    return rows[order], cols[order], scores[order]


def _rank_in_row(rows: np.ndarray) -> np.ndarray:
    """Each entry's place among its row's entries (0, 1, ...), for `rows` sorted."""
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], rows[1:] != rows[:-1]]))
    return np.arange(len(rows)) - np.repeat(starts, np.diff(np.append(starts, len(rows))))


def _row_blocks(n: int) -> list[tuple[int, int]]:
    """Row ranges for the upper-triangle product; blocks grow as the triangle narrows (~_BLOCK_CELLS each)."""
    blocks: list[tuple[int, int]] = []
    start = 0
    while start < n:
        stop = min(n, start + max(1, min(_MAX_BLOCK_ROWS, _BLOCK_CELLS // (n - start))))
        blocks.append((start, stop))
        start = stop
    return blocks


def _similar_pairs(
    matrix: sparse.csr_matrix, group: np.ndarray, *, threshold: float, top_k: int, prune: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, score) arrays of the union of per-row top-k neighbours above `threshold`, a < b.

    Only the upper triangle (columns after the block's first row) is computed, since the
    cosine is symmetric; each candidate is then kept in both directions so every row gets its
    own top-k. The candidates are compacted to the per-row top-k whenever they outgrow a few
    times n * top_k, which bounds memory however many pairs pass the threshold.

    With `prune` (the recurrence linker's low threshold makes millions of candidates), the lists are
    compacted after every block and a candidate is rescored only for a row whose current k-th best
    exact score it can still reach (its float32 score at most 1e-3 below): the same output, since a
    row's k-th best only rises as blocks come, with a fraction of the exact rescoring.
    """
    n = matrix.shape[0]
    head, tail = _split_head(matrix)
    sizes = np.bincount(group, minlength=n)
    group_members: dict[int, np.ndarray] = {}
    for i in np.flatnonzero(sizes[group] > 1).tolist():
        g = int(group[i])
        if g not in group_members:
            group_members[g] = np.flatnonzero(group == g)
    floor = threshold - 1e-3  # float32 candidates, generously; the cut is made on the exact score
    bar = np.full(n, threshold)  # with `prune`: each row's k-th best exact score so far
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    kept_size = 0
    for start, stop in _row_blocks(n):
        width = stop - start
        # Similarity of rows start..stop-1 with every text from `start` on (the upper triangle).
        block = head[start:stop] @ head[start:].T
        block += (tail[start:stop] @ tail[start:].T).toarray()
        block[:, :width][np.tril_indices(width)] = 0.0  # self pairs and pairs already seen as (j, i)
        # A duplicate pair is never also `similar`: blank the other members of each text's group.
        for i in range(start, stop):
            members = group_members.get(int(group[i]))
            if members is not None:
                block[i - start, members[members >= start] - start] = 0.0
        flat = np.flatnonzero(block >= floor)
        if not len(flat):
            continue
        rows, cols = np.divmod(flat, block.shape[1])
        rows, cols = rows + start, cols + start
        if prune:
            proposed = block.ravel()[flat]
            forward, backward = proposed >= bar[rows] - 1e-3, proposed >= bar[cols] - 1e-3
            either = forward | backward
            rows, cols, forward, backward = rows[either], cols[either], forward[either], backward[either]
        scores = _exact_scores(matrix, rows, cols)
        keep = scores >= threshold
        if prune:  # each direction only where it can enter that row's list
            forward, backward = forward & keep, backward & keep
            both = _top_k_per_row(
                np.concatenate([rows[forward], cols[backward]]), np.concatenate([cols[forward], rows[backward]]),
                np.concatenate([scores[forward], scores[backward]]), top_k
            )
        else:
            rows, cols, scores = rows[keep], cols[keep], scores[keep]
            # Each pair is a candidate for both of its texts' top-k lists.
            both = _top_k_per_row(
                np.concatenate([rows, cols]), np.concatenate([cols, rows]), np.concatenate([scores, scores]), top_k
            )
        kept.append(both)
        kept_size += len(both[0])
        if prune or kept_size > 4 * n * top_k:
            kept = [_top_k_per_row(*_joined(kept), top_k)]
            kept_size = len(kept[0][0])
            if prune:
                listed, _, best = kept[0]
                full = _rank_in_row(listed) == top_k - 1
                bar[listed[full]] = best[full]
    if not kept:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float64)
    return _unique_pairs(*_top_k_per_row(*_joined(kept), top_k))


def _joined(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (rows, cols, scores) of several parts, each array concatenated in the parts' order."""
    rows, cols, scores = (np.concatenate(part) for part in zip(*parts, strict=True))
    return rows, cols, scores


def _unique_pairs(rows: np.ndarray, cols: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, score) with a < b, sorted: a pair kept by both of its texts (the same rounded score) once."""
    a = np.minimum(rows, cols).astype(np.int64)
    b = np.maximum(rows, cols).astype(np.int64)
    order = np.lexsort((-scores, b, a))
    a, b, scores = a[order], b[order], scores[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[first], b[first], scores[first]


EXACT_LIMIT = 20_000
"""Up to this many texts every pair is compared (exact); above, `_blocked_pairs` proposes the candidates."""
_KEY_TERMS = 8  # a text's rarest terms: the blocks it joins
_WINDOW = 64  # texts compared with each other inside a block (a sliding window over a big block)
_WINDOW_BATCH = 1_024
_RESCORE_SLICE = 32_768  # pairs rescored at once by `_blocked_top_pairs` (bounds the rows it copies)


def _blocked_pairs(
    matrix: sparse.csr_matrix, group: np.ndarray, *, threshold: float, top_k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like `_similar_pairs`, but comparing only texts that share one of their rarest terms: linear, approximate.

    Each text joins the blocks of its `_KEY_TERMS` rarest terms (lowest document frequency, ties by
    term). In a block, texts are ordered by their own rare terms, so that texts sharing several sit
    together, and compared within sliding windows of `_WINDOW` texts (half overlapping): each text
    meets at most a few hundred others, whatever the corpus size. The windows' pairs come from one
    sparse product per batch of windows; the pairs near the threshold are scored exactly (float64, as
    in the exact path), and the per-text top-k and the threshold are applied as there. Deterministic; on
    25,000 synthetic texts it keeps about nine in ten of the pairs the exact comparison keeps (the
    others are mostly lower-ranked neighbours of texts with many).
    """
    n = matrix.shape[0]
    spans, key_rows = _window_spans(matrix)
    empty = np.zeros(0, dtype=np.int64)
    _WINDOWS.update(matrix=matrix, members=key_rows, group=group, floor=threshold - 1e-3, threshold=threshold)
    try:
        parts = _over_windows(_window_pairs, spans, n)
    finally:
        _WINDOWS.clear()
    a, b, scores = _joined(parts)
    if not len(a):
        return empty, empty, np.zeros(0, dtype=np.float64)
    # a pair in windows of both halves came back twice (with the same score): once, in pair order, as serially
    _, first = np.unique(a * n + b, return_index=True)
    a, b, scores = a[first], b[first], scores[first]
    return _unique_pairs(*_top_k_per_row(
        np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([scores, scores]), top_k
    ))


_Part = TypeVar("_Part")


def _over_windows(work: Callable[[list[tuple[int, int]]], _Part], spans: list[tuple[int, int]], n: int
                  ) -> list[_Part]:
    """`work` on the windows `spans` (it reads `_WINDOWS`): from PARALLEL_FROM texts, where there are two cores and
    fork, the windows split in two halves, each scored in a forked process (it shares the matrix); else here."""
    workers = min(os.cpu_count() or 1, 2) if n >= PARALLEL_FROM and "fork" in mp.get_all_start_methods() else 1
    if workers > 1:
        middle = len(spans) // 2
        with ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context("fork")) as pool:
            return list(pool.map(work, [spans[:middle], spans[middle:]]))
    return [work(spans)]


PARALLEL_FROM = 50_000
"""From this many texts (where there are two cores and fork), the blocked windows are scored in two processes."""
_WINDOWS: dict[str, Any] = {}  # what `_window_pairs` reads: set before the workers fork (they inherit it)


def _window_spans(
    matrix: sparse.csr_matrix, *, key_terms: int = _KEY_TERMS, window: int = _WINDOW
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The blocked path's windows: (start, end) ranges of the returned row array, as `_blocked_pairs` describes.

    Each row joins the blocks of its `key_terms` rarest columns; a block's rows are ordered by their own rare
    columns, then by index, and a block longer than `window` is cut into windows of `window` rows, half
    overlapping. Deterministic: every sort has the row index as its last key.
    """
    n, vocab = matrix.shape
    df = np.bincount(matrix.indices, minlength=vocab)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(matrix.indptr))
    indices = matrix.indices.astype(np.int64)
    if n * (n + 1) * vocab < 2**62:  # (row, df, column) packed in one int64: one sort instead of three
        order = np.argsort((rows * (n + 1) + df[indices]) * vocab + indices)
    else:
        order = np.lexsort((indices, df[indices], rows))
    columns = indices[order]
    rank = np.arange(len(order)) - np.repeat(matrix.indptr[:-1], np.diff(matrix.indptr))
    chosen = rank < key_terms
    key_rows, key_columns = rows[chosen], columns[chosen]
    keys = np.full((n, key_terms), -1, dtype=np.int64)
    keys[key_rows, rank[chosen]] = key_columns
    # by block (term), then by the member's own rare terms, then by index: the rows' order, sorted once
    position = np.empty(n, dtype=np.int64)
    position[np.lexsort((np.arange(n), *tuple(keys[:, ::-1].T)))] = np.arange(n)
    sort = np.argsort(key_columns * n + position[key_rows])  # no ties: a row is in a block once
    key_rows, key_columns = key_rows[sort], key_columns[sort]
    cuts = np.flatnonzero(np.diff(key_columns)) + 1
    starts = np.concatenate([[0], cuts]).astype(np.int64)
    ends = np.concatenate([cuts, [len(key_columns)]]).astype(np.int64)
    half = window // 2
    spans: list[tuple[int, int]] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        if end - start < 2:
            continue
        if end - start <= window:
            spans.append((start, end))
        else:
            spans.extend((w, min(end, w + window)) for w in range(start, end - half, half))
    return spans, key_rows


def _window_pairs(spans: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, exact score) of the pairs in the windows `spans` scoring at least the threshold, a < b, no repeats.

    Every window's pairs at once: the window's rows, their columns moved to a range of the window's own,
    multiplied as one sparse product per batch (block-diagonal: rows of different windows share no column).
    """
    matrix, key_rows, group = _WINDOWS["matrix"], _WINDOWS["members"], _WINDOWS["group"]
    n, vocab = matrix.shape
    found: list[np.ndarray] = []
    for first in range(0, len(spans), _WINDOW_BATCH):
        batch = spans[first : first + _WINDOW_BATCH]
        lengths = np.array([end - start for start, end in batch], dtype=np.int64)
        members = np.concatenate([key_rows[start:end] for start, end in batch])
        window = np.repeat(np.arange(len(batch), dtype=np.int64), lengths)
        sub = matrix[members]
        shifted = sub.indices.astype(np.int64) + np.repeat(window, np.diff(sub.indptr)) * vocab
        stacked = sparse.csr_matrix((sub.data, shifted, sub.indptr), shape=(len(members), len(batch) * vocab))
        gram = sparse.triu(stacked @ stacked.T, k=1).tocoo()
        hit = gram.data >= _WINDOWS["floor"]  # candidates, generously; the cut is made on the exact score
        a, b = members[gram.row[hit]], members[gram.col[hit]]
        found.append(np.unique(np.minimum(a, b) * n + np.maximum(a, b)))  # overlapping windows repeat pairs
    empty = np.zeros(0, dtype=np.int64)
    if not found:
        return empty, empty, np.zeros(0, dtype=np.float64)
    pairs = np.unique(np.concatenate(found))
    a, b = pairs // n, pairs % n
    keep = (a != b) & (group[a] != group[b])  # never a duplicate pair
    a, b = a[keep], b[keep]
    scores = np.concatenate(
        [_exact_scores(matrix, a[i : i + 200_000], b[i : i + 200_000]) for i in range(0, len(a), 200_000)]
    ) if len(a) else np.zeros(0, dtype=np.float64)
    keep = scores >= _WINDOWS["threshold"]
    return a[keep], b[keep], scores[keep]


def _blocked_top_pairs(
    matrix: sparse.csr_matrix, group: np.ndarray, *, threshold: float, top_k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_blocked_pairs`' answer (the same windows, the same per-row top-k), for a low threshold.

    `_blocked_pairs` keeps every window pair above the threshold, removes the repeats with np.unique and
    rescores them all: at a threshold such as recurrence's 0.15 that is millions of pairs. Here each row
    keeps only its best `top_k` as the batches of windows are scored, and a batch's pairs below a row's
    current k-th best score are dropped before anything is sorted; the window product's scores are
    rounded and ranked as they come (float64 sparse products, a row's columns summed in column order,
    as `_exact_scores` sums them: the same bits), and the kept pairs are rescored by `_exact_scores`
    at the end. Above `PARALLEL_FROM` rows (with two cores and fork) the windows are split between two
    processes, each keeping its own rows' lists; the merge keeps the same top-k, so the output does not
    depend on it.
    """
    n = matrix.shape[0]
    spans, key_rows = _window_spans(matrix)
    _WINDOWS.update(matrix=matrix, members=key_rows, group=group, threshold=threshold, top_k=top_k)
    try:
        parts = _over_windows(_window_top_pairs, spans, n)
    finally:
        _WINDOWS.clear()
    rows, cols, _ = _top_k_distinct(*_joined(parts), top_k)
    # in slices: the rows of n * top_k pairs taken at once would cost more memory than the whole search
    scores = np.concatenate([np.zeros(0, dtype=np.float64)] + [
        _exact_scores(matrix, rows[i : i + _RESCORE_SLICE], cols[i : i + _RESCORE_SLICE])
        for i in range(0, len(rows), _RESCORE_SLICE)
    ])
    keep = scores >= threshold
    return _unique_pairs(*_top_k_per_row(rows[keep], cols[keep], scores[keep], top_k))



def _window_top_pairs(spans: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, neighbour, rounded score): each row's `top_k` best distinct neighbours in the windows `spans`.

    One sparse product per batch of windows, as in `_window_pairs`, but the full product: it holds each pair
    in both directions, one for each row's list.
    """
    matrix, key_rows, group = _WINDOWS["matrix"], _WINDOWS["members"], _WINDOWS["group"]
    threshold, top_k = _WINDOWS["threshold"], _WINDOWS["top_k"]
    n = matrix.shape[0]
    bar = np.full(n, threshold)  # a row's k-th best rounded score so far: below it a pair cannot enter its list
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for first in range(0, len(spans), _WINDOW_BATCH):
        batch = spans[first : first + _WINDOW_BATCH]
        lengths = np.array([end - start for start, end in batch], dtype=np.int64)
        members = np.concatenate([key_rows[start:end] for start, end in batch])
        gram = _window_gram(matrix[members], np.repeat(np.arange(len(batch), dtype=np.int64), lengths))
        # generously below the rounding: the cut is made on the rounded score
        of_entry = np.repeat(np.arange(len(members), dtype=np.int64), np.diff(gram.indptr))
        hit = np.flatnonzero(gram.data >= (bar[members] - 1e-4)[of_entry])
        if not len(hit):
            continue
        rows = members[of_entry[hit]]
        cols = members[gram.indices[hit]]
        scores = np.round(np.clip(gram.data[hit], 0.0, 1.0), SCORE_DECIMALS)
        keep = (group[rows] != group[cols]) & (scores >= bar[rows])  # never a row itself nor its group
        kept.append((rows[keep], cols[keep], scores[keep]))
        kept = [_top_k_distinct(*_joined(kept), top_k)]
        rows, _, scores = kept[0]
        full = _rank_in_row(rows) == top_k - 1
        bar[rows[full]] = scores[full]
    if not kept:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float64)
    return kept[0]


def _window_gram(sub: sparse.csr_matrix, window: np.ndarray) -> sparse.csr_matrix:
    """The cosines of `sub`'s rows within each window (`window[i]` is row i's, non-decreasing): a CSR block diagonal.

    As in `_window_pairs`, each window gets its own copy of the columns, so rows of different windows share
    none; but the copies are numbered densely, one per (column, window) that occurs, in column order (so a
    row's products are still summed in column order). The transpose is then the column-major form of the
    rows, at hand without a sort, and no array spans windows x vocabulary.
    """
    by_column = sparse.csc_matrix(sub)
    by_column.sort_indices()
    column = np.repeat(np.arange(sub.shape[1], dtype=np.int64), np.diff(by_column.indptr))
    owner = window[by_column.indices]
    new = np.ones(len(column), dtype=bool)
    new[1:] = (column[1:] != column[:-1]) | (owner[1:] != owner[:-1])
    starts = np.flatnonzero(new)
    indptr = np.append(starts, len(column)).astype(np.int64)
    rows = len(window)
    left = sparse.csc_matrix((by_column.data, by_column.indices, indptr), shape=(rows, len(starts)))
    right = sparse.csr_matrix((by_column.data, by_column.indices, indptr), shape=(len(starts), rows))
    return sparse.csr_matrix(left.tocsr() @ right)


def _top_k_distinct(
    rows: np.ndarray, cols: np.ndarray, scores: np.ndarray, top_k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_top_k_per_row` of (row, col, score) entries where one pair may come more than once (with one score)."""
    rows, cols, scores = _by_row_and_score(rows, cols, scores)  # repeats side by side
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, scores = rows[first], cols[first], scores[first]
    keep = _rank_in_row(rows) < top_k
    return rows[keep], cols[keep], scores[keep]


def link(
    texts: Sequence[str],
    documents: Sequence[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    top_k: int = 10,
    exact_limit: int = EXACT_LIMIT,
) -> list[Link]:
    """Duplicate and similar pairs among recommendations, sorted by (a, b, relation, score).

    ``texts[i]`` is recommendation i's full text and ``documents[i]`` the id of its document;
    ``Link.a`` / ``Link.b`` index into these sequences. ``threshold`` is the minimum rounded
    cosine for a `similar` link; ``top_k`` caps how many neighbours each text keeps. Up to ``exact_limit``
    texts every pair is compared; above, only texts that share rare terms (`_blocked_pairs`: linear time,
    about nine in ten of the exact pairs on synthetic text).
    """
    if len(texts) != len(documents):
        raise ValueError(f"link: {len(texts)} texts but {len(documents)} document ids")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"link: threshold must be in (0, 1], got {threshold}")
    if top_k < 1:
        raise ValueError(f"link: top_k must be at least 1, got {top_k}")
    folded = [_fold(text) for text in texts]
    group = _duplicate_groups(folded, documents)
    links: list[Link] = []
    members: dict[int, list[int]] = {}
    for i, g in enumerate(group.tolist()):
        members.setdefault(g, []).append(i)
    for indexes in members.values():
        links.extend(Link(x, y, "duplicate", 1.0) for k, x in enumerate(indexes) for y in indexes[k + 1 :])
    if len(texts) > 1:
        pairs = _similar_pairs if len(texts) <= exact_limit else _blocked_pairs
        a, b, s = pairs(_tfidf_folded(folded), group, threshold=threshold, top_k=top_k)
        links.extend(
            Link(x, y, "similar", score) for x, y, score in zip(a.tolist(), b.tolist(), s.tolist(), strict=True)
        )
    links.sort()
    return links


def scored_pairs(
    matrix: sparse.csr_matrix, group: np.ndarray, *, threshold: float, top_k: int, exact_limit: int = EXACT_LIMIT
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, score) of the rows of an L2-normalised `matrix` whose cosine reaches `threshold`, a < b, sorted.

    Rows of one `group` are never paired; each row keeps its `top_k` best (the union of both sides' lists).
    Up to `exact_limit` rows every pair is compared, above only rows sharing rare columns. The machinery of
    `similar` links, for the recurrence linker (recurrence.py), whose low threshold passes millions of
    candidates: so both paths prune (`_similar_pairs(prune=True)`, `_blocked_top_pairs`) and give the pairs
    that `link`'s unpruned paths would give, at a fraction of the time.
    """
    if matrix.shape[0] < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float64)
    if matrix.shape[0] <= exact_limit:
        return _similar_pairs(matrix, group, threshold=threshold, top_k=top_k, prune=True)
    return _blocked_top_pairs(matrix, group, threshold=threshold, top_k=top_k)
