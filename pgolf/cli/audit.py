"""`python -m pgolf audit RECORDS_DIR --out DIR`: every record folder of a leaderboard, each against its previous.

Writes DIR/runs.csv (one row per run), DIR/records.csv (one row per record), DIR/records.json,
DIR/frontier.png and DIR/report.md, and prints one line per record.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pgolf.cli.check_record import add_progression_arguments
from pgolf.review.outputs import audit_to


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("records_dir", type=Path, help="folder of record folders (e.g. records/track_10min_16mb)")
    parser.add_argument("--pairs", type=Path, default=None,
                        help="CSV with columns record,previous: the comparisons by hand (default: best before)")
    add_progression_arguments(parser)


def main(args: argparse.Namespace) -> int:
    result = audit_to(args.out, args.records_dir, pairs=args.pairs, margin_nats=args.margin_nats,
                      alpha=args.alpha, progression_alpha=args.progression_alpha)
    for d in result["records"]:
        print(d["verdict"])
    print(f"{len(result['records'])} records in {result['seconds']:.1f} s; see {args.out / 'report.md'}")
    return 0
