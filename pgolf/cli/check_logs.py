"""`python -m pgolf check-logs LOG ...`: test "mean val_bpb < threshold" from loose train logs.

Writes DIR/runs.csv, DIR/claim.json and DIR/report.md and prints the verdict. Each dropped
log is named on stderr with the reason. Exit 0 when the test ran (the verdict is in the
files), 1 when the claim cannot be tested (fewer than 2 runs with the stage, no spread).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pgolf.cli.types import number, number_text, probability
from pgolf.review.judge.loose import LooseOptions
from pgolf.review.settings import MARGIN_NATS, RULE_ALPHA
from pgolf.review.verbs import check_logs_to
from pgolf.sanitize import terminal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("logs", nargs="+", metavar="LOG", help="train logs of the claim's runs")
    parser.add_argument("--threshold", type=number(0, lo_open=True), required=True, help="tests mean val_bpb < THRESHOLD (e.g. 1.195)")
    parser.add_argument("--previous", nargs="+", metavar="LOG", default=None,
                        help="train logs of the previous record: adds the one-sided Welch tests")
    parser.add_argument("--margin-nats", type=number(0), default=MARGIN_NATS, help="required gain over --previous (nats)")
    parser.add_argument("--metric", default=None, help="stage to test (e.g. final_int8_ttt_lora, quantized_ttt)")
    parser.add_argument("--alpha", type=probability, default=RULE_ALPHA, help=f"significance level (challenge: {RULE_ALPHA:g})")
    parser.add_argument("--target-power", type=probability, default=0.8, help="power for the runs-needed estimate")
    parser.add_argument("--claimed-std", default=None, type=number_text, help="the std the claim printed, as printed")
    parser.add_argument("--claimed-p", default=None, type=number_text, help="the p-value the claim printed")
    parser.add_argument("--out", required=True, type=Path, help="output folder")


def main(args: argparse.Namespace) -> int:
    options = LooseOptions(threshold=args.threshold, previous=args.previous, metric=args.metric,
                           margin_nats=args.margin_nats, alpha=args.alpha, target_power=args.target_power,
                           claimed_std=args.claimed_std, claimed_p=args.claimed_p)
    result = check_logs_to(args.out, args.logs, options)
    for r in result.runs + result.previous:
        if r.error:
            print(terminal(f"pgolf check-logs: dropped {r.file}: {r.error}"), file=sys.stderr)
    print(terminal(result.verdict))
    return 0 if result.test.result is not None else 1
