"""`python -m pgolf check-record FOLDER`: do a record folder's logs show its claim, and does it beat --previous?

Writes DIR/runs.csv, DIR/record.json and DIR/report.md and prints the verdict. Exit 0 when the claim is
shown (or nothing is claimed) and the test against --previous holds (or none was asked); 1 when the verdict
is "does not hold" (the claim is not shown by the logs, or it does not beat --previous at the practice's
level); 2 on bad input (see docs/reviewer.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pgolf.cli.types import number, probability
from pgolf.review.output.markdown import verdict_holds
from pgolf.review.settings import MARGIN_NATS, PRACTICE_ALPHA, RULE_ALPHA, ReviewSettings
from pgolf.review.verbs import check_record_to
from pgolf.sanitize import terminal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="record folder: submission.json, README.md, train logs")
    parser.add_argument("--previous", type=Path, default=None, help="the previous record's folder")
    parser.add_argument("--threshold", type=number(0, lo_open=True), default=None, help="also test mean val_bpb < THRESHOLD")
    parser.add_argument("--metric", default=None, help="stage to test; default: the one matching submission.json")
    add_progression_arguments(parser)


def add_progression_arguments(parser: argparse.ArgumentParser) -> None:
    """The levels and margin of the written rule and of the applied practice (check-record and audit)."""
    parser.add_argument("--margin-nats", type=number(0), default=MARGIN_NATS, help="the written rule's margin over the "
                        f"previous record, in val_loss nats ({MARGIN_NATS:g})")
    parser.add_argument("--alpha", type=probability, default=RULE_ALPHA, help="level of the written rule (with margin)")
    parser.add_argument("--progression-alpha", type=probability, default=PRACTICE_ALPHA,
                        help="level of the practice (Welch without margin)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")


def review_settings(args: argparse.Namespace) -> ReviewSettings:
    """The levels add_progression_arguments parsed (and audit --git's --min-runs, where given)."""
    return ReviewSettings(rule_alpha=args.alpha, practice_alpha=args.progression_alpha, margin_nats=args.margin_nats,
                          **({"min_runs": args.min_runs} if hasattr(args, "min_runs") else {}))


def main(args: argparse.Namespace) -> int:
    result = check_record_to(args.out, args.folder, previous=args.previous, threshold=args.threshold,
                             metric=args.metric, settings=review_settings(args))
    print(terminal(result["verdict"]))
    return 0 if verdict_holds(result) else 1
