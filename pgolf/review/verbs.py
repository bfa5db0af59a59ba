"""Write the reviewer side's result files atomically, with provenance (runs.csv, record.json, report.md)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from pgolf import atomic, provenance, runlock
from pgolf.review.judge.audit import Audit, audit
from pgolf.review.judge.loose import LooseOptions, LooseResult, check_logs
from pgolf.review.judge.progression import ProgressionSettings
from pgolf.review.judge.record import RecordCheck, RecordResult, compare, judge_record
from pgolf.review.judge.stream import StreamAudit, audit_git
from pgolf.review.output.columns import (
    DIFF_COLUMNS,
    LEADERBOARD_COLUMNS,
    RECORD_CSV,
    RUN_TABLE,
    SUBMISSION_CSV,
)
from pgolf.review.output.figure import frontier_png
from pgolf.review.output.loose import loose_report
from pgolf.review.output.markdown import audit_report, diff_markdown, record_report, stream_report
from pgolf.review.output.page import audit_page, loose_page, record_page, stream_page
from pgolf.review.output.rows import claim_dict, record_dict, run_row, table_rows
from pgolf.review.output.views import board_records, run_lines, stream_summary, unique_records
from pgolf.review.settings import DEFAULTS, ReviewSettings
from pgolf.sanitize import csv_row
from pgolf.stats import json_safe


def check_record(folder: str | Path, *, previous: str | Path | RecordCheck | None = None,
                 threshold: float | None = None, metric: str | None = None,
                 settings: ReviewSettings = DEFAULTS,
                 logs: Sequence[str | Path] | None = None) -> dict[str, Any]:
    """Check one record folder (see pgolf.review.judge.record); returns the record.json content."""
    return record_dict(judge_record(folder, previous=previous, threshold=threshold, metric=metric,
                                    settings=settings, logs=logs))


def csv_text(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """The review's one CSV writer: every cell through sanitize.csv_row, so a submission's `=HYPERLINK(...)` is
    text to a spreadsheet (OWASP's leading quote) while numbers stay numbers."""
    buf = io.StringIO()
    rows = [csv_row(r) for r in rows]  # formula cells neutralized; numbers stay numbers
    frame = pd.DataFrame(rows, columns=list(columns) if columns else None)
    for col in frame.columns:  # whole numbers with gaps stay whole (`1687`, not pandas' `1687.0`)
        values = [r[col] for r in rows if r.get(col) is not None]
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            frame[col] = frame[col].astype("Int64")
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def _plain(v: Any) -> Any:
    """Options as JSON values: paths as text, settings as their fields."""
    if isinstance(v, ReviewSettings | ProgressionSettings):
        return _plain(asdict(v))
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return str(v) if isinstance(v, Path) else v


@runlock.holds_out
def check_record_to(out: str | Path, folder: str | Path, **options: Any) -> dict[str, Any]:
    """judge_record(folder, **options), then DIR/runs.csv, record.json, report.md and report.html; returns
    record.json's content."""
    judged = judge_record(folder, **options)
    result = record_dict(judged)
    out = Path(out)
    runs_csv = csv_text(result["runs"])
    files = [{"file": r["file"], "sha256": sha} for r, sha in zip(result["runs"], result.pop("sha256s"), strict=True)]
    result["provenance"] = provenance.collect(command="check-record", folder=str(folder), files=files,
                                              **{k: _plain(v) for k, v in options.items()})
    atomic.write_group({out / "runs.csv": runs_csv, out / "record.json": atomic.json_text(result),
                        out / "report.md": record_report(judged), out / "report.html": record_page(judged)})
    return result


@runlock.holds_out
def audit_to(out: str | Path, records_dir: str | Path, **options: Any) -> Audit:
    """audit(records_dir, **options), then DIR/runs.csv, records.csv, records.json, frontier.png, index.html,
    report.md."""
    a = audit(records_dir, **options)
    settings = options.get("settings", DEFAULTS)
    out = Path(out)
    records = [record_dict(r) for r in a.results]
    runs = table_rows(RUN_TABLE, (line for r in a.results for line in run_lines(r.record)))
    meta = provenance.collect(command="audit", records_dir=str(records_dir),
                              **{k: _plain(v) for k, v in options.items()})
    atomic.write_group({
        out / "runs.csv": csv_text(runs, [c.name for c in RUN_TABLE]),
        out / "records.csv": csv_text(table_rows(RECORD_CSV, a.results), [c.name for c in RECORD_CSV]),
        out / "frontier.png": frontier_png(a.results), out / "index.html": audit_page(a.results, a.seconds, settings),
        out / "records.json": atomic.json_text({"records": records, "seconds": a.seconds, "provenance": meta}),
        out / "report.md": audit_report(a.results, a.seconds, settings=settings)})
    return a


@runlock.holds_out
def audit_git_to(out: str | Path, repo: str | Path, **options: Any) -> StreamAudit:
    """audit_git(repo, **options), then DIR/submissions.csv, leaderboard.csv, leaderboard_free.csv (the PR-order
    rebuild), diff.csv, diff.md, runs.csv, records.csv, records.json, frontier.png, index.html and report.md, as
    one group."""
    a = audit_git(repo, **options)
    out = Path(out)
    subs = table_rows(SUBMISSION_CSV, a.submissions)
    unique = unique_records(a)
    settings = options["settings"].review if options.get("settings") else DEFAULTS
    results = [RecordResult(s.record, compare(s.record, settings=settings)) for s in unique]
    records = [{**record_dict(r), "pr": s.pr, "commit": s.commit, "path": s.folder,
                "verdict_status": a.verdict(s).status} for s, r in zip(unique, results, strict=True)]
    # pr, commit and folder as submissions.csv writes them: the two tables join on them
    runs = [{"pr": s.pr, "commit": s.commit, "folder": s.folder, **row}
            for s, r in zip(unique, results, strict=True) for row in table_rows(RUN_TABLE, run_lines(r.record))]
    board = [asdict(r) for r in a.leaderboard]
    diff = [asdict(r) for r in a.diff]
    summary = stream_summary(a)
    meta = provenance.collect(command="audit --git", repo=str(repo), main=a.main,
                              **{k: _plain(v) for k, v in options.items()})
    atomic.write_group({
        out / "submissions.csv": csv_text(subs, [c.name for c in SUBMISSION_CSV]),
        out / "leaderboard.csv": csv_text(board, LEADERBOARD_COLUMNS),
        out / "leaderboard_free.csv": csv_text([asdict(r) for r in a.free_leaderboard], LEADERBOARD_COLUMNS),
        out / "diff.csv": csv_text(diff, DIFF_COLUMNS),
        out / "diff.md": diff_markdown(a.diff),
        out / "runs.csv": csv_text(runs, ["pr", "commit", "folder", *(c.name for c in RUN_TABLE)]),
        out / "records.csv": csv_text([{"pr": s.pr, **row} for s, row in zip(unique, table_rows(RECORD_CSV, results),
                                                                             strict=True)], ["pr", *(c.name for c in RECORD_CSV)]),
        out / "frontier.png": frontier_png(results, board_records(a)),
        out / "index.html": stream_page(a, summary, results, settings),
        out / "records.json": atomic.json_text(json_safe({"summary": asdict(summary), "submissions": subs,
                                                          "records": records, "leaderboard": board, "diff": diff,
                                                          "provenance": meta})),
        out / "report.md": stream_report(summary, a, settings=settings)})
    return a


@runlock.holds_out
def check_logs_to(out: str | Path, logs: Sequence[str], o: LooseOptions) -> LooseResult:
    """check_logs, then DIR/runs.csv, claim.json, report.md and report.html."""
    result = check_logs(logs, o)
    out = Path(out)
    rows = [{"role": "claim", **run_row(r)} for r in result.runs]
    rows += [{"role": "previous", **run_row(r)} for r in result.previous]
    claim = claim_dict(result)
    files = [{"file": r.file, "sha256": r.sha256} for r in result.runs + result.previous]
    claim["provenance"] = provenance.collect(command="check-logs", logs=files, metric_arg=o.metric,
                                             margin_nats=o.margin_nats)
    atomic.write_group({out / "runs.csv": csv_text(rows), out / "claim.json": atomic.json_text(claim),
                        out / "report.md": loose_report(result), out / "report.html": loose_page(result)})
    return result
