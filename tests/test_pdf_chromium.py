"""Issue 20's measured case for real: an HTML page printed to PDF by headless Chromium, then parsed.

The reportlab PDFs of test_pdf_layouts.py cannot show what a browser does: its fonts (DejaVu here) set
"ff", "ffi" and "fi" as ligatures (U+FB00, U+FB01 in the text), `<sup>` raises a marker by about half
the body size (so its centre is far above the line's), `@page` margin boxes and fixed-position elements
repeat a header on every page, list numbers are separate text, and a title block of different sizes
sits with no paragraph gap above its "Manila, Philippines, 9-10 November 2017" line.

Each variant writes the page into tmp_path, prints it with Chromium (network off: a file URL, a
Content-Security-Policy that allows no fetch, no background networking), parses the PDF and checks
every item exactly, then runs `aflm-graph inspect` on it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from aflm_graph.ingest.parse import REGIONAL_ISSUER, parse_file
from conftest import require_executable

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",  # nothing leaves the machine
]
HEADER = "10th AFML \u2014 Recommendations"

ITEMS_THEME_1 = [
    "Promote the ratification and effective implementation of the Domestic Workers Convention, 2011 (No. 189).",
    "Strengthen measures against trafficking in persons, including the identification of victims among "
    "migrant workers and referral to support services.",
    "Ensure that the labour attach\u00e9 office in each country of destination has sufficient staff and financial "
    "resources to assist migrant workers.",
    "Regulate recruitment agencies effectively, including: (a) the prohibition of recruitment fees charged to "
    "migrant workers; (b) the certification of agencies that affirm ethical recruitment practices.",
    "Provide financial literacy training to migrant workers and their families before departure and after "
    "return.",
    "Affirm the right of migrant workers to keep their own passports and identity documents.",
]
ITEMS_THEME_2 = [
    "Extend social security coverage to migrant workers on an equal footing with nationals, with effective "
    "access to benefits.",
    "Conclude bilateral and multilateral agreements on the portability of social security benefits.",
    "Ensure that the office responsible for social security in each country of origin offers clear "
    "information to migrant workers.",
    "Improve access of migrant workers to effective complaint mechanisms and to financial compensation for "
    "employment injury.",
    "Affirm the role of trade unions and civil society in reaching migrant workers in countries of "
    "destination.",
    "Review the progress made on the ratification of relevant ILO conventions at the next Forum.",
]
FOOTNOTE = "At the time of the Forum, one ASEAN Member State had ratified Convention No. 189."


def _li(text: str) -> str:
    if text.startswith("Promote"):
        return f"<li>{text}<sup>1</sup></li>"  # the footnote marker, right after "(No. 189)."
    if "(a)" in text:
        head, rest = text.split(" (a) ")
        a, b = rest.split(" (b) ")
        return f'<li>{head}\n<div class="sub">(a) {a}</div>\n<div class="sub">(b) {b}</div></li>'
    return f"<li>{text}</li>"


def forum_html(*, font: str, header: str) -> str:
    """The forum's recommendations on two A4 pages; `header`: "page-box" (@page @top-center) or "fixed"."""
    margin_box = f'@top-center {{ content: "{HEADER}"; font: 8pt {font}; color: #444; }}'
    margin_box = margin_box if header == "page-box" else ""
    fixed = f'<div class="running">{HEADER}</div>' if header == "fixed" else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Recommendations, 10th AFML</title>
