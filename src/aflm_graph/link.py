"""Link recommendations that repeat each other (duplicates) or say nearly the same (similar).

Two relations, both undirected and reported once as ``Link(a, b, ...)`` with ``a < b``:

``duplicate`` (score 1.0)
    The same text twice in ONE document, compared after normalising Unicode (NFKC), case,
    curly vs straight quotes and dashes, runs of whitespace and trailing punctuation. Seed 000
    repeats items 9-11 of sub-theme 1 as items 13-15 of sub-theme 2. Every pair of a group of
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

Threshold (``DEFAULT_THRESHOLD`` = 0.5), read off the two seeds (47 recommendations):
the pairs a reader calls "the same recommendation, reworded" score well above it (seed 002
items 8/15: 0.91; seed 000 1/5 vs 002 item 7: 0.80), the pair that shares one long
phrase about skills (000 2/8 vs 002 item 19: 0.63) is kept, and the best-scoring pairs below it
share only generic vocabulary ("access to justice", "social protection"; 0.37-0.42).
0.5 sits in the empty band between those groups, so small changes of wording or corpus do not
flip the seed pairs.

Scale: the product X·Xᵀ is never materialised. Terms that occur in very many texts ("migrant",
"workers", "migrant workers") are the ones that make a sparse product dense, so the columns are
split: the few high-df columns go into a small dense matrix multiplied with BLAS, the long
tail stays sparse (scipy.sparse), and rows are processed in blocks of at most
``_BLOCK_CELLS / n`` rows (<= 2,000). Memory is O(nnz + n·head + block·n), never n²; each
block keeps, per row, its ``top_k`` best neighbours above the threshold. A pair is reported
when either side keeps the other (the union of the per-row top-k lists), so a text can
appear in more than ``top_k`` pairs when it is the nearest neighbour of many others.

Determinism: the vocabulary is sorted (so column order, and floating-point summation order,
never depends on input order or hash seeds), scores are rounded to 4 decimals before they are
compared with the threshold or ranked, ties are broken by index, and the output is sorted.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True, order=True)
class Link:
    """An undirected pair of recommendations; `a` sorts before `b`; indexes into the input list."""

    a: int
    b: int
    relation: str  # "duplicate" | "similar"
    score: float  # in [0, 1]


DEFAULT_THRESHOLD = 0.5
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
    """.split()
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
_TRAILING = re.compile(r"[\s.,;:!?\-'\"]+$")
_SPACES = re.compile(r"\s+")
_BLOCK_CELLS = 16_000_000  # floats per dense block (64 MB as float32)
_MAX_BLOCK_ROWS = 2_000
_HEAD_DF_RATIO = 0.05  # columns in more than 5% of the texts go dense
_HEAD_MIN_DF = 64  # below this a column is cheap enough to stay sparse
_MAX_HEAD = 1_024  # cap on dense columns: n x 1,024 float32 is 80 MB at n = 20,000


def duplicate_key(text: str) -> str:
    """The form two texts must share to count as duplicates (case, quotes, spacing, end punctuation)."""
    folded = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return _TRAILING.sub("", _SPACES.sub(" ", folded).strip())


def tokens(text: str) -> list[str]:
    """Content words of a text, in order: lower-cased, stopwords and one-letter words dropped."""
    folded = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return [
        t
        for t in _TOKEN.findall(folded)
        if t not in STOPWORDS and not (len(t) == 1 and not t.isdigit())
    ]


def terms(text: str) -> list[str]:
    """TF-IDF features of a text: its content words and the bigrams of adjacent content words."""
    words = tokens(text)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def tfidf_matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    """L2-normalised TF-IDF rows (float32 CSR, columns in sorted-term order) for `texts`."""
    n = len(texts)
    ids: dict[str, int] = {}
    indptr = np.zeros(n + 1, dtype=np.int64)
    cols: list[int] = []
    counts: list[int] = []
    for row, text in enumerate(texts):
        bag: dict[int, int] = {}
        for term in terms(text):
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
    matrix = sparse.diags(1.0 / norms) @ matrix
    matrix = sparse.csr_matrix(matrix, dtype=np.float32)
    matrix.sort_indices()
    return matrix


def _duplicate_groups(texts: Sequence[str], documents: Sequence[str]) -> np.ndarray:
    """Group id per text: the index of the first text with the same document and duplicate key."""
    first: dict[tuple[str, str], int] = {}
    group = np.arange(len(texts), dtype=np.int64)
    for i, (text, document) in enumerate(zip(texts, documents, strict=True)):
        key = duplicate_key(text)
        if key:  # an empty text duplicates nothing
            group[i] = first.setdefault((document, key), i)
    return group


