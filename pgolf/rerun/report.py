"""report.md of a rerun: the verdict, claimed vs rerun per seed, the test and what it could see,
then the reviewer's record report over the rerun logs (flags, progression)."""

from __future__ import annotations

import re
from typing import Any

from pgolf import stats as st
from pgolf.review.judge.record import RecordResult
from pgolf.review.output.markdown import record_report


def _f(v: Any, spec: str = ".6f") -> str:
    return "-" if v is None else format(v, spec)


def verdict(r: dict[str, Any]) -> str:
    if r["reproduced"] is None:
        return f"cannot test whether the rerun reproduces the claim: {r['test_error']}"
    w = r["welch"]
    word = "reproduced" if r["reproduced"] else "NOT reproduced"
    return (f"{word}: rerun mean {w['mean_rerun']:.6f} vs claimed {w['mean_claimed']:.6f} bpb "
            f"(difference {w['diff']:+.6f}), two-sided Welch t = {w['t']:.2f}, df = {w['df']:.1f}, "
            f"p = {st.format_p(w['p_value'])} {'>=' if r['reproduced'] else '<'} alpha = {r['alpha']:g}")


def seeds_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| seed | claimed val_bpb | rerun val_bpb | rerun - claimed | wall time (s) | status |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['seed']} | {_f(row['claimed_bpb'])} | {_f(row['rerun_bpb'])} | "
                     f"{_f(row['diff'], '+.6f')} | {_f(row['wall_time_s'], '.1f')} | {row['status']} |")
    return "\n".join(lines) + "\n"


def render_report(r: dict[str, Any], judged: RecordResult) -> str:
    lines = [f"# Rerun {r['rerun']}: {r['folder']}", "", f"**Verdict:** {verdict(r)}.", ""]
    if r["missing_seeds"]:
        lines += [f"**Missing:** seed(s) {', '.join(map(str, r['missing_seeds']))} left no rerun (failed, timed "
                  "out or not run; see results/logs/rerun/); everything below is over the other seeds.", ""]
    lines += ["## Per seed", "", seeds_table(r["per_seed"]),
              f"Claimed runs: {r['claimed_source']}. Rerun scores: the stage "
              f"`{r.get('stage') or '-'}` of each rerun's standard output.", "", "## What the test can see", ""]
    if r.get("detectable_difference") is not None:
        lines += [
            f"Not rejecting equality is not proof of it. With {r['welch']['n_rerun']} rerun and "
            f"{r['welch']['n_claimed']} claimed runs at their pooled spread (std {r['pooled_std']:.6f} bpb), "
            f"this test detects a true difference of {r['detectable_difference']:.6f} bpb with probability "
            f"{r['power']:.0%} at alpha = {r['alpha']:g}; smaller differences mostly pass as `reproduced`.",
        ]
    else:
        lines += ["- no spread to size the test by"]
    # check-record's own report, its headings two levels down (under this one)
    lines += ["", "## Record check over the rerun logs", "", re.sub(r"(?m)^#", "###", record_report(judged))]
    return "\n".join(lines).rstrip() + "\n"
