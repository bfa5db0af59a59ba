"""The stats verb: the claim's test, paired steps with Holm, and the no-test cases."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pgolf import stats
from pgolf.__main__ import main as pgolf_main
from pgolf.report.tables import claim_sample, paired_tests

PUBLISHED = [1.1927, 1.1935, 1.1921, 1.1929]


def claim_test(runs: pd.DataFrame, headline: str, threshold: float, alpha: float, confidence: float) -> dict:
    """What the stats verb runs: pgolf.stats' test on the draw-0 sample of the runs table."""
    return stats.claim_test(*claim_sample(runs, headline), headline, threshold, alpha, confidence)


def runs_frame(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [{"seed": i + 1, "condition": c, "draw": 0, "eval_seed": 0, "val_loss": 2.0, "val_bpb": v,
             "tokens": 10, "bytes": 20, "seconds": 1.0}
            for c, vs in values.items() for i, v in enumerate(vs)]
    return pd.DataFrame(rows)


def test_claim_test_reproduces_the_published_p_value():
    claim = claim_test(runs_frame({"ttt": PUBLISHED}), "ttt", 1.195, 0.01, 0.95)
    assert claim["tested"] and claim["holds"]
    assert claim["result"]["p_value"] == pytest.approx(0.00234486, abs=5e-7)
    assert claim["sentence"] == "mean 1.1928 < 1.195, one-sided t-test p = 0.0023, n = 4: holds at alpha = 0.01"


def test_claim_test_with_one_seed_says_why_no_test_ran():
    claim = claim_test(runs_frame({"ttt": [1.19]}), "ttt", 1.195, 0.01, 0.95)
    assert not claim["tested"] and claim["result"] is None
    assert "1 seed(s)" in claim["reason"] and "at least 2" in claim["reason"]


def test_claim_test_uses_draw_zero_only():
    runs = runs_frame({"ttt": PUBLISHED})
    extra = runs.assign(draw=1, val_bpb=runs["val_bpb"] + 1.0)
    claim = claim_test(pd.concat([runs, extra]), "ttt", 1.195, 0.01, 0.95)
    assert claim["values"] == PUBLISHED


def test_paired_steps_match_pgolf_stats_and_are_holm_adjusted():
    values = {"flat": [2.70, 2.72, 2.71], "doc": [2.69, 2.70, 2.70], "ttt": [2.50, 2.53, 2.51]}
    df = paired_tests(runs_frame(values), ["flat", "doc", "ttt"], 0.01, 0.95)
    assert df[["from", "to"]].values.tolist() == [["flat", "doc"], ["doc", "ttt"]]
    direct = stats.paired_differences(values["doc"], values["flat"], "less", 0.95)
    assert df.loc[0, "mean_diff"] == pytest.approx(direct.mean_diff)
    assert df.loc[0, "p_value"] == pytest.approx(direct.p_value)
    assert df["p_holm"].tolist() == pytest.approx(stats.holm(df["p_value"].tolist()))


def test_paired_steps_with_one_seed_leave_a_note_not_an_error():
    df = paired_tests(runs_frame({"flat": [2.7], "doc": [2.6]}), ["flat", "doc"], 0.01, 0.95)
    assert df.loc[0, "n"] == 1 and "no test" in df.loc[0, "note"] and pd.isna(df.loc[0, "p_value"])


def test_stats_verb_writes_claim_paired_and_noise(tmp_path):
    runs = tmp_path / "runs.csv"
    runs_frame({"sliding": [1.20, 1.21, 1.205, 1.199], "ttt": PUBLISHED}).to_csv(runs, index=False)
    rc = pgolf_main(["stats", "--runs", str(runs), "--threshold", "1.195", "--conditions", "sliding", "ttt",
                     "--out-dir", str(tmp_path / "stats")])
    assert rc == 0
    claim = json.loads((tmp_path / "stats" / "claim.json").read_text())
    assert claim["holds"] is True and claim["n"] == 4
    assert len(pd.read_csv(tmp_path / "stats" / "paired.csv")) == 1
    assert (tmp_path / "stats" / "noise.csv").is_file()


def test_stats_verb_on_a_runs_table_without_columns_names_them(tmp_path, capsys):
    bad = tmp_path / "runs.csv"
    bad.write_text("seed,condition\n1,ttt\n")
    rc = pgolf_main(["stats", "--runs", str(bad), "--threshold", "1", "--conditions", "ttt",
                     "--out-dir", str(tmp_path / "s")])
    assert rc == 2
    assert "val_bpb" in capsys.readouterr().err
