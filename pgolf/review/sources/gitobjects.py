"""Git objects by id: one `git cat-file --batch-command` process serves every tree and blob, with sizes first,
so that the stream reads ~40,000 objects without a checkout, a network or a process per object."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from pgolf.errors import DataError
from pgolf.gitcheck import CorruptRepository, is_submodule, missing_object
from pgolf.inputs import check_size

# git must never reach for a network: a partial clone's missing blob is reported missing, not fetched
_GIT_ENV = {"GIT_NO_LAZY_FETCH": "1", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}


@dataclass(frozen=True)
class Skipped:
    """A folder entry whose files cannot be read from this repository: `why` is "submodule" or "missing"."""

    path: str  # below the walked tree ("" for the tree itself)
    oid: str
    why: str


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    oid: str
    name: str

    @property
    def is_tree(self) -> bool:
        return self.mode == "40000"


class GitObjects:
    """One `git cat-file --batch-command` process: trees and blobs by object id, with sizes first."""

    def __init__(self, repo: str | os.PathLike[str]) -> None:
        self.repo = str(repo)
        self._proc: subprocess.Popen[bytes] | None = None
        self._trees: dict[str, list[TreeEntry]] = {}

    def git(self, *args: str) -> str:
        """Run one git command in the repository; DataError naming the repository when git refuses."""
        return self.git_stdin(list(args), None)

    def git_stdin(self, args: list[str], stdin: str | None) -> str:
        try:
            done = subprocess.run(["git", "-C", self.repo, *args], capture_output=True, check=False,
                                  input=stdin.encode() if stdin is not None else None,
                                  env={**os.environ, **_GIT_ENV})
        except FileNotFoundError:
            raise DataError("git is not installed; install git to read a repository with --git") from None
        if done.returncode != 0:
            msg = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise DataError(f"--git {self.repo}: `git {' '.join(args[:2])}` failed"
                            f" ({msg[-1] if msg else 'exit ' + str(done.returncode)}); give a clone of the challenge")
        return done.stdout.decode("utf-8", "replace")

    def _process(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = subprocess.Popen(["git", "-C", self.repo, "cat-file", "--batch-command"],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          env={**os.environ, **_GIT_ENV})
        return self._proc

    def close(self) -> None:
        if self._proc is not None:
            self._proc.stdin.close()
            self._proc.wait()
            self._proc = None

    def __enter__(self) -> GitObjects:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ask(self, command: str, what: str) -> tuple[str, int] | None:
        """Send `info`/`contents` for one object; (type, size), or None when it is missing."""
        proc = self._process()
        proc.stdin.write(f"{command} {what}\n".encode())
        proc.stdin.flush()
        header = proc.stdout.readline().decode("utf-8", "replace").split()
        if len(header) != 3:  # `<what> missing` (or ambiguous)
            return None
        return header[1], int(header[2])

    def info(self, what: str) -> tuple[str, int] | None:
        return self._ask("info", what)

    def contents(self, what: str) -> tuple[str, bytes] | None:
        found = self._ask("contents", what)
        if found is None:
            return None
        kind, size = found
        data = self._proc.stdout.read(size)
        self._proc.stdout.read(1)  # the newline after the contents
        return kind, data

    def tree(self, oid: str, where: str = "") -> list[TreeEntry]:
        """A tree's entries (cached: the same folder shared by many refs is read once). CorruptRepository naming
        `where` when a tree the repository names is not in it: never read as an empty folder."""
        if oid not in self._trees:
            got = self.contents(oid)
            if got is None or got[0] != "tree":
                raise missing_object(self.repo, oid, where or f"tree {oid}", "its files are not read")
            self._trees[oid] = _parse_tree(got[1])
        return self._trees[oid]

    def blob(self, oid: str, label: str) -> bytes:
        info = self.info(oid)
        if info is None:  # a tree names it, so the repository is incomplete: not "no such file"
            raise missing_object(self.repo, oid, label)
        check_size(info[1], label)  # the bound of every file, read now: a blob over it is never read
        got = self.contents(oid)
        return got[1] if got else b""

    def walk(self, oid: str, prefix: str = "", skipped: list[Skipped] | None = None) -> Iterator[tuple[str, str]]:
        """(path, blob id) of each file below a tree, hidden ones left out; what cannot be read from this
        repository goes to `skipped`: a submodule (a commit of another repository), a tree missing from it."""
        try:
            entries = self.tree(oid)
        except CorruptRepository:
            skipped is not None and skipped.append(Skipped(prefix.rstrip("/"), oid, "missing"))
            return
        for e in entries:
            if e.name.startswith("."):
                continue
            if e.is_tree:
                yield from self.walk(e.oid, f"{prefix}{e.name}/", skipped)
            elif is_submodule(e.mode):
                skipped is not None and skipped.append(Skipped(f"{prefix}{e.name}", e.oid, "submodule"))
            else:
                yield f"{prefix}{e.name}", e.oid

    def subtree(self, tree: str, path: str, where: str = "") -> str | None:
        """The id of the tree at `path` (POSIX, below `tree`), or None when there is none; CorruptRepository
        naming `where` and the path when a tree on the way is missing."""
        done = PurePosixPath()
        for part in PurePosixPath(path).parts:
            here = f"{where}:{done}" if done != PurePosixPath() else f"{where}'s root tree"  # git's `<commit>:<path>`
            entry = next((e for e in self.tree(tree, here) if e.name == part and e.is_tree), None)
            done /= part
            if entry is None:
                return None
            tree = entry.oid
        return tree


def _parse_tree(data: bytes) -> list[TreeEntry]:
    out, i = [], 0
    while i < len(data):
        space = data.index(b" ", i)
        nul = data.index(b"\0", space)
        oid = data[nul + 1:nul + 21].hex()
        out.append(TreeEntry(data[i:space].decode(), oid, data[space + 1:nul].decode("utf-8", "replace")))
        i = nul + 21
    return out