<style>
@page {{ size: A4; margin: 22mm 20mm 18mm 20mm; {margin_box} }}
body {{ font: 11pt/1.4 {font}; margin: 0; }}
.running {{ position: fixed; top: 0; left: 0; right: 0; text-align: center; font: 8pt {font}; color: #444; }}
.page {{ height: 255mm; display: flex; flex-direction: column; box-sizing: border-box;
         padding-top: {"12mm" if header == "fixed" else "0"}; }}
.page + .page {{ break-before: page; }}
h1 {{ font-size: 16pt; text-align: center; margin: 0 0 2pt; }}
h2 {{ font-size: 14pt; text-align: center; margin: 0 0 6pt; }}
p.place {{ text-align: center; font-style: italic; margin: 0 0 14pt; }}
h3 {{ font-size: 12pt; margin: 12pt 0 6pt; }}
ol {{ margin: 0; padding-left: 22pt; }}
li {{ margin: 0 0 5pt; text-align: justify; }}
.sub {{ margin: 2pt 0 0 14pt; }}
.notes {{ margin-top: auto; border-top: 0.5pt solid #000; width: 45%; padding-top: 3pt; font-size: 8.5pt; }}
.notes p {{ margin: 0; }}
sup {{ font-size: 65%; }}
</style></head>
<body>{fixed}
<section class="page">
<h1>Recommendations</h1>
<h2>10th ASEAN Forum on Migrant Labour</h2>
<p class="place">Manila, Philippines, 9-10 November 2017</p>
<h3>Theme 1: Protection of migrant workers against trafficking and exploitation</h3>
<ol start="1">
{chr(10).join(_li(t) for t in ITEMS_THEME_1)}
</ol>
<h3>Theme 2: Social protection for migrant workers</h3>
<ol start="7">
{_li(ITEMS_THEME_2[0])}
</ol>
<div class="notes"><p><sup>1</sup> {FOOTNOTE}</p></div>
</section>
<section class="page">
<ol start="8">
{chr(10).join(_li(t) for t in ITEMS_THEME_2[1:])}
</ol>
</section>
</body></html>
"""


def print_to_pdf(chromium: str, html: Path, pdf: Path, *, browser_footer: bool) -> Path:
    """Print `html` with headless Chromium (its own date/URL/page-number lines only if `browser_footer`)."""
    profile = html.parent / "chromium-profile"
    cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}"]
    if not browser_footer:
        cmd.append("--no-pdf-header-footer")
    proc = subprocess.Popen([*cmd, html.as_uri()], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # its own group: a hung browser is ended with its children
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"chromium did not print {html.name} within 120 s")
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0 and pdf.is_file() and pdf.stat().st_size > 0, err.decode("utf-8", "replace")[-2000:]
    return pdf


VARIANTS = {
    "serif, @page header": ("serif", "page-box", False),
    "sans-serif, fixed-position header": ("sans-serif", "fixed", False),
    "serif, @page header, Chromium's URL and page-number footer": ("serif", "page-box", True),
}


@pytest.fixture(scope="module", params=list(VARIANTS), ids=list(VARIANTS))
def forum_pdf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bool]:
    chromium = require_executable("chromium", why="the Chromium-printed PDF tests print an HTML page")
    font, header, browser_footer = VARIANTS[request.param]
    folder = tmp_path_factory.mktemp("chromium")
    html = folder / "forum.html"
    html.write_text(forum_html(font=font, header=header), encoding="utf-8")
    return print_to_pdf(chromium, html, folder / "forum.pdf", browser_footer=browser_footer), browser_footer


def test_the_printed_page_has_what_issue_20_measured(forum_pdf: tuple[Path, bool]) -> None:
    """The raw text really holds the traps: ligatures and a raised marker (else the test proves nothing)."""
    from pdfminer.high_level import extract_text

    raw = extract_text(str(forum_pdf[0]))
    assert "\ufb00" in raw and "\ufb01" in raw  # "traﬀicking", "ratiﬁcation"
    assert raw.count(HEADER) == 2


def test_chromium_pdf_reads_exactly(forum_pdf: tuple[Path, bool]) -> None:
    path, browser_footer = forum_pdf
    doc = parse_file(path)
    expected = [("1", str(n), t) for n, t in enumerate(ITEMS_THEME_1, start=1)] + [
        ("2", str(n), t) for n, t in enumerate(ITEMS_THEME_2, start=7)]
    assert [(r.subtheme, r.label, r.text) for r in doc.recommendations] == expected
    assert [(s.label, s.title) for s in doc.subthemes] == [
        ("1", "Protection of migrant workers against trafficking and exploitation"),
        ("2", "Social protection for migrant workers")]
    assert (doc.member_state, doc.issuer) == (None, REGIONAL_ISSUER)  # held in Manila: not the Philippines'
    assert (doc.title, doc.forum_edition) == ("Recommendations 10th ASEAN Forum on Migrant Labour", 10)
    assert (doc.date, doc.date_end, doc.place) == ("2017-11-09", "2017-11-10", "Manila, Philippines")
    r = doc.reading
    assert [(f.label, f.text, f.page) for f in r.footnotes] == [("1", FOOTNOTE, 1)]
    assert [(m.label, m.page, m.after, m.how) for m in r.markers] == [
        ("1", 1, "Convention, 2011 (No. 189).", "superscript")]
    headers = [(f.page, f.why, f.text) for f in r.furniture if f.why == "running header"]
    assert headers == [(1, "running header", HEADER), (2, "running header", HEADER)]
    footers = [(f.page, f.why, f.text.endswith(f"{f.page}/2")) for f in r.furniture if f.why != "running header"]
    assert footers == ([(1, "running footer", True), (2, "running footer", True)] if browser_footer else [])
    assert r.warnings == () and doc.preamble is None and doc.closing == ()
    for ch in "\ufb00\ufb01\ufb02\ufb03\ufb04":
        assert ch not in doc.text
    assert HEADER not in doc.text and FOOTNOTE[:20] not in doc.text and "189).1" not in doc.text
    first = doc.recommendations[0]
    assert doc.text[first.span.start : first.span.end].startswith("1. Promote the ratification")


def test_inspect_reports_the_chromium_pdf_line_by_line(forum_pdf: tuple[Path, bool]) -> None:
    path = forum_pdf[0]
    entry = Path(sys.executable).with_name("aflm-graph")
    cmd = [str(entry)] if entry.is_file() else [sys.executable, "-c", "from aflm_graph._entry import main; main()"]
    proc = subprocess.run([*cmd, "inspect", str(path)], capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    report = proc.stdout.decode("utf-8")
    assert not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0 for c in report)
    lines = report.splitlines()
    title = "title: Recommendations 10th ASEAN Forum on Migrant Labour"
    assert f"{title}  [the heading lines above the first item]" in lines
    assert any(ln.startswith("issuer: ASEAN Forum on Migrant Labour  [the forum's own recommendations (regional)")
               for ln in lines)
    assert "member state: (none)" in lines
    assert "date: 2017-11-09 to 2017-11-10" in lines
    assert "place: Manila, Philippines; mode: (not stated)" in lines
    assert "sub-themes (2):" in lines and "items (12):" in lines
    items = [ln for ln in lines if ln.startswith(("  1/", "  2/"))]
    assert len(items) == 12 and items[0] == "  1/1  Promote the ratification and effective implementation of the …"
    assert items[3] == "  1/4  Regulate recruitment agencies effectively, including: (a) the prohibition …"
    assert f"  [1] page 1: {FOOTNOTE}" in lines
    assert "  [1] page 1, superscript, after 'Convention, 2011 (No. 189).'" in lines
    assert f"  page 2: running header: {HEADER}" in lines
    assert "warnings (0):" in lines


# What the Chromium PDF showed, pinned without a browser (these run where Chromium is missing too).


def test_a_superscript_raised_half_the_body_size_stays_on_its_line() -> None:
    """Chromium's `<sup>` (65 %, raised ~0.48 em): its centre is above the line's by more than 0.45 of its size."""
    from aflm_graph.ingest.layout import Char, assemble_rows

    line = [Char(ch, 79 + 7 * i, 86 + 7 * i, 618.9, 629.9, 10.99) for i, ch in enumerate("(No. 189).")]
    sup = Char("1", 149.0, 153.6, 624.2, 631.4, 7.15)
    rows, _ = assemble_rows([*line, sup], 595, 842)
    assert [(r["text"], r["marks"]) for r in rows] == [("(No. 189).", [[10, "1"]])]


def test_a_place_and_date_line_right_under_the_title_is_not_part_of_it() -> None:
    from aflm_graph.ingest.parse import parse_text

    doc = parse_text("Recommendations\n10th ASEAN Forum on Migrant Labour\nManila, Philippines, 9-10 November 2017\n"
                     "Theme 1: Protection\n1. Protect migrant workers.\n", source_file="forum.txt", sha256="0" * 64)
    assert (doc.title, doc.place, doc.date, doc.date_end) == (
        "Recommendations 10th ASEAN Forum on Migrant Labour", "Manila, Philippines", "2017-11-09", "2017-11-10")
    assert doc.preamble is None and doc.member_state is None
