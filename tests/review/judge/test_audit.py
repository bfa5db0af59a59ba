"""`python -m pgolf audit` on a small made-up leaderboard (tests/data/records/make_records.py), row by row."""

from __future__ import annotations

import csv

import pytest
from scipy import stats

from pgolf.__main__ import main as pgolf_main
from tests.data.records import make_records as mr

# record -> (its counted values, the previous record the progression rule names, claim shown, error flags)
EXPECTED = {
    "2026-03-17_Baseline": ([1.2244], None, "True", 0),
    "2026-03-19_SlidingInt6": (list(mr._SL.values()), "2026-03-17_Baseline", "True", 0),
    "2026-03-20_R77Style": (mr._R77, "2026-03-19_SlidingInt6", "True", 3),
    "2026-03-25_StaleClaim": (list(mr._ST.values()), "2026-03-19_SlidingInt6", "False", 1),
    "2026-04-01_Prev": (list(mr._PREV.values()), "2026-03-25_StaleClaim", "True", 0),
    "2026-04-05_HParamBlock": (list(mr._HP.values()), "2026-04-01_Prev", "True", 0),
    # same date: the worse score came first, and the better one builds on it
    "2026-04-06_SameDay": (list(mr._SD.values()), "2026-04-05_HParamBlock", "True", 0),
    # a seed-0 log that prints seed 1337: two warnings (log.seed_name, claim.seed_mismatch), no error
    "2026-04-06_SeedMismatch": (list(mr._SM.values()), "2026-04-06_SameDay", "True", 0),
    "2026-04-07_OverCap": (list(mr._OC.values()), "2026-04-06_SeedMismatch", "True", 4),
    "2026-04-08_LateGPTQ": (list(mr._LG.values()), "2026-04-07_OverCap", "True", 1),
    "2026-04-09_NoSubmission": (mr._NS, "2026-04-08_LateGPTQ", "", 1),
    "2026-04-10_Selection": ([mr._SE[1], mr._SE[2], mr._SE[3]], "2026-04-08_LateGPTQ", "True", 0),
}


def expected_p(new, old):
    if len(old) == 1:
        return stats.ttest_1samp(new, old[0], alternative="less").pvalue
    return stats.ttest_ind(new, old, equal_var=False, alternative="less").pvalue


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    root = tmp_path_factory.mktemp("lb")
    mr.write_leaderboard(root / "records")
    out = root / "audit"
    assert pgolf_main(["audit", str(root / "records"), "--out", str(out)]) == 0
    return root, out


def test_records_csv_row_by_row(audited):
    _, out = audited
    rows = list(csv.DictReader((out / "records.csv").open()))
    assert [r["record"] for r in rows] == list(EXPECTED)  # chronological
    for row in rows:
        values, previous, shown, errors = EXPECTED[row["record"]]
        assert int(row["n"]) == len(values), row["record"]
        assert float(row["mean_bpb"]) == pytest.approx(sum(values) / len(values), abs=1e-12), row["record"]
        assert row["previous"] == (previous or "") and row["claim_supported"] == shown, row["record"]
        assert int(row["n_errors"]) == errors, (row["record"], row["flags"])
        if previous is None:
            assert row["p_previous"] == "" and row["holds_practice"] == ""
            continue
        p = expected_p(values, EXPECTED[previous][0])
        assert float(row["p_previous"]) == pytest.approx(p, rel=1e-9), row["record"]
        assert row["holds_practice"] == str(bool(p < 0.25)), row["record"]
        assert float(row["p_previous_margin"]) >= float(row["p_previous"])
    hp = next(r for r in rows if r["record"] == "2026-04-05_HParamBlock")
    assert float(hp["p_previous"]) == pytest.approx(0.00654, abs=5e-6)
    assert (hp["holds_practice"], hp["holds_rule"]) == ("True", "False")
    stale = next(r for r in rows if r["record"] == "2026-03-25_StaleClaim")
    assert "no stage of the logs shows it" in stale["flags"]


def test_runs_csv_one_row_per_log(audited):
    _, out = audited
    rows = list(csv.DictReader((out / "runs.csv").open()))
    assert len(rows) == sum(len(runs) for _, runs, _ in mr.RECORDS.values())
    for col in ("record", "file", "seed", "world_size", "stage", "val_loss", "val_bpb", "train_time_ms",
                "eval_time_ms", "total_bytes"):
        assert col in rows[0]
    v1 = next(r for r in rows if r["record"] == "2026-03-20_R77Style" and r["file"] == "train_v1.txt")
    assert (v1["world_size"], v1["val_bpb"], v1["stage"], v1["train_time_ms"]) == (
        "2", "1.1927", "final_ttt_lora", "2400107.0")


def test_report_and_figure(audited):
    _, out = audited
    report = (out / "report.md").read_text()
    assert "# Leaderboard audit: 12 record folders" in report and "![frontier](frontier.png)" in report
    assert "| 2026-04-05_HParamBlock | 2026-04-05 | 3 | 1.07117 |" in report
    assert "### 2026-04-07_OverCap" in report
    assert (out / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pairs_file_sets_the_comparisons(audited, tmp_path):
    root, _ = audited
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("# by hand\nrecord,previous\n2026-04-05_HParamBlock,2026-04-06_SameDay\n2026-04-01_Prev,\n")
    out = tmp_path / "audit"
    assert pgolf_main(["audit", str(root / "records"), "--pairs", str(pairs), "--out", str(out)]) == 0
    rows = {r["record"]: r for r in csv.DictReader((out / "records.csv").open())}
    assert rows["2026-04-05_HParamBlock"]["previous"] == "2026-04-06_SameDay"
    assert rows["2026-04-01_Prev"]["previous"] == ""
    assert rows["2026-04-10_Selection"]["previous"] == "2026-04-08_LateGPTQ"  # the others keep the default
    bad = tmp_path / "bad.csv"
    bad.write_text("record,previous\n2026-04-05_HParamBlock,nope\n")
    assert pgolf_main(["audit", str(root / "records"), "--pairs", str(bad), "--out", str(tmp_path / "b")]) == 2


def test_quoted_p_values_sit_beside_the_computed_ones(audited):
    _, out = audited
    rows = {r["record"]: r for r in csv.DictReader((out / "records.csv").open())}
    hp = rows["2026-04-05_HParamBlock"]
    assert hp["quoted_p"] == "0.0065" and f"{float(hp['p_previous']):.4f}" == "0.0065"
    assert rows["2026-04-01_Prev"]["quoted_p"] == ""
