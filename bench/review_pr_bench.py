"""`review-pr` on the challenge's real repository: seconds per PR (cold, warm, no cache), and its verdict
against `audit --git`'s for every record PR.

    python bench/review_pr_bench.py --git REPO [--sample 120] [--cli 20] [--seed 0] [--out FILE.json]

audit --git runs once over the whole stream (its verdicts are the reference). Then every record PR of
the stream is judged in this process as the verb does (read the PR ref, its merge base and main's
state, judge, render the full reports) with a warm cache of main's records, and its verdict per folder
is compared with audit --git's; each difference gets its cause. A seeded --sample of PRs is also timed
cold (an empty cache folder: read main, write the cache) and with no cache, and checked to give the same
review as the warm run. --cli PRs of the sample run as `python -m pgolf review-pr` subprocesses, warm and
with --no-cache, timed from start to exit (what a CI step pays: interpreter start and imports included).
Prints the machine, the timings, their ratios, the agreement and the differences by cause.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pgolf.bot.judge import judge_pr  # noqa: E402
from pgolf.review.judge.stream import audit_git  # noqa: E402

_PR_IN = re.compile(r"#(\d+)")


def machine() -> dict[str, object]:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "load_average": os.getloadavg(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def quantiles(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    return {"n": len(xs), "median": statistics.median(xs), "p90": xs[int(0.9 * (len(xs) - 1))], "max": xs[-1]}


def timed(pr: int, repo: Path, cache: Path | None) -> tuple[float, str]:
    t = time.perf_counter()
    judged = judge_pr(repo, pr, cache=cache)
    review = judged.review.as_dict()
    review.pop("seconds")
    return time.perf_counter() - t, json.dumps([review, judged.pages], sort_keys=True, default=str)


def squash_merged(repo: Path) -> set[int]:
    """PRs main took as one commit (a squash): no branch on main to date their folders by."""
    log = subprocess.run(["git", "-C", str(repo), "log", "--first-parent", "--format=%P%x09%s", "main", "--",
                          "records/"], capture_output=True, text=True, check=True).stdout
    out = set()
    for line in log.splitlines():
        parents, _, subject = line.partition("\t")
        if len(parents.split()) == 1 and (m := re.search(r"\(#(\d+)\)\s*$", subject)):
            out.add(int(m.group(1)))
    return out


def cause(row: dict[str, object], merged: set[int], squashed: set[int]) -> str:
    """Why the bot's verdict differs from audit --git's: what the bot cannot see (other PRs' refs, the PR's
    earlier pushes, a squash-merged record's branch)."""
    audit, bot = row["audit"], row["bot"]
    named = [int(n) for n in _PR_IN.findall(str(row["audit_reasons"]))]
    if audit == "duplicate":
        return "audit --git: a duplicate of another PR's logs " + (
            "(a merged one)" if named and named[0] in merged else "(an open or closed PR, never merged)")
    if audit == "reproduction":
        return "audit --git: a reproduction of " + (
            "a merged PR" if named and named[0] in merged else "a PR that was never merged")
    if row["audit_evidence_from"] is not None:
        return "audit --git: judged on another PR's reproduction of it"
    if row["audit_version"]:
        return "audit --git: an earlier push of the PR holds (review-pr judges the head)"
    if bot == "removed":
        return "merged, then deleted from main: review-pr judges against main as it is"
    if bot == "held for review" and "in one step" in str(row["bot_reasons"]):
        return "the one-step bound: audit --git takes it from the best evidence any PR had pushed"
    front = _PR_IN.search(str(row["audit_frontier"] or ""))
    if row["audit_frontier"] != row["bot_frontier"] and front:
        if int(front.group(1)) not in merged:
            return "another standing record: audit --git's frontier is a PR not on main (never merged or removed)"
        if int(front.group(1)) in squashed:
            return "another standing record: a squash-merged record, dated by its squash commit on main"
        return "another standing record: the frontiers differ"
    return f"other ({audit} -> {bot})"


def timing(cold: list[float], warm: list[float], plain: list[float]) -> dict[str, object]:
    return {"sample_seconds": {"cold": quantiles(cold), "warm": quantiles(warm), "no_cache": quantiles(plain)},
            "ratio_no_cache_to_warm_median": statistics.median(plain) / statistics.median(warm),
            "ratio_cold_to_warm_median": statistics.median(cold) / statistics.median(warm)}


def cli_times(prs: list[int], repo: Path, cache: Path) -> dict[str, dict[str, float]]:
    out: dict[str, list[float]] = {"warm": [], "no_cache": []}
    with tempfile.TemporaryDirectory() as tmp:
        for pr in prs:
            for kind, flag in (("warm", ["--cache", str(cache)]), ("no_cache", ["--no-cache"])):
                t = time.perf_counter()
                subprocess.run([sys.executable, "-m", "pgolf", "review-pr", "--git", str(repo), "--pr", str(pr),
                                "--out", f"{tmp}/{pr}", "--format", "json", *flag], capture_output=True, check=False,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
                out[kind].append(time.perf_counter() - t)
    return {k: quantiles(v) for k, v in out.items() if v}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--git", required=True, type=Path)
    ap.add_argument("--sample", type=int, default=120, help="record PRs timed cold and with no cache (0: none)")
    ap.add_argument("--cli", type=int, default=20, help="of those, how many also as subprocesses")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    start = time.perf_counter()
    audited = audit_git(args.git)
    audit_s = time.perf_counter() - start
    full = {(s.pr, s.folder): audited.verdict(s) for s in audited.submissions if s.pr is not None}
    # whose runs audit --git judged: a later PR's reproduction, which the bot cannot see
    rerun_by = {(s.pr, s.folder): s.evidence.pr for s in audited.submissions if s.evidence is not s}
    version = {(s.pr, s.folder): s.version for s in audited.submissions}
    squashed = squash_merged(args.git)
    merged = {s.pr for s in audited.submissions if s.on_main and s.pr is not None}
    prs = sorted({pr for pr, _ in full})
    chosen = sorted(random.Random(args.seed).sample(prs, min(max(args.sample, 0), len(prs))))
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "warm"
        timed(prs[0], args.git, cache)  # fills the cache: every later run is warm
        warm, rows, same_review = {}, [], []
        for pr in prs:
            t = time.perf_counter()
            review = judge_pr(args.git, pr, cache=cache).review
            warm[pr] = time.perf_counter() - t
            for f in review.folders:
                ref = full.get((pr, f.folder))
                rows.append({"pr": pr, "folder": f.folder, "bot": f.status, "audit": ref.status if ref else None,
                             "bot_reasons": f.reasons, "audit_reasons": ref.reasons if ref else None,
                             "bot_frontier": f.standing.key if f.standing else None,
                             "audit_frontier": ref.frontier if ref else None,
                             "audit_evidence_from": rerun_by.get((pr, f.folder)),
                             "audit_version": version.get((pr, f.folder), 0)})
        cold, plain = [], []
        for i, pr in enumerate(chosen):
            t_cold, r_cold = timed(pr, args.git, Path(tmp) / f"cold{i}")
            t_plain, r_plain = timed(pr, args.git, None)
            _, r_warm = timed(pr, args.git, cache)
            cold.append(t_cold)
            plain.append(t_plain)
            same_review.append(r_cold == r_plain == r_warm)
        cli = cli_times(chosen[:: max(1, len(chosen) // max(args.cli, 1))][: args.cli], args.git, cache) \
            if args.cli else None
    differ = [{**r, "cause": cause(r, merged, squashed)} for r in rows if r["bot"] != r["audit"]]
    sample_warm = [warm[pr] for pr in chosen]
    result = {"machine": machine(), "audit_git_seconds": audit_s, "prs": len(prs), "folders": len(rows),
              "warm_seconds_all_prs": quantiles(list(warm.values())),
              "slowest_warm": sorted(warm.items(), key=lambda kv: -kv[1])[:5],
              "sample": len(chosen), **(timing(cold, sample_warm, plain) if chosen else {}),
              "sample_same_review_cold_warm_no_cache": f"{sum(same_review)} of {len(same_review)}",
              "cli_seconds": cli, "agree": len(rows) - len(differ), "disagree": len(differ),
              "causes": Counter(d["cause"] for d in differ).most_common(),
              "disagreements_by_pair": Counter(f"{d['audit']} -> {d['bot']}" for d in differ).most_common(),
              "disagreements": differ}
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "disagreements"}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
