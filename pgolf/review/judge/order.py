"""The leaderboard as the organizers built it: each submission, in evidence-date order, against the record
standing when its evidence landed (issue 28 part 5).

The record standing at a date is the best row of the README table as of that date, or of main's merged
record folders then, whose own evidence holds (judge/standing.py). A submission that beats it by the
practice's test (progression.compare_to) is accepted; it does not become the frontier by itself: the table
and main say what stood. When the head does not hold, up to four earlier versions of its folder are judged
(judge/dated.py) and the first that holds is reported. A row the table listed and later dropped (a folder
main merged and later deleted) is "removed". The PR-order rebuild (judge/free.py) runs beside it as
each submission's `free` verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import fmean

from pgolf.review.judge.dated import REJUDGED, Loader, chrono_flags, earlier_versions
from pgolf.review.judge.progression import (
    LeaderRow,
    ProgressionSettings,
    Submission,
    Verdict,
    baseline_of,
    compare_to,
    derive_runs_date,
    evidence_problem,
)
from pgolf.review.judge.standing import Listing, Standing
from pgolf.review.model import errors


@dataclass(frozen=True)
class Judged:
    submissions: list[Submission]  # copies of the input (same order), each with verdict, free verdict, version
    leaderboard: list[LeaderRow]  # the accepted, best first
    runs_from: str | None


@dataclass
class _Context:
    standing: Standing
    settings: ProgressionSettings
    runs_from: str | None
    baseline: Submission | None
    load: Loader | None
    copies: dict[int, list[Submission]]  # id(sub) -> the submissions holding the same claimed logs
    holds: dict[int, bool]

    def evidence_holds(self, sub: Submission) -> bool:
        if id(sub) not in self.holds:
            self.holds[id(sub)] = evidence_problem(sub, self.settings, self.runs_from) is None
        return self.holds[id(sub)]


def _copies(subs: Sequence[Submission]) -> dict[int, list[Submission]]:
    groups: dict[tuple[str, ...], list[Submission]] = {}
    for i, s in enumerate(subs):
        logs = tuple(sorted(r.sha256 for r in s.record.counted if r.sha256)) or (f"#{i}",)
        groups.setdefault(logs, []).append(s)
    return {id(s): group for group in groups.values() for s in group}


def judge_dated(subs: Sequence[Submission], standing: Standing, settings: ProgressionSettings,
                load: Loader | None = None) -> Judged:
    """Every submission judged against the record standing at its evidence date (`subs` carry `free`)."""
    runs_from = settings.runs_from if settings.runs_from is not None else derive_runs_date(subs, settings.review.min_runs)
    order = sorted(subs, key=lambda s: (s.timestamp, s.pr or 0, s.folder))
    ctx = _Context(standing, settings, runs_from, baseline_of(order, settings.baseline), load, _copies(subs), {})
    reproductions = {(r.pr, r.folder, r.commit) for s in subs for r in s.reproduced_by}
    judged: dict[int, Submission] = {}
    known: Submission | None = None  # the best evidence pushed so far that was compared and held no leap
    for s in order:
        judged[id(s)] = done = _judge(s, ctx, (s.pr, s.folder, s.commit) in reproductions, known)
        if done.verdict.status in ("accepted", "not better") and done.values and \
                (known is None or fmean(done.values) < fmean(known.values)):
            known = done  # compared within one step: a copy or a held leap never becomes the base
    out = [judged[id(s)] for s in subs]
    return Judged(out, _leaderboard(out), runs_from)


def _first(sub: Submission, ctx: _Context) -> Submission:
    """The original of a submission's copies: the one on main, else the first pushed."""
    return min(ctx.copies[id(sub)], key=lambda s: (not s.on_main, s.timestamp, s.pr or 0))


def _judge(sub: Submission, ctx: _Context, is_reproduction: bool, known: Submission | None) -> Submission:
    if sub is ctx.baseline:
        return replace(sub, verdict=Verdict("accepted", "the naive baseline: the frontier starts here"))
    if (first := _first(sub, ctx)) is not sub:
        return replace(sub, verdict=Verdict("duplicate", f"duplicate of {first.key}: the same claimed logs"))
    if is_reproduction:
        return replace(sub, verdict=Verdict("reproduction", f"reproduces PR #{sub.reproduces}: its runs are that "
                                                            "submission's evidence"))
    dropped = ctx.standing.removed(sub)
    verdict, front = _at_date(sub, sub, ctx, known)
    head: Verdict | None = None
    if not verdict.accepted and dropped is None and verdict.status in REJUDGED and ctx.load is not None:
        for version in earlier_versions(sub, ctx.load):
            v, f = _at_date(version, sub, ctx, known)
            if v.accepted:
                head, sub, verdict, front = verdict, version, v, f
                break
    flags = chrono_flags(sub, front, dropped, head)
    if dropped is not None:
        gone = next(f for f in errors(flags) if f.rule == "chrono.removed")
        verdict = Verdict("removed", f"removed: {gone.text} (the judge alone: {verdict.reasons})",
                          verdict.frontier, verdict.frontier_pr, verdict.p_frontier)
    return replace(sub, verdict=verdict, chrono=tuple(flags))


def _at_date(sub: Submission, head: Submission, ctx: _Context, known: Submission | None
             ) -> tuple[Verdict, Listing | None]:
    """`sub` (a version of `head`) against the record standing at its evidence date; the one-step bound from
    `known`, the best evidence pushed before it (the table lags behind the PRs)."""
    problem = evidence_problem(sub, ctx.settings, ctx.runs_from)
    front = ctx.standing.at(sub.timestamp, ctx.evidence_holds, ctx.copies[id(head)])
    if problem is not None:
        return problem, front
    if front is not None:
        return compare_to(sub, front.sub, ctx.settings, known), front
    if ctx.baseline is not None:
        return compare_to(sub, ctx.baseline, ctx.settings, known), None
    return Verdict("accepted", "the first submission with evidence: no record stood before it"), None


def _leaderboard(subs: Sequence[Submission]) -> list[LeaderRow]:
    accepted = sorted((s for s in subs if s.verdict is not None and s.verdict.accepted and s.values),
                      key=lambda s: (fmean(s.values), s.timestamp))
    return [LeaderRow(i + 1, s.pr, s.folder, fmean(s.values), len(s.values), s.verdict.frontier_pr,
                      s.verdict.p_frontier, s.verdict.method) for i, s in enumerate(accepted)]

