"""Build a made-up challenge repository with real git: main with merged record folders, PR refs, a README table.

`build_stream(root) -> Path` writes the repository (made-up logs from tests/data/logs/families.py, not
published ones) and returns its path. What each PR does, and what the audit must conclude:

- #1 merges NaiveBaseline (one run): the frontier starts there.
- #2 merges Better (3 seeds, 1.2100): accepted against the baseline by score (one run on that side).
- #3 adds Worse (1.2120), never merged: not better than #2; the README table lists it anyway.
- #4 adds Good (1.1950), squash-merged onto main as `Good record (#4)`: accepted against #2.
- #5 adds two folders: Big (over the cap) and SLOT_Trick (named for a ruled technique, no script: held for review).
- #6 deletes Better: no submission.
- #7 reruns #4 (`supports_pr: 4`, 3 other seeds): a reproduction, #4's evidence from then on.
- #8 copies Good's logs under another name: a duplicate of #4.
- #9 adds Best (1.1900), not in the table: accepted by the rebuild against #4 (its rerun's runs).
- #10 adds TwoRuns (2 seeds) after three runs became the norm: fewer than 3 runs.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import replace
from pathlib import Path

from tests.data.logs.families import build_log
from tests.data.records.make_records import _per_seed, baseline, block

TRACK = "records/track_10min_16mb"
SEEDS = (1337, 42, 2024)
BETTER = (1.2098, 1.2101, 1.2102)
WORSE = (1.2118, 1.2121, 1.2122)
GOOD = (1.1948, 1.1951, 1.1952)
GOOD_RERUN = (1.1953, 1.1949, 1.1956)  # #7's seeds 7, 8, 9
BEST = (1.1899, 1.1901, 1.1902)


def _git(repo: Path, *args: str, date: str = "2026-03-17T12:00:00Z") -> str:
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def _folder(repo: Path, name: str, runs: dict[str, object], claim: dict[str, object]) -> None:
    folder = repo / TRACK / name
    folder.mkdir(parents=True, exist_ok=True)
    for rel, run in runs.items():
        (folder / rel).write_text(build_log(run))
    (folder / "submission.json").write_text(json.dumps({"name": name, **claim}, indent=2))
    (folder / "README.md").write_text(f"# {claim.get('title', name)}\n\nMade-up record for pgolf's tests.\n")
    (folder / "train_gpt.py").write_text("print('stand-in')\n")


def _record(repo: Path, name: str, values: tuple[float, ...], seeds: tuple[int, ...] = SEEDS,
            **extra: object) -> None:
    model = extra.pop("model_bytes", 15_800_000)
    runs = {f"train_seed{s}.log": block(s, v, model_bytes=model) for s, v in zip(seeds, values, strict=True)}
    _folder(repo, name, runs, {"val_bpb": round(sum(values) / len(values), 5), "date": name[:10],
                               "seed_results": _per_seed(runs), **extra})


def _commit_all(repo: Path, message: str, date: str) -> None:
    _git(repo, "add", "-A", date=date)
    _git(repo, "commit", "-q", "-m", message, date=date)


def _pr(repo: Path, number: int, base: str, date: str, change) -> str:
    """Branch off `base`, apply `change(repo)`, commit, point refs/pull/N/head at it; back on main."""
    _git(repo, "checkout", "-q", "-b", f"pr{number}", base, date=date)
    change(repo)
    _commit_all(repo, f"PR {number}", date)
    head = _git(repo, "rev-parse", "HEAD").strip()
    _git(repo, "update-ref", f"refs/pull/{number}/head", head)
    _git(repo, "checkout", "-q", "main", date=date)
    return head


def _merge(repo: Path, number: int, date: str) -> None:
    _git(repo, "merge", "-q", "--no-ff", "-m", f"Merge pull request #{number} from someone/pr{number}",
         f"pr{number}", date=date)


TABLE = """# Made-up challenge

## Leaderboard

| Run | Score | Author | Summary | Date | Info |
|-----|------:|--------|---------|------|------|
| Big | 1.1931 | e | On PR #5: one of its two folders | 2026-03-26 | [info](https://github.com/example/golf/pull/5) |
| Good | 1.1950 | c | On PR #4: good (p=0.001 vs #2) | 2026-03-25 | [info](https://github.com/example/golf/pull/4) |
| Worse | 1.2120 | b | On PR #3: worse than #2 (p=0.90) | 2026-03-21 | [info](https://github.com/example/golf/pull/3) |
| Better | 1.2100 | a | better | 2026-03-20 | [info](records/track_10min_16mb/2026-03-20_Better/README.md) |
| Naive Baseline | 1.2244 | Baseline | the start | 2026-03-18 | [info](records/track_10min_16mb/2026-03-17_NaiveBaseline/README.md) |

#### Non-record submissions

