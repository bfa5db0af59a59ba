"""The PR-order rebuild: what the written rule alone gives, kept beside the chronology (issue 28 part 5).

Every submission in creation order (PR number; a folder that landed on a later day than its PR opened
stands just before the first PR opened on or after that day) against a free-running frontier: from the
naive baseline, each accepted submission becomes the next frontier. `audit --git` reports it as each
submission's `free` verdict and `leaderboard_free.csv`; the verdict that decides is the chronology's
(pgolf.review.judge.order).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from statistics import fmean

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


def originals(subs: Sequence[Submission]) -> list[Submission]:
    """Each submission's original (in the order of `subs`): of those holding the same claimed logs, the one on
    main, else the first pushed (a PR branched from another's fork carries that folder again)."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, sub in enumerate(subs):
        logs = tuple(sorted(r.sha256 for r in sub.record.counted if r.sha256))
        groups.setdefault(logs or (f"#{i}",), []).append(i)
    out: list[Submission] = list(subs)
    for group in groups.values():
        first = min((subs[i] for i in group), key=lambda s: (not s.on_main, s.timestamp, s.pr or 0))
        for i in group:
            out[i] = first
    return out



def chronological_positions(subs: Sequence[Submission]) -> list[float]:
    """Where each submission stands in the creation order: its PR number; a folder that landed on a later day
    than its PR opened (a replaced folder) stands just before the first PR opened on or after that day."""
    opened = sorted((_day_of(s.opened), s.pr) for s in subs if s.pr is not None and s.opened)
    out = []
    for s in subs:
        pos = float(s.pr or 0)
        if s.pr is not None and s.opened and s.date > _day_of(s.opened):
            later = [pr for day, pr in opened if day >= s.date and pr > s.pr]
            pos = min(later) - 0.5 if later else pos
        out.append(pos)
    return out


def _day_of(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).date().isoformat()


def rebuild(subs: Sequence[Submission], settings: ProgressionSettings
            ) -> tuple[list[Submission], list[LeaderRow], str | None]:
    """Every submission judged: copies of `subs` (same order) with their `verdict` set; the rebuilt
    leaderboard (best first); and the runs date used."""
    runs_from = settings.runs_from if settings.runs_from is not None else derive_runs_date(subs, settings.review.min_runs)
    # by the day its evidence landed, then PR number (creation order): a folder added to an old PR later is
    # judged against the frontier standing when it landed, not where its PR number would put it
    position = chronological_positions(subs)
    order = sorted(range(len(subs)), key=lambda i: (subs[i].pr is None, position[i], subs[i].pr or 0, subs[i].folder))
    front = baseline_of([subs[i] for i in order], settings.baseline)
    chain: list[tuple[Submission, Verdict | None]] = [(front, None)] if front else []
    verdicts: list[Verdict | None] = [None] * len(subs)
    original = originals([subs[i] for i in order])
    for i, first in zip(order, original, strict=True):
        verdicts[i] = verdict = _judge(subs[i], first, front, subs, settings, runs_from)
        if verdict.accepted and subs[i] is not front:
            chain.append((subs[i], verdict))
            front = subs[i]
    return [replace(s, verdict=v) for s, v in zip(subs, verdicts, strict=True)], _leaderboard(chain), runs_from


def _judge(sub: Submission, first: Submission, front: Submission | None, subs: Sequence[Submission],
           settings: ProgressionSettings, runs_from: str | None) -> Verdict:
    """One submission's verdict against the frontier standing when it came (`first`: its original)."""
    if first is not sub and sub is not front:
        return Verdict("duplicate", f"duplicate of {first.key}: the same claimed logs")
    if sub is front:
        return Verdict("accepted", "the naive baseline: the frontier starts here")
    if sub.reproduces is not None and any(sub in s.reproduced_by for s in subs):
        return Verdict("reproduction", f"reproduces PR #{sub.reproduces}: its runs are that submission's evidence")
    problem = evidence_problem(sub, settings, runs_from)
    return problem or (compare_to(sub, front, settings) if front else
                       Verdict("accepted", "the first submission with evidence: no frontier before it"))


def _leaderboard(chain: list[tuple[Submission, Verdict | None]]) -> list[LeaderRow]:
    rows = []
    for i, (sub, verdict) in enumerate(reversed(chain)):
        prev = chain[len(chain) - 2 - i][0] if len(chain) - 2 - i >= 0 else None
        rows.append(LeaderRow(i + 1, sub.pr, sub.folder, fmean(sub.values), len(sub.values),
                              prev.pr if prev else None, verdict.p_frontier if verdict else None,
                              verdict.method if verdict else None))
    return rows
