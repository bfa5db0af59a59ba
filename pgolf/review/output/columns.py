"""Every table the review writes, one `Column` list each: the CSV writes every column of its list, report.md and
the page pick the columns they show from the same list (same value, same heading).

A `Column` is the CSV/JSON name, the heading, the getter of the value from the table's typed row, and how
Markdown and HTML show the value (`kind`: text, int, num, bpb, p, yes, ms, date, pr). The leaderboard and
diff tables of `audit --git`, each one dataclass's fields, are still name lists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Generic, TypeVar

from pgolf.review.judge.progression import Submission
from pgolf.review.judge.record import RecordResult
from pgolf.review.judge.stream import StreamAudit
from pgolf.review.output.views import RunLine, claimed_bpb, claimed_p_value, mean_of, n_errors, record_status
from pgolf.review.read.claim import readme_p_values

T = TypeVar("T")


@dataclass(frozen=True)
class Column(Generic[T]):
    name: str  # the CSV/JSON key
    header: str  # what report.md and the page print above it
    get: Callable[[T], object]
    kind: str = "text"  # how report.md and the page show a value


def pick(columns: Sequence[Column[T]], *names: str) -> tuple[Column[T], ...]:
    """The columns a report shows, in its order."""
    by_name = {c.name: c for c in columns}
    return tuple(by_name[n] for n in names)


def _field(name: str, header: str = "", kind: str = "text") -> Column[RunLine]:
    return Column(name, header or name, attrgetter(name), kind)


RUN_TABLE: tuple[Column[RunLine], ...] = (
    _field("record"), _field("file", "run"), _field("part"), _field("seed"), _field("world_size", "GPUs"),
    _field("stage"), _field("val_loss", kind="num"), _field("val_bpb", kind="num"),
    _field("train_time_ms", "train (ms)", "ms"), _field("eval_time_ms", "eval (ms)", "ms"),
    _field("total_eval_time_ms", "eval total (ms)", "ms"), _field("total_bytes", "bytes (with code)", "int"),
    _field("implied_val_bytes"), _field("bytes_per_token"), _field("stage_bytes"), _field("steps"),
    _field("counted", kind="yes"), _field("error"), _field("flags"))
MD_RUNS = pick(RUN_TABLE, "file", "seed", "world_size", "steps", "train_time_ms", "eval_time_ms", "total_eval_time_ms",
               "total_bytes", "stage", "val_loss", "val_bpb", "counted")
PAGE_RUNS = pick(RUN_TABLE, "file", "seed", "stage", "val_loss", "val_bpb", "train_time_ms", "eval_time_ms",
                 "total_eval_time_ms", "total_bytes", "counted")


def quoted_p(r: RecordResult) -> str:
    """The p-values the record itself quotes (submission.json, then its README), to set beside p_previous."""
    claimed = claimed_p_value(r.record)
    quoted = ([f"{claimed:g}"] if claimed is not None else []) + readme_p_values(r.record.readme)
    return " ".join(dict.fromkeys(quoted))


def flags_text(r: RecordResult) -> str:
    return "; ".join(f"{f.severity}: {f.run + ': ' if f.run else ''}{f.text}" for f in r.record.flags)


def _stat(name: str, header: str = "", kind: str = "text") -> Column[RecordResult]:
    """A column of the record's statistics (its comparison with the previous record, its threshold test)."""
    part = "against" if name in ("previous", "p_previous", "p_previous_margin", "holds_rule", "holds_practice") \
        else "vs_threshold" if name in ("threshold", "p_threshold") else None
    get = attrgetter(f"stats.{part}.{name}" if part else f"stats.{name}")
    return Column(name, header or name, get, kind)


RECORD_TABLE: tuple[Column[RecordResult], ...] = (
    Column("record", "record", lambda r: r.record.name), Column("date", "date", lambda r: r.record.date, "date"),
    Column("verdict", "verdict", record_status), _stat("n", "n", "int"),
    Column("mean_bpb", "mean bpb", attrgetter("stats.mean"), "bpb"),
    _stat("std"), Column("claimed_bpb", "claimed", lambda r: claimed_bpb(r.record)),  # as claimed, not rounded
    Column("claim_supported", "shown", lambda r: r.record.claim_supported, "yes"),
    Column("stage", "stage", lambda r: r.record.stage), _stat("previous", "previous"), _stat("p_previous", "p", "p"),
    _stat("p_previous_margin", "p (margin)", "p"), _stat("holds_rule", "rule", "yes"),
    _stat("holds_practice", "practice", "yes"), _stat("threshold"), _stat("p_threshold", kind="p"),
    Column("quoted_p", "quoted p", quoted_p), Column("n_errors", "errors", lambda r: n_errors(r.record), "int"),
    Column("warns", "warnings", lambda r: sum(f.severity != "error" for f in r.record.flags), "int"),
    Column("flags", "flags", flags_text))
