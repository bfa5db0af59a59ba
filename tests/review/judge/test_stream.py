"""`audit --git` on a challenge repository the tests build with real git (tests/data/gitstream.py)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from scipy import stats

from pgolf.review.judge.free import rebuild
from pgolf.review.judge.progression import ProgressionSettings
from pgolf.review.judge.stream import audit_git
from pgolf.review.settings import ReviewSettings
from tests.data import gitstream as gs


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return gs.build_stream(tmp_path_factory.mktemp("stream"))


@pytest.fixture(scope="module")
def audited(repo):
    return audit_git(repo)


def by_name(a):
    return {(s.pr, s.folder.rsplit("/", 1)[-1]): s for s in a.submissions}


def test_main_and_every_pr_ref_are_read_from_git_objects(audited):
    got = sorted((s.pr, s.ref, s.folder.rsplit("/", 1)[-1], s.on_main) for s in audited.submissions)
    assert got == [
        (1, "refs/pull/1/head", "2026-03-17_NaiveBaseline", True),
        (2, "refs/pull/2/head", "2026-03-20_Better", True),  # merged: its head is on main, read against main before
        (3, "refs/pull/3/head", "2026-03-21_Worse", False),
        (4, "refs/pull/4/head", "2026-03-25_Good", True),  # squash-merged: `Good record (#4)` on main
        (5, "refs/pull/5/head", "2026-03-26_Big", False),  # one PR, two folders
        (5, "refs/pull/5/head", "2026-03-26_SLOT_Trick", False),
        (7, "refs/pull/7/head", "2026-03-27_GoodRerun", False),
        (8, "refs/pull/8/head", "2026-03-27_GoodCopy", False),
        (9, "refs/pull/9/head", "2026-03-28_Best", False),
        (10, "refs/pull/10/head", "2026-03-29_TwoRuns", False),
    ]
    assert audited.deleted == [(6, f"{gs.TRACK}/2026-03-20_Better")]  # a deleted folder is no submission
    assert audited.refs == 10
    sub = by_name(audited)[(4, "2026-03-25_Good")]
    assert sub.date == "2026-03-25" and len(sub.commit) == 40


def test_every_submission_gets_its_verdict(audited):
    status = {k: audited.verdict(s).status for k, s in by_name(audited).items()}
    assert status == {
        (1, "2026-03-17_NaiveBaseline"): "accepted", (2, "2026-03-20_Better"): "accepted",
        (3, "2026-03-21_Worse"): "not better", (4, "2026-03-25_Good"): "accepted",
        (5, "2026-03-26_Big"): "over the cap", (5, "2026-03-26_SLOT_Trick"): "held for review",  # named SLOT, no script to check it
        (7, "2026-03-27_GoodRerun"): "reproduction", (8, "2026-03-27_GoodCopy"): "duplicate",
        (9, "2026-03-28_Best"): "accepted", (10, "2026-03-29_TwoRuns"): "fewer than 3 runs",
    }
    reasons = {k: audited.verdict(s).reasons for k, s in by_name(audited).items()}
    assert reasons[(8, "2026-03-27_GoodCopy")].startswith("duplicate of #4 2026-03-25_Good")
    assert "over the cap: 16,040,000 bytes > 16,000,000" in reasons[(5, "2026-03-26_Big")]
    assert "(required from 2026-03-20)" in reasons[(10, "2026-03-29_TwoRuns")]
    assert audited.runs_from == "2026-03-20"  # derived: every merged record from then on has 3 runs


def test_progression_p_values_are_scipys_welch_on_the_evidence(audited):
    subs = by_name(audited)
    good = audited.verdict(subs[(4, "2026-03-25_Good")])
    # #7 reruns #4: its runs are #4's evidence, against #2's runs
    expect = stats.ttest_ind(gs.GOOD_RERUN, gs.BETTER, equal_var=False, alternative="less").pvalue
    assert good.frontier_pr == 2 and good.method == "welch" and good.p_frontier == pytest.approx(expect, rel=1e-9)
    best = audited.verdict(subs[(9, "2026-03-28_Best")])
    expect = stats.ttest_ind(gs.BEST, gs.GOOD_RERUN, equal_var=False, alternative="less").pvalue
    assert best.frontier_pr == 4 and best.p_frontier == pytest.approx(expect, rel=1e-9)
    worse = audited.verdict(subs[(3, "2026-03-21_Worse")])
    assert worse.p_frontier == pytest.approx(
        stats.ttest_ind(gs.WORSE, gs.BETTER, equal_var=False, alternative="less").pvalue, rel=1e-9)
    better = audited.verdict(subs[(2, "2026-03-20_Better")])
    assert better.method == "scores" and "no Welch test" in better.reasons  # the baseline has one run


def test_rebuilt_leaderboard_and_its_difference_from_the_table(audited):
    assert [(r.rank, r.pr, r.previous_pr) for r in audited.leaderboard] == [(1, 9, 4), (2, 4, 2), (3, 2, 1),
                                                                              (4, 1, None)]
    assert [(t.pr, str(t.score), t.folder) for t in audited.table] == [
        (5, "1.1931", None), (4, "1.1950", None), (3, "1.2120", None), (None, "1.2100", f"{gs.TRACK}/2026-03-20_Better"),
        (None, "1.2244", f"{gs.TRACK}/2026-03-17_NaiveBaseline")]  # the non-record table is not read
    rows = {(d.pr, d.folder.rsplit("/", 1)[-1]): d for d in audited.diff}
    assert (rows[(4, "2026-03-25_Good")].in_table, rows[(4, "2026-03-25_Good")].in_rebuild) == (True, True)
    assert "the table quotes p = 0.001 vs #2, git's evidence gives p = " in rows[(4, "2026-03-25_Good")].reason
    worse = rows[(3, "2026-03-21_Worse")]
    assert (worse.in_table, worse.in_rebuild) == (True, False)
    assert worse.reason.startswith("the rebuild does not accept it: not better than #2")
    p = stats.ttest_ind(gs.WORSE, gs.BETTER, equal_var=False, alternative="less").pvalue
    assert worse.reason.endswith(f"the table quotes p = 0.90 vs #2, git's evidence gives p = {p:.2f}")
    best = rows[(9, "2026-03-28_Best")]
    assert (best.in_table, best.in_rebuild) == (False, True) and best.reason.startswith("accepted by the rebuild")
    big = rows[(5, "2026-03-26_Big")]  # PR #5 holds two folders: the row's score names Big, not SLOT_Trick
    assert (big.in_table, big.in_rebuild) == (True, False) and "over the cap" in big.reason
    assert len(rows) == 6


def test_settings_change_the_rebuild(audited):
    strict = ProgressionSettings(ReviewSettings(min_runs=3), runs_from="2026-03-01")  # three runs from the start
    judged, board, runs_from = rebuild(audited.submissions, strict)
    judged_by_name = {(s.pr, s.record.name): s for s in judged}
    naive = judged_by_name[(2, "2026-03-20_Better")]
    assert runs_from == "2026-03-01" and naive.verdict.accepted  # the baseline itself is the start
    loose = ProgressionSettings(max_step_bpb=1.0, rulings=())
    judged, _, _ = rebuild(audited.submissions, loose)
    assert {(s.pr, s.record.name): s for s in judged}[(5, "2026-03-26_SLOT_Trick")].verdict.accepted


def test_audit_git_verb_on_a_bare_clone_writes_every_output(repo, tmp_path):
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    subprocess.run(["git", "-C", str(bare), "fetch", "-q", "origin", "+refs/pull/*/head:refs/pull/*/head"], check=True)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "pgolf", "audit", "--git", str(bare), "--out", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "10 submissions from 10 refs" in done.stdout and "4 accepted into the rebuilt leaderboard" in done.stdout
    for name in ("submissions.csv", "leaderboard.csv", "diff.csv", "diff.md", "runs.csv", "records.csv",
                 "records.json", "frontier.png", "index.html", "report.md"):
        assert (out / name).stat().st_size > 0, name
    rows = list(csv.DictReader((out / "submissions.csv").open()))
    need = {"pr", "ref", "commit", "date", "folder", "n", "mean_bpb", "claimed_bpb", "claim_supported", "stage",
            "verdict", "reasons", "flags", "frontier_pr", "p_frontier", "p_frontier_margin"}
    assert need <= set(rows[0]) and len(rows) == 10
    assert [r["rank"] for r in csv.DictReader((out / "leaderboard.csv").open())] == ["1", "2", "3", "4"]
    assert {r["reason"][:14] for r in csv.DictReader((out / "diff.csv").open())} >= {"in both", "the rebuild do"}
    data = json.loads((out / "records.json").read_text())
    assert data["summary"]["submissions"] == 10 and len(data["leaderboard"]) == 4
    assert "## The rebuilt leaderboard" in (out / "report.md").read_text()


def test_audit_needs_a_folder_or_a_repository(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pgolf", "audit", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "give RECORDS_DIR or --git REPO" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "pgolf", "audit", "--git", str(tmp_path), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "give a clone of the challenge" in done.stderr
    assert not (tmp_path / "o").exists()


def test_each_track_reads_its_own_table():
    from pgolf.review.judge.published import parse_table

    assert [r.name for r in parse_table(gs.TABLE, "track_non_record_16mb")] == ["Unlimited"]
    assert [r.name for r in parse_table(gs.TABLE)] == ["Big", "Good", "Worse", "Better", "Naive Baseline"]
    assert parse_table("# no table here\n") == []
