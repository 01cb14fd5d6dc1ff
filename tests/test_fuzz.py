"""Fuzzing the text parser (issue 9, test 13): only ParseError, never a crash or a hang, on any input.

Three kinds of input, from a fixed seed: documents assembled from the parts real recommendations
are made of (titles, dates, sub-theme headings, every numbering style, bullets and the PDF glyphs
that stand for them, page furniture, hyphenated breaks, form feeds, every line end) mixed with
arbitrary text; such documents with random bytes flipped, cut or inserted (what a damaged file
looks like); and arbitrary bytes. Each goes through `decode_bytes` and `parse_text`, as
`parse_file` sends a .txt file, under a 5-second alarm per input. The answer must be a ParseError
(the documented error: it names the file and says what was expected) or a Document whose
recommendations are sound: non-empty, trimmed text free of controls and invisible characters,
spans inside the text, positions 1..n, an id of [a-z0-9_-].

CI runs AFLM_FUZZ_EXAMPLES inputs per kind (default 400, about 20 s here). A longer run:

    AFLM_FUZZ_EXAMPLES=20000 .venv/bin/pytest tests/test_fuzz.py -p no:cacheprovider
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aflm_graph.ingest.parse import Document, ParseError, decode_bytes, parse_text
from hostile import record_figure

EXAMPLES = int(os.environ.get("AFLM_FUZZ_EXAMPLES", "400"))
PER_INPUT_SECONDS = 5
COUNTS = {"inputs": 0, "documents": 0, "parse_errors": 0}
FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff\ufffe\uffff\ud800-\udfff]")

TITLES = ["Cambodia National Recommendations for the 13th ASEAN Forum on Migrant Labour",
          "Recommendations of the 12th AFML", "Outcome of the Consultation", "Theme: Decent work",
          "Supporting Migrant Workers during the Pandemic for a Cohesive and Responsive ASEAN Community"]
DATES = ["14 September 2020", "9 November 2020", "2020-09-14", "September 14, 2020", "31 February 2021",
         "The meeting was held online on 9 November 2020.", "Phnom Penh, Cambodia"]
HEADINGS = ["Sub-theme 1: ", "Subtheme 2 - ", "Sub theme II. ", "SUB-THEME 3: ", "I. ", "II) ", "Sub-theme A: "]
LABELS = ["1. ", "2. ", "10. ", "3) ", "(4) ", "a. ", "(b) ", "c) ", "i) ", "ii. ", "(iv) ", "I. ", "99999. ",
          "0. ", "1.1 ", "(a)(i) "]
BULLETS = ["• ", "- ", "– ", "— ", "* ", "\uf0b7 ", "\uf0a7 ", "▪ ", "◦ ", "· "]
WORDS = ["Ensure", "migrant workers", "health-", "care", "recruit-", "ment", "and", "the", "ILO C189",
         "social protection", "trade unions", "women", "returnees", "fees", "(", ")", ";", ":", ".", ",", "'",
         "\u201c", "\u201d", "gender-responsive", "COVID -19", "Page 2 of 9", "- 3 -", "2", "AFML 2020"]
ODD = ["\x07", "\x0b", "\x1b", "\x7f", "\x85", "\u00a0", "\u00ad", "\u200b", "\u200e", "\u202e", "\u2028",
       "\u2029", "\ufeff", "\ufffe", "\ue000", "\U0001f418", "\t", "  "]  # NUL and lone surrogates: in the bytes
LINE_ENDS = ["\n", "\n", "\n", "\r\n", "\r", "\f", "\n\n", "\n \n", "\f\n"]

FREE = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
WORD = st.sampled_from(WORDS)
PHRASE = st.lists(WORD | WORD | WORD | WORD | st.sampled_from(ODD) | FREE, min_size=1, max_size=10).map(" ".join)
STYLES = [lambda n: f"{n}. ", lambda n: f"{n}) ", lambda n: f"({n}) ", lambda n: f"{'abcdefghij'[n % 10]}. ",
          lambda n: f"({'abcdefghij'[n % 10]}) ", lambda n: f"{['i', 'ii', 'iii', 'iv', 'v', 'vi'][n % 6]}) "]
NOISE = st.one_of(st.sampled_from(TITLES), st.sampled_from(DATES), st.sampled_from(WORDS), PHRASE, FREE,
                  st.tuples(st.sampled_from(LABELS), PHRASE).map("".join),
                  st.tuples(st.sampled_from(BULLETS), PHRASE).map("".join))


@st.composite
def items(draw: st.DrawFn) -> list[str]:
    """A numbered list as documents have them: 1..k in one style, with continuation lines, bullets and noise."""
    style = draw(st.sampled_from(STYLES))
    lines = []
    for n in range(1, draw(st.integers(1, 8)) + 1):
        lines.append(style(n) + draw(PHRASE))
        for _ in range(draw(st.integers(0, 2))):
            lines.append(draw(PHRASE | st.tuples(st.sampled_from(BULLETS), PHRASE).map("".join) | NOISE))
    return lines


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.sampled_from(TITLES) | st.sampled_from(DATES) | NOISE, max_size=4))
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(HEADINGS)) + draw(PHRASE))
        lines += draw(items())
        lines += draw(st.lists(NOISE, max_size=2))
    ends = draw(st.lists(st.sampled_from(LINE_ENDS), min_size=len(lines), max_size=len(lines)))
    return "".join(line + end for line, end in zip(lines, ends, strict=True))


DOCUMENT = documents()


def _damage(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    out = bytearray(data)
    for kind, where, value in edits:
        if not out:
            out.append(value)
            continue
        at = where % len(out)
        if kind == 0:
            out[at] = value
        elif kind == 1:
            out.insert(at, value)
        else:
            del out[at: at + 1 + value % 16]
    return bytes(out)


DAMAGED = st.builds(_damage, DOCUMENT.map(lambda t: t.encode("utf-8", "surrogatepass")),
                    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1 << 16), st.integers(0, 255)), max_size=8))


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so no `except Exception` in the parser can swallow it."""


