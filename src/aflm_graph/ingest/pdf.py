"""Extract the text of a PDF in a sandboxed subprocess.

pypdf runs in a child process (`python -m aflm_graph.ingest.pdf PATH`) under an address-space
limit and a wall-clock timeout, so a hostile or broken PDF cannot hang or exhaust the
parent.  Failures are classified so the user knows what to do next:

* PdfPasswordError  -- "needs password": encrypted and the empty password does not open it;
* PdfNeedsOcrError  -- "needs OCR": no page has extractable text (an image-only scan);
* PdfDamagedError   -- "damaged": not a PDF, truncated, or pypdf cannot read it;
* PdfTooBigError    -- "too big / timed out": too many pages, out of memory, or too slow;
* PdfNotAFileError  -- "not a regular file": a device, a FIFO, a socket or a folder named *.pdf.

The extractor dies with the process that started it (orphans.die_with_parent), so `kill -9` of a
build never leaves it running.

Pages are joined with a form feed ("\\f") so the parser sees the page breaks.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import ParseError
from .files import not_regular
from .layout import PdfReading, clean_pages, normalise_compat

__all__ = [
    "PdfDamagedError",
    "PdfError",
    "PdfLimits",
    "PdfNeedsOcrError",
    "PdfNotAFileError",
    "PdfPasswordError",
    "PdfTooBigError",
    "extract_pdf",
    "extract_text",
]

_EOF_WINDOW = 64 * 1024  # where %%EOF must appear: a file without it was cut short
_OOM_RE = re.compile(r"MemoryError|Cannot allocate memory|failed to map segment|out of memory", re.IGNORECASE)


class PdfError(ParseError):
    """A PDF whose text cannot be extracted; `kind` says why in a user's words."""

    kind = "unreadable PDF"

    def __init__(self, source: str | Path, detail: str, *, line: int | None = None) -> None:
        super().__init__(source, f"{self.kind}: {detail}", line=line)


class PdfPasswordError(PdfError):
    kind = "needs password"


class PdfNeedsOcrError(PdfError):
    kind = "needs OCR"


class PdfDamagedError(PdfError):
    kind = "damaged"


class PdfTooBigError(PdfError):
    kind = "too big / timed out"


class PdfNotAFileError(PdfError):
    kind = "not a regular file"


@dataclass(frozen=True)
class PdfLimits:
    """What extracting one PDF may take: wall-clock seconds, memory of the extractor process, pages."""

    timeout_s: float = 30.0
    memory_mb: int = 512
    max_pages: int = 500


_ERRORS: dict[str, type[PdfError]] = {
    "password": PdfPasswordError,
    "ocr": PdfNeedsOcrError,
    "damaged": PdfDamagedError,
    "too_big": PdfTooBigError,
    "not_file": PdfNotAFileError,
}


def extract_text(path: Path, *, timeout_s: float = 30, memory_mb: int = 512, max_pages: int = 500) -> str:
    """Text of every page as pypdf reads it, joined with "\\f"; raises a PdfError subclass when that is impossible."""
    return str(_run(Path(path), timeout_s, memory_mb, max_pages)["text"])


def extract_pdf(path: Path, *, timeout_s: float = 30, memory_mb: int = 512, max_pages: int = 500) -> PdfReading:
    """The clean text of a PDF and what was set aside (layout.clean_pages); raises a PdfError subclass.

    With positions (pdfminer.six) the text is rebuilt from the page layout; without them pypdf's text is
    used with its compatibility characters normalised (the parser still drops furniture it recognises).
    """
    result = _run(Path(path), timeout_s, memory_mb, max_pages)
    layout = result.get("layout")
    if isinstance(layout, list) and layout:
        reading = clean_pages(layout)
        if reading.text.strip():
            return reading
    text = str(result["text"])
    return PdfReading(normalise_compat(text), text.count("\f") + 1)


