"""`review-pr` on a challenge repository the tests build with real git (tests/data/gitstream.py): each PR's
verdict is audit --git's, the comment and annotations say it, hostile text comes out inert and bounded."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys

import pytest

from pgolf.bot.comment import MARKER, MAX_COMMENT, MAX_FOLDERS, MAX_SEEDS, ZWJ, text
from pgolf.bot.prcheck import review_pr
from pgolf.review.sources.git import stream
from tests.data import gitstream as gs

HOSTILE = "<img src=x onerror=alert(1)> @octocat [click](https://evil.example/x) #1 **bold** | cell"


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = gs.build_stream(tmp_path_factory.mktemp("stream"))

    def hostile(r):
        name = "2026-03-30_<img src=x onerror=alert(1)>@octocat"
        gs._record(r, name, gs.BEST, title=HOSTILE)
        claim = r / gs.TRACK / name / "submission.json"
        data = json.loads(claim.read_text())
        data["bytes_total"] = HOSTILE  # not a number: a finding that quotes it
        data["seed_results"]["1337"]["val_bpb"] = 1.3  # a claim its log does not show
        claim.write_text(json.dumps(data))
        log = r / gs.TRACK / name / "train_seed1337.log"
        log.write_text(log.read_text() + HOSTILE + " " + "@octocat " * 120_000 + "\n")

    gs._pr(repo, 11, "main", "2026-03-30T11:00:00Z", hostile)
    return repo


def run_verb(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pgolf", "review-pr", *map(str, args)], capture_output=True,
                          text=True, env=env)


def test_each_prs_verdict_is_audit_gits(repo, tmp_path):
    done = subprocess.run([sys.executable, "-m", "pgolf", "audit", "--git", str(repo), "--out", str(tmp_path / "a")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "a" / "submissions.csv", newline="") as fh:
        full = {(int(r["pr"]), r["folder"]): r["verdict"] for r in csv.DictReader(fh) if r["pr"]}
    for pr in range(1, 11):
        code = review_pr(repo, pr, tmp_path / str(pr))
        review = json.loads((tmp_path / str(pr) / "review.json").read_text())
        mine = {(pr, f["folder"]): f["status"] for f in review["folders"]}
        assert mine == {k: v for k, v in full.items() if k[0] == pr}, pr
        assert code == review["exit_code"] == (0 if all(s == "accepted" for s in mine.values()) else 1)
    assert json.loads((tmp_path / "6" / "review.json").read_text())["deleted"] == [f"{gs.TRACK}/2026-03-20_Better"]


def test_a_holding_pr_comment_has_the_table_and_the_test(repo, tmp_path):
    done = run_verb("--git", repo, "--pr", 9, "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    body = (tmp_path / "comment.md").read_text()
    assert body.startswith(MARKER + "\n") and done.stdout == body
    assert "this PR holds as a record" in body and "✅ holds · `2026-03-28_Best`" in body
    # the standing record on main is #4's Good (its own 3 runs: #7's rerun is no ref of this review)
    assert f"standing record #{ZWJ}4 2026-03-25\\_Good (mean 1.19503)" in body and "n = 3 vs 3" in body
    for seed, value in zip(gs.SEEDS, gs.BEST, strict=True):
        assert re.search(rf"^\| {seed} \| {value} \| {value:.5f} \| 15,8\d\d,\d\d\d \|", body, re.MULTILINE)
    assert "headroom" in body and (tmp_path / "report-1.html").read_text().startswith("<!DOCTYPE html>")


def test_not_holding_and_usage_errors_exit_1_and_2(repo, tmp_path):
    over = run_verb("--git", repo, "--pr", 5, "--out", tmp_path / "5", "--format", "json")
    assert over.returncode == 1
    review = json.loads(over.stdout)
    assert [f["status"] for f in review["folders"]] == ["over the cap", "held for review"] and review["holds"] is False
    big = review["folders"][0]
    assert big["max_total_bytes"] > 16_000_000 and big["headroom"] < 0
    missing = run_verb("--git", repo, "--pr", 99, "--out", tmp_path / "99")
    assert missing.returncode == 2 and "refs/pull/99/head" in missing.stderr and not (tmp_path / "99").exists()
    assert run_verb("--git", tmp_path / "nothing", "--pr", 1, "--out", tmp_path / "x").returncode == 2
    assert run_verb("--git", repo, "--pr", 0, "--out", tmp_path / "x").returncode == 2


def test_github_format_annotates_and_writes_the_job_summary(repo, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    done = run_verb("--git", repo, "--pr", 5, "--out", tmp_path / "out", "--format", "github",
                    env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert any(line.startswith(f"::error file={gs.TRACK}/2026-03-26_Big,title=pgolf verdict%3A over the cap::")
               for line in lines)
    assert summary.read_text() == "earlier step\n" + (tmp_path / "out" / "comment.md").read_text()


def test_hostile_text_comes_out_escaped_and_bounded(repo, tmp_path):
    done = run_verb("--git", repo, "--pr", 11, "--out", tmp_path, "--format", "github")
    body = (tmp_path / "comment.md").read_text()
    assert done.returncode == 1 and len(body) < MAX_COMMENT
    # a code span renders nothing inside it (no tag, mention or link) and cannot be closed early: no backtick or
    # newline of the submission's gets in
    assert "`2026-03-30_<img src=x onerror=alert(1)>@octocat`" in body
    outside = re.sub(r"`[^`\n]*`", "", body)
    assert "<img" not in outside and "](https://evil" not in outside and "https://evil" not in outside
    assert not re.search(r"@\w", outside) and not re.search(r"#\d", outside)  # no ping, no cross-reference
    assert max(map(len, body.splitlines())) < 1_000
    for line in done.stdout.splitlines():  # one command per line, no second `::` command smuggled in
        assert re.fullmatch(r"::(error|warning|notice) [^:]*::.{0,400}", line)


def test_text_neutralizes_markdown_html_mentions_and_links():
    out = text(HOSTILE)
    assert out == ("&lt;img src=x onerror=alert(1)&gt; @\u200doctocat \\[click\\](https:\u200d//evil.example/x) "
                   "#\u200d1 \\*\\*bold\\*\\* \\| cell")
    assert len(text("x" * 1_000_000)) == 300 and text("a\nb\r\x1b[31mc") == "a b  \\[31mc"


def test_findings_name_rule_file_line_and_fix(repo, tmp_path):
    review_pr(repo, 11, tmp_path)
    folder = json.loads((tmp_path / "review.json").read_text())["folders"][0]
    assert folder["status"] == "claim not shown"
    seed = next(f for f in folder["findings"] if f["file"].endswith("/train_seed1337.log") and "1.3" in f["text"])
    assert seed["rule"]  # the rule's id (today the topic `seed`; with the rules registry its registered id)
    assert seed["severity"] == "error" and seed["file"].endswith("/train_seed1337.log") and seed["fix"]
    shown = subprocess.run(["git", "-C", str(repo), "show", f"refs/pull/11/head:{seed['file']}"], capture_output=True,
                           text=True, check=True).stdout.splitlines()[seed["line"] - 1]
    assert shown.startswith("quantized_ttt_phased") and "1.1899" in shown  # the line printing the claimed stage


def test_mains_folders_are_dated_as_their_prs_own_rows_are(repo):
    """review-pr reads one ref: a record main merged by a merge commit is dated as audit --git dates that PR's
    row (the merged branch read as the PR's ref); a squash merge has no branch on main: its commit's time."""
    with stream(repo) as src:
        full = {(g.pr, g.folder): g for g in src.submissions if g.on_main}
    with stream(repo, refs="refs/pull/10/head") as src:
        one = {(g.pr, g.folder): g for g in src.submissions if g.on_main and g.ref == "main"}
    merged = [k for k in one if k[0] in (1, 2)]  # `Merge pull request #N`
    assert merged and all((one[k].date, one[k].timestamp, one[k].opened) ==
                          (full[k].date, full[k].timestamp, full[k].opened) for k in merged)
    squashed = (4, f"{gs.TRACK}/2026-03-25_Good")
    assert one[squashed].date == full[squashed].date and one[squashed].opened == one[squashed].timestamp


def test_a_pr_with_many_folders_and_seeds_gets_a_bounded_comment(tmp_path):
    repo = gs.start_repo(tmp_path)
    seeds = tuple(range(1, MAX_SEEDS + 3))

    def many(r):
        for k in range(MAX_FOLDERS + 2):
            gs._record(r, f"2026-03-2{k % 10}_Many{k}_\u202e@team", tuple(1.2 + i / 1e4 for i in seeds), seeds=seeds)

    gs._pr(repo, 1, "main", "2026-03-20T11:00:00Z", many)
    done = run_verb("--git", repo, "--pr", 1, "--out", tmp_path / "out", "--no-cache")
    body = (tmp_path / "out" / "comment.md").read_text()
    assert done.returncode in (0, 1) and len(body) <= MAX_COMMENT
    assert body.count("\n### ") == MAX_FOLDERS and "… 2 more record folders in review.json" in body
    assert body.count(f"{len(seeds) - MAX_SEEDS} more in the full report") == MAX_FOLDERS
    assert "\u202e" not in body and not re.search(r"@\w", re.sub(r"`[^`\n]*`", "", body))
    assert len(json.loads((tmp_path / "out" / "review.json").read_text())["folders"]) == MAX_FOLDERS + 2


def test_with_other_prs_refs_a_copy_of_an_open_prs_logs_is_a_duplicate_as_in_audit_git(tmp_path):
    """Without --refs the bot sees main and the PR only: a copy of an open PR's logs is judged on its own
    evidence. With --refs 'refs/pull/*/head' it reads the stream audit --git reads, and every PR's verdict
    is audit --git's, the copy's included."""
    repo = gs.build_stream(tmp_path / "stream")

    def again(r):  # PR 9's folder (never merged), its files byte for byte under a new name
        gs._git(r, "checkout", "-q", "refs/pull/9/head", "--", f"{gs.TRACK}/2026-03-28_Best")
        gs._git(r, "mv", f"{gs.TRACK}/2026-03-28_Best", f"{gs.TRACK}/2026-03-31_BestAgain")

    gs._pr(repo, 12, "main", "2026-03-31T11:00:00Z", again)
    done = subprocess.run([sys.executable, "-m", "pgolf", "audit", "--git", str(repo), "--out", str(tmp_path / "a")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "a" / "submissions.csv", newline="") as fh:
        full = {(int(r["pr"]), r["folder"]): r["verdict"] for r in csv.DictReader(fh) if r["pr"]}
    copy = (12, f"{gs.TRACK}/2026-03-31_BestAgain")
    assert full[copy] == "duplicate"

    alone = run_verb("--git", repo, "--pr", 12, "--out", tmp_path / "alone", "--format", "json", "--no-cache")
    assert json.loads(alone.stdout)["folders"][0]["status"] != "duplicate"
    for pr in (*range(1, 11), 12):
        code = review_pr(repo, pr, tmp_path / str(pr), cache=tmp_path / "cache", others="refs/pull/*/head")
        review = json.loads((tmp_path / str(pr) / "review.json").read_text())
        assert {(pr, f["folder"]): f["status"] for f in review["folders"]} == \
            {k: v for k, v in full.items() if k[0] == pr}, pr
        assert code == review["exit_code"]
    body = (tmp_path / "12" / "comment.md").read_text()
    assert "❌ does not hold: duplicate" in body and "duplicate of #\u200d9" in body
    assert review["provenance"]["refs"] == "refs/pull/*/head"
