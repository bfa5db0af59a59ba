"""Check one record folder: do its logs show what submission.json claims, and does it beat the one before it?

API (stable; the rerun side builds on it):

    judge_record(folder, *, previous=None, threshold=None, metric=None, settings=ReviewSettings(),
                 logs=None) -> RecordResult(record: RecordCheck, stats: Comparison)

and `pgolf.review.verbs.check_record(...)` (same arguments) returns it as the content of record.json
(`output.rows.record_dict`, the JSON edge). `folder` is the claim folder (its submission.json and,
unless `logs` is given, every train log under it, recursively); `logs=[...]` checks those log
files against the folder's claim instead (a rerun's logs against the submission). `previous`
is another record folder (or a `RecordCheck`). Keys of the dict: record, folder, date, n, mean,
std, claimed_bpb, claimed_val_loss, claim_supported, stage, stage_source, runs (one dict per
log: file, seed, world_size, steps, train_time_ms, eval_time_ms, total_eval_time_ms,
total_bytes, stage, val_loss, val_bpb, counted, error), flags ({severity, run, text}),
previous, p_previous (one-sided Welch, no margin), p_previous_margin (the margin in bpb),
margin_bpb, holds_practice (p_previous < settings.practice_alpha), holds_rule (p_previous_margin <
settings.rule_alpha), threshold, p_threshold, holds_threshold, runs_needed, stages (each log's every stage: val_loss,
val_bpb, eval_time_ms), verdict.

Lower level: `load_record(folder, logs=None, metric=None) -> RecordCheck` reads and matches
once; `compare(record, previous, ...)` adds the statistics (the audit uses both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import stdev

from pgolf import stats as st
from pgolf.errors import DataError
from pgolf.review.model import Flag
from pgolf.review.read.claim import folder_date, readme_threshold
from pgolf.review.read.log import read_log_file_runs
from pgolf.review.read.names import labels
from pgolf.review.read.record import (
    RecordCheck,
    as_files,
    bpb_under_val_loss,
    companion,
    find_logs,
    is_train_log,
    match,
    named_runs,
    not_claimed_file,
    read_claim,
    read_runs,
    readme_numbers,
)
from pgolf.review.rules import run_scope
from pgolf.review.rules.apply import run_flags, set_flags
from pgolf.review.rules.evidence import evidence_flags
from pgolf.review.rules.inputs import RecordInput, RecordRunInput
from pgolf.review.settings import DEFAULTS, ReviewSettings
from pgolf.review.sources.folder import FolderFiles, read_text


def load_record(folder: str | Path | FolderFiles, logs: Sequence[str | Path] | None = None,
                metric: str | None = None) -> RecordCheck:
    """Read a record folder (a path or FolderFiles; or `logs` against its claim) and find the claimed stage."""
    files = as_files(folder)
    readme = read_text(files, "README.md") or ""
    claim, problems = read_claim(files, readme)
    found, sidecars = find_logs(files)
    read = [r for p in logs for r in read_log_file_runs(p)] if logs is not None else \
        [r for rel in found for r in read_runs(files, rel)]
    runs = [r for r in read if is_train_log(r)]
    claim = named_runs(claim, readme, runs)
    if claim is not None and claim.claims_values:
        claim = bpb_under_val_loss(runs, claim)
    rec = RecordCheck(folder=files.label, name=files.name, claim=claim, runs=runs,
                      date=(claim.date if claim and claim.date else None) or folder_date(files.name),
                      ignored=[r.file for r in read if not is_train_log(r)], sidecars=sidecars,
                      problems=problems, files=files, readme=readme)
    match(rec, metric)
    rec.readme_seeds = readme_numbers(rec)
    rec.flags = record_flags(rec)
    return rec




def record_flags(rec: RecordCheck) -> list[Flag]:
    """Every rule of one record, in report order: each log (scope `file`, then its run rules), the counted
    runs, the headline, the evidence checks, the claim, each log against the claimed seeds, the claimed
    sizes and the README's numbers."""
    label = labels(rec.runs)
    code = rec.claim.bytes_code if rec.claim else None
    out: list[Flag] = []
    for r in rec.runs:
        out += run_scope("file", RecordRunInput(rec, r, label[id(r)]))
        if not not_claimed_file(rec, r):
            out += run_flags(replace(r, error=None) if companion(rec, r) else r, label[id(r)], code)
    out += set_flags(rec.counted)
    out += run_scope("headline", RecordInput(rec))
    if rec.files is not None:
        out += evidence_flags(rec.runs, rec.counted, rec.files)
    out += run_scope("claim", RecordInput(rec))
    out += [f for r in rec.runs for f in run_scope("claim-run", RecordRunInput(rec, r, r.name))]
    out += run_scope("claimed-size", RecordInput(rec))
    return out + run_scope("readme", RecordInput(rec))

# --------------------------------------------------------------------------- statistics and the dict


