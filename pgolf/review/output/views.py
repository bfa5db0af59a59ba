"""What the tables show of a judged record, as frozen values: one `RunLine` per log.

runs.csv, record.json's `runs`, the Markdown runs table and the page's runs table all read the same
`RunLine`s (`run_lines`); `rows.py` turns them into dicts at the JSON/CSV edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pgolf.review.judge.progression import Submission
from pgolf.review.judge.record import RecordResult
from pgolf.review.judge.stream import StreamAudit, matched_share
from pgolf.review.model import ParsedRun, canonical_stage, errors
from pgolf.review.read.bytecount import stage_bytes
from pgolf.review.read.names import labels, seed_from_name
from pgolf.review.read.record import RecordCheck


@dataclass(frozen=True)
class RunLine:
    """One log of a record as the tables show it. The field order is runs.csv's column order (check-record)."""

    record: str
    part: str | None
    implied_val_bytes: float | None  # the validation bytes the stage under test implies (byte accounting)
    bytes_per_token: float | None
    stage_bytes: str  # every scored stage's implied bytes or bytes per token
    flags: str  # the run's flags, `severity: text; ...`
    file: str  # relative to the record folder when inside it
    seed: int | None
    seed_in_name: int | None
    world_size: int | None
    steps: int | None
    train_time_ms: float | None
    stage: str | None
    val_loss: float | None
    val_bpb: float | None
    eval_time_ms: float | None
    total_eval_time_ms: float | None
    total_bytes: int | None  # with the code counted (the claim's code bytes where the log prints none)
    model_bytes: int | None
    code_bytes: int | None
    artifact_production_s: float | None
    train_shards: int | None
    val_tokens: int | None
    counted: bool
    error: str | None


def run_lines(rec: RecordCheck) -> tuple[RunLine, ...]:
    """One line per log of the record, in the record's order."""
    counted = {id(r) for r in rec.counted}
    code = rec.claim.bytes_code if rec.claim else None
    label = labels(rec.runs)
    return tuple(RunLine(
        record=rec.name, part=r.part, implied_val_bytes=_implied(r), bytes_per_token=_bpt(r),
        stage_bytes=stage_bytes_text(r),
        flags="; ".join(f"{f.severity}: {f.text}" for f in rec.flags if f.run == label[id(r)]),
        file=str(Path(r.file).relative_to(rec.folder)) if _inside(r.file, rec.folder) else r.file, seed=r.seed,
        seed_in_name=seed_from_name(r.file), world_size=r.world_size, steps=r.steps, train_time_ms=r.train_time_ms,
        stage=r.metric, val_loss=r.val_loss, val_bpb=r.val_bpb, eval_time_ms=r.eval_time_ms,
        total_eval_time_ms=r.total_eval_time_ms, total_bytes=r.artifact_total(code), model_bytes=r.model_bytes,
        code_bytes=r.code_bytes, artifact_production_s=r.artifact_production_s, train_shards=r.train_shards,
        val_tokens=r.val_tokens, counted=id(r) in counted, error=r.error) for r in rec.runs)


def _implied(r: ParsedRun) -> float | None:
    """The validation bytes the run's stage under test implies (byte accounting), when it prints val_tokens."""
    return next((b.implied for b in stage_bytes(r) if canonical_stage(b.stage) == canonical_stage(r.metric or "")),
                None)


def _bpt(r: ParsedRun) -> float | None:
    """Bytes per token of the stage under test: val_loss / (ln 2 * val_bpb)."""
    return next((round(b.bpt, 5) for b in stage_bytes(r) if canonical_stage(b.stage) == canonical_stage(r.metric or "")),
                None)


def stage_bytes_text(r: ParsedRun) -> str:
    """Every scored stage's implied bytes (with val_tokens) or bytes per token: `stage 151,080,123 B 3.7266 B/tok`."""
    return "; ".join(f"{b.stage} " + (f"{b.implied:,.0f} B " if b.implied is not None else "") + f"{b.bpt:.4f} B/tok"
                     for b in stage_bytes(r))


def _inside(file: str, folder: str) -> bool:
    try:
        Path(file).relative_to(folder)
        return True
    except ValueError:
        return False


def claim_text(rec: RecordCheck) -> str | None:
    """The claim as submission.json writes it: its val_bpb, else `val_loss X`; None: nothing claimed."""
    c = rec.claim
    if c is None:
        return None
    return str(c.val_bpb) if c.val_bpb is not None else f"val_loss {c.val_loss}" if c.val_loss is not None else None


def claimed_bpb(rec: RecordCheck) -> float | None:
    c = rec.claim
    return float(c.val_bpb) if c and c.val_bpb is not None else None


def n_errors(rec: RecordCheck) -> int:
    return len(errors(rec.flags))


def unread(rec: RecordCheck) -> list[str]:
    """What of the folder could not be read (a folder that cannot be listed, a link out, a submodule, a log
    that cannot be read): the claim is judged without it, so check-record does not call it holding."""
    left = rec.files.left_out() if rec.files is not None else []
    return [*left, *(r.unreadable for r in rec.runs if r.unreadable)]


def claimed_p_value(rec: RecordCheck) -> float | None:
    c = rec.claim
    return float(c.p_value) if c and c.p_value else None


def mean_of(values: Sequence[float]) -> float | None:
    """The plain mean the tables print (sum / n, as submissions.csv always wrote it)."""
    return sum(values) / len(values) if values else None


@dataclass(frozen=True)
class StreamSummary:
    """What `audit --git` read: records.json's `summary`, the head of report.md and of index.html."""

    repo: str
    main: str
    refs: int
    submissions: int
    seconds: float
    matched: int  # folders whose claim is matched to a stage
    claimed: int  # folders with a claim and logs
    runs_from: str | None
    warnings: tuple[str, ...]


def stream_summary(a: StreamAudit) -> StreamSummary:
    matched, claimed = matched_share(a)
    return StreamSummary(a.repo, a.main, a.refs, len(a.submissions), a.seconds, matched, claimed, a.runs_from,
                         tuple(a.warnings))


def unique_records(a: StreamAudit) -> list[Submission]:
    """One submission per record read, in first-seen order (the last PR that carries it: a folder pushed unchanged
    in several PRs is one record)."""
    return list({id(s.record): s for s in a.submissions}.values())


def record_index(submissions: Sequence[Submission]) -> list[int]:
    """Each submission's record, as an index into unique_records (one per record, first seen first)."""
    first: dict[int, int] = {}
    return [first.setdefault(id(s.record), len(first)) for s in submissions]


def board_records(a: StreamAudit) -> set[int]:
    """The records (indices into unique_records) of the rebuilt leaderboard's rows."""
    where = {(s.pr, s.folder): k for s, k in zip(a.submissions, record_index(a.submissions), strict=True)}
    return {where[key] for r in a.leaderboard if (key := (r.pr, r.folder)) in where}


def record_status(r: RecordResult) -> str:
    """A directory-mode record's verdict in a word, from what the audit computed (the page filters by it)."""
    a = r.stats.against
    if n_errors(r.record):
        return "error flag"
    if r.record.claim_supported is False:
        return "claim not shown"
    if not a.previous:
        return "first"
    return "holds the rule" if a.holds_rule else "holds the practice" if a.holds_practice else "not better"
