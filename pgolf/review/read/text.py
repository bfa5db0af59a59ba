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
    if text and not text.endswith(("\n", "\r")) and not _whole(lines):
        partial, lines = lines[-1].rstrip(), lines[:-1]  # the last line was cut while being written
    return [_TIMESTAMP.sub("", ln.rstrip()) for ln in lines], partial


def _shape(line: str) -> str:
    """A line with its numbers' integer parts blurred and their decimals counted: `step:9/9 val_bpb:9.9999`."""
    return re.sub(r"\d+(?:\.(\d+))?", lambda m: "9" + ("." + "9" * len(m.group(1)) if m.group(1) else ""),
                  _TIMESTAMP.sub("", line.rstrip()))


def _whole(lines: list[str]) -> bool:
    """Is the last line, with no newline after it, whole? Many logs are written without a final newline. The
    last line is whole when it ends in a unit (`eval_time:5599ms`), or its last `key:number` has the decimals
    that key has on an earlier line (`val_bpb:1.2284` after `val_bpb:1.2199`), or 8 of them (an `_exact`
    line), or an earlier line has its shape; a cut `val_bpb:1.19` after `val_bpb:1.2199` is none of these."""
    last = _TIMESTAMP.sub("", lines[-1].rstrip()) if lines else ""
    end = last[-200:]  # the searches anchored at the end run on its tail: on a one-line 1 MB log they were quadratic
    if re.search(r"\d(?:ms|s|bytes|MB|%)\)?$", end) or re.search(r"\d\.\d{8}$", end):
        return True
    if m := re.search(r"(\w+)[:=]\s*\d+\.(\d+)$", end):
        same = re.compile(rf"\b{re.escape(m.group(1))}[:=]\s*\d+\.\d{{{len(m.group(2))}}}(?!\d)")
        if any(same.search(ln) for ln in lines[-400:-1]):
            return True
    shape = _shape(last)
    return bool(last) and any(_shape(ln) == shape for ln in lines[-400:-1])


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
