"""The audit's figure: bpb over date, each record's runs and mean with its t-interval, flags, the progression.

`frontier_points(results)` is what both drawings show; `frontier_png` draws it with matplotlib for
report.md, `frontier_plot` lays it out in page coordinates for the SVG of index.html.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from pgolf.review.judge.record import RecordResult
from pgolf.review.model import errors
from pgolf.stats import mean_interval

_PNG_META = {"Software": None}  # deterministic bytes: no version in the file


def _half_width(values: Sequence[float]) -> float:
    """Half the 95% t-interval of the mean (0 where it is undefined: one run)."""
    lo, hi = mean_interval(values)
    return 0.0 if math.isnan(lo) else (hi - lo) / 2


@dataclass(frozen=True)
class FrontierPoint:
    index: int  # the record's position in the list given
    date: dt.date
    values: tuple[float, ...]
    mean: float
    half: float  # half the 95% t-interval
    flagged: bool  # an error flag, or a claim the logs do not show
    on_chain: bool  # holds the practice against its previous (or has none)
    label: str


def frontier_points(results: Sequence[RecordResult]) -> list[FrontierPoint]:
    """Records with a date and runs only (the others are in the tables, not on the time axis)."""
    out = []
    for i, r in enumerate(results):
        rec, against = r.record, r.stats.against
        try:
            x = dt.date.fromisoformat(rec.date or "")
        except ValueError:
            continue
        if not rec.values or rec.mean is None:
            continue
        out.append(FrontierPoint(i, x, tuple(rec.values), rec.mean, _half_width(rec.values),
                                 bool(errors(rec.flags)) or rec.claim_supported is False,
                                 bool(against.holds_practice or not against.previous), rec.name))
    return out


def frontier_png(results: Sequence[RecordResult], on_board: set[int] | None = None) -> bytes:
    """Every record's mean and 95% t-interval over date (red: an error flag), clipped to the range the page's
    SVG shows, and the step line through the progression: the records of the rebuilt leaderboard when
    `on_board` (indices into `results`) is given (audit --git), else those that hold the practice."""
    points = frontier_points(results)
    chain = [p for p in points if (p.index in on_board if on_board is not None else p.on_chain)]
    import matplotlib  # noqa: PLC0415 (0.3 s: only the PNG needs it, not the pages or the review bot)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(9, 5))
    if points:
        lo, hi = _y_range(points, chain)
        for flagged, color in ((False, "#1f77b4"), (True, "#d62728")):
            shown = [p for p in points if p.flagged == flagged]
            if not shown:
                continue
            ys = [min(max(p.mean, lo), hi) for p in shown]
            ax.errorbar([p.date for p in shown], ys, yerr=[p.half for p in shown], fmt="x" if flagged else "o",
                        color=color, capsize=2, markersize=3, alpha=0.6, linestyle="none")
        ax.set_ylim(lo, hi)
    if chain:
        steps = sorted((p.date, p.mean) for p in chain)
        xs, ys = zip(*steps, strict=True)
        label = "rebuilt leaderboard" if on_board is not None else "progression (holds the practice)"
        ax.step(xs, ys, where="post", color="#2ca02c", label=label)
        ax.legend(loc="upper right")
    ax.set_xlabel("date")
    ax.set_ylabel("val_bpb (claimed stage)")
    ax.set_title("Leaderboard: mean and 95% t-interval; red = flagged")
    fig.autofmt_xdate()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata=_PNG_META)
    plt.close(fig)
    return buf.getvalue()


# --------------------------------------------------------------------------- the SVG's layout


@dataclass(frozen=True)
class PlotMark:
    index: int
    label: str
    flagged: bool
    x: float
    y: float  # the mean
    lo: float  # the interval's ends, clipped to the plot
    hi: float
    runs: tuple[float, ...]  # each run's y
    clipped: bool  # the mean lies outside the range shown (drawn at the edge)


@dataclass(frozen=True)
class Plot:
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    marks: tuple[PlotMark, ...]
    progression: str  # the step line's points, "x,y x,y ..."
    xticks: tuple[tuple[float, str], ...]
    yticks: tuple[tuple[float, str], ...]
    y_range: tuple[float, float]
    clipped: int


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))]


def _y_range(points: Sequence[FrontierPoint], progression: Sequence[FrontierPoint]) -> tuple[float, float]:
    """The 10th to 95th percentile of the means, widened to hold the whole progression, padded: a stream holds
    mistyped scores (10.0, 3e-7) and partial runs that would flatten the frontier to a line."""
    means = sorted(p.mean for p in points)
    lo = min([_quantile(means, 0.10), *(p.mean for p in progression)])
    hi = max([_quantile(means, 0.95), *(p.mean for p in progression)])
    pad = (hi - lo) * 0.08 or 0.01
    return lo - pad, hi + pad


def _nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    raw = (hi - lo) / count
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 5, 10) if step * m >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def _date_ticks(d0: int, span: int) -> list[dt.date]:
    """Weekly ticks over a short stream, the 1st and 15th of each month over a long one."""
    if span <= 70:
        return [dt.date.fromordinal(d) for d in range(d0, d0 + span + 1, 7)]
    days = (dt.date.fromordinal(d) for d in range(d0, d0 + span + 1))
    return [d for d in days if d.day in (1, 15)]


def frontier_plot(points: Sequence[FrontierPoint], progression: Sequence[FrontierPoint],
                  width: int = 960, height: int = 420) -> Plot | None:
    """Page coordinates of every point, the progression (a step line through `progression`, by date) and ticks."""
    if not points:
        return None
    left, right, top, bottom = 64, width - 16, 28, height - 40
    d0 = min(p.date for p in points).toordinal()
    span = max(1, max(p.date for p in points).toordinal() - d0)
    ylo, yhi = _y_range(points, progression)

    def px(date: dt.date) -> float:
        return round(left + (date.toordinal() - d0) / span * (right - left), 1)

    def py(v: float) -> float:
        return round(bottom - (min(max(v, ylo), yhi) - ylo) / (yhi - ylo) * (bottom - top), 1)

    marks = tuple(PlotMark(p.index, p.label, p.flagged, px(p.date), py(p.mean), py(p.mean - p.half),
                           py(p.mean + p.half), tuple(py(v) for v in p.values), not ylo <= p.mean <= yhi)
                  for p in points)
    steps, last = [], None
    for p in sorted(progression, key=lambda p: (p.date, -p.mean)):
        if last is not None:
            steps.append(f"{px(p.date)},{last}")
        last = py(p.mean)
        steps.append(f"{px(p.date)},{last}")
    if last is not None:
        steps.append(f"{right},{last}")
    xticks = tuple((px(t), t.isoformat()) for t in _date_ticks(d0, span))
    yticks = tuple((py(v), f"{v:.4g}") for v in _nice_ticks(ylo, yhi))
    return Plot(width, height, left, top, right, bottom, marks, " ".join(steps), xticks, yticks, (ylo, yhi),
                sum(m.clipped for m in marks))
