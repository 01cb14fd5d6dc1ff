"""The errors of reading a document, below both the text parser and the PDF reader (which raise them).

`ParseError` names the file, the place and what was expected; `pdf.PdfError` and its kinds derive from it.
"""

from __future__ import annotations

from pathlib import Path

from ..safetext import printable


class ParseError(ValueError):
    """A document that cannot be parsed; the message names the file, the place and what was expected."""

    def __init__(self, source: str | Path, message: str, *, line: int | None = None) -> None:
        self.source = str(source)
        self.line = line
        self.detail = message  # the message without the place, for re-raising with a longer path
        place = f"{self.source}:{line}" if line is not None else self.source
        super().__init__(printable(f"{place}: {message}"))  # a file name may hold terminal escapes
