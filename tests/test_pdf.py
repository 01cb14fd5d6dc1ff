"""PDF text extraction in a subprocess: a real two-page document, and each classified failure."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from aflm_graph.ingest.parse import ParseError, parse_file
from aflm_graph.ingest.pdf import (
    PdfDamagedError,
    PdfError,
    PdfNeedsOcrError,
    PdfPasswordError,
    PdfTooBigError,
    extract_text,
)

HEADER = "AFML 2020 - Viet Nam recommendations"
PAGES = [
    [
        "Viet Nam National Recommendations for the 13th ASEAN Forum on Migrant Labour",
        "9 November 2020",
        "Sub-theme 1: Impact of COVID-19 on migrant workers",
        "1. Extend healthcare to all migrant",
        "workers, including irregular migrant workers.",
        "2. Provide gender-",
        "sensitive services and recruit-",
        "ment support for returning",
    ],
    [
        "migrant workers.",
        "Sub-theme 2: Future preparedness",
        "1. Strengthen reintegration programmes.",
        "2. Ensure portability of social security.",
        "The meeting was held online on 9 November 2020.",
    ],
]


def write_pdf(path: Path, pages: list[list[str]], *, header: str | None = HEADER) -> Path:
    """A text PDF: each page with a running header, its lines and a "Page N of M" footer."""
    c = canvas.Canvas(str(path), pagesize=A4)
    for number, lines in enumerate(pages, start=1):
        if header:
            c.setFont("Helvetica", 9)
            c.drawString(72, 800, header)
        c.setFont("Helvetica", 11)
        y = 760
        for line in lines:
            c.drawString(72, y, line)
            y -= 18
        c.setFont("Helvetica", 9)
        c.drawString(280, 40, f"Page {number} of {len(pages)}")
        c.showPage()
    c.save()
    return path


@pytest.fixture
def two_page_pdf(tmp_path: Path) -> Path:
    return write_pdf(tmp_path / "viet-nam.pdf", PAGES)


def test_extract_text_joins_pages_with_form_feed(two_page_pdf: Path) -> None:
    text = extract_text(two_page_pdf)
    assert text.count("\f") == 1
    assert HEADER in text and "Page 2 of 2" in text


def test_parse_two_page_pdf(two_page_pdf: Path) -> None:
    doc = parse_file(two_page_pdf)
    assert doc.source_format == "pdf"
    assert doc.sha256 == hashlib.sha256(two_page_pdf.read_bytes()).hexdigest()
    assert doc.source_file == "viet-nam.pdf"
    assert "\f" in doc.text
    assert doc.title == "Viet Nam National Recommendations for the 13th ASEAN Forum on Migrant Labour"
    assert (doc.member_state, doc.forum_edition, doc.date, doc.mode) == ("Viet Nam", 13, "2020-11-09", "online")
    assert [(s.label, s.title) for s in doc.subthemes] == [
        ("1", "Impact of COVID-19 on migrant workers"),
        ("2", "Future preparedness"),
    ]
    assert [(r.subtheme, r.label, r.text) for r in doc.recommendations] == [
        ("1", "1", "Extend healthcare to all migrant workers, including irregular migrant workers."),
        # Running header and page number between the pages are gone; hyphenation repaired.
        ("1", "2", "Provide gender-sensitive services and recruitment support for returning migrant workers."),
        ("2", "1", "Strengthen reintegration programmes."),
        ("2", "2", "Ensure portability of social security."),
    ]
    assert doc.closing == ("The meeting was held online on 9 November 2020.",)
    for rec in doc.recommendations:
        assert doc.text[rec.span.start :].startswith(rec.label)


def test_pdf_sidecar_is_read(two_page_pdf: Path) -> None:
    two_page_pdf.with_name(two_page_pdf.name + ".meta.toml").write_text(
        'id = "vn-2020"\nplace = "Hanoi"\n', encoding="utf-8"
    )
    doc = parse_file(two_page_pdf)
    assert (doc.id, doc.place) == ("vn-2020", "Hanoi")


def test_encrypted_pdf_needs_password(two_page_pdf: Path, tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(two_page_pdf))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(PdfPasswordError) as exc:
        parse_file(locked)
    assert "locked.pdf" in str(exc.value) and "needs password" in str(exc.value)
    assert "expected" in str(exc.value)


def test_owner_password_only_pdf_is_read(two_page_pdf: Path, tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(two_page_pdf))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    restricted = tmp_path / "restricted.pdf"
    with restricted.open("wb") as handle:
        writer.write(handle)
    assert len(parse_file(restricted).recommendations) == 4


def test_truncated_pdf_is_damaged(two_page_pdf: Path, tmp_path: Path) -> None:
    data = two_page_pdf.read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(PdfDamagedError) as exc:
        extract_text(cut)
    assert "cut.pdf" in str(exc.value) and "damaged" in str(exc.value) and "truncated" in str(exc.value)


def test_not_a_pdf_is_damaged(tmp_path: Path) -> None:
    fake = tmp_path / "fake.pdf"
    fake.write_text("1. This is text, not a PDF.\n", encoding="utf-8")
    with pytest.raises(PdfDamagedError, match="no %PDF- header"):
        parse_file(fake)


def test_garbled_pdf_body_is_damaged(tmp_path: Path) -> None:
    garbled = tmp_path / "garbled.pdf"
    garbled.write_bytes(b"%PDF-1.4\n" + b"\x9c\x8d garbage " * 200 + b"\n%%EOF\n")
    with pytest.raises(PdfDamagedError):
        extract_text(garbled)


def test_image_only_pdf_needs_ocr(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(scan), pagesize=A4)
    for _ in range(2):
        c.rect(72, 400, 300, 200, fill=1)
        c.circle(300, 300, 50, fill=1)
        c.showPage()
    c.save()
    with pytest.raises(PdfNeedsOcrError) as exc:
        parse_file(scan)
    assert "scan.pdf" in str(exc.value) and "needs OCR" in str(exc.value) and "2 page" in str(exc.value)


def test_too_many_pages(two_page_pdf: Path) -> None:
    with pytest.raises(PdfTooBigError, match="2 pages; expected at most 1"):
        extract_text(two_page_pdf, max_pages=1)


def test_timeout(two_page_pdf: Path) -> None:
    with pytest.raises(PdfTooBigError, match="timed out"):
        extract_text(two_page_pdf, timeout_s=0.001)


def test_memory_limit(two_page_pdf: Path) -> None:
    with pytest.raises(PdfTooBigError, match="memory"):
        extract_text(two_page_pdf, memory_mb=16)


def test_missing_pdf(tmp_path: Path) -> None:
    with pytest.raises(PdfDamagedError, match="no such file"):
        extract_text(tmp_path / "absent.pdf")


def test_pdf_errors_are_parse_errors() -> None:
    for cls in (PdfPasswordError, PdfNeedsOcrError, PdfDamagedError, PdfTooBigError):
        assert issubclass(cls, PdfError) and issubclass(cls, ParseError)
    assert {c.kind for c in (PdfPasswordError, PdfNeedsOcrError, PdfDamagedError, PdfTooBigError)} == {
        "needs password",
        "needs OCR",
        "damaged",
        "too big / timed out",
    }
