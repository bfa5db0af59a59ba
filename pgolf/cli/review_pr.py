"""`python -m pgolf review-pr --git REPO --pr N [--base REF] --out DIR [--format markdown|github|json]`.

Reviews the record folders PR N adds or changes (refs/pull/N/head, read from git objects; no code of
the PR runs) against the record standing on --base. Writes DIR/comment.md, DIR/review.json and one
DIR/report-K.html per folder. Exit 0: the claim holds as a record; 1: it does not, or it is held for
review; 2: a usage or input error (no such repository, PR ref or base).
main's records at the base are kept in a cache folder between runs (--cache; --no-cache reads them all).
--refs 'refs/pull/*/head' reads every other PR beside it (their folders cached too): audit --git's judgment.
The judgment is imported only when it runs (scipy, jinja2): `--help` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pgolf.bot.model import FORMATS
from pgolf.cli.types import integer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--git", required=True, type=Path, help="a clone of the challenge holding refs/pull/N/head")
    parser.add_argument("--pr", required=True, type=integer(1), help="the pull request's number")
    parser.add_argument("--base", default="main", help="the branch or commit the PR is judged against (main)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--format", choices=FORMATS, default="markdown",
                        help="what goes to stdout: the comment (markdown), GitHub workflow commands and the job "
                             "summary (github), or review.json (json)")
    parser.add_argument("--report-url", default=None, help="where the full reports will be served (the comment "
                                                           "links URL/report-K.html); default: beside comment.md")
    parser.add_argument("--run-url", default=None, help="the CI run whose artifact holds the reports (the comment "
                                                        "points there when --report-url is not given)")
    parser.add_argument("--track", default="track_10min_16mb", help="the records track (track_10min_16mb)")
    parser.add_argument("--refs", default=None, metavar="PATTERN",
                        help="also read these refs as submissions, as audit --git does (refs/pull/*/head: every "
                             "other PR the clone holds), so copies and reruns of other PRs are found; default: "
                             "the PR and the base only")
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument("--cache", type=Path, default=None, metavar="DIR",
                       help="keep main's records at the base in DIR/review-pr/ between runs (default: "
                            "$XDG_CACHE_HOME/pgolf, else .pgolf-cache beside --out)")
    cache.add_argument("--no-cache", action="store_true", help="read main's records again; write no cache")


def main(args: argparse.Namespace) -> int:
    from pgolf.bot.cache import default_dir  # noqa: PLC0415 (imported when the verb runs: --help stays fast)
    from pgolf.bot.prcheck import review_pr  # noqa: PLC0415

    cache = None if args.no_cache else (args.cache or default_dir(args.out))
    return review_pr(args.git, args.pr, args.out, base=args.base, fmt=args.format, report_url=args.report_url,
                     run_url=args.run_url, track=args.track, cache=cache, others=args.refs)
