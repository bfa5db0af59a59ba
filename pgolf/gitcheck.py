"""What a git repository cannot show, said before its submissions are judged.

`audit --git` reads a clone's objects; a clone that lacks some of them gives wrong numbers in
silence: a shallow clone cuts history (phantom submissions, changed means), a missing blob or tree
read as "claim not shown", a record folder that is a submodule (a commit, not a tree) vanished.
These checks use git's own answers, and each problem is one sentence naming what and what to do.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from pgolf.errors import DataError

SUBMODULE_MODE = "160000"  # a tree entry that is a commit of another repository (`git ls-tree`)


class CorruptRepository(DataError):
    """An object the repository's own trees name is not in it."""


@dataclass(frozen=True)
class RepoState:
    shallow: bool

    def warnings(self, repo: str | os.PathLike[str]) -> list[str]:
        if self.shallow:
            return [f"{repo} is a shallow clone (git rev-parse --is-shallow-repository): history before its cut is "
                    "missing, so submissions and their order cannot be told; run `git fetch --unshallow` there"]
        return []


def _git(repo: str | os.PathLike[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)


def repo_state(repo: str | os.PathLike[str]) -> RepoState:
    """Whether git reports the clone as shallow; DataError if `repo` is no git repository."""
    done = _git(repo, "rev-parse", "--is-shallow-repository")
    if done.returncode != 0:
        raise DataError(f"{repo}: not a git repository ({done.stderr.strip() or 'git rev-parse failed'}); "
                        "give the path of a clone")
    return RepoState(shallow=done.stdout.strip() == "true")


def missing_object(repo: str | os.PathLike[str], oid: str, where: str,
                   consequence: str = "this file is not judged") -> CorruptRepository:
    """The error for an object a tree names that `git cat-file` cannot find (a missing answer, not an absent claim)."""
    return CorruptRepository(f"{where}: git object {oid} is missing from {repo}: the repository is incomplete or "
                             f"corrupt (run `git fsck` there, or clone it again); {consequence}")


def submodule_note(path: str, oid: str) -> str:
    """What to say of a tree entry that is a submodule: its files are in another repository, not this one."""
    return (f"{path} is a submodule (commit {oid[:12]} of another repository), not a folder of this one: its files "
            "cannot be read from here; check it out and review it as a folder")


def is_submodule(mode: str) -> bool:
    return mode == SUBMODULE_MODE


def missing_objects(repo: str | os.PathLike[str], oids: list[str]) -> list[str]:
    """The ids among `oids` that the repository lacks (`git cat-file --batch-check`: `<id> missing`)."""
    if not oids:
        return []
    done = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch-check"], input="\n".join(oids) + "\n",
                          capture_output=True, text=True, check=False)
    return [line.split()[0] for line in done.stdout.splitlines() if line.endswith(" missing")]


def submodules(repo: str | os.PathLike[str], rev: str, path: str = "") -> list[tuple[str, str]]:
    """(path, commit id) of every submodule entry under `path` at `rev` (`git ls-tree -r`)."""
    done = _git(repo, "ls-tree", "-r", rev, *([path] if path else []))
    if done.returncode != 0:
        raise DataError(f"{repo}: cannot list {rev}:{path} ({done.stderr.strip()})")
    found = []
    for line in done.stdout.splitlines():
        meta, name = line.split("\t", 1)
        mode, _kind, oid = meta.split()
        if is_submodule(mode):
            found.append((name, oid))
    return found


def gitlink_at(folder: str | os.PathLike[str]) -> str | None:
    """The commit id when the git repository around `folder` records it as a submodule (`git ls-files --stage`),
    else None (no git, no repository, or a plain folder)."""
    folder = os.path.abspath(folder)
    try:
        done = _git(os.path.dirname(folder), "ls-files", "--stage", "--", os.path.basename(folder))
    except OSError:
        return None
    for line in done.stdout.splitlines() if done.returncode == 0 else []:
        meta, _name = line.split("\t", 1)
        mode, oid = meta.split()[:2]
        if is_submodule(mode):
            return oid
    return None
