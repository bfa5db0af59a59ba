"""One Column list per table (pgolf.review.output.columns): the CSV, report.md and the page show the same values."""

from __future__ import annotations

import csv

from pgolf.review.judge.record import judge_record
from pgolf.review.output.columns import (
    MD_RECORDS,
    MD_RUNS,
    PAGE_RECORDS,
    PAGE_RUNS,
    RECORD_CSV,
    RECORD_TABLE,
    RUN_TABLE,
)
from pgolf.review.output.markdown import md_table, md_value, runs_table
from pgolf.review.output.rows import table_rows
from pgolf.review.output.views import RunLine, run_lines
from pgolf.review.verbs import audit_to
from tests.data.records import make_records as mr


def test_every_report_picks_its_columns_from_the_one_list():
    names = {c.name for c in RUN_TABLE}
    assert {c.name for c in MD_RUNS + PAGE_RUNS} <= names <= set(RunLine.__dataclass_fields__)
    assert {c.name for c in MD_RECORDS + PAGE_RECORDS + RECORD_CSV} <= {c.name for c in RECORD_TABLE}


def test_runs_csv_and_report_md_show_the_same_runs(tmp_path):
    root = mr.write_leaderboard(tmp_path / "records", ["2026-04-01_Prev"])
    out = tmp_path / "audit"
    audit_to(out, root)
    with open(out / "runs.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    judged = judge_record(root / "2026-04-01_Prev")
    lines = run_lines(judged.record)
    assert [r["file"] for r in rows] == [line.file for line in lines] and list(rows[0]) == [c.name for c in RUN_TABLE]
    table = runs_table(lines)
    for line in lines:  # each run's row of report.md: the cells the CSV's values give through the same columns
        assert "| " + " | ".join(md_value(c.get(line), c.kind) for c in MD_RUNS) + " |" in table
    assert table_rows(RECORD_CSV, [judged])[0]["mean_bpb"] == judged.stats.mean
    assert md_table(MD_RECORDS, [judged]).splitlines()[0].startswith("| record | date | n | mean bpb | claimed |")
