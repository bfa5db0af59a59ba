"""`python -m pgolf plots`: the ablation and per-position figures as PNG, from the aggregate tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from pgolf.cli.stats import read_runs
from pgolf.errors import DataError
from pgolf.report import plots, tables


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", required=True, help="results/tables/runs.csv")
    parser.add_argument("--positions", required=True, help="results/tables/positions.csv")
    parser.add_argument("--conditions", nargs="+", choices=tables.CONDITION_ORDER, required=True,
                        help="conditions in ablation order")
    parser.add_argument("--confidence", type=float, default=0.95, help="level of the intervals")
    parser.add_argument("--first", type=int, default=256, help="positions on the linear panel")
    parser.add_argument("--out-dir", required=True, help="folder for ablation.png and positions.png")


def main(args: argparse.Namespace) -> int:
    import pandas as pd

    out = Path(args.out_dir)
    runs = read_runs(args.runs)
    try:
        positions = pd.read_csv(args.positions)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"cannot read {args.positions}: {exc}; rerun `python -m pgolf aggregate`") from exc
    plots.ablation_figure(runs, args.conditions, out / "ablation.png", args.confidence)
    plots.positions_figure(positions, args.conditions, out / "positions.png", args.first)
    print(f"plots: {out / 'ablation.png'}, {out / 'positions.png'}")
    return 0
