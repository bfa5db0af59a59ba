"""`python -m pgolf stats`: the claim's test and the paired steps, from results/tables/runs.csv
(pgolf.report.claim; every number from pgolf.stats)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pgolf.cli.types import number, probability
from pgolf.evalspec import NAMES
from pgolf.report.claim import write_stats


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", required=True, help="results/tables/runs.csv")
    parser.add_argument("--headline", default="ttt", choices=NAMES, help="condition the claim is about")
    parser.add_argument("--threshold", type=number(0, lo_open=True), required=True, help="the claim: mean val_bpb < threshold")
    parser.add_argument("--alpha", type=probability, default=0.01, help="significance level of the verdicts")
    parser.add_argument("--confidence", type=probability, default=0.95, help="level of the intervals")
    parser.add_argument("--conditions", nargs="+", choices=NAMES, required=True,
                        help="conditions in ablation order (consecutive pairs are compared)")
    parser.add_argument("--out-dir", required=True, help="folder for claim.json, paired.csv, noise.csv")


def main(args: argparse.Namespace) -> int:
    claim = write_stats(args.runs, Path(args.out_dir), args.headline, args.threshold, args.conditions,
                        args.alpha, args.confidence)
    print("stats:", claim["sentence"] or f"no test: {claim['reason']}")
    return 0
