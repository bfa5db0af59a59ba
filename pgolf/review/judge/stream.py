"""`audit --git`: every submission of the challenge's pull-request stream, the progression rebuilt, the table diffed.

Each PR x folder is read once through git objects (a folder pushed unchanged in several PRs is the
same tree, read once), matched to its claim, flagged, attached to the PR it reproduces, and judged
against the record standing when its evidence landed (pgolf.review.judge.order: the README table and main
from their own history), with the PR-order rebuild (pgolf.review.judge.progression) beside it. The
repository README's table at main is parsed and compared with the rebuild (pgolf.review.judge.published).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from pgolf.gitcheck import repo_state
from pgolf.review.judge.free import rebuild
from pgolf.review.judge.order import judge_dated
from pgolf.review.judge.progression import (
    LeaderRow,
    ProgressionSettings,
    Submission,
    Verdict,
    attach_reproductions,
    reproduces,
)
from pgolf.review.judge.published import DiffRow, TableRow, diff, parse_table
from pgolf.review.judge.record import RecordCheck, load_record
from pgolf.review.judge.standing import Standing, standing
from pgolf.review.read.bytecount import ratio_entries
from pgolf.review.read.names import labels
from pgolf.review.rules.bytes import ratio
from pgolf.review.rules.inputs import AuditInput
from pgolf.review.sources.git import DEFAULT_REFS, DEFAULT_TRACK, GitSubmission, Stream, stream
from pgolf.review.sources.landed import Version

Loader = Callable[[GitSubmission], RecordCheck]  # one folder of the stream, read (the bot's cache answers main's)


@dataclass
class StreamAudit:
    repo: str
    main: str  # main's commit
    refs: int  # refs matched
    submissions: list[Submission]  # judged: each with its verdict
    leaderboard: list[LeaderRow]
    table: list[TableRow]
    diff: list[DiffRow]
    runs_from: str | None
    deleted: list[tuple[int | None, str]]
    seconds: float
    warnings: list[str] = field(default_factory=list)  # what the clone cannot show (gitcheck: a shallow clone)
    free_leaderboard: list[LeaderRow] = field(default_factory=list)  # the PR-order rebuild's
    standing: Standing | None = None  # the table's and main's history

    @staticmethod
    def verdict(sub: Submission) -> Verdict:
        assert sub.verdict is not None, f"{sub.key}: not judged (take the submissions of the audit)"
        return sub.verdict

    def summary_line(self) -> str:
        accepted = sum(s.verdict.accepted for s in self.submissions)
        return (f"{len(self.submissions)} submissions from {self.refs} refs in {self.seconds:.1f} s: "
                f"{accepted} accepted into the rebuilt leaderboard ({len(self.leaderboard)} rows), "
                f"{sum(d.in_table and d.in_rebuild for d in self.diff)} of {len(self.table)} table rows agree")


@dataclass(frozen=True)
class Judgment:
    """A stream judged: each submission with its verdict, the rebuilt leaderboard, the README's table."""

    submissions: list[Submission]
    leaderboard: list[LeaderRow]
    runs_from: str | None
    table: list[TableRow]
    free_leaderboard: list[LeaderRow] = field(default_factory=list)  # the PR-order rebuild's
    standing: Standing | None = None

    def diff(self) -> list[DiffRow]:
        return diff(self.table, self.submissions, self.listed)

    def listed(self, sub: Submission) -> str:
        """The date the table first listed `sub` ("" where it never did)."""
        found = self.standing.listed(sub) if self.standing is not None else None
        return found.since if found else ""


def judge_stream(src: Stream, settings: ProgressionSettings, track: str = DEFAULT_TRACK,
                 load: Loader | None = None, versions: bool = False) -> Judgment:
    """The one judgment of `audit --git` and `review-pr`: read every submission of `src`, judge each against
    the record standing at its evidence date (the PR-order rebuild beside it), parse main's README table.
    `versions`: where a head does not hold, judge its earlier versions (audit --git: which version the
    organizers could accept); review-pr judges the head pushed."""
    subs = read_submissions(src, load)
    free, free_board, _ = rebuild(subs, settings)
    subs = [replace(s, free=f.verdict) for s, f in zip(subs, free, strict=True)]
    history = standing(src.readme_history(), src.events, subs, track, settings.rebuild_lag_days)
    judged = judge_dated(subs, history, settings, version_loader(src) if versions else None)
    return Judgment(judged.submissions, judged.leaderboard, judged.runs_from, parse_table(src.main_readme(), track),
                    free_board, history)


