"""The published leaderboard table (the repository README's at main) as input, and its difference from the rebuild.

`parse_table(readme, track)` reads the record track's table: each row's score, the PR its link
names (`.../pull/N`) or the record folder it links to, and a comparison its summary quotes
(`p=0.063 vs #1736`). `diff(rows, submissions, verdicts)` says, row by row, where the rebuild and
the table agree and why they differ.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from statistics import fmean

from pgolf import stats as st
from pgolf.review.judge.progression import Submission
from pgolf.stats import format_p

_PULL = re.compile(r"/pull/(\d+)")
_FOLDER = re.compile(r"records/([\w.-]+)/([^/)\s]+)/")
# `p=0.063 vs #1736`, `p=0.188 vs PR #1868 latest rerun`, `beats #1493 (p=0.020)`
_QUOTED_P = re.compile(r"p\s*=\s*(\d*\.\d+)\s*vs\.?\s*(?:PR\s*)?#(\d+)(\s+latest\s+rerun)?", re.IGNORECASE)
_QUOTED_P_AFTER = re.compile(r"#(\d+)\s*\(p\s*=\s*(\d*\.\d+)\)", re.IGNORECASE)


@dataclass(frozen=True)
class TableRow:
    line: int
    name: str
    score: Decimal
    pr: int | None  # from the row's link
    folder: str | None  # records/<track>/<name>, from the row's link
    quoted_p: Decimal | None = None  # a comparison the row quotes
    quoted_vs: int | None = None
    quoted_rerun: bool = False  # "vs PR #N latest rerun": numbers from a PR comment

    @property
    def key(self) -> str:
        return f"#{self.pr}" if self.pr is not None else self.folder or self.name


@dataclass(frozen=True)
class DiffRow:
    pr: int | None
    folder: str
    score: str
    in_table: bool
    in_rebuild: bool
    reason: str
    listed: str = ""  # the date the table first listed the row
    displaced: str = ""  # the record standing when its evidence landed, which it beat


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _tables(lines: list[str], start: int) -> list[list[TableRow]]:
    """Every Markdown table with a `Score` column from line `start` on, as rows."""
    tables: list[list[TableRow]] = []
    header: list[str] | None = None
    for i in range(start, len(lines)):
        line = lines[i]
        if not line.lstrip().startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = [c.lower() for c in cells]
            tables.append([])
            continue
        if set(line.replace("|", "").strip()) <= set("-: ") or "score" not in header:
            continue
        if (row := _row(i + 1, dict(zip(header, cells, strict=False)), line)) is not None:
            tables[-1].append(row)
    return [t for t in tables if t]


def parse_table(readme: str, track: str = "track_10min_16mb") -> list[TableRow]:
    """The leaderboard table of `track` (after the `Leaderboard` heading): of the tables with a `Score` column,
    the one whose rows link most folders of `records/<track>/`, the first on a tie."""
    lines = readme.splitlines()
    start = next((i for i, ln in enumerate(lines) if re.match(r"^#+\s*Leaderboard\b", ln, re.IGNORECASE)), 0)
    tables = _tables(lines, start)
    if not tables:
        return []
    mine = [sum(bool(r.folder and r.folder.startswith(f"records/{track}/")) for r in t) for t in tables]
    return tables[mine.index(max(mine))]


def _row(lineno: int, cells: dict[str, str], line: str) -> TableRow | None:
    try:
        score = Decimal(cells.get("score", "").strip("* "))
    except InvalidOperation:
        return None
    pr = _PULL.search(cells.get("info", line))
    folder = _FOLDER.search(line)
    summary = cells.get("summary", line)
    quoted, after = _QUOTED_P.search(summary), _QUOTED_P_AFTER.search(summary)
    p, vs = (quoted.group(1), quoted.group(2)) if quoted else (after.group(2), after.group(1)) if after else (None, None)
    return TableRow(lineno, cells.get("run", ""), score, int(pr.group(1)) if pr else None,
                    f"records/{folder.group(1)}/{folder.group(2)}" if folder else None,
                    Decimal(p) if p else None, int(vs) if vs else None, bool(quoted and quoted.group(3)))


def match_row(row: TableRow, subs: Sequence[Submission]) -> Submission | None:
    """The submission a table row stands for: its folder on main, else its PR's (the one on main first)."""
    if row.folder is not None:
        on_main = [s for s in subs if s.folder == row.folder and s.on_main]
        if on_main:
            return on_main[0]
    same_pr = [s for s in subs if row.pr is not None and s.pr == row.pr]
    on_main = [s for s in same_pr if s.on_main]
    if on_main or len(same_pr) < 2:
        return (on_main or same_pr or [None])[0]
    return min(same_pr, key=lambda s: _distance(s, row.score))  # a PR of several folders: the row's score picks


