"""Text that is safe to show or to hand to a spreadsheet: messages, long values, CSV cells.

File names and values come from other people. Echoed raw into a message, an ANSI escape sequence in a
file name recolours or rewrites the user's terminal, a bidi override reorders what they read, and a
100 KB value buries the message. Written raw into a CSV file, a cell such as `=HYPERLINK(...)` runs as
a formula when the file is opened in a spreadsheet (CSV injection).
"""

from __future__ import annotations

import re

__all__ = ["FORMULA_STARTS", "brief", "neutralise_formula", "printable"]

# C0 and C1 controls (ESC among them), DEL, line/paragraph separators, bidi marks, embeddings, overrides
# and isolates, and lone surrogates (an undecodable byte of a file name): none may reach a terminal raw.
_UNSAFE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection")."""
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: object) -> str:
    """`text` with every control character, bidi control and lone surrogate written as an escape (`\\x1b`).

    Applied to every path or value that goes into an error or progress message. Applying it twice
    changes nothing more: an escape is plain text.
    """
    return _UNSAFE_RE.sub(_escape, str(text))


def brief(value: object, limit: int = 80) -> str:
    """`repr(value)` for a message, cut after `limit` characters with how long it was ("… (N characters)")."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def neutralise_formula(cell: str) -> str:
    """A CSV cell that a spreadsheet will not run: a leading `'` before `=`, `+`, `-`, `@`, tab or CR.

    A plain number ("-0.5", "+3") is left as it is: it cannot be a formula, and quoting it would turn it
    into text.
    """
    if cell.startswith(FORMULA_STARTS) and not _NUMBER_RE.fullmatch(cell):
        return "'" + cell
    return cell
