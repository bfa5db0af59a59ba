"""pgolf.gitcheck against real repositories built here with git: a shallow clone, a missing object, a submodule."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pgolf import gitcheck
from pgolf.errors import DataError

ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@t", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "protocol.file.allow=always", *args], check=True,
                          capture_output=True, text=True, env=ENV).stdout.strip()


def _repo(path: Path, commits: int = 3) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    for i in range(commits):
        folder = path / "records" / f"run{i}"
        folder.mkdir(parents=True)
        (folder / "train.log").write_text(f"step:{i} val_bpb:1.{i}\n")
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", f"record {i}")
    return path


def test_a_shallow_clone_is_said_to_be_shallow_and_a_full_one_is_not(tmp_path):
    origin = _repo(tmp_path / "origin")
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", "shallow")
    state = gitcheck.repo_state(tmp_path / "shallow")
    assert state.shallow
    assert "is a shallow clone" in state.warnings(tmp_path / "shallow")[0]
    assert "git fetch --unshallow" in state.warnings(tmp_path / "shallow")[0]
    assert gitcheck.repo_state(origin) == gitcheck.RepoState(shallow=False) and not gitcheck.RepoState(False).warnings(origin)


def test_a_folder_that_is_no_repository_is_named(tmp_path):
    with pytest.raises(DataError, match="not a git repository"):
        gitcheck.repo_state(tmp_path)


def test_a_deleted_object_is_found_missing(tmp_path):
    repo = _repo(tmp_path / "repo")
    blob = git(repo, "rev-parse", "HEAD:records/run1/train.log")
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()  # loose objects: a real hole in the store
    present = git(repo, "rev-parse", "HEAD:records/run2/train.log")
    assert gitcheck.missing_objects(repo, [blob, present]) == [blob]
    err = gitcheck.missing_object(repo, blob, "records/run1/train.log")
    assert isinstance(err, DataError) and "is missing from" in str(err) and "git fsck" in str(err)


def test_a_record_folder_that_is_a_submodule_is_listed(tmp_path):
    inner = _repo(tmp_path / "inner", commits=1)
    outer = _repo(tmp_path / "outer", commits=1)
    git(outer, "submodule", "add", "-q", f"file://{inner}", "records/run_sub")
    git(outer, "commit", "-q", "-m", "a record as a submodule")
    found = gitcheck.submodules(outer, "HEAD", "records")
    assert found == [("records/run_sub", git(inner, "rev-parse", "HEAD"))]
    assert "is a submodule" in gitcheck.submodule_note(*found[0])
