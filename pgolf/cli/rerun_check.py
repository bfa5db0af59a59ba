"""`python -m pgolf rerun-check`: a rerun's logs checked against the submission's own claim."""

from __future__ import annotations

import argparse
from pathlib import Path

from pgolf.cli.types import number, probability
from pgolf.rerun.check import RerunCheck, write_check
from pgolf.review.settings import RULE_ALPHA


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="the rerun's name (config key reruns.NAME)")
    parser.add_argument("--folder", required=True, type=Path, help="the submission's record folder (the claim)")
    parser.add_argument("--runs-dir", required=True, type=Path,
                        help="folder of the rerun's seeds: SEED/train.log and SEED/rerun.json")
    parser.add_argument("--seeds", required=True, nargs="+", type=int, help="the seeds that were rerun")
    parser.add_argument("--previous", type=Path, default=None, help="the previous record's folder (progression)")
    parser.add_argument("--threshold", type=number(0, lo_open=True), default=None, help="also test rerun mean val_bpb < this")
    parser.add_argument("--metric", default=None, help="stage to read (default: the one matching submission.json)")
    parser.add_argument("--alpha", type=probability, default=RULE_ALPHA,
                        help=f"level of the record check (default {RULE_ALPHA:g})")
    parser.add_argument("--reproduce-alpha", type=probability, default=0.05,
                        help="level of the two-sided Welch test rerun vs claim (default 0.05)")
    parser.add_argument("--allow-missing", action="store_true",
                        help="check the seeds that finished and name the missing ones, instead of failing")
    parser.add_argument("--out", required=True, type=Path, help="folder for record.json and report.md")


def main(args: argparse.Namespace) -> int:
    result = write_check(RerunCheck(
        name=args.name, folder=args.folder, runs_dir=args.runs_dir, seeds=args.seeds, previous=args.previous,
        threshold=args.threshold, metric=args.metric, alpha=args.alpha, reproduce_alpha=args.reproduce_alpha,
        allow_missing=args.allow_missing), args.out)
    state = {True: "reproduced", False: "NOT reproduced", None: "untestable"}[result["reproduced"]]
    missing = f"; missing seed(s) {result['missing_seeds']}" if result["missing_seeds"] else ""
    print(f"rerun {args.name}: {state} (p = {result['p_rerun_vs_claim']}){missing}")
    return 0
