"""`review-pr --refs 'refs/pull/*/head'` on the challenge's real repository: its verdict against
`audit --git`'s for every record PR, and its seconds per PR (cold, warm, whole process).

    python bench/review_pr_refs_bench.py --git REPO [--sample 40] [--cli 10] [--seed 0] [--out FILE.json]

With --refs the bot reads the stream audit --git reads (every PR ref beside the PR under review) and runs
the same judgment (`judge_stream`) over it, judging each PR's head. For one base and one set of refs that
judgment is the same for every PR; only which folders come from the cache differs. So the verdicts of all
record PRs are taken from one such judgment and compared with audit --git's, each difference with its cause;
then a seeded --sample of PRs is judged one by one as the verb does (`judge_pr(..., others=...)`, warm
cache), timed, and checked to give the same verdicts as that judgment. The first PR of the sample runs cold
(an empty cache: every folder read and cached). --cli PRs of the sample also run as `python -m pgolf
review-pr` processes, timed from start to exit. Prints the machine, the timings and the agreement.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.review_pr_bench import machine, quantiles  # noqa: E402
from pgolf.bot.judge import judge_pr  # noqa: E402
from pgolf.review.judge.progression import ProgressionSettings  # noqa: E402
from pgolf.review.judge.stream import audit_git, judge_stream  # noqa: E402
from pgolf.review.sources.git import DEFAULT_REFS, stream  # noqa: E402


def one_judgment(repo: Path) -> dict[tuple[int, str], str]:
    """Every PR's heads judged as review-pr --refs judges them (no earlier versions), in one pass."""
    with stream(repo, refs=DEFAULT_REFS, main="main") as src:
        j = judge_stream(src, ProgressionSettings())
    return {(s.pr, s.folder): s.verdict.status for s in j.submissions if s.pr is not None}


def per_pr(repo: Path, prs: list[int], cache: Path) -> tuple[dict[int, float], dict[tuple[int, str], str]]:
    seconds, verdicts = {}, {}
    for pr in prs:
        t = time.perf_counter()
        review = judge_pr(repo, pr, cache=cache, others=DEFAULT_REFS).review
        seconds[pr] = time.perf_counter() - t
        verdicts.update({(pr, f.folder): f.status for f in review.folders})
    return seconds, verdicts


def cli_seconds(repo: Path, prs: list[int], cache: Path) -> dict[str, float]:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for pr in prs:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "pgolf", "review-pr", "--git", str(repo), "--pr", str(pr),
                            "--out", f"{tmp}/{pr}", "--format", "json", "--cache", str(cache), "--refs",
                            DEFAULT_REFS], capture_output=True, check=False, cwd=ROOT)
            times.append(time.perf_counter() - t)
    return quantiles(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--git", required=True, type=Path)
    ap.add_argument("--sample", type=int, default=40)
    ap.add_argument("--cli", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    t = time.perf_counter()
    audited = audit_git(args.git)
    audit_s = time.perf_counter() - t
    full = {(s.pr, s.folder): s for s in audited.submissions if s.pr is not None}
    t = time.perf_counter()
    bot = one_judgment(args.git)
    one_s = time.perf_counter() - t
    differ = [(k, full[k].verdict.status, v) for k, v in bot.items() if v != full[k].verdict.status]
    causes = Counter("audit --git: an earlier push of the PR holds (review-pr judges the head)"
                     if full[k].version else f"other ({a} -> {b})" for k, a, b in differ)
    prs = sorted({pr for pr, _ in bot})
    chosen = sorted(random.Random(args.seed).sample(prs, min(args.sample, len(prs))))
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        cold_s, _ = per_pr(args.git, chosen[:1], cache)
        warm_s, one_by_one = per_pr(args.git, chosen, cache)
        cli = cli_seconds(args.git, chosen[: args.cli], cache) if args.cli else None
    same = sum(one_by_one[k] == bot[k] for k in one_by_one)
    result = {"machine": machine(), "audit_git_seconds": audit_s, "one_judgment_seconds": one_s,
              "prs": len(prs), "folders": len(bot), "agree": len(bot) - len(differ), "disagree": len(differ),
              "causes": causes.most_common(), "disagreements": [f"#{k[0]} {k[1]}: {a} -> {b}" for k, a, b in differ],
              "sample": len(chosen), "sample_same_as_one_judgment": f"{same} of {len(one_by_one)}",
              "cold_seconds": list(cold_s.values())[0] if cold_s else None,
              "warm_seconds": quantiles(list(warm_s.values())), "slowest_warm": sorted(warm_s.items(),
                                                                                         key=lambda kv: -kv[1])[:5],
              "cli_seconds": cli}
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