def version_loader(src: Stream) -> Callable[[Submission, Version], RecordCheck | None]:
    """Reads a submission's folder at one of its earlier versions (each tree once); None where that version's
    logs and submission.json are those of a version of it already judged (only its code or notes changed)."""
    cache: dict[str, RecordCheck] = {}
    judged: dict[tuple, set[frozenset[tuple[str, str]]]] = {}

    def claimed(tree: str) -> frozenset[tuple[str, str]]:
        return frozenset((p, oid) for p, oid in src.objects.walk(tree)
                         if p.endswith((".log", ".txt")) or p == "submission.json")

    def load(sub: Submission, v: Version) -> RecordCheck | None:
        seen = judged.setdefault(sub.ident, {claimed(src.tree_of(sub.ref, sub.folder))})
        if (key := claimed(v.tree)) in seen:
            return None
        seen.add(key)
        if v.tree not in cache:
            g = GitSubmission(sub.pr, sub.ref, v.commit, sub.date, v.timestamp, sub.folder, v.tree)
            cache[v.tree] = load_record(src.folder(g))
        return cache[v.tree]
    return load


def read_submissions(src: Stream, load: Loader | None = None) -> list[Submission]:
    """Every PR x folder of the stream, read and matched; identical folders (one tree id) read once, by
    `load` when given (else from the git objects)."""
    by_tree: dict[str, RecordCheck] = {}
    subs = []
    for g in src.submissions:
        rec = by_tree.get(g.tree)
        if rec is None:
            rec = by_tree[g.tree] = load(g) if load is not None else load_record(src.folder(g))
        subs.append(Submission(g.pr, g.ref, g.commit, g.date, g.folder, rec, g.on_main, reproduces(rec),
                               timestamp=g.timestamp, opened=g.opened, earlier=g.earlier))
    add_ratio_flags(list(by_tree.values()))
    attach_reproductions(subs)
    return subs


def add_ratio_flags(records: list[RecordCheck]) -> None:
    """The byte-accounting check of runs that print no val_tokens: each run's val_bpb/val_loss against the
    runs of other submissions with the same tokenizer; the flag joins its record's flags."""
    entries, owner = [], {}
    for rec in records:
        label = labels(rec.counted)
        for e in ratio_entries(rec.folder, rec.counted, label):
            entries.append(e)
            owner[e.key] = (rec, e.key.removeprefix(f"{rec.folder}: "))
    for flag in ratio(AuditInput(entries)):
        rec, run = owner[flag.run]
        rec.flags.append(replace(flag, run=run))


def audit_git(repo: str | os.PathLike[str], *, refs: str = DEFAULT_REFS, track: str = DEFAULT_TRACK,
              settings: ProgressionSettings | None = None) -> StreamAudit:
    start = time.perf_counter()
    with stream(repo, refs=refs, track=track) as src:
        warnings = repo_state(repo).warnings(repo) + src.warnings  # a shallow clone, a missing tree
        j = judge_stream(src, settings or ProgressionSettings(), track, versions=True)
    return StreamAudit(str(repo), src.main, src.refs, j.submissions, j.leaderboard, j.table, j.diff(), j.runs_from,
                       src.deleted, time.perf_counter() - start, warnings, j.free_leaderboard, j.standing)


# --------------------------------------------------------------------------- rows (the CSV/JSON edge)

def matched_share(a: StreamAudit) -> tuple[int, int]:
    """(submissions whose claim is matched to a stage, submissions with a claim and logs): each folder once."""
    recs = {id(s.record): s.record for s in a.submissions}.values()
    claimed = [r for r in recs if r.claim is not None and r.claim.claims_values and r.runs]
    return sum(r.claim_supported is True for r in claimed), len(claimed)
