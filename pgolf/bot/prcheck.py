"""`review-pr`: judge a PR's record folders, write comment.md, review.json and the full reports, and say
whether the claim holds (the exit code).

Exit codes: 0 every record folder the PR adds or changes holds as a record (or it changes none);
1 one does not hold, or is held for review; 2 (raised as DataError, turned into 2 by `python -m pgolf`)
the repository, the PR ref or the base cannot be read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pgolf import atomic, provenance
from pgolf.bot.comment import comment
from pgolf.bot.github import append_summary, workflow_commands
from pgolf.bot.judge import DEFAULT_TRACK, judge_pr
from pgolf.sanitize import terminal
from pgolf.stats import json_safe


def review_pr(repo: str | os.PathLike[str], pr: int, out: str | os.PathLike[str], *, base: str = "main",
              fmt: str = "markdown", report_url: str | None = None, run_url: str | None = None,
              track: str = DEFAULT_TRACK, cache: str | os.PathLike[str] | None = None,
              others: str | None = None) -> int:
    """Write OUT/comment.md, OUT/review.json and OUT/report-K.html (one per folder); print the chosen format
    on stdout (github: workflow commands, and the comment appended to $GITHUB_STEP_SUMMARY); the exit code.
    `cache`: the folder of the cache of main's records (pgolf.bot.cache); None reads them all again.
    `others`: a pattern of other refs to read beside the PR, as audit --git does (pgolf.bot.judge.judge_pr)."""
    judged = judge_pr(repo, pr, base=base, track=track, cache=cache, others=others)
    for warning in judged.warnings:
        print(terminal(f"pgolf review-pr: warning: {warning}"), file=sys.stderr)
    review, out = judged.review, Path(out)
    body = comment(review, report_url, run_url)
    meta = provenance.collect(command="review-pr", repo=str(repo), pr=pr, base=base, track=track, refs=others)
    data = atomic.json_text(json_safe({**review.as_dict(), "exit_code": review.exit_code, "provenance": meta}))
    atomic.write_group({out / "comment.md": body, out / "review.json": data,
                        **{out / name: html for name, html in judged.pages.items()}})
    if fmt == "github":
        print("\n".join(workflow_commands(review)))
        append_summary(review, report_url, run_url)
    elif fmt == "json":
        sys.stdout.write(data)
    else:
        sys.stdout.write(body)
    return review.exit_code

