"""`python -m pgolf check-staged PATH...`: the pre-commit hook `pgolf-check-record`.

Each record folder (records/<track>/<name>) the staged PATHs lie in is checked as check-record reads
it, with the bot's evidence checks; prints the findings as the PR comment does. Exit 1 (the commit is
blocked) when a folder does not hold; 0 otherwise.
"""

from __future__ import annotations

import argparse

from pgolf.bot.hook import check_staged


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", help="staged files (pre-commit passes them)")
    parser.add_argument("--track", default="track_10min_16mb", help="the records track (track_10min_16mb)")


def main(args: argparse.Namespace) -> int:
    return check_staged(args.paths, track=args.track)
