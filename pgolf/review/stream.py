"""`audit --git`: every submission of the challenge's pull-request stream, the progression rebuilt, the table diffed.

Each PR x folder is read once through git objects (a folder pushed unchanged in several PRs is the
same tree, read once), matched to its claim, flagged, attached to the PR it reproduces, and judged
in PR order against the frontier (pgolf.review.progression). The repository README's table at main
is parsed and compared with the rebuild (pgolf.review.leaderboard).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace

from pgolf.review import flags as fl
from pgolf.review.bytecount import ratio_entries, ratio_flags
from pgolf.review.gitsource import DEFAULT_REFS, DEFAULT_TRACK, Stream, stream
from pgolf.review.leaderboard import DiffRow, TableRow, diff, parse_table
from pgolf.review.progression import (
    LeaderRow,
    ProgressionSettings,
    Submission,
    Verdict,
    attach_reproductions,
    rebuild,
    reproduces,
)
from pgolf.review.record import RecordCheck, load_record


@dataclass
class StreamAudit:
    repo: str
    main: str  # main's commit
    refs: int  # refs matched
    submissions: list[Submission]
    verdicts: dict[int, Verdict]  # by id(submission)
    leaderboard: list[LeaderRow]
    table: list[TableRow]
    diff: list[DiffRow]
    runs_from: str | None
    deleted: list[tuple[int | None, str]]
    seconds: float

    def verdict(self, sub: Submission) -> Verdict:
        return self.verdicts[id(sub)]


def read_submissions(src: Stream) -> list[Submission]:
    """Every PR x folder of the stream, read and matched; identical folders (one tree id) read once."""
    by_tree: dict[str, RecordCheck] = {}
    subs = []
    for g in src.submissions:
        rec = by_tree.get(g.tree)
        if rec is None:
            rec = by_tree[g.tree] = load_record(src.folder(g))
        subs.append(Submission(g.pr, g.ref, g.commit, g.date, g.folder, rec, g.on_main, reproduces(rec),
                               timestamp=g.timestamp))
    add_ratio_flags(list(by_tree.values()))
    attach_reproductions(subs)
    return subs


def add_ratio_flags(records: list[RecordCheck]) -> None:
    """The byte-accounting check of runs that print no val_tokens: each run's val_bpb/val_loss against the
    runs of other submissions with the same tokenizer; the flag joins its record's flags."""
    entries, owner = [], {}
    for rec in records:
        label = fl.labels(rec.counted)
        for e in ratio_entries(rec.folder, rec.counted, label):
            entries.append(e)
            owner[e.key] = (rec, e.key.removeprefix(f"{rec.folder}: "))
    for flag in ratio_flags(entries):
        rec, run = owner[flag.run]
        rec.flags.append(replace(flag, run=run))


def audit_git(repo: str | os.PathLike[str], *, refs: str = DEFAULT_REFS, track: str = DEFAULT_TRACK,
              settings: ProgressionSettings | None = None) -> StreamAudit:
    start = time.perf_counter()
    with stream(repo, refs=refs, track=track) as src:
        subs = read_submissions(src)
        readme = src.main_readme()
    verdicts, board, runs_from = rebuild(subs, settings or ProgressionSettings())
    table = parse_table(readme, track)
    return StreamAudit(str(repo), src.main, src.refs, subs, verdicts, board, table, diff(table, subs, verdicts),
                       runs_from, src.deleted, time.perf_counter() - start)
