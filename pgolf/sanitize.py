"""Text from a submission, made safe for where pgolf puts it: a terminal, a CSV cell, a path.

- terminal(): a folder name or log line holding ESC sequences could retitle a terminal or clear it;
  every control character (C0, DEL, C1, so ESC and the 8-bit CSI too) and every bidirectional override
  is written as a visible escape (`\\x1b`), so the text prints inert and the reader sees it was there.
- csv_cell(): a cell beginning with =, +, -, @, a tab or a carriage return is a formula to a spreadsheet
  (`=HYPERLINK(...)`); OWASP's advice is to prefix it with a single quote. A cell that reads as a finite
  number (`-1.25`, `+3`) is a number, not a formula, and stays as it is. Control characters in a cell
  are escaped as for the terminal.
- inside(): a path under a folder, with every link resolved; a link that leads out of the folder is
  refused, naming the link and where it points (a record folder's `train_gpt.py -> /etc/passwd`).
"""

from __future__ import annotations

import math
import os
import unicodedata
from pathlib import Path
from typing import Any

from pgolf.errors import DataError

# Bidirectional embeddings, overrides and isolates: they reorder what a terminal or an editor shows.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def terminal(text: str, keep_newlines: bool = False) -> str:
    """`text` with every control character and bidi override as a visible escape (newlines kept if asked)."""
    return "".join(_escape(ch) if _unsafe(ch, keep_newlines) else ch for ch in text)


def _unsafe(ch: str, keep_newlines: bool) -> bool:
    if keep_newlines and ch == "\n":
        return False
    return ch in _BIDI or unicodedata.category(ch) == "Cc"


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class PathEscape(DataError):
    """A link inside a folder points outside it."""


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell: control characters but newlines and tabs as visible escapes (terminal(): a bare carriage
    return would end the row in a writer that does not quote it), then a string a spreadsheet would run as a
    formula gets a leading `'`; numbers, and strings that read as a finite number, are left as they are."""
    if not isinstance(value, str):
        return value
    # a newline or tab inside a cell is kept (a writer quotes it; a multi-line flag keeps its lines); a bare
    # carriage return is not always quoted, so it is escaped; a cell beginning with either is quoted below
    value = "\t".join(terminal(part, keep_newlines=True) for part in value.split("\t"))
    if not value.startswith((*FORMULA_START, "\n")):
        return value
    try:
        if math.isfinite(float(value)):
            return value
    except ValueError:
        pass
    return "'" + value


def csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """Every cell of a row through csv_cell."""
    return {key: csv_cell(value) for key, value in row.items()}


def inside(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """`path` (absolute, or relative to `root`) with every link resolved, or PathEscape if it leads outside
    `root`: pgolf never follows a link out of a submission's folder, and says so."""
    base = Path(root).resolve()
    given = Path(path) if Path(path).is_absolute() else Path(root) / path
    resolved = given.resolve()
    if resolved == base or resolved.is_relative_to(base):
        return resolved
    link = _first_link(Path(root), given)
    what = f"{link} is a link to {os.readlink(link)}" if link is not None else f"{given} resolves to {resolved}"
    raise PathEscape(f"{what}, outside the folder {base}; pgolf does not follow links out of a submission's "
                     "folder: the file is left out (put the file itself in the folder)")


def _first_link(root: Path, given: Path) -> Path | None:
    """The first component of `given` (below `root`) that is a symbolic link, if any."""
    try:
        parts = given.relative_to(root).parts
    except ValueError:
        parts, root = given.parts, Path(given.anchor)
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            return current
    return None
