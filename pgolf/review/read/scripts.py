"""Does a log come from the submitted code? Its dumped source against the folder's scripts, its `Code size`
against the script's bytes.

Most scripts print their own source at the head of the log. The dump is compared with every
Python file of the submission folder, each unpacked from a compressed wrapper first (either side
may be the wrapper); the closest file is reported: identical, or the number of differing lines and
the first differing hunk. A log with no dump is left alone. Both checks are warnings: accepted
records hold logs of a slightly earlier script (a comment, a default) and a reviewer decides.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from pgolf.errors import DataError
from pgolf.review.read.log import ParsedRun, code_dump, dump_lines, lines_sha256
from pgolf.review.read.unwrap import unwrap
from pgolf.review.sources.folder import FolderFiles

MAX_SCRIPTS = 12  # Python files of one folder compared; a folder with more holds a library, not a script
HUNK_LINES = 8  # lines of the first differing hunk quoted in the flag


@dataclass(frozen=True)
class Script:
    rel: str
    raw_bytes: int  # the file as submitted (a wrapper's own size)
    source_bytes: int  # what it runs, unpacked
    lines: tuple[str, ...]  # the unpacked source as `dump_lines` keeps it
    sha256: str
    wrapped: bool
    problem: str | None = None  # a wrapper that could not be unpacked


@dataclass(frozen=True)
class CodeMatch:
    script: Script
    differing: int  # lines added or removed between the script and the dump
    hunk: str  # the first differing hunk, unified, at most HUNK_LINES lines


def read_scripts(files: FolderFiles) -> list[Script]:
    """Every Python file of the folder (train_gpt.py first), unpacked."""
    rels = [p for p in files.paths() if p.endswith(".py")]
    rels.sort(key=lambda p: (PurePosixPath(p).name != "train_gpt.py", p.count("/"), p))
    out = []
    for rel in rels[:MAX_SCRIPTS]:
        try:
            data = files.read(rel)
        except DataError:
            continue  # an unreadable helper is no evidence either way
        out.append(replace(_script(data), rel=rel))
    return out


@functools.lru_cache(maxsize=2048)
def _script(data: bytes) -> Script:
    """One script unpacked, once per content: the stream holds the same train_gpt.py in many folders."""
    u = unwrap(data.decode("utf-8", errors="replace"))
    lines = dump_lines(u.text.splitlines())
    return Script("", len(data), len(u.text.encode("utf-8", errors="replace")), tuple(lines),
                  lines_sha256(lines), u.layers > 0, u.problem)


def log_rel(r: ParsedRun, files: FolderFiles) -> str | None:
    """The folder-relative path of a run's log: the longest path of the folder its file name ends with."""
    file = r.file.replace("\\", "/")
    hits = [p for p in files.paths() if file == p or file.endswith("/" + p)]
    return max(hits, key=len) if hits else None


def dump_of(r: ParsedRun, files: FolderFiles) -> list[str] | None:
    rel = log_rel(r, files)
    if rel is None:
        return None
    try:
        lines = code_dump(files.read(rel).decode("utf-8", errors="replace"))
    except DataError:
        return None  # the reader already reported the file; no dump to quote
    if lines is None:
        return None
    u = unwrap("\n".join(lines))
    return dump_lines(u.text.splitlines()) if u.layers else lines


def closest(dump: Sequence[str], scripts: Sequence[Script]) -> CodeMatch | None:
    """The script nearest the dump (most shared lines), with the differing line count and first hunk."""
    if not scripts:
        return None
    have = set(dump)
    best = max(scripts, key=lambda s: len(have & set(s.lines)) - abs(len(s.lines) - len(dump)) / 2)
    diff = list(difflib.unified_diff(best.lines, list(dump), best.rel, "log", n=1, lineterm=""))
    changed = [d for d in diff[2:] if d[:1] in "+-"]
    first = next((i for i, d in enumerate(diff) if d.startswith("@@") and i >= 2), 2)
    end = next((i for i in range(first + 1, len(diff)) if diff[i].startswith("@@")), len(diff))
    hunk = "\n".join(diff[first:min(end, first + HUNK_LINES)])
    return CodeMatch(best, len(changed), hunk)
