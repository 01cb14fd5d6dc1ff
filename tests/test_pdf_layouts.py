"""PDF layouts the parser reads (issue 20): each test generates a PDF with reportlab and asserts the exact items.

Layouts: ligatures and a superscript footnote with a running header and "Page N of M" footer, "Theme N:"
headings, lettered sub-items and line-end hyphens (the forum's own recommendations: regional, a date range,
a place); a footnote marker glued after punctuation with its note in body type; two columns; headings in
capitals with (1) numbering (a national preparatory meeting: its member state); a scan with no text layer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import reportlab
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from aflm_graph.ingest.inspect import format_inspection, inspect_file
from aflm_graph.ingest.parse import REGIONAL_ISSUER, Document, parse_file
from aflm_graph.ingest.pdf import PdfNeedsOcrError

VERA = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"  # ships with reportlab; has the fi and fl ligatures
pdfmetrics.registerFont(TTFont("Vera", str(VERA)))

Entry = str | tuple[str, str]


def _draw(c: canvas.Canvas, x: float, y: float, text: str, size: float) -> None:
    """Draw `text`; a part between carets ("^1^") is a superscript: smaller and raised."""
    for i, part in enumerate(text.split("^")):
        small = size * 0.6 if i % 2 else size
        c.setFont("Vera", small)
        c.drawString(x, y + (size * 0.35 if i % 2 else 0), part)
        x += pdfmetrics.stringWidth(part, "Vera", small)


def _column(c: canvas.Canvas, x: float, y: float, entries: list[Entry]) -> None:
    notes: list[tuple[str, str]] = []
    for entry in entries:
        if isinstance(entry, tuple):
            kind, text = entry
            if kind == "title":
                _draw(c, x, y, text, 14)
                y -= 22
            else:
                notes.append(entry)
        elif entry == "":
            y -= 10
        else:
            indent = 18 if entry.startswith("(") else 0
            _draw(c, x + indent, y, entry, 11)
            y -= 15
    for k, (kind, text) in enumerate(notes):  # footnotes at the bottom: "note" in small type, "same" in body type
        _draw(c, x, 100 - 12 * k, text, 8 if kind == "note" else 11)


def write_pdf(path: Path, pages: list[list[Entry]] | list[tuple[list[Entry], list[Entry]]], *,
              header: str | None = None, footer: bool = True) -> Path:
    """A text PDF: one list of lines per page (or a pair: two columns), a running header, "Page N of M"."""
    c = canvas.Canvas(str(path), pagesize=A4)
    for number, page in enumerate(pages, start=1):
        if header:
            _draw(c, 72, 810, header, 8)
        if isinstance(page, tuple):
            _column(c, 72, 770, page[0])
            _column(c, 320, 770, page[1])
        else:
            _column(c, 72, 770, list(page))
        if footer:
            _draw(c, 270, 40, f"Page {number} of {len(pages)}", 8)
        c.showPage()
    c.save()
    return path


def rows(doc: Document) -> list[tuple[str | None, str, str]]:
    return [(r.subtheme, r.label, r.text) for r in doc.recommendations]


FORUM: list[list[Entry]] = [
    [
        ("title", "Recommendations"),
        ("title", "10th ASEAN Forum on Migrant Labour"),
        "Manila, Philippines, 9-10 November 2017",
        "",
        "Theme 1: Protection of migrant workers",
        "",
        "1. Ensure beneﬁts for migrant workers in line with the Domestic Workers",
        "Convention, 2011 (No. 189).^1^",
        "2. Strengthen the ﬁnancial literacy of migrant workers and their",
        "families before departure.",
        "3. Promote fair recruit-",
        "ment and ethical recruitment, including:",
        "(a) zero recruitment fees for workers;",
        "(b) standard employment contracts.",
        "",
        "Theme 2: Social protection",
        "",
        "4. Extend social security to all migrant workers, including self-",
        "employed and gender-",
        "sensitive services.",
        ("note", "1 ILO Domestic Workers Convention, 2011 (No. 189), not ratiﬁed by all"),
        ("note", "ASEAN Member States."),
    ],
    [
        "5. Improve conﬂict resolution in the workplace.",
        "6. Provide portability of social security beneﬁts.",
    ],
]


def test_forum_recommendations_with_ligatures_footnote_furniture_and_theme_headings(tmp_path: Path) -> None:
    doc = parse_file(write_pdf(tmp_path / "forum.pdf", FORUM, header="10th AFML  Recommendations"))
    assert [(s.label, s.title) for s in doc.subthemes] == [("1", "Protection of migrant workers"),
                                                           ("2", "Social protection")]
    assert rows(doc) == [
        ("1", "1", "Ensure benefits for migrant workers in line with the Domestic Workers Convention, 2011 (No. 189)."),
        ("1", "2", "Strengthen the financial literacy of migrant workers and their families before departure."),
        ("1", "3", "Promote fair recruitment and ethical recruitment, including: (a) zero recruitment fees for "
         "workers; (b) standard employment contracts."),
        ("2", "4", "Extend social security to all migrant workers, including self-employed and gender-sensitive "
         "services."),
        ("2", "5", "Improve conflict resolution in the workplace."),
        ("2", "6", "Provide portability of social security benefits."),
    ]
    assert (doc.member_state, doc.issuer) == (None, REGIONAL_ISSUER)  # held in Manila: not the Philippines'
    assert (doc.title, doc.forum_edition) == ("Recommendations 10th ASEAN Forum on Migrant Labour", 10)
    assert (doc.date, doc.date_end, doc.place) == ("2017-11-09", "2017-11-10", "Manila, Philippines")
    r = doc.reading
    assert [(f.label, f.text, f.page) for f in r.footnotes] == [
        ("1", "ILO Domestic Workers Convention, 2011 (No. 189), not ratified by all ASEAN Member States.", 1)]
    assert [(m.label, m.how) for m in r.markers] == [("1", "superscript")]
    assert [(f.page, f.why, f.text) for f in r.furniture] == [
        (1, "running header", "10th AFML Recommendations"), (1, "page number", "Page 1 of 2"),
        (2, "running header", "10th AFML Recommendations"), (2, "page number", "Page 2 of 2")]
    assert r.warnings == ()
    assert "\ufb01" not in doc.text and "benefits" in doc.text  # spans point into the stored (clean) text
    first = doc.recommendations[0]
    assert doc.text[first.span.start : first.span.end].startswith("1. Ensure benefits")


def test_glued_footnote_marker_and_a_footnote_in_body_type(tmp_path: Path) -> None:
    page: list[Entry] = [
        ("title", "Viet Nam National Recommendations"),
        "Sub-theme I: Decent work",
        "1. Ratify the Domestic Workers Convention, 2011 (No. 189).1",
        "2. Extend labour inspection to domestic work.",
        ("same", "1 Adopted by the International Labour Conference in 2011."),
    ]
    doc = parse_file(write_pdf(tmp_path / "vn.pdf", [page], footer=False))
    assert rows(doc) == [
        ("I", "1", "Ratify the Domestic Workers Convention, 2011 (No. 189)."),
        ("I", "2", "Extend labour inspection to domestic work."),
    ]
    assert [(s.label, s.title) for s in doc.subthemes] == [("I", "Decent work")]
    assert [(f.label, f.text) for f in doc.reading.footnotes] == [
        ("1", "Adopted by the International Labour Conference in 2011.")]
    assert [(m.label, m.how) for m in doc.reading.markers] == [("1", "glued after punctuation")]
    assert (doc.member_state, doc.issuer) == ("Viet Nam", "Viet Nam")


def test_two_columns_keep_their_reading_order(tmp_path: Path) -> None:
    left: list[Entry] = [
        ("title", "Thailand National"),
        ("title", "Recommendations"),
        "Thematic session 1: Skills",
        "1. Recognise the skills of",
        "returning migrant workers.",
        "2. Fund training for",
        "women migrant workers.",
        "3. Certify skills across",
        "ASEAN Member States.",
    ]
    right: list[Entry] = [
        "",
        "",
        "Thematic session 2: Health",
        "1. Give migrant workers",
        "access to health care.",
        "2. Cover migrant workers",
        "in national health insurance.",
    ]
    doc = parse_file(write_pdf(tmp_path / "two-columns.pdf", [(left, right)], footer=False))
    assert [(s.label, s.title) for s in doc.subthemes] == [("1", "Skills"), ("2", "Health")]
    assert rows(doc) == [
        ("1", "1", "Recognise the skills of returning migrant workers."),
        ("1", "2", "Fund training for women migrant workers."),
        ("1", "3", "Certify skills across ASEAN Member States."),
        ("2", "1", "Give migrant workers access to health care."),
        ("2", "2", "Cover migrant workers in national health insurance."),
    ]
    assert doc.issuer == "Thailand" and doc.reading.columns == (1,)


def test_capital_headings_parenthesised_numbers_and_a_national_preparatory_meeting(tmp_path: Path) -> None:
    page: list[Entry] = [
        ("title", "Recommendations of the National Preparatory Meeting"),
        ("title", "of Cambodia for the 12th AFML"),
        "Phnom Penh, Cambodia, 30 October 2019",
        "",
        "PROTECTION OF MIGRANT WORKERS",
        "(1) Set up one-stop service centres.",
        "(2) Regulate recruitment agencies.",
        "",
        "RETURN AND REINTEGRATION",
        "(1) Recognise skills gained abroad.",
    ]
    doc = parse_file(write_pdf(tmp_path / "kh.pdf", [page], footer=False))
    assert [(s.label, s.title) for s in doc.subthemes] == [("1", "PROTECTION OF MIGRANT WORKERS"),
                                                           ("2", "RETURN AND REINTEGRATION")]
    assert rows(doc) == [
        ("1", "1", "Set up one-stop service centres."),
        ("1", "2", "Regulate recruitment agencies."),
        ("2", "1", "Recognise skills gained abroad."),
    ]
    assert (doc.member_state, doc.issuer, doc.forum_edition) == ("Cambodia", "Cambodia", 12)
    assert (doc.date, doc.date_end, doc.place) == ("2019-10-30", None, "Phnom Penh, Cambodia")
    assert "National Preparatory Meeting" in doc.reading.issuer_reason


def test_scan_without_text_layer_names_the_file_and_ocrmypdf(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.rect(72, 600, 400, 100, fill=1)  # a picture of text: no text layer
    c.showPage()
    c.save()
    with pytest.raises(PdfNeedsOcrError) as exc:
        parse_file(path)
    message = str(exc.value)
    assert "scan.pdf" in message and "needs OCR" in message and "ocrmypdf" in message


def test_inspect_reports_issuer_reason_footnotes_and_furniture(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "forum.pdf", FORUM, header="10th AFML  Recommendations")
    report = format_inspection(inspect_file(path))
    assert "issuer: ASEAN Forum on Migrant Labour  [the forum's own recommendations (regional)" in report
    assert "date: 2017-11-09 to 2017-11-10" in report
    assert "  1/3  Promote fair recruitment and ethical recruitment, including: (a) …" in report
    assert "  [1] page 1: ILO Domestic Workers Convention, 2011 (No. 189), not ratified by all ASEAN" in report
    assert "  page 2: running header: 10th AFML Recommendations" in report
    assert "warnings (0):" in report
