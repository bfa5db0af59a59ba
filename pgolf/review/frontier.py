"""The audit's figure: bpb over date, each record's runs and mean with its t-interval, flags, the progression."""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pgolf.stats import mean_interval  # noqa: E402

_PNG_META = {"Software": None}  # deterministic bytes: no version in the file


def _half_width(values: Sequence[float]) -> float:
    """Half the 95% t-interval of the mean (0 where it is undefined: one run)."""
    lo, hi = mean_interval(values)
    return 0.0 if math.isnan(lo) else (hi - lo) / 2


def frontier_png(records: Sequence[dict[str, Any]]) -> bytes:
    """Records with a date and runs only; red: an error flag; the line joins the records that hold the practice."""
    fig, ax = plt.subplots(figsize=(9, 5))
    chain: list[tuple[dt.date, float]] = []
    for d in records:
        try:
            x = dt.date.fromisoformat(d.get("date") or "")
        except ValueError:
            continue  # no date: not on the time axis (it is in the table)
        if not d["values"]:
            continue
        bad = d["n_errors"] > 0 or d["claim_supported"] is False
        color = "#d62728" if bad else "#1f77b4"
        ax.scatter([x] * len(d["values"]), d["values"], s=10, color=color, alpha=0.5)
        half = _half_width(d["values"])
        ax.errorbar([x], [d["mean"]], yerr=[[half], [half]], fmt="x" if bad else "o",
                    color=color, capsize=3)
        if d.get("holds_practice") or not d.get("previous"):
            chain.append((x, d["mean"]))
    if chain:
        xs, ys = zip(*sorted(chain), strict=True)
        ax.step(xs, ys, where="post", color="#2ca02c", label="progression (holds the practice)")
        ax.legend(loc="upper right")
    ax.set_xlabel("date")
    ax.set_ylabel("val_bpb (claimed stage)")
    ax.set_title("Leaderboard: runs, mean and 95% t-interval; red = flagged")
    fig.autofmt_xdate()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata=_PNG_META)
    plt.close(fig)
    return buf.getvalue()
