"""The stats step: the claim's test and the paired steps, from the runs table.

claim.json holds the one-sided one-sample t-test of the headline condition's
per-seed bpb (draw 0) against the threshold, or why no test ran; paired.csv the
paired per-seed differences between consecutive conditions, Holm-adjusted;
noise.csv evaluation noise apart from training noise when ttt has several init
draws. Every number comes from pgolf.stats.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pgolf import atomic, stats
from pgolf.provenance import collect
from pgolf.report import tables
from pgolf.report.files import csv_text, read_runs


def write_stats(runs_path: str | Path, out: Path, headline: str, threshold: float, conditions: Sequence[str],
                alpha: float = 0.01, confidence: float = 0.95) -> dict[str, Any]:
    """claim.json, paired.csv and noise.csv into `out`; returns the claim."""
    runs = read_runs(runs_path)
    seeds, values = tables.claim_sample(runs, headline)
    claim = stats.claim_test(seeds, values, headline, threshold, alpha, confidence)
    claim["provenance"] = collect(verb="stats", runs=str(runs_path))
    paired = tables.paired_tests(runs, list(conditions), alpha, confidence)
    noise = tables.noise_components(runs, "ttt")
    atomic.write_group({out / "paired.csv": csv_text(paired), out / "noise.csv": csv_text(noise),
                        out / "claim.json": atomic.json_text(claim)})
    return claim
