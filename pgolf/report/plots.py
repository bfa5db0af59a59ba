"""The two figures of the report, drawn with matplotlib's Agg backend (no display needed).

- ablation: bpb per condition, each seed's points joined, the mean with its t-interval.
- positions: the record's figure, bpb by position of the target inside its document,
  per condition, from the summed per-position files: the first positions on a linear
  axis, the whole range (log-binned sums) beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pgolf import atomic  # noqa: E402
from pgolf.evalspec import condition  # noqa: E402
from pgolf.report.tables import LN2, condition_summary, draw0_runs  # noqa: E402

# Deterministic PNG bytes: no timestamp or version in the file's metadata.
_PNG_META = {"Software": None}


def _save(fig: plt.Figure, path: str | Path) -> None:
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, metadata=_PNG_META)
    plt.close(fig)


def ablation_figure(runs: pd.DataFrame, conditions: Sequence[str], path: str | Path, confidence: float = 0.95) -> None:
    h = draw0_runs(runs)
    x = {c: i for i, c in enumerate(conditions)}
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for seed, sub in h.groupby("seed"):
        sub = sub[sub["condition"].isin(conditions)].sort_values("condition", key=lambda s: s.map(x))
        ax.plot(sub["condition"].map(x), sub["val_bpb"], "o-", color="0.6", lw=1, ms=4, alpha=0.8,
                label="one seed" if seed == h["seed"].min() else None)
    summary = condition_summary(runs, conditions, confidence)
    for row in summary.itertuples():
        if row.n == 0:
            continue
        lo, hi = row.ci_low, row.ci_high
        err = None if math.isnan(lo) else [[row.mean_bpb - lo], [hi - row.mean_bpb]]
        ax.errorbar(x[row.condition] + 0.12, row.mean_bpb, yerr=err, fmt="s", color=condition(row.condition).color,
                    capsize=4, ms=7, label=None)
    ax.errorbar([], [], yerr=[], fmt="s", color="k", capsize=4,
                label=f"mean, {confidence * 100:g}% t-interval")
    ax.set_xticks(range(len(conditions)), [condition(c).label for c in conditions], rotation=10)
    ax.set_ylabel("val_bpb (lower is better)")
    n_seeds = h["seed"].nunique()
    ax.set_title(f"Ablation over {n_seeds} seed(s)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def _log_bins(positions: pd.DataFrame, bins_per_decade: int = 12) -> pd.DataFrame:
    """Sum nats and bytes in geometric bins of position, so long tails stay readable."""
    pos = positions["position"].to_numpy(dtype=float)
    edges_exp = np.floor(np.log10(pos + 1.0) * bins_per_decade)
    g = positions.assign(bin=edges_exp).groupby("bin", as_index=False).agg(
        position=("position", "mean"), nats=("nats", "sum"), bytes=("bytes", "sum"))
    g = g[g["bytes"] > 0]
    return g.assign(bpb=g["nats"] / LN2 / g["bytes"])


def positions_figure(positions: pd.DataFrame, conditions: Sequence[str], path: str | Path,
                     first: int = 256) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for c in conditions:
        sub = positions[(positions["condition"] == c) & (positions["bytes"] > 0)].sort_values("position")
        if sub.empty:
            continue
        label = condition(c).label
        head = sub[sub["position"] < first]
        left.plot(head["position"], head["bpb"], lw=1, color=condition(c).color, label=label)
        binned = _log_bins(sub)
        right.plot(binned["position"] + 1, binned["bpb"], lw=1.2, color=condition(c).color, label=label)
    left.set_xlabel(f"position in document (first {first})")
    left.set_ylabel("bpb at that position")
    left.set_title("first positions")
    right.set_xscale("log")
    right.set_xlabel("position in document + 1 (log, binned)")
    right.set_title("whole range")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    right.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def write_plots(runs_path: str | Path, positions_path: str | Path, conditions: Sequence[str], out: Path,
                confidence: float = 0.95, first: int = 256) -> list[Path]:
    """ablation.png and positions.png into `out`, from the aggregate tables; returns their paths."""
    from pgolf.report.files import read_runs, read_table

    runs = read_runs(runs_path)
    positions = read_table(positions_path, "`python -m pgolf aggregate`", empty_ok=False)
    paths = [out / "ablation.png", out / "positions.png"]
    ablation_figure(runs, conditions, paths[0], confidence)
    positions_figure(positions, conditions, paths[1], first)
    return paths
