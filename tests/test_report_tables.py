"""pgolf.report.tables and the aggregate verb on small hand-built results."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from pgolf.__main__ import main as pgolf_main
from pgolf.errors import DataError
from pgolf.evalspec import NAMES, eval_name
from pgolf.report import tables

PATTERN = "{root}/seeds/{{seed}}/eval/{{name}}.json"


def write_eval(root: Path, seed: int, name: str, condition: str, bpb: float, loss: float | None = None,
               positions: list[tuple[int, float, int, int]] | None = None) -> Path:
    path = root / "seeds" / str(seed) / "eval" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "condition": condition, "val_loss": loss if loss is not None else bpb * 1.2, "val_bpb": bpb,
        "tokens": 1000, "bytes": 1800, "seconds": 1.5, "settings": {"ttt_seed": 7},
        "provenance": {"device_name": "cpu:x86_64", "git_revision": "abc", "host": "h", "versions": {"torch": "2"}},
    }))
    rows = positions or [(0, 10.0, 8, 2), (1, 6.0, 9, 2)]
    pd.DataFrame(rows, columns=["position", "nats", "bytes", "count"]).to_csv(
        path.with_suffix(".positions.csv"), index=False)
    return path


def ablation(root: Path, seeds=(1, 2, 3), base=(2.70, 2.69, 2.68, 2.50)) -> None:
    for i, seed in enumerate(seeds):
        for c, b in zip(NAMES, base, strict=True):
            write_eval(root, seed, c, c, b + 0.001 * i)


def test_expected_evals_adds_draws_for_ttt_only():
    got = tables.expected_evals([1, 2], ["sliding", "ttt"], ttt_draws=3)
    assert got == [(1, "sliding", 0), (1, "ttt", 0), (1, "ttt", 1), (1, "ttt", 2),
                   (2, "sliding", 0), (2, "ttt", 0), (2, "ttt", 1), (2, "ttt", 2)]
    assert [eval_name(c, d) for _, c, d in got[:4]] == ["sliding", "ttt", "ttt_draw1", "ttt_draw2"]


def test_collect_runs_reads_rows_and_names_missing_with_reason(tmp_path):
    ablation(tmp_path, seeds=(1, 3))
    artifact = tmp_path / "seeds" / "{seed}" / "train" / "final_model.int8.ptz"
    (tmp_path / "seeds" / "3" / "train").mkdir(parents=True)
    (tmp_path / "seeds" / "3" / "train" / "final_model.int8.ptz").write_bytes(b"x")
    (tmp_path / "seeds" / "3" / "eval" / "ttt.json").unlink()
    runs, missing, results = tables.collect_runs(
        [1, 2, 3], list(NAMES), 1, PATTERN.format(root=tmp_path), str(artifact))
    assert list(runs.columns) == tables.RUN_COLUMNS
    assert len(runs) == 4 + 3 and len(results) == 7
    reasons = missing.groupby("seed")["reason"].first().to_dict()
    assert reasons == {2: "training did not finish (no artifact)", 3: "evaluation did not finish"}
    assert sorted(missing[missing["seed"] == 2]["condition"]) == sorted(NAMES)


def test_eval_json_whose_condition_disagrees_with_its_name_is_an_error(tmp_path):
    write_eval(tmp_path, 1, "doc", "flat", 2.7)
    with pytest.raises(DataError, match="holds condition 'flat'"):
        tables.collect_runs([1], ["doc"], 1, PATTERN.format(root=tmp_path))


def test_condition_summary_matches_scipy_t_interval_and_sample_std():
    bpb = [2.51, 2.50, 2.53, 2.49]
    runs = pd.DataFrame({"seed": [1, 2, 3, 4], "condition": "ttt", "draw": 0, "val_loss": 3.0, "val_bpb": bpb})
    s = tables.condition_summary(runs, ["ttt"], confidence=0.95).iloc[0]
    lo, hi = st.t.interval(0.95, 3, loc=np.mean(bpb), scale=st.sem(bpb))
    assert s["n"] == 4
    assert s["mean_bpb"] == pytest.approx(np.mean(bpb))
    assert s["std_bpb"] == pytest.approx(np.std(bpb, ddof=1))
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((lo, hi))


def test_condition_summary_with_one_seed_has_no_interval():
    runs = pd.DataFrame({"seed": [1, 1], "condition": ["flat", "ttt"], "draw": 0, "val_loss": 3.0,
                         "val_bpb": [2.7, 2.5]})
    s = tables.condition_summary(runs, ["flat", "ttt"])
    assert s["n"].tolist() == [1, 1]
    assert math.isnan(s.loc[1, "ci_low"]) and math.isnan(s.loc[1, "std_bpb"])
    assert s.loc[1, "step_bpb"] == pytest.approx(-0.2)
    assert pd.isna(s.loc[1, "step_exceeds_spread"])


def test_step_exceeds_spread_compares_mean_step_with_seed_std():
    runs = pd.DataFrame({
        "seed": [1, 2, 3] * 2, "condition": ["doc"] * 3 + ["sliding"] * 3, "draw": 0, "val_loss": 3.0,
        "val_bpb": [2.70, 2.72, 2.74, 2.69, 2.71, 2.73],  # step -0.01, seed std 0.02
    })
    s = tables.condition_summary(runs, ["doc", "sliding"]).set_index("condition")
    assert s.loc["sliding", "step_bpb"] == pytest.approx(-0.01)
    assert not s.loc["sliding", "step_exceeds_spread"]


def test_seed_steps_are_later_minus_earlier_per_seed_and_ignore_extra_draws():
    runs = pd.DataFrame({
        "seed": [1, 1, 1, 2, 2], "condition": ["sliding", "ttt", "ttt", "sliding", "ttt"],
        "draw": [0, 0, 1, 0, 0], "val_loss": 3.0, "val_bpb": [2.70, 2.50, 2.10, 2.72, 2.55],
    })
    steps = tables.seed_steps(runs, ["sliding", "ttt"])
    assert steps["delta_bpb"].tolist() == pytest.approx([-0.20, -0.17])
    wide = tables.seed_steps_wide(steps, ["sliding", "ttt"])
    assert wide["seed"].tolist() == ["1", "2", "mean", "std"]
    assert wide["sliding -> ttt"].iloc[2] == pytest.approx(-0.185)


def test_position_table_sums_over_seeds_before_dividing(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame({"position": [0, 1], "nats": [10.0, 4.0], "bytes": [10, 0], "count": [1, 1]}).to_csv(a, index=False)
    pd.DataFrame({"position": [0], "nats": [2.0], "bytes": [30], "count": [1]}).to_csv(b, index=False)
    t = tables.position_table({"doc": [a, b]})
    row0 = t[t["position"] == 0].iloc[0]
    assert row0["nats"] == 12.0 and row0["bytes"] == 40 and row0["count"] == 2
    assert row0["bpb"] == pytest.approx(12.0 / math.log(2) / 40)
    assert math.isnan(t[t["position"] == 1].iloc[0]["bpb"])  # no bytes: undefined, not inf


def test_noise_components_pool_within_seed_variance():
    runs = pd.DataFrame({
        "seed": [1, 1, 1, 2, 2, 2], "condition": "ttt", "draw": [0, 1, 2] * 2, "val_loss": 3.0,
        "val_bpb": [2.50, 2.51, 2.52, 2.60, 2.62, 2.64],
    })
    n = tables.noise_components(runs)
    total = n[n["seed"] == "all"].iloc[0]
    pooled = math.sqrt((np.var([2.50, 2.51, 2.52], ddof=1) + np.var([2.60, 2.62, 2.64], ddof=1)) / 2)
    assert total["eval_std"] == pytest.approx(pooled)
    assert total["train_std"] == pytest.approx(np.std([2.51, 2.62], ddof=1))
    assert tables.noise_components(runs[runs["draw"] == 0]).empty


def test_markdown_table_prints_nan_as_dash_and_escapes_pipes():
    df = pd.DataFrame({"a": [1.23456, float("nan")], "b": ["x|y", "z"]})
    md = tables.markdown_table(df, formats={"a": ".2f"})
    assert md.splitlines() == ["| a | b |", "| --- | --- |", "| 1.23 | x\\|y |", "| - | z |"]


def test_aggregate_verb_writes_every_table_and_lists_missing(tmp_path):
    ablation(tmp_path, seeds=(1, 2))
    out = tmp_path / "tables"
    rc = pgolf_main(["aggregate", "--seeds", "1", "2", "5", "--conditions", *NAMES,
                     "--eval-pattern", PATTERN.format(root=tmp_path), "--out-dir", str(out)])
    assert rc == 0
    for name in ("runs.csv", "conditions.csv", "conditions.md", "steps.csv", "steps.md", "positions.csv",
                 "missing.csv", "provenance.json"):
        assert (out / name).is_file(), name
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 8 and set(runs["seed"]) == {1, 2}
    assert set(pd.read_csv(out / "missing.csv")["seed"]) == {5}
    assert "| ttt |" in (out / "conditions.md").read_text()
    info = json.loads((out / "provenance.json").read_text())
    assert info["devices"] == ["cpu:x86_64"] and info["git_revisions"] == ["abc"]
