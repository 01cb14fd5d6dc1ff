"""Awkward text at ingest (issue 9, test 10): every minted IRI is valid and every export round-trips.

Hypothesis writes recommendation documents whose titles, headings and items hold control characters,
lone surrogates, bidi marks and overrides, private-use glyphs, NUL, form feeds, line and paragraph
separators, non-characters and non-BMP text, and whose file names (as the file system hands them to
Python, undecodable bytes included) are just as odd. Each is parsed, annotated, linked and built;
every IRI must be accepted by `pyoxigraph.NamedNode`, every literal must hold only what RDF/XML 1.0
can carry, and all six exports must read back in pyoxigraph and rdflib as the same graph.

The ingest rules that make this hold, tested here by name: parse.py removes C0/C1 controls (tab, line
ends and form feed aside, which are layout), zero-width characters, the BOM, U+FFFE/U+FFFF and lone
surrogates from the text, and turns other spaces into one space; a file name that is not valid UTF-8
is recorded with U+FFFD for the bytes it could not decode, and a document id is always [a-z0-9_-].
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aflm_graph.enrich.annotate import annotate
from aflm_graph.enrich.link import link
from aflm_graph.graph.build import AnnotatedDocument, build_quads
from aflm_graph.graph.export import FORMATS, canonical_quads, not_xml_characters
from aflm_graph.ingest.parse import ParseError, parse_file, parse_text
from aflm_graph.terms.vocab import load_vocabulary
from conftest import require_system
from hostile import record_figure
from test_export import _check_round_trip

VOCABULARY = load_vocabulary()
ODD = [
    "\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f", "\ud800", "\udfff", "\udc80",
    "\u200b", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\u061c", "\ufeff", "\ufffe",
    "\uffff", "\ue000", "\uf0b7", "\U000f0000", "\U0010fffd", "\u2028", "\u2029", "\u00ad", "\u00a0", "\t", "\r",
    "\f", "\x1c", "\x1e", "\U0001f418", "\u0645\u0631\u062d\u0628\u0627", "\u05e9\u05dc\u05d5\u05dd", '"', "\\",
    "<", ">", "&", "]]>", "'", "{", "}", "#", "%", "\u0301", "e\u0301",
]
ODD_TEXT = st.lists(st.sampled_from(ODD) | st.text(alphabet="abcdefghij ", min_size=1, max_size=6),
                    min_size=1, max_size=8).map("".join)
COUNT = {"documents": 0, "refused": 0, "built": 0}


def document(title: str, heading: str, items: list[str]) -> str:
    lines = [f"Cambodia National Recommendations {title} for the 13th ASEAN Forum on Migrant Labour", "",
             "14 September 2020", "", f"Sub-theme 1: {heading}", ""]
    for i, item in enumerate(items, 1):
        lines += [f"{i}. Protect migrant workers {item} and their families.", ""]
    return "\n".join(lines)


def check_quads(quads: list[ox.Quad]) -> None:
    """Every IRI is one pyoxigraph accepts again from its text; every literal is a string of scalar values."""
    for quad in quads:
        for term in (quad.subject, quad.predicate, quad.object, quad.graph_name):
            if isinstance(term, ox.NamedNode):
                assert ox.NamedNode(term.value) == term
                assert re.fullmatch(r"[^\x00-\x20<>\"{}|^`\\]+", term.value), term.value
            elif isinstance(term, ox.Literal):
                term.value.encode("utf-8")  # no lone surrogate survives
                assert not not_xml_characters(term.value), (term.value, not_xml_characters(term.value))


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(title=ODD_TEXT, heading=ODD_TEXT, items=st.lists(ODD_TEXT, min_size=1, max_size=3), stem=ODD_TEXT)
def test_odd_text_mints_valid_iris_and_round_trips_in_every_format(
    title: str, heading: str, items: list[str], stem: str,
) -> None:
    COUNT["documents"] += 1
    text = document(title, heading, items)
    try:
        doc = parse_text(text, source_file=f"{stem}.txt", sha256=hashlib.sha256(b"x").hexdigest())
    except ParseError:
        COUNT["refused"] += 1
        return
    mentions = tuple(tuple(annotate(rec.text, VOCABULARY)) for rec in doc.recommendations)
    texts = [rec.text for rec in doc.recommendations]
    quads = build_quads([AnnotatedDocument(doc, mentions)], link(texts, [doc.id] * len(texts)),
                        vocabulary=VOCABULARY, include_static=False)
    check_quads(quads)
    _check_round_trip(canonical_quads(quads), sorted(FORMATS))
    COUNT["built"] += 1


def test_the_ingest_rule_removes_what_rdf_cannot_carry() -> None:
    text = document("\x00A\ud800B\u200bC\ufeffD\x1bE\ufffeF", "care\x07\udfff for \u202ethem\u202c", ["x\x00y"])
    doc = parse_text(text, source_file="rule.txt", sha256="0" * 64)
    assert "ABCDEF" in (doc.title or "")
    assert doc.subthemes[0].title == "care for \u202ethem\u202c"  # bidi controls are text, kept
    assert doc.recommendations[0].text == "Protect migrant workers xy and their families."


@pytest.mark.parametrize("name", [b"caf\xe9.txt", b"\xff\xfe-recs.txt", b"a\x1bb\x7fc.txt", b"spaces and #?%.txt",
                                  "\u202eevil\u202c-\U0001f418.txt".encode(), b"\xed\xa0\x80.txt"])
def test_odd_file_names_give_valid_ids_and_literals(name: bytes, tmp_path: Path) -> None:
    require_system(os.name == "posix", "file names as raw bytes are a POSIX matter")
    path = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), name)))
    path.write_text(document("", "Care", ["now"]), encoding="utf-8")
    doc = parse_file(path)
    assert re.fullmatch(r"[a-z0-9_\-]+", doc.id), doc.id
    doc.source_file.encode("utf-8")  # a scalar-value string: U+FFFD where the name's bytes were not UTF-8
    mentions = tuple(tuple(annotate(rec.text, VOCABULARY)) for rec in doc.recommendations)
    quads = build_quads([AnnotatedDocument(doc, mentions)], [], vocabulary=VOCABULARY, include_static=False)
    check_quads(quads)
    _check_round_trip(canonical_quads(quads), sorted(FORMATS))


def test_zz_record_how_many_documents_were_tried() -> None:
    record_figure("text.documents_tried", dict(COUNT))
