"""Which parts of a script `evalcode` parses: the stream holds 1,100 distinct scripts (86 MB), too many to
parse whole. A script is cut into its functions by their `def` lines (text only); the functions that could
hold an evaluation fact are found by their text (an update near a validation-token index, a tensor created
with `requires_grad=True`, a PPM model, a lookup key built from a target), then the functions that call them,
and the functions that score validation tokens. A script with no such function is not parsed at all.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, replace

_DEF = re.compile(r"^( {0,4})(?:async\s+)?(?:def|class)\s+(\w+)", re.MULTILINE)
_VALSUB = re.compile(r"\bval\w*\s*\[|\.val_tokens\s*\[")
_UPDATE = re.compile(r"\.backward\(|requires_grad\s*=\s*True")
_PPM = re.compile(r"^\s*(?:def|class)\s+\w*ppm\w*", re.IGNORECASE | re.MULTILINE)
_KEYMIX = re.compile(r"key\w*\s*=[^=].*(?:\b(?:tgt|target|targets|y|nxt|next_tok)\w*\b.*[\^+|]|[\^+|].*"
                     r"\b(?:tgt|target|targets|y|nxt|next_tok)\w*\b)", re.IGNORECASE)
_NEW_PARAM = re.compile(r"requires_grad=True\s*[,)]")  # a tensor created to be fitted (not `p.requires_grad = True`)
_SCORES = re.compile(r"(?:loss|nll|bits|bpb)\w*\s*\+=", re.IGNORECASE)
_ENV_GET = re.compile(r"os\.(?:environ\.get|getenv)\(\s*['\"](\w+)['\"]\s*,\s*['\"]?([^'\")]*)")
_ASSIGNED = re.compile(r"(\w+)\s*(?::[^=]*)?=(?!=)")


@dataclass(frozen=True)
class Block:
    name: str
    line: int  # the `def` line, 1-based, in the whole script
    raw: str  # the function's source as written (indented as in the script)
    deep: bool = False  # read every expression (a function that could hold a fact or scores), else only calls
    keyed: bool = False  # a line builds a lookup key from a target token (`full_key = ... ^ tgt * prime`)
    scores: bool = False  # accumulates a loss over validation tokens (`scores()`)

    @property
    def text(self) -> str:
        """The source dedented, to parse alone."""
        return textwrap.dedent(self.raw)


def blocks(source: str) -> list[Block]:
    """Every function and method (a `def` at indentation 0 or 4) with its body: up to the next line indented
    no deeper than its `def` (a closing bracket of a long signature does not end it)."""
    lines = source.split("\n")
    # each line's indentation, or None where it cannot end a block (blank, a comment, a closing bracket)
    indent = [None if not (st := ln.lstrip()) or st[0] in ")]#" else len(ln) - len(st) for ln in lines]
    out, line, last = [], 0, 0
    for m in _DEF.finditer(source):
        line += source.count("\n", last, m.start())
        last = m.start()
        depth, end = len(m.group(1)), line + 1
        while end < len(lines) and (indent[end] is None or indent[end] > depth):
            end += 1
        out.append(Block(m.group(2), line + 1, "\n".join(lines[line:end])))
    return out


# `full_idx = ((h ^ (tokens[pos] * prime)) & mask)`: the "full" (context + next token) key of an n-gram table
_FULLKEY = re.compile(r"\bfull\w*\s*=[^=].*\^")


def _keymix(t: str) -> bool:
    return ("key" in t or "full" in t) and any(
        "=" in ln and (_KEYMIX.search(ln) or _FULLKEY.search(ln)) for ln in t.split("\n") if "key" in ln or "full" in ln)


def _score_first(t: str) -> bool:
    """Score-first TTT as written: the loss is accumulated before the first update, and no tensor is created to
    be fitted (a SLOT delta). Not parsed: the loop analysis would find it legal (the cost of the stream)."""
    score, update = _SCORES.search(t), t.find(".backward(")
    return score is not None and 0 <= score.start() < update and not _NEW_PARAM.search(t)


def _candidate(b: Block) -> bool:
    t = b.raw
    update = (".backward(" in t or "requires_grad" in t) and _UPDATE.search(t) and _VALSUB.search(t)
    return bool(update and not _score_first(t) or "ppm" in b.name.lower() or _keymix(t))


def needed(source: str) -> list[Block]:
    """The functions to parse: those that could hold a fact, their callers (up to the entry point), and the
    functions that score validation tokens; none when no function could hold a fact."""
    every = blocks(source)
    chosen = {id(b) for b in every if _candidate(b)}
    if not chosen:
        return []
    names = {b.name for b in every if id(b) in chosen}
    while names:
        new = [b for b in every if id(b) not in chosen and any(n in b.raw for n in names)
               and re.search(r"\b(?:" + "|".join(map(re.escape, sorted(names))) + r")\b", b.raw)]
        chosen |= {id(b) for b in new}
        names = {b.name for b in new}
    deep = {id(b) for b in every if _candidate(b)}
    scoring = {id(b) for b in every if scores(b)}
    return [replace(b, deep=id(b) in deep, keyed=_keymix(b.raw), scores=id(b) in scoring) for b in every
            if id(b) in chosen | scoring]


def scores(b: Block) -> bool:
    """Does the function accumulate a loss over validation tokens (`loss_sum += ...` near `val_tokens[...]`)?"""
    return "+=" in b.raw and bool(_VALSUB.search(b.raw) and _SCORES.search(b.raw))


def defaults(source: str) -> dict[str, str]:
    """Each setting's default as the script reads it: `ttt_enabled = bool(int(os.environ.get("TTT_ENABLED",
    "0")))` -> {ttt_enabled: 0, ttt_enabled (the variable, lower case): 0}."""
    out: dict[str, str] = {}
    for m in _ENV_GET.finditer(source):
        start = max(source.rfind("\n", 0, m.start()), source.rfind(";", 0, m.start())) + 1
        if name := _ASSIGNED.search(source, start, m.start()):
            out.setdefault(name.group(1).lower(), m.group(2).strip())
        out.setdefault(m.group(1).lower(), m.group(2).strip())
    return out


def used_elsewhere(source: str, name: str) -> bool:
    """Is a function named anywhere but its own `def` (called, passed, assigned)?"""
    return len(re.findall(rf"\b{re.escape(name)}\b", source)) > 1


_IF = re.compile(r"^\s*(?:el)?if\s+(.+?):(?:\s*#.*)?$|^\s*(?:el)?if\s+(.+?):\S")


def text_caller(source: str, name: str) -> tuple[str, list[str]] | None:
    """Where a function that did not parse as part of its caller is used: the caller's name and the `if` tests
    around the first use, innermost first, as text (each parsed alone by `guards`); None when it is not used."""
    lines = source.split("\n")
    use = re.compile(rf"\b{re.escape(name)}\b")
    for i, ln in enumerate(lines):
        if not use.search(ln) or re.match(rf"\s*(?:async\s+)?def\s+{re.escape(name)}\b", ln):
            continue
        depth, tests = len(ln) - len(ln.lstrip()), []
        for up in range(i - 1, -1, -1):
            text = lines[up]
            stripped = text.lstrip()
            if not stripped or len(text) - len(stripped) >= depth:
                continue
            depth = len(text) - len(stripped)
            if m := re.match(r"(?:async\s+)?def\s+(\w+)", stripped):
                return m.group(1), tests
            if m := _IF.match(stripped):
                tests.append(m.group(1) or m.group(2))
        return "<module>", tests
    return None
