"""Tidy tables from the per-seed eval JSONs: what the aggregate verb writes and the report reads.

Everything here is descriptive (means, sample stds, sums); every interval and test
comes from `pgolf.stats`, the one statistics module.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pgolf import inputs
from pgolf.errors import DataError
from pgolf.evalspec import eval_name, evaluations
from pgolf.stats import mean_interval

RUN_COLUMNS = ["seed", "condition", "draw", "eval_seed", "val_loss", "val_bpb", "tokens", "bytes", "seconds"]
MISSING_COLUMNS = ["seed", "condition", "draw", "path", "reason"]
LN2 = math.log(2.0)


def expected_evals(seeds: Sequence[int], conditions: Sequence[str], ttt_draws: int) -> list[tuple[int, str, int]]:
    """(seed, condition, draw) of every evaluation the config asks for, in ablation order."""
    return [(int(seed), c, draw) for seed in seeds for c, draw in evaluations(conditions, ttt_draws)]


def read_json(path: str | Path, what: str) -> dict[str, Any]:
    try:
        return inputs.read_json(path, what)
    except DataError as exc:
        raise DataError(f"{exc}; rerun the job that wrote it") from None


def eval_row(seed: int, condition: str, draw: int, result: dict[str, Any], path: str) -> dict[str, Any]:
    """One tidy row from an eval JSON; the JSON's own condition must match its file name."""
    if result.get("condition") != condition:
        raise DataError(
            f"{path}: holds condition {result.get('condition')!r}, but its name says {condition!r}; "
            "delete it and rerun its eval job"
        )
    missing = [k for k in ("val_loss", "val_bpb", "tokens", "bytes") if k not in result]
    if missing:
        raise DataError(f"{path}: missing field(s) {', '.join(missing)}; rerun its eval job")
    settings = result.get("settings") or {}
    return {
        "seed": int(seed),
        "condition": condition,
        "draw": int(draw),
        "eval_seed": settings.get("ttt_seed") if isinstance(settings, dict) else None,
        "val_loss": _number(result, "val_loss", path),
        "val_bpb": _number(result, "val_bpb", path),
        "tokens": int(_number(result, "tokens", path, whole=True)),
        "bytes": int(_number(result, "bytes", path, whole=True)),
        "seconds": _number(result, "seconds", path) if result.get("seconds") is not None else float("nan"),
    }


