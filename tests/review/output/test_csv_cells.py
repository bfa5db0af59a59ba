"""Every CSV the review writes passes its cells through sanitize.csv_row: a folder named like a formula is text to a
spreadsheet, numbers stay numbers (issue 31, class 2; the utility's LibreOffice check is in tests/test_sanitize.py)."""

from __future__ import annotations

import csv

import pytest

from pgolf.__main__ import main as pgolf_main
from tests.data.records import make_records as mr

FORMULA = '=HYPERLINK("http:evil","click")'


def test_audit_neutralizes_a_formula_folder_name_and_keeps_numbers(tmp_path):
    recs = tmp_path / "recs"
    mr.write_record(recs, "2026-04-01_Prev").rename(recs / FORMULA)
    assert pgolf_main(["audit", str(recs), "--out", str(tmp_path / "out")]) == 0
    with (tmp_path / "out" / "records.csv").open(newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["record"] == "'" + FORMULA
    assert int(row["n"]) == 3 and float(row["mean_bpb"]) == pytest.approx(sum(mr._PREV.values()) / 3, abs=1e-12)
    with (tmp_path / "out" / "runs.csv").open(newline="") as f:
        runs = list(csv.DictReader(f))
    assert len(runs) == 3 and all(not cell.startswith(("=", "@", "+")) for r in runs for cell in r.values())
    assert all(float(r["val_bpb"]) in set(mr._PREV.values()) for r in runs)