@contextmanager
def alarm(seconds: int) -> Iterator[None]:
    def ring(signum: int, frame: object) -> None:
        raise Hang(f"the parser ran for more than {seconds} s on one input")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_document(doc: Document) -> None:
    assert doc.recommendations
    assert re.fullmatch(r"[a-z0-9_\-]+", doc.id), doc.id
    for position, rec in enumerate(doc.recommendations, start=1):
        assert rec.position == position
        assert rec.text and rec.text == rec.text.strip() and "  " not in rec.text
        assert not FORBIDDEN.search(rec.text), repr(rec.text)
        assert 0 <= rec.span.start < rec.span.end <= len(doc.text)
        assert rec.label
    for sub in doc.subthemes:
        assert not FORBIDDEN.search(sub.title or ""), repr(sub.title)
    assert not FORBIDDEN.search(doc.title or ""), repr(doc.title)


def fuzz_one(data: bytes) -> None:
    COUNTS["inputs"] += 1
    with alarm(PER_INPUT_SECONDS):
        try:
            text = decode_bytes(data, "fuzz.txt")
            doc = parse_text(text.removeprefix("\ufeff"), source_file="fuzz.txt", sha256="0" * 64)
        except ParseError as error:
            assert str(error).startswith("fuzz.txt") and "expected" in str(error), str(error)
            COUNTS["parse_errors"] += 1
            return
    check_document(doc)
    COUNTS["documents"] += 1


FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


@FUZZ
@given(DOCUMENT)
def test_fuzz_structured_documents(text: str) -> None:
    fuzz_one(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(DAMAGED)
def test_fuzz_damaged_documents(data: bytes) -> None:
    fuzz_one(data)


@FUZZ
@given(st.binary(max_size=2000) | st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    fuzz_one(data)


def test_the_alarm_catches_a_hang() -> None:
    with pytest.raises(Hang), alarm(1):
        while True:
            pass


def test_zz_record_how_many_inputs_were_fuzzed() -> None:
    assert COUNTS["inputs"] >= 3 * EXAMPLES * 0.9
    record_figure("fuzz", {**COUNTS, "examples_per_kind": EXAMPLES})