| Run | Score | Author | Summary | Date | Info |
|-----|------:|--------|---------|------|------|
| Unlimited | 1.1000 | d | 4 hours | 2026-03-24 | [info](records/track_non_record_16mb/x/README.md) |
"""


def start_repo(root: Path) -> Path:
    """A made-up challenge repository `root/golf`: main with one README commit, nothing submitted yet."""
    repo = root / "golf"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# Made-up challenge\n")
    _commit_all(repo, "start", "2026-03-17T10:00:00Z")
    return repo


def build_stream(root: Path) -> Path:
    repo = start_repo(root)

    def naive(r: Path) -> None:
        run = replace(baseline(1337, 1.2244), train_ms=588_136)
        _folder(r, "2026-03-17_NaiveBaseline", {"train.log": run}, {"val_bpb": 1.2244, "date": "2026-03-17"})

    _pr(repo, 1, "main", "2026-03-17T11:00:00Z", naive)
    _merge(repo, 1, "2026-03-17T12:00:00Z")
    _pr(repo, 2, "main", "2026-03-20T11:00:00Z", lambda r: _record(r, "2026-03-20_Better", BETTER))
    _merge(repo, 2, "2026-03-20T12:00:00Z")
    _pr(repo, 3, "main", "2026-03-21T11:00:00Z", lambda r: _record(r, "2026-03-21_Worse", WORSE))
    good = _pr(repo, 4, "main", "2026-03-25T11:00:00Z", lambda r: _record(r, "2026-03-25_Good", GOOD))
    _git(repo, "checkout", "-q", good, "--", TRACK + "/2026-03-25_Good")  # the squash merge: same files
    _commit_all(repo, "Good record (#4)", "2026-03-25T12:00:00Z")

    def several(r: Path) -> None:
        _record(r, "2026-03-26_Big", (1.1930, 1.1931, 1.1932), model_bytes=15_990_000)
        _record(r, "2026-03-26_SLOT_Trick", (1.1500, 1.1501, 1.1502))

    _pr(repo, 5, "main", "2026-03-26T11:00:00Z", several)
    _pr(repo, 6, "main", "2026-03-26T12:00:00Z",
        lambda r: _git(r, "rm", "-q", "-r", TRACK + "/2026-03-20_Better"))
    _pr(repo, 7, "main", "2026-03-27T11:00:00Z",
        lambda r: _record(r, "2026-03-27_GoodRerun", GOOD_RERUN, seeds=(7, 8, 9), supports_pr=4,
                          title="3-seed reproduction of PR #4"))

    def copy(r: Path) -> None:
        src, dst = r / TRACK / "2026-03-25_Good", r / TRACK / "2026-03-27_GoodCopy"
        dst.mkdir()
        for f in src.iterdir():
            (dst / f.name).write_bytes(f.read_bytes())

    _pr(repo, 8, "main", "2026-03-27T12:00:00Z", copy)
    _pr(repo, 9, "main", "2026-03-28T11:00:00Z", lambda r: _record(r, "2026-03-28_Best", BEST))
    _pr(repo, 10, "main", "2026-03-29T11:00:00Z", lambda r: _record(r, "2026-03-29_TwoRuns", (1.1800, 1.1801),
                                                                   seeds=(1337, 42)))
    (repo / "README.md").write_text(TABLE)
    _commit_all(repo, "README: leaderboard", "2026-03-30T10:00:00Z")
    return repo


# --------------------------------------------------------------------------- a history for the chronology

def spread(mean: float) -> tuple[float, float, float]:
    """Three seeds around `mean` (mean exact to 1e-9): the Welch tests of the chronology fixture."""
    return (round(mean - 0.0003, 6), round(mean + 0.0001, 6), round(mean + 0.0002, 6))


ALPHA, ALPHA_V2, BETA = spread(1.2150), spread(1.2050), spread(1.2100)
GAMMA_V1, GAMMA, DELTA = spread(1.2040), spread(1.2010), spread(1.2000)
EPSILON, ZETA = spread(1.1900), spread(1.1950)


def _steps(repo: Path, number: int, steps: list[tuple[str, object]]) -> str:
    """A PR of several commits (date, change(repo)) off main, refs/pull/N/head at the last; back on main."""
    _git(repo, "checkout", "-q", "-b", f"pr{number}", "main", date=steps[0][0])
    for date, change in steps:
        change(repo)
        _commit_all(repo, f"PR {number} at {date}", date)
    head = _git(repo, "rev-parse", "HEAD").strip()
    _git(repo, "update-ref", f"refs/pull/{number}/head", head)
    _git(repo, "checkout", "-q", "main", date=steps[-1][0])
    return head


def _table(repo: Path, rows: list[tuple[str, float, int]], date: str) -> None:
    """main's README with a leaderboard of (name, score, PR) rows, committed on main at `date`."""
    lines = ["# Made-up challenge", "", "## Leaderboard", "", "| Run | Score | Author | Summary | Date | Info |",
             "|-----|------:|--------|---------|------|------|"]
    lines += [f"| {name} | {score:.4f} | x | {name} | {date[:10]} | [info](https://github.com/example/golf/pull/{pr}) |"
              for name, score, pr in rows]
    (repo / "README.md").write_text("\n".join(lines) + "\n")
    _commit_all(repo, "README: leaderboard", date)


