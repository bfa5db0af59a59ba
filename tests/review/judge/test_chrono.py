"""The chronology as the organizers applied it (issue 28 part 5), on a repository the test builds with real git
(tests/data/gitstream.build_chronology): a replaced folder, merge order against PR order, a head that does not
hold while an earlier version does, a row listed then dropped, and the PR-order rebuild beside it."""

from __future__ import annotations

import pytest
from scipy import stats

from pgolf.review.judge.order import judge_dated
from pgolf.review.judge.progression import ProgressionSettings, Submission, compare_to
from pgolf.review.judge.standing import Listing, Standing
from pgolf.review.judge.stream import audit_git
from pgolf.review.model import ParsedRun
from pgolf.review.read.record import RecordCheck
from tests.data import gitstream as gs


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    return audit_git(gs.build_chronology(tmp_path_factory.mktemp("chrono")))


def by_pr(a):
    return {s.pr: s for s in a.submissions}


def welch(new, old):
    return stats.ttest_ind(new, old, equal_var=False, alternative="less").pvalue


def test_a_replaced_folder_is_judged_from_its_new_evidence_against_what_stood_then(audited):
    alpha = by_pr(audited)[2]
    assert alpha.folder.endswith("_AlphaV2") and alpha.date == "2026-03-22"
    # Beta (#3, opened after #2) was merged and listed on 03-21: AlphaV2 landed after it
    assert alpha.verdict.frontier_pr == 3 and alpha.verdict.accepted
    assert alpha.verdict.p_frontier == pytest.approx(welch(gs.ALPHA_V2, gs.BETA), rel=1e-9)
    assert [f.rule for f in alpha.chrono] == ["chrono.replaced"]


def test_an_earlier_version_holds_where_the_head_does_not(audited):
    gamma = by_pr(audited)[4]
    # the head (03-26) is over the cap; version 1 (the folder's first, 03-23) beats Beta, the record then
    assert gamma.version == 1 and gamma.date == "2026-03-23" and gamma.verdict.accepted
    assert sorted(gamma.values) == pytest.approx(sorted(gs.GAMMA_V1))
    assert gamma.verdict.frontier_pr == 3
    assert gamma.verdict.p_frontier == pytest.approx(welch(gs.GAMMA_V1, gs.BETA), rel=1e-9)
    version = next(f for f in gamma.chrono if f.rule == "chrono.version")
    assert "the head: over the cap" in version.text
    assert gamma.free.status == "over the cap"  # the PR-order rebuild judges the head


def test_a_row_listed_then_dropped_is_removed_and_stands_no_more(audited):
    subs = by_pr(audited)
    epsilon = subs[6]
    assert epsilon.verdict.status == "removed"
    assert epsilon.verdict.reasons.startswith("removed: listed in the table on 2026-03-27, dropped from it by ")
    assert "on 2026-03-29 (the judge alone: beats #5" in epsilon.verdict.reasons
    zeta = subs[7]  # after the removal Delta stands again; in PR order Epsilon was the frontier
    assert zeta.verdict.accepted and zeta.verdict.frontier_pr == 5
    assert zeta.free.status == "not better" and zeta.free.frontier_pr == 6
    assert "not #6 2026-03-27_Epsilon before it in PR order" in next(f.text for f in zeta.chrono)


def test_the_diff_says_when_a_row_was_listed_and_what_it_displaced(audited):
    rows = {d.pr: d for d in audited.diff}
    assert (rows[5].listed, rows[5].displaced) == ("2026-03-25", "#3 2026-03-20_Beta")
    assert (rows[3].listed, rows[3].displaced) == ("2026-03-21", "#1 2026-03-17_NaiveBaseline")
    assert rows[7].listed == "" and not rows[7].in_table


def test_both_leaderboards(audited):
    assert [r.pr for r in audited.leaderboard] == [7, 5, 4, 2, 3, 1]
    assert [r.pr for r in audited.free_leaderboard] == [6, 5, 2, 3, 1]


# --------------------------------------------------------------------------- the parts, on values built here

def _sub(pr: int, values: tuple[float, ...], timestamp: int = 0, name: str = "", logs: str = ""):
    runs = [ParsedRun(f"train_seed{i}.log", sha256=f"{logs or pr}-{i}", seed=i, val_bpb=v, total_bytes=15_000_000)
            for i, v in enumerate(values)]
    rec = RecordCheck(f"F{pr}", name or f"F{pr}", None, runs, counted=runs, claim_supported=True)
    return Submission(pr, f"refs/pull/{pr}/head", "c", "2026-04-01", f"{gs.TRACK}/F{pr}", rec, timestamp=timestamp)


def test_a_reproduction_replaces_the_runs_only_with_at_least_as_many():
    own = _sub(1, gs.spread(1.2000))
    one_run = _sub(2, (1.1000,))
    own.reproduced_by.append(one_run)
    assert own.evidence is own and own.smaller_rerun is one_run
    three = _sub(3, gs.spread(1.1990))
    own.reproduced_by.append(three)
    assert own.evidence is three and own.values == list(three.values)


def test_a_listing_made_days_after_its_evidence_stands_from_the_evidence():
    day = 86400
    late = Listing(_sub(1, gs.spread(1.2), timestamp=10 * day), "table", 20 * day, "c")  # a rebuild, 10 days on
    soon = Listing(_sub(2, gs.spread(1.2), timestamp=18 * day), "table", 20 * day, "c")  # listed 2 days on
    assert not late.covers(15 * day) and late.covers(15 * day, lag=4 * day)
    assert not soon.covers(19 * day, lag=4 * day) and soon.covers(20 * day, lag=4 * day)


def test_the_one_step_bound_is_measured_from_the_best_evidence_already_pushed():
    standing, pushed, new = _sub(1, gs.spread(1.2244)), _sub(2, gs.spread(1.1925)), _sub(3, gs.spread(1.1700))
    settings = ProgressionSettings()
    assert compare_to(new, standing, settings).status == "held for review"  # 0.054 over the standing record
    verdict = compare_to(new, standing, settings, known=pushed)  # 0.0225 over what was already pushed
    assert verdict.accepted and verdict.frontier_pr == 1


def test_a_copy_of_a_held_leap_does_not_lower_the_one_step_base():
    base = _sub(1, gs.spread(1.2244), 0, name="2026-03-17_NaiveBaseline")
    leap, copy = _sub(2, gs.spread(0.9500), 10), _sub(3, gs.spread(0.9500), 20, logs="2")
    later = _sub(4, gs.spread(0.9400), 30)
    judged = judge_dated([base, leap, copy, later], Standing(()), ProgressionSettings(runs_from="2026-12-31")).submissions
    assert [s.verdict.status for s in judged] == ["accepted", "held for review", "duplicate", "held for review"]
    assert "improves on #1 2026-03-17_NaiveBaseline" in judged[3].verdict.reasons
