"""`python -m pgolf plots`: the ablation and per-position figures as PNG, from the aggregate tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from pgolf.cli.types import integer, number, probability
from pgolf.evalspec import NAMES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", required=True, help="results/tables/runs.csv")
    parser.add_argument("--positions", required=True, help="results/tables/positions.csv")
    parser.add_argument("--conditions", nargs="+", choices=NAMES, required=True,
                        help="conditions in ablation order")
    parser.add_argument("--confidence", type=probability, default=0.95, help="level of the intervals")
    parser.add_argument("--first", type=integer(1), default=256, help="positions on the linear panel")
    parser.add_argument("--threshold", type=number(0, lo_open=True), default=None,
                        help="the claim's threshold, drawn on the ablation figure")
    parser.add_argument("--headline", choices=NAMES, default=None, help="the condition the claim is about")
    parser.add_argument("--seq-len", type=integer(1), default=None,
                        help="evaluation window: its boundaries are marked on the positions figure")
    parser.add_argument("--out-dir", required=True, help="folder for ablation.png and positions.png")


def main(args: argparse.Namespace) -> int:
    from pgolf.report.plots import write_plots  # matplotlib only when drawing, not for --help

    paths = write_plots(args.runs, args.positions, args.conditions, Path(args.out_dir), args.confidence, args.first,
                        args.threshold, args.headline, args.seq_len)
    print("plots:", ", ".join(str(p) for p in paths))
    return 0
