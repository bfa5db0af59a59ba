"""The record standing at any date: the published table as of that date and the record folders main held then.

Issue 28's chronology: the organizers judged a submission against the record that stood when its evidence
landed (the README table's best row, and what main had merged), not against the PR before it. Each listing
is one submission's stay in the table (from the README commit that listed it to the one that dropped it) or
on main (from the commit that added its folder to the one that deleted it). `Standing.at(t)` is the best
listing at Unix time `t` whose own evidence holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import fmean

from pgolf.review.judge.progression import Submission
from pgolf.review.judge.published import match_row, parse_table
from pgolf.review.sources.landed import MainEvent, ReadmeVersion


@dataclass(frozen=True)
class Listing:
    """One submission's stay in the table (`where` "table") or on main ("main")."""

    sub: Submission
    where: str
    start: int  # Unix time of the commit that listed (merged) it
    start_commit: str
    end: int | None = None  # Unix time of the commit that dropped (deleted) it; None: still there
    end_commit: str | None = None

    def covers(self, t: int, lag: int | None = None) -> bool:
        """Whether it stands at `t`: from its listing; a listing made more than `lag` seconds after its evidence
        landed (a leaderboard rebuild that scanned old PRs in evidence order) stands from the evidence."""
        start = self.start
        if lag is not None and self.start - self.evidence_time > lag:
            start = self.evidence_time
        return start <= t and (self.end is None or t < self.end)

    @property
    def evidence_time(self) -> int:
        """When the evidence it was listed on landed (its evidence date; the listing's, if that is earlier)."""
        return min(self.sub.timestamp, self.start)

    @property
    def since(self) -> str:
        return day(self.start)


def day(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).date().isoformat()


@dataclass(frozen=True)
class Standing:
    listings: tuple[Listing, ...]
    lag: int | None = None  # see Listing.covers; None: every listing stands from the day it was listed

    def at(self, t: int, holds: Callable[[Submission], bool], exclude: Sequence[Submission] = ()) -> Listing | None:
        """The best listing standing at `t` (the lowest mean of its runs) whose evidence holds; `exclude`d
        submissions (the one judged and its copies) never stand against themselves."""
        gone = {e.ident for e in exclude}
        found = [x for x in self.listings if x.covers(t, self.lag) and x.sub.ident not in gone
                 and x.sub.values and holds(x.sub)]
        return min(found, key=lambda x: (fmean(x.sub.values), x.start)) if found else None

    def listed(self, sub: Submission) -> Listing | None:
        """The first table listing of `sub`."""
        return next((x for x in self.listings if x.sub.ident == sub.ident and x.where == "table"), None)

    def removed(self, sub: Submission) -> Listing | None:
        """The listing that dropped `sub` when nothing lists it at the end: a row dropped from the table, a folder
        deleted from main."""
        return _dropped([x for x in self.listings if x.sub.ident == sub.ident])


def table_listings(history: Sequence[ReadmeVersion], subs: Sequence[Submission], track: str) -> list[Listing]:
    """Each submission's stays in the README table, from the README commits of main's history (oldest first)."""
    out: list[Listing] = []
    open_: dict[tuple, Listing] = {}
    last_text: str | None = None
    rows_now: dict[tuple, Submission] = {}
    for v in history:
        if v.text != last_text:  # an unchanged table keeps its rows; match each row once
            rows_now = {s.ident: s for row in parse_table(v.text, track) if (s := match_row(row, subs)) is not None}
            last_text = v.text
        for key in [k for k in open_ if k not in rows_now]:
            out.append(_closed(open_.pop(key), v))
        for key, s in rows_now.items():
            open_.setdefault(key, Listing(s, "table", v.timestamp, v.commit))
    return out + list(open_.values())


def _closed(x: Listing, v: ReadmeVersion | MainEvent) -> Listing:
    return Listing(x.sub, x.where, x.start, x.start_commit, v.timestamp, v.commit)


def main_listings(events: Sequence[MainEvent], subs: Sequence[Submission], track_path: str) -> list[Listing]:
    """Each record folder's stays on main, from its additions and deletions on main's first-parent line."""
    out: list[Listing] = []
    open_: dict[str, Listing] = {}
    for e in events:
        if e.kind == "A" and e.name not in open_ and (s := _merged_sub(e, subs, f"{track_path}/{e.name}")):
            open_[e.name] = Listing(s, "main", e.timestamp, e.commit)
        elif e.kind == "D" and e.name in open_:
            out.append(_closed(open_.pop(e.name), e))
    return out + list(open_.values())


def _merged_sub(e: MainEvent, subs: Sequence[Submission], path: str) -> Submission | None:
    """The submission a folder merged onto main stands for: its merging PR's, else the one on main, else the
    first pushed with that path."""
    same = [s for s in subs if s.folder == path]
    return next((s for s in same if e.pr is not None and s.pr == e.pr), None) or \
        next((s for s in same if s.on_main), None) or min(same, key=lambda s: s.timestamp, default=None)


def _dropped(mine: Sequence[Listing]) -> Listing | None:
    """Of one submission's listings, the one that dropped it for good: the table's where it was ever listed
    (a row dropped from the table stays dropped though its folder stays on main), else main's."""
    table = [x for x in mine if x.where == "table"] or list(mine)
    if not table or any(x.end is None for x in table):
        return None
    return max(table, key=lambda x: x.end or 0)


def standing(history: Sequence[ReadmeVersion], events: Sequence[MainEvent], subs: Sequence[Submission],
             track: str, lag_days: float | None = None) -> Standing:
    """Every listing; a submission dropped from the table stops standing on main from that day too. `lag_days`:
    see Listing.covers."""
    table = table_listings(history, subs, track)
    on_main = main_listings(events, subs, f"records/{track}")
    out = list(table)
    for x in on_main:
        gone = _dropped([t for t in table if t.sub.ident == x.sub.ident])
        if gone is not None and gone.end is not None and (x.end is None or x.end > gone.end):
            x = Listing(x.sub, x.where, x.start, x.start_commit, gone.end, gone.end_commit)
        out.append(x)
    return Standing(tuple(out), int(lag_days * 86400) if lag_days is not None else None)
