"""When a folder's evidence landed, from a git repository built here: the commit that added the folder on the
branch, shared by two PRs that carry it (the lower PR number is then the original), and a folder that replaced
another after its PR opened (dated from the replacement)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pgolf.review.sources.git import stream

TRACK = "records/track_10min_16mb"


def _git(repo: Path, *args: str, date: str = "2026-03-17T12:00:00Z") -> str:
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def _commit(repo: Path, files: dict[str, str | None], date: str) -> str:
    for rel, text in files.items():
        p = repo / TRACK / rel
        if text is None:
            _git(repo, "rm", "-rq", str(p.parent))
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "c", date=date)
    return _git(repo, "rev-parse", "HEAD").strip()


def _branched(tmp_path: Path) -> Path:
    """A repository with one commit on main, checked out on a branch `a` off it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _commit(repo, {"Base/README.md": "base\n"}, "2026-03-17T12:00:00Z")
    _git(repo, "checkout", "-qb", "a")
    return repo


def test_a_shared_folder_dates_from_its_first_commit_and_a_replacement_from_its_own(tmp_path):
    repo = _branched(tmp_path)
    shared = _commit(repo, {"Shared/train.log": "run\n"}, "2026-03-20T12:00:00Z")
    _git(repo, "update-ref", "refs/pull/2/head", _commit(repo, {"Shared/README.md": "later\n"}, "2026-03-25T12:00:00Z"))
    _git(repo, "checkout", "-qb", "b", shared)
    _git(repo, "update-ref", "refs/pull/3/head", _commit(repo, {"Other/x.log": "x\n"}, "2026-03-22T12:00:00Z"))
    _git(repo, "checkout", "-qb", "c", "main")
    _commit(repo, {"Old/train.log": "old\n"}, "2026-03-21T12:00:00Z")
    _git(repo, "update-ref", "refs/pull/4/head",
         _commit(repo, {"Old/train.log": None, "New/train.log": "new\n"}, "2026-04-11T12:00:00Z"))
    with stream(repo) as s:
        got = {(g.pr, g.folder.rsplit("/", 1)[-1]): g for g in s.submissions}
    dates = {k: g.date for k, g in got.items()}
    # the shared folder: from the commit that added it on both branches; #2's later README is no new evidence
    assert dates[(2, "Shared")] == dates[(3, "Shared")] == "2026-03-20" and got[(2, "Shared")].earlier == ()
    assert dates[(3, "Other")] == "2026-03-22"
    assert dates[(4, "New")] == "2026-04-11"  # the replacement, not the PR's first folder


def test_new_logs_make_a_version_and_a_renamed_folder_keeps_its_first_date(tmp_path):
    repo = _branched(tmp_path)
    first = _commit(repo, {"Typo/train.log": "run 1\n"}, "2026-03-20T12:00:00Z")
    second = _commit(repo, {"Typo/train.log": "run 2\n"}, "2026-03-22T12:00:00Z")
    _git(repo, "mv", f"{TRACK}/Typo", f"{TRACK}/Fixed")  # renamed, same files
    _git(repo, "commit", "-qm", "rename", date="2026-03-25T12:00:00Z")
    _git(repo, "update-ref", "refs/pull/2/head", _git(repo, "rev-parse", "HEAD").strip())
    with stream(repo) as s:
        (sub,) = [g for g in s.submissions if g.pr == 2]
    # dated from the folder's first version (renamed later, new logs on 03-22: a version of its own)
    assert sub.folder.endswith("/Fixed") and sub.date == "2026-03-20" and second != sub.commit
    assert [v.commit for v in sub.earlier] == [first]


def test_a_folder_that_landed_after_its_pr_opened_stands_where_it_landed():
    import datetime as dt

    from pgolf.review.judge.free import chronological_positions
    from pgolf.review.judge.progression import Submission

    def sub(pr, landed, opened):
        t = int(dt.datetime.fromisoformat(opened + "T12:00:00+00:00").timestamp())
        return Submission(pr, f"refs/pull/{pr}/head", "c", landed, f"{TRACK}/F{pr}", None, opened=t)  # type: ignore[arg-type]

    # #10 opened 03-28 but its folder landed 04-11: after #20 (opened 04-01), before #30 (opened 04-11)
    subs = [sub(10, "2026-04-11", "2026-03-28"), sub(20, "2026-04-01", "2026-04-01"), sub(30, "2026-04-11", "2026-04-11")]
    assert chronological_positions(subs) == [29.5, 20.0, 30.0]
    subs[0] = sub(10, "2026-03-28", "2026-03-28")  # landed the day it opened: its PR number
    assert chronological_positions(subs)[0] == 10.0


def test_three_runs_are_asked_from_a_whole_day_on_which_every_merged_record_has_them():
    from types import SimpleNamespace

    from pgolf.review.judge.progression import derive_runs_date

    def merged(date, n):
        return SimpleNamespace(on_main=True, date=date, values=[1.2] * n)

    # a one-run record merged on 03-20 beside a three-run one: three runs are asked from 03-21, not 03-20
    subs = [merged("2026-03-19", 1), merged("2026-03-20", 1), merged("2026-03-20", 3), merged("2026-03-21", 3)]
    assert derive_runs_date(subs) == "2026-03-21"  # type: ignore[arg-type]
