"""Hostile and broken PDFs (issue 9, test 12): each fails alone, classified, bounded; a batch goes on without it.

Every PDF is opened only by a child process (`python -m aflm_graph.ingest.pdf`) under an address-space cap
and a wall-clock limit. The set: truncated, encrypted with a user password, image-only, a
decompression bomb (a 200 MB page stream in 200 KB), a cyclic outline, a cyclic page tree, and
plain garbage. Each must end within its limits with a classified error that tells the user what to do
(needs password / needs OCR / damaged / too big), or, where the damage is in a part text extraction
never reads (the outline), with the text. `aflm-graph build --keep-going` over a folder that holds
them all and one good document builds the good one and names each failure with its reason.
"""

from __future__ import annotations

import time
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from aflm_graph.cli import cli
from aflm_graph.ingest.pdf import (
    PdfDamagedError,
    PdfError,
    PdfNeedsOcrError,
    PdfPasswordError,
    PdfTooBigError,
    extract_text,
)
from aflm_graph.publish.pipeline import build
from aflm_graph.sparql.catalogue import resolve
from aflm_graph.sparql.run import run
from conftest import DATA
from hostile import record_figure

LINES = ["Lao PDR National Recommendations for the 12th ASEAN Forum on Migrant Labour", "1 October 2019",
         "Sub-theme 1: Decent work", "1. Protect migrant workers from forced labour.",
         "2. Provide legal aid to migrant workers."]
LIMITS = {"timeout_s": 10.0, "memory_mb": 256}


def raw_pdf(objects: list[bytes], *, root: int = 1) -> bytes:
    """A PDF from numbered object bodies (1-based), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(data: bytes, *, flate: bool = False) -> bytes:
    extra = b" /Filter /FlateDecode" if flate else b""
    return b"<< /Length " + str(len(data)).encode() + extra + b" >>\nstream\n" + data + b"\nendstream"


def _text_content() -> bytes:
    ops = [b"BT /F1 11 Tf 72 760 Td 16 TL"]
    ops += [b"(" + line.encode("latin-1") + b") '" for line in LINES]
    return b"\n".join([*ops, b"ET"])


def cyclic_outline() -> bytes:
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /Outlines 5 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 7 0 R >> >> >>",
        _stream(_text_content()),
        b"<< /Type /Outlines /First 6 0 R /Last 6 0 R /Count 1 >>",
        b"<< /Title (Loop) /Parent 5 0 R /First 6 0 R /Next 6 0 R /Prev 6 0 R /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def cyclic_pages() -> bytes:
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",  # the page tree holds itself
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        _stream(b"BT ET"),
    ])


def bomb(megabytes: int = 200) -> bytes:
    """One page whose content stream inflates from ~200 KB to `megabytes` MB of spaces."""
    squeeze = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    body = b"".join(squeeze.compress(chunk) for _ in range(megabytes)) + squeeze.flush()
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(body, flate=True),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def text_pdf(path: Path) -> Path:
    c = canvas.Canvas(str(path), pagesize=A4)
    y = 760
    for line in LINES:
        c.drawString(72, y, line)
        y -= 18
    c.showPage()
    c.save()
    return path


EXPECTED: dict[str, tuple[type[PdfError], ...] | None] = {
    "good": None,
    "truncated": (PdfDamagedError,),
    "encrypted": (PdfPasswordError,),
    "image-only": (PdfNeedsOcrError,),
    "bomb": (PdfTooBigError,),  # pypdf's own inflate limit, or else the memory cap
    "cyclic-outline": None,  # text extraction never walks the outline
    "cyclic-pages": (PdfDamagedError,),
    "garbage": (PdfDamagedError,),
}


@pytest.fixture(scope="module")
def hostile_pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile-pdfs")
    good = text_pdf(folder / "good.pdf")
    pdfs = {name: folder / f"{name}.pdf" for name in EXPECTED}
    data = good.read_bytes()
    pdfs["truncated"].write_bytes(data[: len(data) * 2 // 3])
    writer = PdfWriter(clone_from=PdfReader(good))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with pdfs["encrypted"].open("wb") as handle:
        writer.write(handle)
    scan = canvas.Canvas(str(pdfs["image-only"]), pagesize=A4)
    scan.rect(72, 400, 300, 200, fill=1)
    scan.showPage()
    scan.save()
    pdfs["bomb"].write_bytes(bomb())
    pdfs["cyclic-outline"].write_bytes(cyclic_outline())
    pdfs["cyclic-pages"].write_bytes(cyclic_pages())
    pdfs["garbage"].write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n")
    return pdfs




@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_hostile_pdf_fails_alone_classified_and_bounded(name: str, hostile_pdfs: dict[str, Path]) -> None:
    started = time.monotonic()
    expected = EXPECTED[name]
    if expected is None:
        assert "Protect migrant workers from forced labour." in extract_text(hostile_pdfs[name], **LIMITS)
    else:
        with pytest.raises(expected) as caught:
            extract_text(hostile_pdfs[name], **LIMITS)
        message = str(caught.value)
        assert hostile_pdfs[name].name in message and caught.value.kind in message
        assert "expected" in message or "OCR" in message, message
    assert time.monotonic() - started < LIMITS["timeout_s"] + 2


def test_a_batch_goes_on_and_names_what_failed(hostile_pdfs: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for path in hostile_pdfs.values():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "philippines.txt").write_text((DATA / "build" / "third-document.txt").read_text(encoding="utf-8"),
                                            encoding="utf-8")
    started = time.monotonic()
    # without --keep-going: the first failure stops the build, nothing is written
    stopped = CliRunner().invoke(cli, ["build", str(folder), "--out", str(tmp_path / "none"), "--no-validate",
                                       "--pdf-timeout", "10", "--pdf-memory", "256"])
    assert stopped.exit_code == 1 and not (tmp_path / "none").exists()
    # with it: the readable documents are built, each failure is named with its reason, and the exit is 1
    out = tmp_path / "build"
    result = CliRunner().invoke(cli, ["build", str(folder), "--out", str(out), "--keep-going", "--pdf-timeout", "10",
                                      "--pdf-memory", "256"])
    seconds = time.monotonic() - started
    assert result.exit_code == 1, result.output
    left_out = [line for line in result.stderr.splitlines() if line.startswith("Left out: ")]
    failing = sorted(name for name, kinds in EXPECTED.items() if kinds)
    assert len(left_out) == len(failing)
    for name in failing:
        line = next(line for line in left_out if f"{name}.pdf" in line)
        assert any(kind.kind in line for kind in EXPECTED[name] or ()), line
    files = {r["source_file"] for r in run(resolve("documents"), build=out).records()}
    assert files == {"philippines.txt", "good.pdf", "cyclic-outline.pdf"}
    report = build([folder], tmp_path / "api", keep_going=True, validate=False)
    assert sorted(Path(p).stem for p in report.failed) == failing
    record_figure("pdf.batch", {"documents": len(hostile_pdfs) + 1, "built": len(files), "left_out": len(left_out),
                                "seconds": round(seconds, 1)})
