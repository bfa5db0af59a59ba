"""The report explains itself, checked on the real micro DAG run (the session's `finished_run`):
it opens with what ran, where and for how long; provenance reads as tables; the figures draw the
claim's threshold, say n, count the targets by position and mark the window boundaries; and
`snakemake --report results/report.html` writes under results/."""

from __future__ import annotations

import datetime as dt
import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_copy import MICRO, snakemake

from pgolf.report.plots import draw_ablation, draw_positions

pytestmark = pytest.mark.slow


def _micro() -> dict:
    from workflow_copy import REPO

    return yaml.safe_load((REPO / MICRO).read_text())


def test_report_opens_with_what_ran_where_and_how_long(finished_run):
    res = finished_run / "results"
    report = (res / "report.md").read_text()
    opening = report.split("## The claim", 1)[0]
    assert "## What ran, and how long" in opening and "record #77" in opening
    # the four conditions, each with what it scores at the configured window and chunk
    for label, name in (("flat stream", "flat"), ("doc-isolated", "doc"), ("doc + sliding", "sliding"),
                        ("doc + sliding + LoRA TTT", "ttt")):
        assert f"| {label} (`{name}`) |" in opening
    assert "windows of 64 tokens" in opening and "16 tokens at a time" in opening and "rank-2 LoRA" in opening
    # how long, from the files themselves (not from the report's code)
    train_s = [json.loads((res / "seeds" / str(s) / "train" / "metrics.json").read_text())["train_time_ms"] / 1000
               for s in (1, 2)]
    assert f"- training: {sum(train_s):.0f} s over 2 seeds" in opening
    evals = list((res / "seeds").glob("*/eval/*.json"))
    seconds = sum(json.loads(p.read_text())["seconds"] for p in evals)
    assert f"- evaluation: {seconds:.0f} s over {len(evals)} jobs" in opening
    stamps = [json.loads(p.read_text())["provenance"]["created_utc"] for p in evals]
    data = json.loads((res / "data" / "manifest.json").read_text())["provenance"]["created_utc"]
    span = dt.datetime.fromisoformat(max(stamps)) - dt.datetime.fromisoformat(data)
    assert f"- wall clock: {span.total_seconds():.0f} s from the dataset" in opening
    assert re.search(r"- machine: cpu:\S+ on host \S+", opening)


def test_provenance_reads_as_tables_with_the_manifest_hashes(finished_run):
    res = finished_run / "results"
    report = (res / "report.md").read_text()
    manifest = json.loads((res / "data" / "manifest.json").read_text())
    assert "files." not in report  # no flattened JSON keys
    for name, entry in manifest["files"].items():
        row = re.search(rf"^\| `{re.escape(name)}` \|.*\| `(\w+)` \|$", report, re.M)
        assert row and row.group(1) == entry["sha256"], name
    val = manifest["splits"]["val"]
    assert f"| val | {val['docs']:,} | {val['tokens']:,} | {val['bytes']:,} |" in report


def test_report_figures_come_with_notes_on_threshold_and_boundaries(finished_run):
    report = (finished_run / "results" / "report.md").read_text()
    assert "dashed red line is the claim's threshold (mean ttt val_bpb < 10)" in report
    assert "window boundaries, every 64 positions" in report
    assert "(s)" not in report


def test_ablation_figure_draws_the_threshold_and_says_n(finished_run):
    runs = pd.read_csv(finished_run / "results" / "tables" / "runs.csv")
    cfg = _micro()
    fig = draw_ablation(runs, cfg["eval"]["conditions"], 0.95, cfg["claim"]["threshold"], "ttt")
    try:
        ax = fig.axes[0]
        assert ax.get_title().endswith("n = 2 training seeds")
        flat = [ln for ln in ax.get_lines() if len(set(ln.get_ydata())) == 1 and ln.get_linestyle() == "--"]
        assert flat and flat[0].get_ydata()[0] == 10.0
        assert "claim: mean ttt < 10" in [t.get_text() for t in ax.get_legend().get_texts()]
    finally:
        plt.close(fig)


def test_positions_figure_counts_targets_and_marks_window_boundaries(finished_run):
    positions = pd.read_csv(finished_run / "results" / "tables" / "positions.csv")
    # the count at a position: documents that long, over both seeds; recomputed from the per-seed files
    per_seed = [pd.read_csv(finished_run / "results" / "seeds" / str(s) / "eval" / "doc.positions.csv")
                for s in (1, 2)]
    counts = pd.concat(per_seed).groupby("position")["count"].sum()
    fig = draw_positions(positions, ["flat", "doc", "sliding", "ttt"], first=256, seq_len=64)
    try:
        top_left, _, count_left, _ = fig.axes
        doc = [ln for ln in count_left.get_lines() if ln.get_color() == "#1f77b4"][0]
        x, y = np.asarray(doc.get_xdata()), np.asarray(doc.get_ydata())
        assert np.array_equal(y, counts.loc[x].to_numpy())
        assert y[0] == 2 * 6  # every validation document (6 in the micro config) of both seeds has position 0
        marks = sorted({ln.get_xdata()[0] for ln in top_left.get_lines() if ln.get_linestyle() == ":"})
        assert marks == [64, 128, 192]
    finally:
        plt.close(fig)


def test_snakemake_report_writes_under_results(run_dir):
    out = snakemake(run_dir, "results/report.md", "--report", "results/report.html")
    assert out.returncode == 0, out.stderr[-3000:]
    html = run_dir / "results" / "report.html"
    assert html.is_file() and html.stat().st_size > 10_000
    assert not (run_dir / "report.html").exists()