def _split_head(matrix: sparse.csr_matrix) -> tuple[np.ndarray, sparse.csr_matrix, sparse.csc_matrix]:
    """Dense high-df columns, the sparse rest, and the rest transposed for the block product."""
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
    tail = matrix[:, np.flatnonzero(~is_head)].tocsr()
    return head, tail, tail.T.tocsr()


def _similar_pairs(
    matrix: sparse.csr_matrix, group: np.ndarray, *, threshold: float, top_k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, score) arrays of the union of per-row top-k neighbours above `threshold`, a < b."""
    n = matrix.shape[0]
    head, tail, tail_t = _split_head(matrix)
    head_t = np.ascontiguousarray(head.T)
    in_group = np.flatnonzero(np.bincount(group, minlength=n)[group] > 1)
    group_members: dict[int, list[int]] = {}
    for i in in_group.tolist():
        group_members.setdefault(int(group[i]), []).append(i)
    rows_per_block = max(1, min(_MAX_BLOCK_ROWS, _BLOCK_CELLS // max(n, 1)))
    found_a: list[np.ndarray] = []
    found_b: list[np.ndarray] = []
    found_s: list[np.ndarray] = []
    for start in range(0, n, rows_per_block):
        stop = min(n, start + rows_per_block)
        block = head[start:stop] @ head_t if head.shape[1] else np.zeros((stop - start, n), np.float32)
        part = (tail[start:stop] @ tail_t).tocoo()
        block[part.row, part.col] += part.data  # a CSR product has no repeated (row, col)
        local = np.arange(stop - start)
        block[local, start + local] = 0.0  # no self pairs
        # A duplicate pair is never also `similar`: blank the other members of each text's group.
        members = in_group[(in_group >= start) & (in_group < stop)]
        for i in members.tolist():
            block[i - start, group_members[int(group[i])]] = 0.0
        rows, cols = np.nonzero(block >= threshold - 1e-3)
        if not len(rows):
            continue
        scores = np.round(np.clip(block[rows, cols].astype(np.float64), 0.0, 1.0), SCORE_DECIMALS)
        keep = scores >= threshold
        rows, cols, scores = rows[keep], cols[keep], scores[keep]
        # Best first within each row, ties broken by column; then cut each row at top_k.
        order = np.lexsort((cols, -scores, rows))
        rows, cols, scores = rows[order], cols[order], scores[order]
        row_start = np.searchsorted(rows, rows, side="left")
        rank = np.arange(len(rows)) - row_start
        keep = rank < top_k
        rows, cols, scores = rows[keep] + start, cols[keep], scores[keep]
        found_a.append(np.minimum(rows, cols))
        found_b.append(np.maximum(rows, cols))
        found_s.append(scores)
    if not found_a:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float64)
    a = np.concatenate(found_a).astype(np.int64)
    b = np.concatenate(found_b).astype(np.int64)
    s = np.concatenate(found_s)
    # A pair kept from both sides appears twice; keep one, with the higher (rounded) score.
    order = np.lexsort((-s, b, a))
    a, b, s = a[order], b[order], s[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[first], b[first], s[first]


def link(
    texts: Sequence[str],
    documents: Sequence[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    top_k: int = 10,
) -> list[Link]:
    """Duplicate and similar pairs among recommendations, sorted by (a, b, relation, score).

    ``texts[i]`` is recommendation i's full text and ``documents[i]`` the id of its document;
    ``Link.a`` / ``Link.b`` index into these sequences. ``threshold`` is the minimum rounded
    cosine for a `similar` link; ``top_k`` caps how many neighbours each text keeps.
    """
    if len(texts) != len(documents):
        raise ValueError(f"link: {len(texts)} texts but {len(documents)} document ids")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"link: threshold must be in (0, 1], got {threshold}")
    if top_k < 1:
        raise ValueError(f"link: top_k must be at least 1, got {top_k}")
    group = _duplicate_groups(texts, documents)
    links: list[Link] = []
    members: dict[int, list[int]] = {}
    for i, g in enumerate(group.tolist()):
        members.setdefault(g, []).append(i)
    for indexes in members.values():
        links.extend(
            Link(x, y, "duplicate", 1.0) for k, x in enumerate(indexes) for y in indexes[k + 1 :]
        )
    if len(texts) > 1:
        a, b, s = _similar_pairs(tfidf_matrix(texts), group, threshold=threshold, top_k=top_k)
        links.extend(
            Link(x, y, "similar", score)
            for x, y, score in zip(a.tolist(), b.tolist(), s.tolist(), strict=True)
        )
    links.sort()
    return links
