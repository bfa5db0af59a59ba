"""A submission in time: its evidence date, its earlier versions, and what the chronology rules say of it.

A submission's evidence date is the commit date (in its PR's own history) of its folder's first version
(sources/landed.py: renames followed; a folder that replaced another is a new folder): the organizers'
rebuilds ordered PRs by when their record code and evidence first landed, and scored them on their final
numbers. When the head does not hold, its earlier versions are judged, newest first: each is the same
submission with that version's files and commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from pgolf.review.judge.progression import Submission, Verdict
from pgolf.review.judge.record import RecordCheck
from pgolf.review.judge.standing import Listing, day
from pgolf.review.model import Flag
from pgolf.review.rules import run_scope
from pgolf.review.rules.chrono import ChronoInput
from pgolf.review.sources.landed import Version

# Reads one version's folder (the same path at another tree): the stream's git objects; None: nothing new to judge
Loader = Callable[[Submission, Version], RecordCheck | None]
# Verdicts an earlier version may change: the head's own evidence failed. Every version is judged at the same
# evidence date (the folder's first), so a head that is not better is left as it is: on the real stream no
# earlier version rescued one, and reading them doubled the judge's time.
REJUDGED = ("error flag", "claim not shown", "over the cap", "size not shown", "held for review",
            "fewer than 3 runs")


def earlier_versions(sub: Submission, load: Loader) -> Iterator[Submission]:
    """`sub` at each of its earlier versions, newest first (read only when asked for): the same submission, dated
    from its folder's first version as the head is, with that version's files."""
    for k, v in enumerate(sub.earlier, start=1):
        if (rec := load(sub, v)) is not None:
            yield replace(sub, record=rec, commit=v.commit, version=k)


def chrono_flags(sub: Submission, front: Listing | None, dropped: Listing | None, head: Verdict | None) -> list[Flag]:
    """The chronology rules on one judged submission: `front` the record standing at its evidence date,
    `dropped` the listing that took it back, `head` the head's verdict where an earlier version was judged."""
    free = sub.free
    rerun = sub.smaller_rerun if sub.evidence is sub else None
    x = ChronoInput(
        sub.date, day(sub.opened) if sub.opened else None,
        front.sub.key if front else None, front.where if front else None, front.since if front else None,
        free.frontier if free is not None and free.frontier else None,
        dropped.where if dropped else None, dropped.since if dropped else None,
        day(dropped.end) if dropped and dropped.end else None, dropped.end_commit if dropped else None,
        sub.version, sub.commit if sub.version else None, head.reasons if head is not None else None,
        len(sub.record.values), rerun.key if rerun else None, len(rerun.record.values) if rerun else 0)
    return run_scope("chrono", x)
