"""GitHub Actions output: workflow commands that annotate the PR's diff, and the job summary.

A workflow command is one line, `::error file=F,line=L,title=T::message`; GitHub decodes %25, %0D,
%0A in the message and additionally %3A, %2C in properties, so submission text cannot end the line or
start a command of its own. Texts are bounded like the comment's.
"""

from __future__ import annotations

import os
from pathlib import Path

from pgolf.bot.comment import MAX_TEXT, comment
from pgolf.bot.model import Finding, PrReview

MAX_ANNOTATIONS = 50  # GitHub shows 10 per step and 50 per job


def _data(s: str, limit: int = MAX_TEXT) -> str:
    s = s if len(s) <= limit else s[:limit - 1] + "…"
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(s: str) -> str:
    return _data(s, 200).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding, folder: str) -> str:
    kind = "error" if f.severity == "error" else "warning"
    where = f"file={_prop(f.file)}" + (f",line={f.line}" if f.line else "")
    return f"::{kind} {where},title={_prop(f'pgolf {f.rule}')}::{_data(f.text + '. Fix: ' + f.fix)}"


def verdict_annotation(status: str, reasons: str, folder: str, holds: bool) -> str:
    kind = "notice" if holds else "error"
    return f"::{kind} file={_prop(folder)},title={_prop('pgolf verdict: ' + status)}::{_data(reasons)}"


def workflow_commands(review: PrReview) -> list[str]:
    """One verdict line per folder, then its findings (errors first), at most MAX_ANNOTATIONS lines."""
    lines = []
    for f in review.folders:
        lines.append(verdict_annotation(f.status, f.reasons, f.folder, f.holds))
        lines += [annotation(x, f.folder) for x in f.findings]
    return lines[:MAX_ANNOTATIONS]


def append_summary(review: PrReview, report_url: str | None, run_url: str | None) -> Path | None:
    """Append the comment to $GITHUB_STEP_SUMMARY (the job's summary page) when GitHub set it."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(comment(review, report_url, run_url))
    return Path(target)
