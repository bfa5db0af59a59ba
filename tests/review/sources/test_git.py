"""audit --git on clones that cannot show everything, built with real git: a shallow clone is said in report.md
and records.json, a missing blob is named as a corrupt repository, a submodule inside a record folder is a finding,
and a link stays a blob holding its target's name, never followed (issue 31, class 4)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from pgolf.__main__ import main as pgolf_main
from tests.data import gitstream as gs

GOOD = "2026-03-21_Fine"


@pytest.fixture
def repo(tmp_path):
    repo = gs.start_repo(tmp_path)
    gs._record(repo, GOOD, (1.2098, 1.2101, 1.2102))
    gs._commit_all(repo, "Fine", "2026-03-21T10:00:00Z")
    return repo


def _audit(repo, out) -> dict:
    assert pgolf_main(["audit", "--git", str(repo), "--out", str(out)]) == 0
    return json.loads((out / "records.json").read_text())


def test_a_shallow_clone_is_said_in_the_report_and_the_json(repo, tmp_path, capsys):
    gs._git(repo, "commit", "-q", "--allow-empty", "-m", "later", date="2026-03-22T10:00:00Z")
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)], check=True)
    data = _audit(shallow, tmp_path / "out")
    assert len(data["summary"]["warnings"]) == 1 and "is a shallow clone" in data["summary"]["warnings"][0]
    assert "**Warning:**" in (tmp_path / "out" / "report.md").read_text()
    assert "is a shallow clone" in capsys.readouterr().err
    assert _audit(repo, tmp_path / "full")["summary"]["warnings"] == []


def test_a_missing_blob_is_named_as_a_corrupt_repository(repo, tmp_path):
    oid = gs._git(repo, "rev-parse", f"main:{gs.TRACK}/{GOOD}/train_seed42.log").strip()
    os.remove(repo / ".git" / "objects" / oid[:2] / oid[2:])  # loose: the test's commits were never packed
    data = _audit(repo, tmp_path / "out")
    (record,) = data["records"]
    errors = [r["error"] for r in record["runs"] if r["error"]]
    assert len(errors) == 1 and f"git object {oid} is missing from {repo}" in errors[0]
    assert "train_seed42.log" in errors[0] and "corrupt" in errors[0]


def test_a_submodule_inside_a_record_folder_is_a_finding(repo, tmp_path):
    commit = gs._git(repo, "rev-parse", "HEAD").strip()
    gs._git(repo, "update-index", "--add", "--cacheinfo", f"160000,{commit},{gs.TRACK}/{GOOD}/vendor")
    gs._git(repo, "commit", "-q", "-m", "vendor", date="2026-03-22T10:00:00Z")
    (record,) = _audit(repo, tmp_path / "out")["records"]
    texts = [f["text"] for f in record["flags"]]
    assert any(t.startswith(f"main {gs.TRACK}/{GOOD}/vendor is a submodule (commit {commit[:12]}") for t in texts)
    assert record["n"] == 3  # the rest judged


def test_a_link_in_git_is_never_followed(repo, tmp_path):
    script = repo / gs.TRACK / GOOD / "train_gpt.py"
    script.unlink()
    os.symlink("/etc/passwd", script)
    gs._commit_all(repo, "link", "2026-03-22T10:00:00Z")
    _audit(repo, tmp_path / "out")
    secret = [line for line in open("/etc/passwd").read().splitlines() if line.strip()]  # noqa: SIM115
    for f in (tmp_path / "out").iterdir():
        if f.suffix in (".md", ".html", ".json", ".csv"):
            assert not any(line in f.read_text() for line in secret), f


def _drop(repo, oid: str) -> None:
    os.remove(repo / ".git" / "objects" / oid[:2] / oid[2:])  # loose: the test's commits were never packed


def test_a_missing_tree_is_named_with_its_path_and_object_not_read_as_empty(repo, tmp_path):
    (repo / gs.TRACK / GOOD / "logs").mkdir()
    (repo / gs.TRACK / GOOD / "logs" / "extra.txt").write_text("more\n")
    gs._commit_all(repo, "logs", "2026-03-22T10:00:00Z")
    sub = gs._git(repo, "rev-parse", f"main:{gs.TRACK}/{GOOD}/logs").strip()
    _drop(repo, sub)
    (record,) = _audit(repo, tmp_path / "sub")["records"]
    texts = [f["text"] for f in record["flags"] if f["severity"] == "error"]
    assert any(t.startswith(f"main {gs.TRACK}/{GOOD}/logs: git object {sub} is missing from {repo}") for t in texts)
    assert record["n"] == 3  # the rest of the folder judged
    folder = gs._git(repo, "rev-parse", f"main:{gs.TRACK}/{GOOD}").strip()
    _drop(repo, folder)
    (record,) = _audit(repo, tmp_path / "folder")["records"]
    texts = [f["text"] for f in record["flags"] if f["severity"] == "error"]
    assert any(t.startswith(f"main {gs.TRACK}/{GOOD}: git object {folder} is missing") for t in texts)
    assert "its files are not judged" in " ".join(texts) and record["n"] == 0


def test_a_missing_tree_of_a_pr_or_of_mains_history_is_a_warning_and_the_audit_goes_on(repo, tmp_path, capsys):
    (repo / "NOTES.md").write_text("later\n")  # main moves on: the commit that added the folder is history
    gs._commit_all(repo, "later", "2026-03-22T09:00:00Z")

    def broken(r):
        gs._record(r, "2026-03-23_Broken", (1.2, 1.2, 1.2))

    head = gs._pr(repo, 7, "main", "2026-03-23T10:00:00Z", broken)
    track = gs._git(repo, "rev-parse", f"{head}:{gs.TRACK}").strip()
    _drop(repo, track)
    fine = gs._git(repo, "log", "--format=%H", "-1", "--grep=^Fine$").strip()
    history = gs._git(repo, "rev-parse", f"{fine}^{{tree}}").strip()
    _drop(repo, history)  # a commit of main's first-parent line: the folder it added dates from the next one
    data = _audit(repo, tmp_path / "out")
    warnings = data["summary"]["warnings"]
    assert any(w.startswith("PR #7 (refs/pull/7/head) is not judged: refs/pull/7/head:records/track_10min_16mb: "
                            f"git object {track} is missing") for w in warnings)
    assert any(w.startswith(f"main's history: {fine[:12]}'s root tree: git object {history} is missing")
               for w in warnings)
    (record,) = data["records"]
    assert record["n"] == 3 and record["folder"].endswith(GOOD)
    assert f"git object {track} is missing" in capsys.readouterr().err
    # the bot: a PR whose head cannot be read is never "changes no record folder" (exit 0); the comment says why
    assert pgolf_main(["review-pr", "--git", str(repo), "--pr", "7", "--out", str(tmp_path / "bot"), "--no-cache"]) == 1
    assert f"pgolf review-pr: warning: PR #7 (refs/pull/7/head) is not judged: refs/pull/7/head:{gs.TRACK}: " \
           f"git object {track} is missing" in capsys.readouterr().err
    body = (tmp_path / "bot" / "comment.md").read_text()
    assert "## pgolf review: this PR could not be judged" in body
    assert f"- PR #\u200d7 (refs/pull/7/head) is not judged: refs/pull/7/head:records/track\\_10min\\_16mb: " \
           f"git object {track} is missing" in body
    review = json.loads((tmp_path / "bot" / "review.json").read_text())
    assert review["judged"] is False and review["exit_code"] == 1 and review["folders"] == []


def test_a_record_folder_that_is_a_submodule_is_listed_with_a_finding(repo, tmp_path):
    commit = gs._git(repo, "rev-parse", "HEAD").strip()
    gs._git(repo, "update-index", "--add", "--cacheinfo", f"160000,{commit},{gs.TRACK}/2026-03-22_Sub")
    gs._git(repo, "commit", "-q", "-m", "sub", date="2026-03-22T10:00:00Z")
    records = {r["folder"].rsplit("/", 1)[1]: r for r in _audit(repo, tmp_path / "out")["records"]}
    assert set(records) == {GOOD, "2026-03-22_Sub"} and records[GOOD]["n"] == 3
    texts = [f["text"] for f in records["2026-03-22_Sub"]["flags"] if f["severity"] == "error"]
    assert any(t.startswith(f"main {gs.TRACK}/2026-03-22_Sub is a submodule (commit {commit[:12]}") for t in texts)
    warned = [f["text"] for f in records["2026-03-22_Sub"]["flags"]]
    assert any(t.startswith("no submission.json among the files that could be read") for t in warned)
