"""`python -m pgolf audit RECORDS_DIR --out DIR`: every record folder of a leaderboard, each against its previous.
`python -m pgolf audit --git REPO --out DIR`: every submission of the challenge's pull-request stream.

Directory mode writes DIR/runs.csv, records.csv, records.json, frontier.png and report.md and prints one
line per record. Git mode reads main's record folders and every PR head's added or changed ones straight
from git objects, rebuilds the progression and diffs it with the README's table; it adds
submissions.csv, leaderboard.csv, diff.csv and diff.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pgolf.cli.check_record import add_progression_arguments, review_settings
from pgolf.cli.types import integer, number
from pgolf.errors import PgolfError
from pgolf.review.judge.progression import MAX_STEP_BPB, TOLERATED, ProgressionSettings
from pgolf.review.output.markdown import verdict_sentence
from pgolf.review.settings import MIN_RUNS
from pgolf.review.sources.git import DEFAULT_REFS, DEFAULT_TRACK
from pgolf.review.verbs import audit_git_to, audit_to
from pgolf.sanitize import terminal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("records_dir", type=Path, nargs="?", default=None,
                        help="folder of record folders (e.g. records/track_10min_16mb); or give --git")
    parser.add_argument("--pairs", type=Path, default=None,
                        help="directory mode: CSV with columns record,previous: the comparisons by hand")
    git = parser.add_argument_group("the pull-request stream (--git)")
    git.add_argument("--git", type=Path, default=None, metavar="REPO",
                     help="a clone of the challenge with its PR heads fetched (a bare clone works)")
    git.add_argument("--refs", default=DEFAULT_REFS, help=f"refs to read as submissions ({DEFAULT_REFS})")
    git.add_argument("--track", default=DEFAULT_TRACK, help=f"records/<track> to read ({DEFAULT_TRACK})")
    git.add_argument("--runs-from", default=None, metavar="YYYY-MM-DD",
                     help="the date from which --min-runs runs were asked for (default: derived from main)")
    git.add_argument("--min-runs", type=integer(1, 100), default=MIN_RUNS,
                     help=f"runs the practice asked for ({MIN_RUNS})")
    git.add_argument("--max-step-bpb", type=number(0, lo_open=True), default=MAX_STEP_BPB,
                     help=f"a larger improvement in one step is held for review ({MAX_STEP_BPB})")
    git.add_argument("--tolerate", default=",".join(TOLERATED), metavar="RULES",
                     help="rules whose error flags do not stop a submission, as the practice did not enforce them: "
                          "rule ids (time.eval_sum), families (time.*) or evidence checks (bytes, code, config, "
                          f"time); see docs/rules.md (default {','.join(TOLERATED)}; '' enforces all)")
    add_progression_arguments(parser)


def main(args: argparse.Namespace) -> int:
    if (args.records_dir is None) == (args.git is None):
        raise PgolfError("give RECORDS_DIR or --git REPO (one of them)")
    if args.git is None:
        result = audit_to(args.out, args.records_dir, pairs=args.pairs, settings=review_settings(args))
        for r in result.results:
            print(terminal(verdict_sentence(r)))
        print(terminal(f"{len(result.results)} records in {result.seconds:.1f} s; see {args.out / 'report.md'}"))
        return 0
    settings = ProgressionSettings(review_settings(args), runs_from=args.runs_from, max_step_bpb=args.max_step_bpb,
                                   tolerated=tuple(c.strip() for c in args.tolerate.split(",") if c.strip()))
    a = audit_git_to(args.out, args.git, refs=args.refs, track=args.track, settings=settings)
    for w in a.warnings:
        print(terminal(f"pgolf audit: warning: {w}"), file=sys.stderr)
    print(terminal(a.summary_line() + f"; see {args.out / 'report.md'}"))
    return 0
