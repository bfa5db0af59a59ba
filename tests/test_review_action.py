"""The action as it ships: action.yml and the example workflow pass actionlint and zizmor, and the action's
steps run (extracted from action.yml, executed with bash) against a real git repository built by the test,
with a recording stand-in for `gh`: one comment, edited on the next push, the annotations, the exit code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pgolf.bot.comment import MARKER
from tests.data import actionrun as ar
from tests.data import gitstream as gs

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "docs" / "examples" / "pgolf-review.yml"
SLUG = "example/golf"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (pip install -e .[test])")
    return path


def test_actionlint_passes_the_example_workflow_and_a_workflow_using_the_action(tmp_path):
    actionlint = _tool("actionlint")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    shutil.copy(WORKFLOW, tmp_path / ".github" / "workflows" / "pgolf-review.yml")
    # a workflow using the local action: actionlint reads action.yml's metadata and checks its inputs
    (tmp_path / ".github" / "workflows" / "local.yml").write_text(WORKFLOW.read_text().replace(
        "uses: example-org/pgolf@0123456789abcdef0123456789abcdef01234567  # v0.1.0",
        "uses: ./").replace("        with:\n          # also judge", "        with:\n          comment: 'false'\n"
                                   "          report-url: https://example.org/r\n          # also judge"))
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    done = subprocess.run([actionlint, "-color=false"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    bad = (tmp_path / ".github" / "workflows" / "local.yml")
    bad.write_text(bad.read_text().replace("comment: 'false'", "no-such-input: x"))
    done = subprocess.run([actionlint, "-color=false"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1 and "no-such-input" in done.stdout  # actionlint did read action.yml


def test_zizmor_finds_nothing_in_the_action_and_the_example_workflow():
    zizmor = _tool("zizmor")
    done = subprocess.run([zizmor, "--offline", "--no-progress", str(ROOT / "action.yml"), str(WORKFLOW)],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "No findings to report" in done.stdout, done.stdout + done.stderr


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The challenge's server repository, the runner's checkout of its base, the action's checkout, a venv."""
    tmp = tmp_path_factory.mktemp("action")
    server = gs.build_stream(tmp / "server")
    checkout = tmp / "work" / "golf"
    subprocess.run(["git", "clone", "-q", str(server), str(checkout)], check=True)
    action = tmp / "action"
    for part in ("pgolf", "pyproject.toml", "README.md", "action.yml"):
        src = ROOT / part
        (shutil.copytree(src, action / part, ignore=shutil.ignore_patterns("__pycache__"))
         if src.is_dir() else shutil.copy(src, action / part))
    bin_dir = ar.offline_venv(tmp / "venv")
    ar.install_fake_gh(tmp / "fakebin")
    return {"tmp": tmp, "server": server, "checkout": checkout, "action": action, "bin": bin_dir}