@dataclass(frozen=True)
class PreviousTest:
    """A record against the previous one: without margin (the practice) and with it (the written rule)."""

    previous: str | None = None
    previous_n: int | None = None
    previous_mean: float | None = None
    p_previous: float | None = None
    p_previous_margin: float | None = None
    previous_method: str | None = None  # welch, or one-sample against a one-run previous record
    holds_practice: bool | None = None
    holds_rule: bool | None = None
    previous_error: str | None = None  # why a test could not run


@dataclass(frozen=True)
class ThresholdTest:
    threshold: float | None = None
    threshold_source: str | None = None  # --threshold, README
    p_threshold: float | None = None
    holds_threshold: bool | None = None
    threshold_error: str | None = None


@dataclass(frozen=True)
class Comparison:
    """The statistics of one record (record.json's numbers)."""

    n: int
    mean: float | None
    std: float | None
    settings: ReviewSettings
    margin_bpb: float | None
    bpb_per_nat: float | None
    against: PreviousTest
    vs_threshold: ThresholdTest
    runs_needed: int | None
    runs_needed_bound: float | None


@dataclass(frozen=True)
class RecordResult:
    """One record judged: read, matched and flagged (`record`), and its statistics (`stats`). What every
    renderer of a record takes (record.json, report.md, the page); `output.rows.record_dict` flattens it."""

    record: RecordCheck
    stats: Comparison


def _against(bpb: list[float], previous: RecordCheck, margin_bpb: float | None, why_no_margin: str | None,
             alpha: float, progression_alpha: float) -> PreviousTest:
    plain, why_p = st.attempt(st.progression_test, bpb, previous.values, 0.0)
    margin, why_m = (st.attempt(st.progression_test, bpb, previous.values, margin_bpb) if margin_bpb is not None
                     else (None, f"no margin in bpb ({why_no_margin})"))
    return PreviousTest(previous.name, len(previous.values), previous.mean, plain.p_value if plain else None,
                        margin.p_value if margin else None, plain.method if plain else None,
                        bool(plain.holds(progression_alpha)) if plain else False,
                        bool(margin.holds(alpha)) if margin else False, why_p or why_m)


def _vs_threshold(bpb: list[float], threshold: float | None, source: str | None, alpha: float) -> ThresholdTest:
    if threshold is None:
        return ThresholdTest()
    one, why = st.attempt(st.one_sample_t, bpb, threshold, "less")
    return ThresholdTest(threshold, source, one.p_value if one else None, bool(one.holds(alpha)) if one else False,
                         why)


def compare(rec: RecordCheck, previous: RecordCheck | None = None, *, threshold: float | None = None,
            threshold_source: str | None = None, settings: ReviewSettings = DEFAULTS) -> Comparison:
    """The statistics of one record: against `previous` (no margin and with the margin in bpb), the threshold,
    and the runs needed for 80% power against the bound it must beat."""
    bpb, margin_nats, alpha = rec.values, settings.margin_nats, settings.rule_alpha
    loss = [r.val_loss for r in rec.counted if r.val_loss is not None and r.val_bpb is not None]
    conv, why = st.attempt(st.nats_margin_to_bpb, margin_nats, loss, bpb) if len(loss) == len(bpb) else (None, "no val_loss")
    margin_bpb = conv.margin_bpb if conv else None
    against = _against(bpb, previous, margin_bpb, why, alpha, settings.practice_alpha) if previous else PreviousTest()
    bound = threshold if threshold is not None else (
        previous.mean - (margin_bpb or 0.0) if previous is not None and previous.mean else None)
    power, _ = st.attempt(st.power_one_sample, bpb, bound, alpha) if bound is not None else (None, None)
    return Comparison(len(bpb), rec.mean, stdev(bpb) if len(bpb) >= 2 else None, settings, margin_bpb, conv.bpb_per_nat if conv else None, against,
                      _vs_threshold(bpb, threshold, threshold_source, alpha), power.n_for_power if power else None,
                      bound)


def judge_record(folder: str | Path, *, previous: str | Path | RecordCheck | None = None,
                 threshold: float | None = None, metric: str | None = None,
                 settings: ReviewSettings = DEFAULTS,
                 logs: Sequence[str | Path] | None = None) -> RecordResult:
    """check_record's typed result: the record read, matched and flagged, and its statistics."""
    root = Path(folder)
    if not root.is_dir() and logs is None:
        raise DataError(f"record folder {root}: no such folder; give a folder holding submission.json and train logs")
    if isinstance(previous, str | Path) and not Path(previous).is_dir():
        raise DataError(f"--previous {previous}: no such record folder; give a folder holding train logs")
    rec = load_record(root, logs=logs, metric=metric)
    prev = previous if isinstance(previous, RecordCheck) or previous is None else load_record(previous)
    from_readme = readme_threshold(rec.readme) if threshold is None else None
    stats = compare(rec, prev, threshold=threshold if threshold is not None else from_readme,
                    threshold_source="--threshold" if threshold is not None else "README" if from_readme else None,
                    settings=settings)
    return RecordResult(rec, stats)