def build_chronology(root: Path) -> Path:
    """A stream whose PR order, merge order and evidence dates differ (tests/review/judge/test_chrono.py):

    - #1 NaiveBaseline, merged and listed on 03-17.
    - #2 opens 03-18 with Alpha (1.2150); its folder is replaced by AlphaV2 (1.2050) on 03-22.
    - #3 Beta (1.2100) opens 03-20, is merged and listed on 03-21: AlphaV2 landed after it, and is judged
      against it (in PR order #2 came first and would be judged against the baseline).
    - #4 Gamma opens 03-23 (1.2040, beats Beta) and pushes new logs (1.2010) over the size cap on 03-26:
      the head does not hold, the earlier version does: #4 holds at its version 1, dated 03-23 (the folder's
      first version), before #5 Delta (1.2000, opened 03-24, merged and listed 03-25).
    - #6 Epsilon (1.1900) is merged and listed on 03-27, then dropped from the table and deleted from main
      on 03-29 (reverted): "removed".
    - #7 Zeta (1.1950, 03-30) beats the standing Delta; the PR-order rebuild compares it with Epsilon.
    """
    repo = start_repo(root)
    names = {"Alpha": "2026-03-18_Alpha", "Beta": "2026-03-20_Beta", "Gamma": "2026-03-23_Gamma",
             "Delta": "2026-03-24_Delta", "Epsilon": "2026-03-27_Epsilon", "Zeta": "2026-03-30_Zeta"}

    def naive(r: Path) -> None:
        _folder(r, "2026-03-17_NaiveBaseline", {"train.log": baseline(1337, 1.2244)},
                {"val_bpb": 1.2244, "date": "2026-03-17"})

    _pr(repo, 1, "main", "2026-03-17T11:00:00Z", naive)
    _merge(repo, 1, "2026-03-17T12:00:00Z")
    _table(repo, [("Naive Baseline", 1.2244, 1)], "2026-03-17T13:00:00Z")

    def replace_alpha(r: Path) -> None:
        _git(r, "rm", "-q", "-r", f"{TRACK}/{names['Alpha']}")
        _record(r, "2026-03-22_AlphaV2", ALPHA_V2)

    _steps(repo, 2, [("2026-03-18T11:00:00Z", lambda r: _record(r, names["Alpha"], ALPHA)),
                     ("2026-03-22T11:00:00Z", replace_alpha)])
    _pr(repo, 3, "main", "2026-03-20T11:00:00Z", lambda r: _record(r, names["Beta"], BETA))
    _merge(repo, 3, "2026-03-21T10:00:00Z")
    _table(repo, [("Beta", 1.2100, 3), ("Naive Baseline", 1.2244, 1)], "2026-03-21T11:00:00Z")
    _steps(repo, 4, [("2026-03-23T11:00:00Z", lambda r: _record(r, names["Gamma"], GAMMA_V1)),
                     ("2026-03-26T11:00:00Z", lambda r: _record(r, names["Gamma"], GAMMA, model_bytes=15_990_000))])
    _pr(repo, 5, "main", "2026-03-24T11:00:00Z", lambda r: _record(r, names["Delta"], DELTA))
    _merge(repo, 5, "2026-03-25T10:00:00Z")
    delta_row = ("Delta", 1.2000, 5)
    _table(repo, [delta_row, ("Beta", 1.2100, 3), ("Naive Baseline", 1.2244, 1)], "2026-03-25T11:00:00Z")
    _pr(repo, 6, "main", "2026-03-27T09:00:00Z", lambda r: _record(r, names["Epsilon"], EPSILON))
    _merge(repo, 6, "2026-03-27T10:00:00Z")
    _table(repo, [("Epsilon", 1.1900, 6), delta_row, ("Beta", 1.2100, 3), ("Naive Baseline", 1.2244, 1)],
           "2026-03-27T11:00:00Z")
    _git(repo, "rm", "-q", "-r", f"{TRACK}/{names['Epsilon']}")
    _table(repo, [delta_row, ("Beta", 1.2100, 3), ("Naive Baseline", 1.2244, 1)], "2026-03-29T11:00:00Z")
    _pr(repo, 7, "main", "2026-03-30T11:00:00Z", lambda r: _record(r, names["Zeta"], ZETA))
    return repo
