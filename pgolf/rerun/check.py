"""A rerun checked against its claim: the reviewer's record check over the rerun logs (the
submission's own folder is the claim), per seed claimed vs rerun bpb, and a two-sided Welch
test of "the rerun's mean differs from the claimed runs' mean" (verdict `reproduced`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgolf import atomic, provenance
from pgolf import stats as st
from pgolf.errors import PgolfError
from pgolf.inputs import read_json
from pgolf.rerun.claim import claimed_scores
from pgolf.rerun.report import render_report
from pgolf.review.judge.record import RecordResult, judge_record, load_record
from pgolf.review.model import ParsedRun
from pgolf.review.output.rows import record_dict
from pgolf.review.settings import RULE_ALPHA, ReviewSettings

POWER = 0.8  # of the detectable difference quoted beside a non-rejection


@dataclass(frozen=True)
class RerunCheck:
    """What to check: one rerun entry's folder, its seeds' outputs and the test settings."""

    name: str
    folder: Path
    runs_dir: Path  # holds <seed>/train.log and <seed>/rerun.json
    seeds: Sequence[int]
    previous: Path | None = None
    threshold: float | None = None
    metric: str | None = None
    alpha: float = RULE_ALPHA
    reproduce_alpha: float = 0.05
    allow_missing: bool = False


def seed_outputs(check: RerunCheck) -> tuple[dict[int, Path], list[int]]:
    """seed -> its rerun train log, and the seeds whose rerun left none (failed or not run)."""
    found, missing = {}, []
    for seed in check.seeds:
        log, info = check.runs_dir / str(seed) / "train.log", check.runs_dir / str(seed) / "rerun.json"
        if log.is_file() and info.is_file():
            found[seed] = log
        else:
            missing.append(seed)
    if missing and not check.allow_missing:
        raise PgolfError(f"rerun {check.name}: no finished rerun of seed(s) {', '.join(map(str, missing))} "
                         f"under {check.runs_dir} (train.log + rerun.json); run them, or pass --allow-missing")
    if not found:
        raise PgolfError(f"rerun {check.name}: no seed finished under {check.runs_dir}; see results/logs/rerun/")
    return found, missing


def _wall_time(log: Path) -> float | None:
    info = read_json(log.parent / "rerun.json", "rerun record")
    return info.get("wall_time_s") if isinstance(info, dict) else None


def per_seed(runs: Sequence[ParsedRun], logs: dict[int, Path], claimed: dict[int, float | None],
             missing: Sequence[int]) -> list[dict[str, Any]]:
    """One row per seed: claimed and rerun val_bpb (the claimed stage), their difference, wall time.
    `runs`: the rerun logs' runs as check-record read and matched them."""
    by_file = {Path(r.file).resolve(): r for r in runs}
    rows = []
    for seed in sorted({*logs, *missing}):
        row: dict[str, Any] = {"seed": seed, "claimed_bpb": claimed.get(seed), "rerun_bpb": None,
                               "diff": None, "wall_time_s": None, "status": "missing"}
        if seed in logs:
            run = by_file.get(logs[seed].resolve())
            bpb, error = (run.val_bpb, run.error) if run is not None else (None, None)
            row.update(rerun_bpb=bpb, wall_time_s=_wall_time(logs[seed]), log=str(logs[seed]),
                       status="ok" if bpb is not None else f"no score: {error}")
            if row["rerun_bpb"] is not None and row["claimed_bpb"] is not None:
                row["diff"] = row["rerun_bpb"] - row["claimed_bpb"]
        rows.append(row)
    return rows


def claimed_values(folder: Path, claimed: dict[int, float | None], metric: str | None) -> tuple[list[float], str]:
    """The claimed runs' scores: submission.json's per-seed values, else the folder's own logs."""
    values = [v for v in claimed.values() if v is not None]
    if len(values) >= 2:
        return values, "submission.json per-seed val_bpb"
    own = load_record(folder, metric=metric)
    return own.values, "the submission's own logs (submission.json gives no per-seed scores)"


def reproduction(rerun: Sequence[float], claimed: Sequence[float], alpha: float) -> dict[str, Any]:
    """The two-sided Welch test, its verdict and the smallest difference it could see (power 0.8)."""
    out: dict[str, Any] = {"alpha": alpha, "power": POWER, "rerun_mean": _mean(rerun), "claimed_mean": _mean(claimed)}
    test, why = st.attempt(st.welch_two_sided, rerun, claimed)
    if test is None:
        return {**out, "reproduced": None, "p_rerun_vs_claim": None, "test_error": why}
    pooled = ((test.std_rerun**2 + test.std_claimed**2) / 2.0) ** 0.5
    detectable = st.detectable_difference(test.n_rerun, test.n_claimed, pooled, alpha, POWER) if pooled > 0 else None
    return {**out, "reproduced": not test.differs(alpha), "p_rerun_vs_claim": test.p_value,
            "welch": test.to_dict(), "pooled_std": pooled, "detectable_difference": detectable, "test_error": None}


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def run_check(check: RerunCheck) -> tuple[dict[str, Any], RecordResult]:
    """The record.json of a rerun (check-record's fields over the rerun logs, plus the reproduction), and the
    record check it carries (for the report)."""
    logs, missing = seed_outputs(check)
    judged = judge_record(check.folder, logs=[logs[s] for s in sorted(logs)], previous=check.previous,
                          threshold=check.threshold, metric=check.metric, settings=ReviewSettings(rule_alpha=check.alpha))
    record = record_dict(judged)  # the JSON edge: record.json carries check-record's fields
    claimed = claimed_scores(check.folder)
    rows = per_seed(judged.record.runs, logs, claimed, missing)
    rerun = [r["rerun_bpb"] for r in rows if r["rerun_bpb"] is not None]
    values, source = claimed_values(check.folder, claimed, check.metric)
    result = {**record, **reproduction(rerun, values, check.reproduce_alpha), "rerun": check.name,
              "claimed_values": values, "claimed_source": source, "per_seed": rows,
              "seeds": list(check.seeds), "missing_seeds": list(missing), "complete": not missing}
    result["provenance"] = provenance.collect(
        command="rerun-check", logs=[{"file": str(p), "sha256": atomic.sha256_file(p)} for p in logs.values()])
    return result, judged


def write_check(check: RerunCheck, out: Path) -> dict[str, Any]:
    result, judged = run_check(check)
    atomic.write_group({out / "record.json": atomic.json_text(result),
                        out / "report.md": render_report(result, judged)})
    return result
