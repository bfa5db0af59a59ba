"""Chronology as the organizers applied it (issue 28 part 5): what stood when the evidence landed, which version
of a PR holds, rows dropped from the table, reproductions that count.

The judge (pgolf.review.judge.order) fills one `ChronoInput` per submission from git's history; these rules
turn it into flags. `chrono.removed` decides (a dropped row is "removed"); the others explain a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgolf.review.model import Finding
from pgolf.review.rules.registry import rule

# "applies the p<0.25 chronological progression cutoff ... its ML code/record evidence predates #1530"
CHRONOLOGY = "https://github.com/openai/parameter-golf/pull/1902"
REVERTED = "https://github.com/openai/parameter-golf/pull/1806"  # "revert bad merges"
VERSIONS = "https://github.com/openai/parameter-golf/pull/1945"  # judged at its V21 v2 commit; the head moved on


@dataclass(frozen=True)
class ChronoInput:
    """One submission's place in time, as the judge found it in git (dates YYYY-MM-DD, UTC)."""

    evidence_date: str
    opened_date: str | None = None  # the PR's first branch commit
    standing: str | None = None  # the record standing at the evidence date (`#N folder`)
    standing_where: str | None = None  # "table" or "main"
    standing_since: str | None = None
    previous_pr: str | None = None  # the record the PR-number rebuild compared it with
    dropped_where: str | None = None  # "table" or "main": where it was listed, then dropped
    dropped_since: str | None = None
    dropped_date: str | None = None
    dropped_commit: str | None = None
    version: int = 0  # 0: the head; k: the k-th version before it
    version_commit: str | None = None
    head_reason: str | None = None  # why the head does not hold, where an earlier version does
    own_runs: int = 0
    rerun: str | None = None  # a reproduction with fewer runs than the submission's own
    rerun_runs: int = 0


@rule("chrono.removed", severity="error", scope="chrono", source=REVERTED)
def removed(x: ChronoInput) -> list[Finding]:
    """A row the table listed (or a folder main merged) and later dropped: the organizers took it back.

    >>> from pgolf.review.rules.examples import texts
    >>> texts(removed(ChronoInput("2026-03-28", dropped_where="main", dropped_since="2026-04-01",
    ...                           dropped_date="2026-04-26", dropped_commit="7427de232abc")))
    ['error: merged on main on 2026-04-01, deleted from it by 7427de232abc on 2026-04-26']
    """
    if x.dropped_where is None:
        return []
    what = "listed in the table" if x.dropped_where == "table" else "merged on main"
    gone = "dropped from it" if x.dropped_where == "table" else "deleted from it"
    return [Finding(f"{what} on {x.dropped_since}, {gone} by {(x.dropped_commit or '')[:12]} on {x.dropped_date}")]


@rule("chrono.standing", severity="warn", scope="chrono", since="2026-03-18", source=CHRONOLOGY)
def standing(x: ChronoInput) -> list[Finding]:
    """Judged against the record standing when its evidence landed (the table's best row and main's merged
    records as of that date), which is not the record before it in PR order.

    >>> from pgolf.review.rules.examples import texts
    >>> texts(standing(ChronoInput("2026-04-10", standing="#1514 A2", standing_where="table",
    ...                            standing_since="2026-04-09", previous_pr="#1530 VarLen")))
    ['warn: judged against #1514 A2, the record standing on 2026-04-10 (in the table since 2026-04-09), not #1530 VarLen before it in PR order']
    """
    if x.standing is None or x.previous_pr is None or x.standing == x.previous_pr:
        return []
    where = "in the table" if x.standing_where == "table" else "on main"
    return [Finding(f"judged against {x.standing}, the record standing on {x.evidence_date} ({where} since "
                    f"{x.standing_since}), not {x.previous_pr} before it in PR order")]


@rule("chrono.replaced", severity="warn", scope="chrono", since="2026-03-18", source=CHRONOLOGY)
def replaced(x: ChronoInput) -> list[Finding]:
    """Evidence that landed after its PR opened (a folder replaced or changed later) dates from when it landed.

    >>> from pgolf.review.rules.examples import texts
    >>> texts(replaced(ChronoInput("2026-04-11", opened_date="2026-03-28")))
    ['warn: its evidence landed on 2026-04-11, after its PR opened on 2026-03-28: judged from 2026-04-11']
    """
    if x.opened_date is None or x.evidence_date <= x.opened_date:
        return []
    return [Finding(f"its evidence landed on {x.evidence_date}, after its PR opened on {x.opened_date}: "
                    f"judged from {x.evidence_date}")]


@rule("chrono.version", severity="warn", scope="chrono", source=VERSIONS)
def version(x: ChronoInput) -> list[Finding]:
    """The PR's head does not hold, an earlier version of its folder does: the organizers judged the version
    that was the evidence at the time, and so does the judge.

    >>> from pgolf.review.rules.examples import texts
    >>> texts(version(ChronoInput("2026-04-29", version=1, version_commit="7006753aaaaaaa",
    ...                           head_reason="not better than #1953")))
    ['warn: holds at its version 1 before the head (7006753aaaaa, 2026-04-29); the head: not better than #1953']
    """
    if not x.version:
        return []
    return [Finding(f"holds at its version {x.version} before the head ({(x.version_commit or '')[:12]}, "
                    f"{x.evidence_date}); the head: {x.head_reason}")]


@rule("chrono.rerun_runs", severity="warn", scope="chrono", source=CHRONOLOGY)
def rerun_runs(x: ChronoInput) -> list[Finding]:
    """A reproduction replaces a PR's runs only when it has at least as many runs: a smaller rerun is reported,
    the PR's own runs decide.

    >>> from pgolf.review.rules.examples import texts
    >>> texts(rerun_runs(ChronoInput("2026-04-27", own_runs=3, rerun="#1868", rerun_runs=1)))
    ['warn: the reproduction #1868 has 1 run(s), fewer than its own 3: its own runs decide']
    """
    if x.rerun is None:
        return []
    return [Finding(f"the reproduction {x.rerun} has {x.rerun_runs} run(s), fewer than its own {x.own_runs}: "
                    "its own runs decide")]