def _number(result: dict[str, Any], key: str, path: str, whole: bool = False) -> float:
    """A finite number (a whole one for counts), or DataError naming the file, the field and its value."""
    value = result[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or (whole and float(value) != int(value)):
        kind = "a whole number" if whole else "a finite number"
        raise DataError(f"{path}: field {key} is {value!r} ({type(value).__name__}), not {kind}; "
                        "delete the file and rerun its eval job")
    return float(value)


def collect_runs(
    seeds: Sequence[int],
    conditions: Sequence[str],
    ttt_draws: int,
    eval_pattern: str,
    artifact_pattern: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[tuple[int, str, int], dict[str, Any]]]:
    """Read every expected eval JSON that exists.

    Returns (runs, missing, results): runs has RUN_COLUMNS, one row per existing
    evaluation; missing names each absent one and why (no artifact = training did
    not finish); results maps (seed, condition, draw) to the parsed JSON.
    """
    rows, gone, results = [], [], {}
    for seed, condition, draw in expected_evals(seeds, conditions, ttt_draws):
        path = eval_pattern.format(seed=seed, name=eval_name(condition, draw))
        if not Path(path).is_file():
            if artifact_pattern and not Path(artifact_pattern.format(seed=seed)).is_file():
                reason = "training did not finish (no artifact)"
            else:
                reason = "evaluation did not finish"
            gone.append({"seed": seed, "condition": condition, "draw": draw, "path": path, "reason": reason})
            continue
        result = read_json(path, "eval result")
        rows.append(eval_row(seed, condition, draw, result, path))
        results[(seed, condition, draw)] = result
    runs = pd.DataFrame(rows, columns=RUN_COLUMNS)
    runs["eval_seed"] = runs["eval_seed"].astype("Int64")
    return runs, pd.DataFrame(gone, columns=MISSING_COLUMNS), results


def draw0_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Draw 0 of every condition: one evaluation per checkpoint, the sample every test uses."""
    return runs[runs["draw"] == 0]


def claim_sample(runs: pd.DataFrame, condition: str) -> tuple[list[int], list[float]]:
    """(seeds, val_bpb) of one condition, draw 0, by seed: the claim test's sample."""
    sub = draw0_runs(runs)
    sub = sub[sub["condition"] == condition].sort_values("seed")
    return [int(s) for s in sub["seed"]], sub["val_bpb"].astype(float).tolist()


PAIRED_COLUMNS = ["from", "to", "n", "mean_from", "mean_to", "mean_diff", "std_diff", "ci_low", "ci_high",
                  "t", "df", "p_value", "p_holm", "holds", "note"]


def paired_tests(runs: pd.DataFrame, conditions: Sequence[str], alpha: float, confidence: float) -> pd.DataFrame:
    """Each consecutive pair of conditions: pgolf.stats' paired test of the per-seed values (draw 0)."""
    from pgolf.stats import paired_step_tests

    h = draw0_runs(runs)
    steps = []
    for before, after in zip(conditions[:-1], conditions[1:], strict=True):
        pair = paired_seed_values(h, before, after)
        steps.append((before, after, pair["bpb_from"].tolist(), pair["bpb_to"].tolist()))
    df = pd.DataFrame(paired_step_tests(steps, alpha, confidence), columns=PAIRED_COLUMNS)
    df["holds"] = df["holds"].astype("boolean")
    return df


def condition_summary(runs: pd.DataFrame, conditions: Sequence[str], confidence: float = 0.95) -> pd.DataFrame:
    """Per condition (draw 0): n, mean/sample std of bpb and nats, t-interval of the bpb mean,
    the mean paired step from the previous condition and whether it exceeds the seed spread."""
    h = draw0_runs(runs)
    rows = []
    previous = None
    for condition in conditions:
        sub = h[h["condition"] == condition].sort_values("seed")
        bpb = sub["val_bpb"].to_numpy(dtype=float)
        n = len(bpb)
        lo, hi = mean_interval(bpb, confidence)
        row = {
            "condition": condition,
            "n": n,
            "mean_bpb": float(bpb.mean()) if n else float("nan"),
            "std_bpb": float(bpb.std(ddof=1)) if n > 1 else float("nan"),
            "ci_low": lo,
            "ci_high": hi,
            "mean_loss": float(sub["val_loss"].mean()) if n else float("nan"),
            "std_loss": float(sub["val_loss"].std(ddof=1)) if n > 1 else float("nan"),
            "step_bpb": float("nan"),
            "step_std": float("nan"),
            "step_exceeds_spread": pd.NA,
        }
        if previous is not None:
            steps = paired_seed_values(h, previous, condition)
            if len(steps):
                d = steps["delta_bpb"].to_numpy(dtype=float)
                row["step_bpb"] = float(d.mean())
                row["step_std"] = float(d.std(ddof=1)) if len(d) > 1 else float("nan")
                spread = np.nanmax([row["std_bpb"], rows[-1]["std_bpb"]]) if n > 1 else float("nan")
                if math.isfinite(spread):
                    row["step_exceeds_spread"] = bool(abs(row["step_bpb"]) > spread)
        rows.append(row)
        previous = condition
    out = pd.DataFrame(rows)
    out["step_exceeds_spread"] = out["step_exceeds_spread"].astype("boolean")
    return out


def paired_seed_values(h: pd.DataFrame, before: str, after: str) -> pd.DataFrame:
    """The seeds that finished both conditions (sorted), their bpb in each and the step
    (after minus before) in bpb and nats: the one pairing every step table and test uses."""
    a = h[h["condition"] == before].set_index("seed")
    b = h[h["condition"] == after].set_index("seed")
    both = a.index.intersection(b.index).sort_values()
    return pd.DataFrame({
        "seed": both,
        "from": before,
        "to": after,
        "bpb_from": a.loc[both, "val_bpb"].to_numpy(dtype=float),
        "bpb_to": b.loc[both, "val_bpb"].to_numpy(dtype=float),
        "delta_bpb": (b.loc[both, "val_bpb"] - a.loc[both, "val_bpb"]).to_numpy(dtype=float),
        "delta_loss": (b.loc[both, "val_loss"] - a.loc[both, "val_loss"]).to_numpy(dtype=float),
    })


def seed_steps(runs: pd.DataFrame, conditions: Sequence[str]) -> pd.DataFrame:
    """Per seed, the step (later minus earlier, draw 0) from each condition to the next; long format."""
    h = draw0_runs(runs)
    parts = [paired_seed_values(h, a, b) for a, b in zip(conditions[:-1], conditions[1:], strict=True)]
    cols = ["seed", "from", "to", "delta_bpb", "delta_loss"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    return out[cols].astype({"seed": int}) if len(out) else pd.DataFrame(columns=cols)


def seed_steps_wide(steps: pd.DataFrame, conditions: Sequence[str]) -> pd.DataFrame:
    """Seeds as rows, one `a -> b` column per step (bpb), then mean and sample std rows."""
    labels = [f"{a} -> {b}" for a, b in zip(conditions[:-1], conditions[1:], strict=True)]
    if steps.empty:
        return pd.DataFrame(columns=["seed", *labels])
    wide = steps.assign(step=steps["from"] + " -> " + steps["to"]).pivot(index="seed", columns="step", values="delta_bpb")
    wide = wide.reindex(columns=labels).sort_index()
    summary = pd.DataFrame([wide.mean(), wide.std(ddof=1)], index=["mean", "std"])
    out = pd.concat([wide, summary])
    out.index = out.index.map(str)
    return out.rename_axis("seed").reset_index()


def position_table(paths: dict[str, Sequence[str | Path]]) -> pd.DataFrame:
    """Sum each condition's per-position files (position,nats,bytes,count) over seeds; add bpb.

    bpb at a position = (nats / ln 2) / bytes over every scored target at that position,
    the same definition as the whole split's bpb.
    """
    frames = []
    for condition, files in paths.items():
        for path in files:
            df = inputs.read_csv(path, "per-position sums")  # names the file: missing, not UTF-8, no table
            need = {"position", "nats", "bytes", "count"}
            if not need.issubset(df.columns):
                raise DataError(f"{path}: columns {sorted(df.columns)} lack {sorted(need - set(df.columns))}")
            frames.append(df[["position", "nats", "bytes", "count"]].assign(condition=condition))
    cols = ["condition", "position", "nats", "bytes", "count", "bpb"]
    if not frames:
        return pd.DataFrame(columns=cols)
    df = pd.concat(frames, ignore_index=True)
    out = df.groupby(["condition", "position"], sort=False, as_index=False)[["nats", "bytes", "count"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["bpb"] = np.where(out["bytes"] > 0, out["nats"] / LN2 / out["bytes"].where(out["bytes"] > 0), np.nan)
    order = {c: i for i, c in enumerate(paths)}
    out = out.sort_values(["condition", "position"], key=lambda s: s.map(order) if s.name == "condition" else s)
    return out[cols].reset_index(drop=True)


def noise_components(runs: pd.DataFrame, condition: str = "ttt") -> pd.DataFrame:
    """Evaluation noise apart from training noise, from several LoRA init draws per checkpoint.

    Rows per seed: draws, mean and sample std of bpb over its draws. A last row
    `all`: eval_std = pooled within-seed std (the evaluation's own noise),
    train_std = sample std of the per-seed means (training + averaged eval noise),
    and eval_share = eval_std^2 / draws / var(per-seed means), the part of the
    seed spread the evaluation explains. Empty when no seed has two draws.
    """
    cols = ["seed", "draws", "mean_bpb", "std_bpb", "eval_std", "train_std", "eval_share"]
    sub = runs[runs["condition"] == condition]
    per_seed = sub.groupby("seed")["val_bpb"].agg(draws="count", mean_bpb="mean", std_bpb=lambda s: s.std(ddof=1))
    per_seed = per_seed.reset_index()
    if per_seed.empty or per_seed["draws"].max() < 2:
        return pd.DataFrame(columns=cols)
    multi = per_seed[per_seed["draws"] > 1]
    dof = (multi["draws"] - 1).sum()
    eval_var = float(((multi["draws"] - 1) * multi["std_bpb"] ** 2).sum() / dof)
    means_var = float(per_seed["mean_bpb"].var(ddof=1)) if len(per_seed) > 1 else float("nan")
    mean_draws = float(per_seed["draws"].mean())
    share = eval_var / mean_draws / means_var if means_var and math.isfinite(means_var) else float("nan")
    summary = {
        "seed": "all",
        "draws": int(per_seed["draws"].sum()),
        "mean_bpb": float(sub["val_bpb"].mean()),
        "std_bpb": float(sub["val_bpb"].std(ddof=1)),
        "eval_std": math.sqrt(eval_var),
        "train_std": math.sqrt(means_var) if math.isfinite(means_var) else float("nan"),
        "eval_share": share,
    }
    per_seed = per_seed.assign(seed=per_seed["seed"].astype(str), eval_std=np.nan, train_std=np.nan, eval_share=np.nan)
    return pd.concat([per_seed, pd.DataFrame([summary])], ignore_index=True)[cols]


def markdown_table(df: pd.DataFrame, formats: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> str:
    """A GitHub Markdown table; `formats` maps a column to a format spec ('.4f'), NaN prints '-'."""
    formats = formats or {}
    headers = headers or {}
    cols = list(df.columns)

    def cell(col: str, value: Any) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return "-"
        if isinstance(value, bool | np.bool_):
            return "yes" if value else "no"
        spec = formats.get(col)
        if spec and isinstance(value, int | float | np.integer | np.floating):
            return format(value, spec)
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(headers.get(c, c) for c in cols) + " |", "|" + "|".join(" --- " for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(cell(c, v) for c, v in zip(cols, row, strict=True)) + " |")
    return "\n".join(lines)


def conditions_markdown(summary: pd.DataFrame, confidence: float) -> str:
    pct = f"{confidence * 100:g}%"
    df = summary.assign(ci=[
        "-" if math.isnan(lo) else f"[{lo:.4f}, {hi:.4f}]" for lo, hi in zip(summary["ci_low"], summary["ci_high"], strict=True)
    ])
    df = df[["condition", "n", "mean_loss", "mean_bpb", "std_bpb", "ci", "step_bpb", "step_std", "step_exceeds_spread"]]
    return markdown_table(
        df,
        formats={"mean_loss": ".4f", "mean_bpb": ".4f", "std_bpb": ".4f", "step_bpb": "+.4f", "step_std": ".4f"},
        headers={"mean_loss": "val_loss mean", "mean_bpb": "val_bpb mean", "std_bpb": "val_bpb std",
                 "ci": f"{pct} t-interval", "step_bpb": "step from previous", "step_std": "step std",
                 "step_exceeds_spread": "step > seed std"},
    )


def steps_markdown(wide: pd.DataFrame) -> str:
    """Signed steps; the last row (the sample std) is printed without a sign."""
    body = markdown_table(wide, formats={c: "+.4f" for c in wide.columns if c != "seed"})
    if len(wide) and str(wide["seed"].iloc[-1]) == "std":
        lines = body.splitlines()
        lines[-1] = markdown_table(wide.tail(1), formats={c: ".4f" for c in wide.columns if c != "seed"}).splitlines()[-1]
        body = "\n".join(lines)
    return body