RECORD_CSV = pick(RECORD_TABLE, "record", "date", "n", "mean_bpb", "std", "claimed_bpb", "claim_supported", "stage",
                  "previous", "p_previous", "p_previous_margin", "holds_rule", "holds_practice", "threshold",
                  "p_threshold", "quoted_p", "n_errors", "flags")
MD_RECORDS = pick(RECORD_TABLE, "record", "date", "n", "mean_bpb", "claimed_bpb", "claim_supported", "previous",
                  "p_previous", "p_previous_margin", "holds_practice", "holds_rule", "n_errors")
PAGE_RECORDS = pick(RECORD_TABLE, "record", "date", "verdict", "n", "mean_bpb", "claimed_bpb", "claim_supported",
                    "previous", "p_previous", "p_previous_margin", "holds_practice", "holds_rule", "n_errors", "warns")

def _verdict(name: str) -> Callable[[Submission], object]:
    """A field of the submission's verdict (the dated judge's)."""
    return lambda s: getattr(StreamAudit.verdict(s), name)


SUBMISSION_TABLE: tuple[Column[Submission], ...] = (
    Column("pr", "PR", attrgetter("pr"), "pr"), Column("ref", "ref", attrgetter("ref")),
    Column("commit", "commit", attrgetter("commit")), Column("date", "date", attrgetter("date"), "date"),
    Column("folder", "folder", attrgetter("folder")), Column("name", "folder", lambda s: s.folder.rsplit("/", 1)[-1]),
    Column("on_main", "on main", attrgetter("on_main"), "yes"), Column("n", "n", lambda s: len(s.values), "int"),
    Column("mean_bpb", "mean bpb", lambda s: mean_of(s.values), "bpb"),
    Column("claimed_bpb", "claimed", lambda s: claimed_bpb(s.record)),  # as claimed, not rounded
    Column("claim_supported", "shown", lambda s: s.record.claim_supported, "yes"),
    Column("stage", "stage", lambda s: s.record.stage), Column("verdict", "verdict", _verdict("status")),
    Column("reasons", "why", _verdict("reasons")),
    Column("flags", "flags", lambda s: "; ".join(f"{f.severity}: {f}" for f in [*s.record.flags, *s.chrono])),
    Column("frontier_pr", "vs PR", _verdict("frontier_pr"), "pr"), Column("p_frontier", "p", _verdict("p_frontier"), "p"),
    Column("p_frontier_margin", "p (margin)", _verdict("p_frontier_margin"), "p"),
    Column("holds_rule", "rule", _verdict("holds_rule"), "yes"),
    Column("reproduces", "reproduces", attrgetter("reproduces"), "pr"),
    Column("evidence_from", "evidence from", lambda s: s.evidence.pr if s.evidence is not s else None, "pr"),
    Column("version", "version", attrgetter("version"), "int"),
    Column("version_commit", "version commit", lambda s: s.commit if s.version else None),
    Column("free_verdict", "PR-order verdict", lambda s: s.free.status if s.free else None),
    Column("free_reasons", "PR-order why", lambda s: s.free.reasons if s.free else None),
    Column("errors", "errors", lambda s: n_errors(s.record), "int"),
    Column("warns", "warnings", lambda s: sum(f.severity != "error" for f in s.record.flags), "int"))
SUBMISSION_CSV = pick(SUBMISSION_TABLE, "pr", "ref", "commit", "date", "folder", "on_main", "n", "mean_bpb",
                      "claimed_bpb", "claim_supported", "stage", "verdict", "reasons", "flags", "frontier_pr",
                      "p_frontier", "p_frontier_margin", "holds_rule", "reproduces", "evidence_from", "version",
                      "version_commit", "free_verdict", "free_reasons")
PAGE_SUBMISSIONS = pick(SUBMISSION_TABLE, "pr", "name", "date", "verdict", "n", "mean_bpb", "claimed_bpb",
                        "claim_supported", "frontier_pr", "p_frontier", "p_frontier_margin", "errors", "warns",
                        "reasons")
LEADERBOARD_COLUMNS = ["rank", "pr", "folder", "mean_bpb", "n", "previous_pr", "p_previous", "method"]
DIFF_COLUMNS = ["pr", "folder", "score", "in_table", "in_rebuild", "reason", "listed", "displaced"]