def _run(path: Path, timeout_s: float, memory_mb: int, max_pages: int) -> dict[str, object]:
    """Run the extractor child on `path`; its JSON result, or the PdfError it reports."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise PdfDamagedError(path, "no such file; expected a PDF file", line=1) from None
    except OSError as exc:
        raise PdfDamagedError(path, f"cannot read file ({exc.strerror}); expected a readable PDF", line=1) from None
    kind = not_regular(info.st_mode)
    if kind is not None:  # a device never ends, a FIFO blocks: neither reaches the extractor
        raise PdfNotAFileError(path, f"{kind}; expected a PDF file", line=1)
    if info.st_size > memory_mb * 1024 * 1024:
        raise PdfTooBigError(
            path, f"file is {info.st_size} bytes, over the extractor's memory limit of {memory_mb} MB; "
            "expected a smaller PDF (raise the memory limit, --pdf-memory, to read it)", line=1,
        )
    package_root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    cmd = [
        sys.executable,
        "-m",
        "aflm_graph.ingest.pdf",
        "--memory-mb",
        str(memory_mb),
        "--max-pages",
        str(max_pages),
        "--cpu-seconds",
        str(math.ceil(timeout_s) + 1),
        "--parent-pid",
        str(os.getpid()),
        str(path),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise PdfTooBigError(
            path, f"text extraction timed out after {timeout_s:g} s; expected a smaller or simpler PDF"
        ) from None
    try:
        result = json.loads(proc.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        stderr = proc.stderr.decode("utf-8", "replace")
        if _OOM_RE.search(stderr) or proc.returncode < 0:
            raise PdfTooBigError(
                path,
                f"text extraction ran out of memory (limit {memory_mb} MB) or was killed "
                f"(exit {proc.returncode}); expected a smaller PDF",
            ) from None
        last = stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        raise PdfDamagedError(path, f"the extractor failed ({last[0]}); expected a readable PDF") from None
    if "error" in result:
        raise _ERRORS.get(result["error"], PdfDamagedError)(path, result["detail"], line=result.get("page"))
    return dict(result)


# --------------------------------------------------------------------------- child process


def _extract(path: Path, max_pages: int) -> dict[str, object]:
    """Runs in the child: returns {"text": ...} or {"error": kind, "detail": ...}."""
    # O_NONBLOCK and fstat: a FIFO or device swapped in after the parent's check is refused, not read
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        kind = not_regular(os.fstat(fd).st_mode)
        if kind is not None:
            return {"error": "not_file", "detail": f"{kind}; expected a PDF file"}
        data = handle.read()
    if b"%PDF-" not in data[:1024]:
        return {"error": "damaged", "detail": "no %PDF- header; expected a PDF file"}
    if b"%%EOF" not in data[-_EOF_WINDOW:]:
        return {"error": "damaged", "detail": "truncated (no %%EOF marker at the end); expected a complete PDF"}
    import pypdf  # imported here: only the child needs it
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                return {"error": "password", "detail": f"encrypted ({exc}); expected an unencrypted PDF"}
            if not opened:
                return {
                    "error": "password",
                    "detail": "encrypted with a password; expected an unencrypted PDF (decrypt it first)",
                }
        count = len(reader.pages)
        if count == 0:
            return {"error": "damaged", "detail": "no pages; expected at least one page"}
        if count > max_pages:
            return {"error": "too_big", "detail": f"{count} pages; expected at most {max_pages} (max_pages)"}
        texts: list[str] = []
        for number, page in enumerate(reader.pages, start=1):
            try:
                texts.append(page.extract_text() or "")
            except MemoryError:
                raise
            except Exception as exc:
                if type(exc).__name__ == "LimitReachedError":  # pypdf's own cap on inflated streams
                    return {"error": "too_big", "page": number,
                            "detail": f"page {number} inflates past pypdf's limit (a decompression bomb?); "
                            "expected a PDF of ordinary size"}
                return {
                    "error": "damaged",
                    "page": number,
                    "detail": f"page {number} cannot be read ({type(exc).__name__}: {exc}); expected a readable PDF",
                }
    except MemoryError:
        return {"error": "too_big", "detail": "out of memory while reading; expected a smaller PDF"}
    except FileNotDecryptedError as exc:
        return {"error": "password", "detail": f"encrypted ({exc}); expected an unencrypted PDF"}
    except Exception as exc:
        return {"error": "damaged", "detail": f"pypdf cannot read it ({type(exc).__name__}: {exc}); "
                "expected a readable PDF (open and save it again, or export it anew)"}
    if not any(t.strip() for t in texts):
        return {
            "error": "ocr",
            "detail": f"no extractable text on any of {count} page(s) (image-only scan?); "
            "expected a PDF with a text layer: add one with OCR first, e.g. `ocrmypdf --skip-text IN.pdf OUT.pdf` "
            "(ocrmypdf uses tesseract), then read OUT.pdf",
        }
    result: dict[str, object] = {"text": "\f".join(texts), "pages": count}
    layout = _layout(data)
    if layout is not None:
        result["layout"] = layout
    return result


def _layout(data: bytes) -> list[dict[str, object]] | None:
    """Each page's lines in reading order with their size and position (pdfminer.six), or None.

    pypdf has already read the file (and classified what is wrong with it); this second reading adds
    what plain text lacks -- font sizes and positions, for superscript markers, footnotes, page
    furniture and columns.  Without pdfminer.six, or where it fails, the plain text is used.
    """
    try:
        from pdfminer.converter import PDFPageAggregator
        from pdfminer.layout import LTChar, LTContainer
        from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
        from pdfminer.pdfpage import PDFPage
    except ImportError:
        return None
    from .layout import Char, assemble_rows

    def chars_of(obj: object, out: list[Char]) -> None:
        if isinstance(obj, LTChar):
            out.append(Char(obj.get_text(), obj.x0, obj.x1, obj.y0, obj.y1, obj.size))
        elif isinstance(obj, LTContainer):
            for child in obj:
                chars_of(child, out)

    pages: list[dict[str, object]] = []
    try:
        manager = PDFResourceManager(caching=True)
        device = PDFPageAggregator(manager, laparams=None)
        interpreter = PDFPageInterpreter(manager, device)
        for page in PDFPage.get_pages(io.BytesIO(data)):
            interpreter.process_page(page)
            result = device.get_result()
            chars: list[Char] = []
            chars_of(result, chars)
            width, height = result.width, result.height
            rows, columns = assemble_rows(chars, width, height)
            pages.append({"width": width, "height": height, "rows": rows, "columns": columns})
    except MemoryError:
        raise
    except Exception:
        return None
    return pages


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aflm_graph.ingest.pdf", description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--memory-mb", type=int, default=512)
    parser.add_argument("--max-pages", type=int, default=500)
    parser.add_argument("--cpu-seconds", type=int, help="CPU time limit (a backstop where the parent cannot kill)")
    parser.add_argument("--parent-pid", type=int, help="die with this process (the one that started this one)")
    args = parser.parse_args(argv)
    # The child's own imports stay here, out of the parent that imports this module: die_with_parent brings
    # ctypes (and ctypes.util, ~10 ms); `resource` is POSIX-only (an ImportError elsewhere is caught below).
    if args.parent_pid is not None:
        from ..orphans import die_with_parent

        die_with_parent(args.parent_pid)
    try:
        import resource

        limit = args.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if args.cpu_seconds is not None:
            resource.setrlimit(resource.RLIMIT_CPU, (args.cpu_seconds, args.cpu_seconds))
    except (ImportError, ValueError, OSError):  # not on POSIX, or the hard limit is lower
        pass
    out_of_memory: dict[str, object] = {
        "error": "too_big",
        "detail": f"out of memory (limit {args.memory_mb} MB) while reading; expected a smaller PDF",
    }
    try:
        result = _extract(args.path, args.max_pages)
    except MemoryError:
        result = out_of_memory
    except (ImportError, OSError) as exc:  # under RLIMIT_AS, a failed mmap surfaces as one of these
        result = out_of_memory if _OOM_RE.search(str(exc)) else {"error": "damaged", "detail": f"{exc}"}
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
