"""`review-pr` on the challenge's real repository: seconds per PR, and its verdict against `audit --git`'s.

    python bench/review_pr_bench.py --git REPO [--sample 200] [--cli 20] [--seed 0] [--out FILE.json]

audit --git runs once over the whole stream (its verdicts are the reference). Then, for each record PR
of the stream (a random --sample of them, or all with --sample 0), the bot's judgment runs in this
process exactly as the verb does (read the PR ref, its merge base and main's state, judge, render the
full reports) and is timed; its verdict per folder is compared with audit --git's. --cli PRs are also
run as `python -m pgolf review-pr` subprocesses, timed from start to exit (what a CI step pays,
interpreter start and imports included). Prints the machine, the timings, the agreement and each
disagreement with both verdicts' reasons.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pgolf.bot.judge import judge_pr  # noqa: E402
from pgolf.review.judge.stream import audit_git  # noqa: E402


def machine() -> dict[str, object]:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "load_average": os.getloadavg(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _quantiles(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    return {"n": len(xs), "median": statistics.median(xs), "p90": xs[int(0.9 * (len(xs) - 1))], "max": xs[-1]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--git", required=True, type=Path)
    ap.add_argument("--sample", type=int, default=200, help="record PRs to judge (0: all)")
    ap.add_argument("--cli", type=int, default=20, help="of those, how many also as a subprocess")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--no-compare", action="store_true", help="time only: PRs from the refs, no audit --git")
    args = ap.parse_args()

    start = time.perf_counter()
    if args.no_compare:
        refs = subprocess.run(["git", "-C", str(args.git), "for-each-ref", "--format=%(refname)", "refs/pull/*/head"],
                              capture_output=True, text=True, check=True).stdout.split()
        full, prs = {}, sorted({int(r.split("/")[2]) for r in refs})
    else:
        audited = audit_git(args.git)
        full = {(s.pr, s.folder): audited.verdict(s) for s in audited.submissions if s.pr is not None}
        prs = sorted({pr for pr, _ in full})
    audit_s = time.perf_counter() - start
    chosen = prs if args.sample == 0 else sorted(random.Random(args.seed).sample(prs, min(args.sample, len(prs))))
    seconds, rows = [], []
    for pr in chosen:
        t = time.perf_counter()
        review = judge_pr(args.git, pr).review
        seconds.append(time.perf_counter() - t)
        for f in review.folders:
            ref = full.get((pr, f.folder))
            rows.append({"pr": pr, "folder": f.folder, "bot": f.status, "audit": ref.status if ref else None,
                         "bot_reasons": f.reasons, "audit_reasons": ref.reasons if ref else None,
                         "bot_frontier": f.standing.key if f.standing else None,
                         "audit_frontier": ref.frontier if ref else None})
    cli = []
    with tempfile.TemporaryDirectory() as tmp:
        for pr in chosen[:: max(1, len(chosen) // args.cli)][: args.cli] if args.cli else []:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "pgolf", "review-pr", "--git", str(args.git), "--pr", str(pr),
                            "--out", f"{tmp}/{pr}", "--format", "json"], capture_output=True, check=False,
                           env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
            cli.append(time.perf_counter() - t)
    same = [r for r in rows if r["bot"] == r["audit"]]
    differ = [r for r in rows if r["bot"] != r["audit"]]
    result = {"machine": machine(), "audit_git_seconds": audit_s, "prs": len(chosen), "folders": len(rows),
              "judge_seconds": _quantiles(seconds), "cli_seconds": _quantiles(cli) if cli else None,
              "agree": len(same), "disagree": len(differ),
              "disagreements_by_pair": Counter(f"{r['audit']} -> {r['bot']}" for r in differ).most_common(),
              "disagreements": differ}
    text = json.dumps(result, indent=2, default=str)
    if args.out:
        args.out.write_text(text + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "disagreements"}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