def _run(world, pr: int, name: str, comments: list[dict], inputs: dict[str, str] | None = None):
    tmp = world["tmp"] / name
    tmp.mkdir()
    main = subprocess.run(["git", "-C", str(world["server"]), "rev-parse", "main"], capture_output=True, text=True,
                          check=True).stdout.strip()
    event = {"action": "synchronize", "number": pr, "repository": {"full_name": SLUG},
             "pull_request": {"number": pr, "base": {"ref": "main", "sha": main}}}
    (tmp / "event.json").write_text(json.dumps(event))
    (tmp / "comments.json").write_text(json.dumps(comments))
    summary, runner_temp = tmp / "summary.md", tmp / "runner"
    summary.write_text("")
    runner_temp.mkdir()
    env = ar.github_env(os.environ, PATH=f"{world['tmp'] / 'fakebin'}:{world['bin']}:/usr/bin:/bin",
                        GITHUB_EVENT_PATH=str(tmp / "event.json"), GITHUB_STEP_SUMMARY=str(summary),
                        GITHUB_REPOSITORY=SLUG, GITHUB_SERVER_URL="https://github.com", GITHUB_RUN_ID="7",
                        GITHUB_WORKSPACE=str(world["checkout"]), RUNNER_TEMP=str(runner_temp),
                        FAKE_GH_STATE=str(tmp / "comments.json"), FAKE_GH_CALLS=str(tmp / "calls.jsonl"),
                        PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0", PIP_DISABLE_PIP_VERSION_CHECK="1")
    contexts = {"github": {"event": event, "action_path": str(world["action"]), "token": "t0ken",
                           "repository": SLUG}, "with": inputs or {}}
    steps = ar.run_action(world["action"] / "action.yml", contexts, env, world["checkout"], tmp)
    return {s.id: s for s in steps}, json.loads((tmp / "comments.json").read_text()), ar.calls(tmp / "calls.jsonl"), \
        summary.read_text(), runner_temp / "pgolf-review"


def test_the_action_comments_once_and_edits_that_comment_on_the_next_push(world):
    planted = {"id": 5, "user": {"login": "mallory"}, "body": MARKER + "\nplanted by someone else"}
    steps, comments, calls, summary, out = _run(world, 9, "first", [planted])
    assert [s.rc for s in steps.values()] == [0, 0, None, 0, 0, 0], {k: s.stderr for k, s in steps.items()}
    assert steps["cache"].stdout.startswith("uses: actions/cache@")
    assert list((out.parent / "pgolf-cache" / "review-pr").glob("*.track_10min_16mb.json"))  # kept for the next run
    assert steps["review"].outputs["exit-code"] == "0"
    body = (out / "comment.md").read_text()
    assert "this PR holds as a record" in body and "`2026-03-28_Best`" in body
    assert [c["method"] for c in calls] == ["GET", "POST"] and all(c["token"] for c in calls)
    assert comments == [planted, {"id": 101, "user": {"login": "github-actions[bot]"}, "body": body}]
    assert steps["comment"].outputs["comment-id"] == "101"
    assert summary == body
    assert steps["review"].stdout.startswith(f"::notice file={gs.TRACK}/2026-03-28_Best,title=pgolf verdict%3A accepted")
    assert "actions/runs/7" in body  # the full report's link: the run's artifact

    # the next push: the PR's claim no longer matches its logs
    pushed = world["tmp"] / "push"
    subprocess.run(["git", "clone", "-q", str(world["server"]), str(pushed)], check=True)
    subprocess.run(["git", "-C", str(pushed), "fetch", "-q", "origin", "refs/pull/9/head"], check=True)
    subprocess.run(["git", "-C", str(pushed), "checkout", "-q", "FETCH_HEAD"], check=True)
    claim = pushed / gs.TRACK / "2026-03-28_Best" / "submission.json"
    claim.write_text(claim.read_text().replace('"val_bpb": 1.19007', '"val_bpb": 1.1801'))
    gs._commit_all(pushed, "lower the claim", "2026-03-29T09:00:00Z")
    subprocess.run(["git", "-C", str(pushed), "push", "-q", "origin", "HEAD:refs/pull/9/head"], check=True)

    steps, comments2, calls2, summary2, out = _run(world, 9, "second", comments)
    assert [s.rc for s in steps.values()] == [0, 0, None, 0, 0, 1]  # the job fails: the claim does not hold
    assert steps["review"].outputs["exit-code"] == "1"
    body2 = (out / "comment.md").read_text()
    assert "does not hold: claim not shown" in body2
    assert [c["method"] for c in calls2] == ["GET", "PATCH"] and calls2[1]["path"].endswith("/issues/comments/101")
    assert comments2 == [planted, {"id": 101, "user": {"login": "github-actions[bot]"}, "body": body2}]
    errors = [line for line in steps["review"].stdout.splitlines() if line.startswith("::error ")]
    assert errors[0].startswith(f"::error file={gs.TRACK}/2026-03-28_Best,title=pgolf verdict%3A claim not shown::")
    assert any(f"file={gs.TRACK}/2026-03-28_Best/submission.json" in line and "title=pgolf claim" in line
               for line in errors)


def test_a_missing_pr_ref_fails_before_any_comment(world):
    steps, comments, calls, _summary, _out = _run(world, 42, "missing", [])
    assert steps["fetch"].rc != 0 and "review" not in steps and calls == [] and comments == []


def test_with_other_prs_the_action_fetches_every_pr_head_and_finds_a_copy_of_an_open_pr(world):
    pushed = world["tmp"] / "copy"
    subprocess.run(["git", "clone", "-q", str(world["server"]), str(pushed)], check=True)
    subprocess.run(["git", "-C", str(pushed), "fetch", "-q", "origin", "refs/pull/10/head"], check=True)
    folder = f"{gs.TRACK}/2026-03-29_TwoRuns"  # PR 10's, never merged
    subprocess.run(["git", "-C", str(pushed), "checkout", "-q", "FETCH_HEAD", "--", folder], check=True)
    subprocess.run(["git", "-C", str(pushed), "mv", folder, f"{gs.TRACK}/2026-03-31_TwoRunsAgain"], check=True)
    gs._commit_all(pushed, "the same logs", "2026-03-31T09:00:00Z")
    subprocess.run(["git", "-C", str(pushed), "push", "-q", "origin", "HEAD:refs/pull/13/head"], check=True)

    _steps, _c, _calls, _s, out = _run(world, 13, "alone", [])
    assert "duplicate" not in (out / "comment.md").read_text()  # PR 10's ref is not fetched: not seen
    steps, _c, _calls, _s, out = _run(world, 13, "others", [], {"other-prs": "true"})
    assert steps["review"].outputs["exit-code"] == "1"
    assert "❌ does not hold: duplicate" in (out / "comment.md").read_text()
    refs = subprocess.run(["git", "-C", str(world["checkout"]), "for-each-ref", "refs/pull/"], capture_output=True,
                          text=True, check=True).stdout
    assert "refs/pull/10/head" in refs and "refs/pull/13/head" in refs
