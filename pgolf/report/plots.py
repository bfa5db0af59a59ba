"""The two figures of the report, drawn with matplotlib's Agg backend (no display needed).

- ablation: bpb per condition, each seed's points joined, the mean with its t-interval, and the
  claim's threshold as a dashed line; the title says how many seeds.
- positions: the record's figure, bpb by position of the target inside its document,
  per condition, from the summed per-position files: the first positions on a linear
  axis, the whole range (log-binned sums) beside it; under each, how many targets were scored
  at that position (the documents that long, over all seeds), and the window boundaries
  (multiples of seq_len) where the doc condition's context starts again.
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


def ablation_figure(runs: pd.DataFrame, conditions: Sequence[str], path: str | Path, confidence: float = 0.95,
                    threshold: float | None = None, headline: str | None = None) -> None:
    _save(draw_ablation(runs, conditions, confidence, threshold, headline), path)


def draw_ablation(runs: pd.DataFrame, conditions: Sequence[str], confidence: float = 0.95,
                  threshold: float | None = None, headline: str | None = None) -> plt.Figure:
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
    if threshold is not None:
        claim = f"claim: mean {headline} < {threshold:g}" if headline else f"claim threshold {threshold:g}"
        ax.axhline(threshold, color="#d62728", ls="--", lw=1.2, label=claim)
    ax.set_xticks(range(len(conditions)), [condition(c).label for c in conditions], rotation=10)
    ax.set_ylabel("val_bpb (lower is better)")
    n_seeds = h["seed"].nunique()
    ax.set_title(f"val_bpb per condition, n = {n_seeds} training {'seed' if n_seeds == 1 else 'seeds'}")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def _log_bins(positions: pd.DataFrame, bins_per_decade: int = 12) -> pd.DataFrame:
    """Sum nats and bytes in geometric bins of position, so long tails stay readable."""
    pos = positions["position"].to_numpy(dtype=float)
    edges_exp = np.floor(np.log10(pos + 1.0) * bins_per_decade)
    g = positions.assign(bin=edges_exp).groupby("bin", as_index=False).agg(
        position=("position", "mean"), nats=("nats", "sum"), bytes=("bytes", "sum"))
    g = g[g["bytes"] > 0]
    return g.assign(bpb=g["nats"] / LN2 / g["bytes"])


def _boundaries(ax: plt.Axes, seq_len: int | None, last: float, label: bool) -> None:
    """Dotted lines at multiples of seq_len: where the doc condition's windows restart."""
    if not seq_len:
        return
    for i, x in enumerate(np.arange(seq_len, last, seq_len)):
        ax.axvline(x, color="0.5", ls=":", lw=0.8,
                   label=f"window boundary (every {seq_len} positions)" if label and i == 0 else None)


def positions_figure(positions: pd.DataFrame, conditions: Sequence[str], path: str | Path,
                     first: int = 256, seq_len: int | None = None) -> None:
    _save(draw_positions(positions, conditions, first, seq_len), path)


def draw_positions(positions: pd.DataFrame, conditions: Sequence[str], first: int = 256,
                   seq_len: int | None = None) -> plt.Figure:
    fig, axes = plt.subplots(2, 2, figsize=(11, 5.6), sharex="col", gridspec_kw={"height_ratios": [3, 1]})
    (left, right), (left_n, right_n) = axes
    for c in conditions:
        sub = positions[(positions["condition"] == c) & (positions["bytes"] > 0)].sort_values("position")
        if sub.empty:
            continue
        label, color = condition(c).label, condition(c).color
        head = sub[sub["position"] < first]
        left.plot(head["position"], head["bpb"], lw=1, color=color, label=label)
        left_n.plot(head["position"], head["count"], lw=1, color=color)
        binned = _log_bins(sub)
        right.plot(binned["position"] + 1, binned["bpb"], lw=1.2, color=color, label=label)
        right_n.plot(sub["position"] + 1, sub["count"], lw=1, color=color)
    _boundaries(left, seq_len, first, label=True)
    _boundaries(left_n, seq_len, first, label=False)
    left.set_ylabel("bpb at that position")
    left.set_title("first positions")
    left.legend(fontsize=7, loc="upper right")
    right.set_xscale("log")
    right.set_title("whole range (log-binned)")
    left_n.set_xlabel(f"position in document (first {first})")
    left_n.set_ylabel("targets scored")
    right_n.set_xlabel("position in document + 1 (log)")
    right_n.set_yscale("log")
    left_n.set_ylim(bottom=0)
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def write_plots(runs_path: str | Path, positions_path: str | Path, conditions: Sequence[str], out: Path,
                confidence: float = 0.95, first: int = 256, threshold: float | None = None,
                headline: str | None = None, seq_len: int | None = None) -> list[Path]:
    """ablation.png and positions.png into `out`, from the aggregate tables; returns their paths."""
    from pgolf.report.files import read_runs, read_table

    runs = read_runs(runs_path)
    positions = read_table(positions_path, "`python -m pgolf aggregate`", empty_ok=False)
    paths = [out / "ablation.png", out / "positions.png"]
    ablation_figure(runs, conditions, paths[0], confidence, threshold, headline)
    positions_figure(positions, conditions, paths[1], first, seq_len)
    return paths