def _distance(sub: Submission, score: Decimal) -> float:
    """How far a submission's claim (else its runs' mean) is from a table score; no number: infinitely far."""
    c = sub.record.claim
    value = float(c.val_bpb) if c is not None and c.val_bpb is not None else fmean(sub.values) if sub.values else None
    return abs(value - float(score)) if value is not None else float("inf")


def _at_digits(p: float, quoted: Decimal) -> str:
    """Our p at the digits the table printed (0.063 -> 0.063), or in full where it rounds to zero there."""
    digits = max(2, -int(quoted.as_tuple().exponent))
    return f"{p:.{digits}f}" if p >= 10 ** -digits / 2 else format_p(p)


@dataclass(frozen=True)
class QuotedComparison:
    """A comparison the table quotes, recomputed from what git holds."""

    pr: int | None
    vs: int
    quoted: Decimal
    p: float | None  # one-sided Welch of the row's evidence against #vs's; None where git lacks either side
    why: str = ""


def quoted_comparison(row: TableRow, sub: Submission, subs: Sequence[Submission]) -> QuotedComparison | None:
    """The row's quoted `p=X vs #N`: the same test (one-sided Welch, no margin) on git's evidence of both."""
    if row.quoted_p is None or row.quoted_vs is None:
        return None
    same = [s for s in subs if s.pr == row.quoted_vs and s.values]
    other = next((s for s in same if s.on_main), same[0] if same else None)
    if other is None:
        return QuotedComparison(sub.pr, row.quoted_vs, row.quoted_p, None, f"no runs of #{row.quoted_vs} in git")
    test, why = st.attempt(st.progression_test, sub.values, other.values, 0.0)
    return QuotedComparison(sub.pr, row.quoted_vs, row.quoted_p, test.p_value if test else None, why or "")


def _p_note(row: TableRow, q: QuotedComparison | None) -> str:
    if q is None:
        return ""
    mine = _at_digits(q.p, q.quoted) if q.p is not None else f"none ({q.why})"
    note = f"; the table quotes p = {q.quoted} vs #{q.vs}, git's evidence gives p = {mine}"
    if row.quoted_rerun:
        note += " (the table's numbers come from a PR comment, which git does not hold)"
    return note


def diff(rows: Sequence[TableRow], subs: Sequence[Submission],
         listed: Callable[[Submission], str] = lambda s: "") -> list[DiffRow]:
    """Rows in both; table rows the rebuild does not accept (why); submissions it accepts that the table lacks.
    `subs`: the judged submissions (each with its verdict); `listed`: the date the table listed one."""
    out: list[DiffRow] = []
    seen: list[Submission] = []
    for row in rows:
        sub = match_row(row, subs)
        if sub is None:
            out.append(DiffRow(row.pr, row.folder or row.name, str(row.score), True, False,
                               "no submission in the stream holds this row (its PR ref or folder is missing)"))
            continue
        seen.append(sub)
        v = sub.verdict
        reason = ("in both" if v.accepted else f"the rebuild does not accept it: {v.reasons}") + _p_note(
            row, quoted_comparison(row, sub, subs))
        out.append(DiffRow(sub.pr, sub.folder, str(row.score), True, v.accepted, reason, listed(sub),
                           (v.frontier or "") if v.accepted else ""))
    for sub in subs:
        v = sub.verdict
        if v.accepted and not any(sub is s for s in seen):
            out.append(DiffRow(sub.pr, sub.folder, f"{fmean(sub.values):.5f}" if sub.values else "", False, True,
                               f"accepted by the rebuild, not in the table: {v.reasons}", "", v.frontier or ""))
    return out
