"""A train log's text as the reader sees it: line prefixes (timestamps, log levels) and NUL padding gone,
a cut-off last line set apart, and the script's own source dumped at its head (the code dump) found.
"""

from __future__ import annotations

import hashlib
import re

_SEPARATOR = re.compile(r"^={20,}\s*$")
# `1712345678.123 `, `[1712345678]: `, `[2026-04-01 12:00:00,123] INFO: `, `2026-04-01T12:00:00Z INFO `,
# `INFO:root:`, `[rank0]: `, `[eval] `: prefixes some scripts put before every line
_TIMESTAMP = re.compile(r"^(?:\[?\d{9,11}(?:\.\d+)?\]?:?\s+"
                        r"|\[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?Z?\]?\s*(?:-\s*)?"
                        r"|\[[A-Za-z_]\w*\]:?\s+)+(?:(?:INFO|DEBUG|WARNING)(?::\w+)*:?\s*(?:-\s*)?)?"
                        r"|^(?:INFO|DEBUG|WARNING)(?::\w+)*:\s*")

def clean_lines(text: str) -> tuple[list[str], str | None]:
    """The log's lines with line prefixes and NUL padding gone, and the cut-off last line (None if whole)."""
    text = text.replace("\0", "")  # a log padded with NUL bytes would hide its separator line
    lines = text.splitlines()
    partial = None
    if text and not text.endswith(("\n", "\r")):
        partial, lines = lines[-1].rstrip(), lines[:-1]  # the last line was cut while being written
    return [_TIMESTAMP.sub("", ln.rstrip()) for ln in lines], partial


def dump_lines(lines: list[str]) -> list[str]:
    """A dump's lines as compared with a script: trailing spaces and the blank lines at either end dropped."""
    out = [ln.rstrip() for ln in lines]
    while out and not out[-1]:
        out.pop()
    while out and not out[0]:
        out.pop(0)
    return out


def lines_sha256(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8", errors="replace")).hexdigest()


def code_dump(text: str) -> list[str] | None:
    """The source dumped at the head of a log (up to the first separator line), as `dump_lines` keeps it;
    None when the log has none. The reader keeps only its sha256: this re-reads it when a check needs it."""
    lines, _ = clean_lines(text)
    end = code_dump_end(lines)
    return dump_lines(lines[:end - 1]) if end else None


def code_dump_end(lines: list[str]) -> int:
    """Index of the first line after the code dump (0 when the log has none)."""
    for i, line in enumerate(lines):
        if _SEPARATOR.match(line):
            looks_like_code = any(ln.startswith(("import ", "from ", "def ", "class ")) for ln in lines[:i])
            return i + 1 if looks_like_code else 0
    return 0
