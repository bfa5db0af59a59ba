"""Reviewer mode through the real Snakemake DAG: results/audit/report.md and a claims entry naming a record folder."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from tests.data.records.make_records import write_leaderboard
from tests.test_claims_workflow import snakemake  # runs the DAG with claims.yaml over the test config
from tests.workflow_copy import copy_workflow

NAMES = ["2026-03-19_SlidingInt6", "2026-04-01_Prev", "2026-04-05_HParamBlock"]


@pytest.mark.slow
def test_audit_target_and_a_record_claim_through_the_dag(tmp_path):
    where = copy_workflow(tmp_path / "wf")
    write_leaderboard(where / "records", NAMES)
    review = {"audit": {"records": "records"},
              "claims": {"hp": {"record": "records/2026-04-05_HParamBlock", "previous": "records/2026-04-01_Prev"}}}
    (where / "claims.yaml").write_text(yaml.safe_dump(review))

    out = snakemake(where, "results/audit/report.md", "results/claims/hp/report.md")
    assert out.returncode == 0, out.stderr[-3000:]
    rows = list(csv.DictReader((where / "results/audit/records.csv").open()))
    assert [r["record"] for r in rows] == NAMES
    assert [r["previous"] for r in rows] == ["", "2026-03-19_SlidingInt6", "2026-04-01_Prev"]
    assert float(rows[2]["p_previous"]) == pytest.approx(0.00654, abs=5e-6)
    assert (where / "results/audit/frontier.png").stat().st_size > 0
    record = json.loads((where / "results/claims/hp/record.json").read_text())
    assert record["claim_supported"] is True and record["p_previous"] == pytest.approx(0.00654, abs=5e-6)
    assert "p = 0.0065 without margin" in (where / "results/claims/hp/report.md").read_text()
    assert not (where / "results" / "seeds").exists()  # no training ran for the reviewer targets

    # nothing changed: nothing reruns
    again = snakemake(where, "--dry-run", "results/audit/report.md")
    assert "Nothing to be done" in again.stdout + again.stderr


@pytest.mark.slow
def test_audit_without_config_and_bad_previous_fail_naming_the_key(tmp_path):
    where = copy_workflow(tmp_path / "wf")
    (where / "claims.yaml").write_text(yaml.safe_dump({"claims": {"x": {"record": "r", "previous": ["a.txt"]}}}))
    out = snakemake(where, "--dry-run", "results/audit/report.md")
    assert out.returncode != 0 and "config key audit: not set" in out.stdout + out.stderr
    out = snakemake(where, "--dry-run", "results/claims/x/report.md")
    assert out.returncode != 0 and "claims.x.previous" in out.stdout + out.stderr
