"""`python -m pgolf check-logs LOG ...`: test "mean val_bpb < threshold" from loose train logs.

Writes DIR/runs.csv, DIR/claim.json and DIR/report.md and prints the verdict. Each dropped
log is named on stderr with the reason. Exit 0 when the test ran (the verdict is in the
files), 1 when the claim cannot be tested (fewer than 2 runs with the stage, no spread).
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pgolf.review.loose import LooseOptions, check_logs_to


def number_text(text: str) -> str:
    """Keep a printed number as text (its digits say how it was rounded) after checking it is one."""
    try:
        float(Decimal(text))
    except (InvalidOperation, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    return text


def probability(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not 0.0 < v < 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a number between 0 and 1")
    return v


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("logs", nargs="+", metavar="LOG", help="train logs of the claim's runs")
    parser.add_argument("--threshold", type=float, required=True, help="tests mean val_bpb < THRESHOLD (e.g. 1.195)")
    parser.add_argument("--previous", nargs="+", metavar="LOG", default=None,
                        help="train logs of the previous record: adds the one-sided Welch tests")
    parser.add_argument("--margin-nats", type=float, default=0.005, help="required gain over --previous (nats)")
    parser.add_argument("--metric", default=None, help="stage to test (e.g. final_int8_ttt_lora, quantized_ttt)")
    parser.add_argument("--alpha", type=probability, default=0.01, help="significance level (challenge: 0.01)")
    parser.add_argument("--target-power", type=probability, default=0.8, help="power for the runs-needed estimate")
    parser.add_argument("--claimed-std", default=None, type=number_text, help="the std the claim printed, as printed")
    parser.add_argument("--claimed-p", default=None, type=number_text, help="the p-value the claim printed")
    parser.add_argument("--out", required=True, type=Path, help="output folder")


def main(args: argparse.Namespace) -> int:
    options = LooseOptions(threshold=args.threshold, previous=args.previous, metric=args.metric,
                           margin_nats=args.margin_nats, alpha=args.alpha, target_power=args.target_power,
                           claimed_std=args.claimed_std, claimed_p=args.claimed_p)
    result = check_logs_to(args.out, args.logs, options)
    for r in result["runs"] + result["previous"]:
        if r.error:
            print(f"pgolf check-logs: dropped {r.file}: {r.error}", file=sys.stderr)
    print(result["claim"]["verdict"])
    return 0 if result["claim"]["p_value"] is not None else 1
