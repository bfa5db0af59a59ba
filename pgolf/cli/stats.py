"""`python -m pgolf stats`: the claim's test and the paired steps, from results/tables/runs.csv.

Writes claim.json (one-sided one-sample t-test of the headline condition's per-seed
bpb against the threshold, or why no test ran), paired.csv (per-seed paired
differences between consecutive conditions, Holm-adjusted) and noise.csv (eval
noise apart from training noise when ttt has several init draws). Every number
comes from pgolf.stats.
"""

from __future__ import annotations

import argparse
import io
import math
from pathlib import Path
from typing import Any

import pandas as pd

from pgolf import atomic, stats
from pgolf.errors import DataError, PgolfError
from pgolf.provenance import collect
from pgolf.report import tables

PAIRED_COLUMNS = ["from", "to", "n", "mean_from", "mean_to", "mean_diff", "std_diff", "ci_low", "ci_high",
                  "t", "df", "p_value", "p_holm", "holds", "note"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", required=True, help="results/tables/runs.csv")
    parser.add_argument("--headline", default="ttt", choices=tables.CONDITION_ORDER, help="condition the claim is about")
    parser.add_argument("--threshold", type=float, required=True, help="the claim: mean val_bpb < threshold")
    parser.add_argument("--alpha", type=float, default=0.01, help="significance level of the verdicts")
    parser.add_argument("--confidence", type=float, default=0.95, help="level of the intervals")
    parser.add_argument("--conditions", nargs="+", choices=tables.CONDITION_ORDER, required=True,
                        help="conditions in ablation order (consecutive pairs are compared)")
    parser.add_argument("--out-dir", required=True, help="folder for claim.json, paired.csv, noise.csv")


def read_runs(path: str | Path) -> pd.DataFrame:
    try:
        runs = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"cannot read runs table {path}: {exc}; rerun `python -m pgolf aggregate`") from exc
    lacking = set(tables.RUN_COLUMNS) - set(runs.columns)
    if lacking:
        raise DataError(f"{path}: lacks column(s) {', '.join(sorted(lacking))}; rerun `python -m pgolf aggregate`")
    return runs


def claim_test(runs: pd.DataFrame, headline: str, threshold: float, alpha: float, confidence: float) -> dict[str, Any]:
    """The claim's one-sided test on draw 0 of each seed, or the reason none ran."""
    h = tables.headline_runs(runs)
    sub = h[h["condition"] == headline].sort_values("seed")
    values = sub["val_bpb"].astype(float).tolist()
    out: dict[str, Any] = {
        "headline": headline, "threshold": threshold, "alpha": alpha, "confidence": confidence,
        "seeds": [int(s) for s in sub["seed"]], "values": values, "n": len(values),
        "tested": False, "reason": None, "result": None, "sentence": None, "holds": None, "power": None,
    }
    if len(values) < 2:
        out["reason"] = (f"{len(values)} seed(s) finished the {headline} condition; a t-test needs at least 2 "
                         "distinct seeds (add seeds to `seeds` in the config)")
        return out
    try:
        r = stats.one_sample_t(values, threshold, alternative="less", confidence=confidence)
    except PgolfError as exc:
        out["reason"] = str(exc)
        return out
    out.update(tested=True, result=r.to_dict(), sentence=stats.one_sample_sentence(r, alpha), holds=r.holds(alpha))
    try:
        out["power"] = stats.power_one_sample(values, threshold, alpha=alpha, alternative="less").to_dict()
    except PgolfError:
        out["power"] = None
    return out


def paired_steps(runs: pd.DataFrame, conditions: list[str], alpha: float, confidence: float) -> pd.DataFrame:
    """Per consecutive pair: paired t on (later - earlier) per seed, one-sided 'later is lower'; Holm over pairs."""
    h = tables.headline_runs(runs)
    rows = []
    for before, after in zip(conditions[:-1], conditions[1:], strict=True):
        a = h[h["condition"] == after].set_index("seed")["val_bpb"]
        b = h[h["condition"] == before].set_index("seed")["val_bpb"]
        both = a.index.intersection(b.index).sort_values()
        row: dict[str, Any] = {c: math.nan for c in PAIRED_COLUMNS}
        row.update({"from": before, "to": after, "n": len(both), "holds": pd.NA, "note": ""})
        if len(both) < 2:
            row["note"] = f"{len(both)} paired seed(s): no test"
        else:
            try:
                r = stats.paired_differences(a.loc[both].tolist(), b.loc[both].tolist(), "less", confidence)
                row.update(mean_from=r.mean_b, mean_to=r.mean_a, mean_diff=r.mean_diff, std_diff=r.std_diff,
                           ci_low=r.ci[0], ci_high=r.ci[1], t=r.t, df=r.df, p_value=r.p_value)
            except PgolfError as exc:
                row["note"] = str(exc)
        rows.append(row)
    df = pd.DataFrame(rows, columns=PAIRED_COLUMNS)
    tested = df["p_value"].notna()
    if tested.any():
        df.loc[tested, "p_holm"] = stats.holm(df.loc[tested, "p_value"].tolist())
        df.loc[tested, "holds"] = df.loc[tested, "p_holm"] < alpha
    df["holds"] = df["holds"].astype("boolean")
    return df


def _csv(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n", float_format="%.10g")
    return buf.getvalue()


def main(args: argparse.Namespace) -> int:
    out = Path(args.out_dir)
    runs = read_runs(args.runs)
    claim = claim_test(runs, args.headline, args.threshold, args.alpha, args.confidence)
    claim["provenance"] = collect(verb="stats", runs=str(args.runs))
    paired = paired_steps(runs, list(args.conditions), args.alpha, args.confidence)
    noise = tables.noise_components(runs, "ttt")
    atomic.write_json(out / "claim.json", claim)
    atomic.write_text(out / "paired.csv", _csv(paired))
    atomic.write_text(out / "noise.csv", _csv(noise))
    print("stats:", claim["sentence"] or f"no test: {claim['reason']}")
    return 0
