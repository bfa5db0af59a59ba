"""`python -m pgolf aggregate`: every seed x condition eval JSON into tidy tables
(pgolf.report.aggregate); what is missing is listed, not an error."""

from __future__ import annotations

import argparse
from pathlib import Path

from pgolf.cli.types import integer, pattern, probability
from pgolf.evalspec import NAMES
from pgolf.report.aggregate import write_tables


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", nargs="+", type=int, required=True, help="training seeds")
    parser.add_argument("--conditions", nargs="+", choices=NAMES, required=True,
                        help="conditions in ablation order")
    parser.add_argument("--ttt-draws", type=integer(1), default=1, help="LoRA init draws per checkpoint")
    parser.add_argument("--eval-pattern", required=True, type=pattern("seed", "name"),
                        help="eval JSON path with {seed} and {name}, e.g. results/seeds/{seed}/eval/{name}.json")
    parser.add_argument("--artifact-pattern", type=pattern("seed"), help="artifact path with {seed}: tells a failed training from a failed eval")
    parser.add_argument("--train-metrics-pattern", type=pattern("seed"), help="train metrics.json path with {seed}")
    parser.add_argument("--manifest", help="the data manifest.json (hashes go into provenance.json)")
    parser.add_argument("--confidence", type=probability, default=0.95, help="level of the t-intervals")
    parser.add_argument("--out-dir", required=True, help="folder for runs.csv and the other tables")


def main(args: argparse.Namespace) -> int:
    out = Path(args.out_dir)
    found, missing = write_tables(out, args.seeds, args.conditions, args.ttt_draws, args.eval_pattern,
                                  args.artifact_pattern, args.train_metrics_pattern, args.manifest, args.confidence)
    print(f"aggregate: {found} evaluation(s), {missing} missing -> {out}")
    return 0
