"""When a folder's evidence landed on its branch, and what main held when (issue 28's chronology).

A PR is a history: each commit of its branch that changed a record folder's files is a version of that
folder, dated by that commit. The version judged dates from the commit that brought its files: a folder
replaced after the PR opened dates from the replacement, a renamed folder (the same files under another
name) keeps its date, and a folder first committed on another PR's branch dates from that commit on both
(the lower PR number then holds the original).

Main's side (read by sources/git.py's main_history from the trees): the README at each commit that changed it
(the published table as of any date), and each record folder's arrival on main (the merge) and removal from it
(a revert).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol


class Graph(Protocol):
    """The commit graph as sources/git.py reads it (one `git log`)."""

    parents: Mapping[str, tuple[str, ...]]
    times: Mapping[str, int]
    trees: Mapping[str, str]


MAX_VERSIONS = 64  # commits of one branch walked back
# `Merge pull request #123 from ...`, `Merge PR #1868: ...`, a squash merge `Title (#123)`
PR_OF_SUBJECT = re.compile(r"^Merge (?:pull request|PR) #(\d+)\b|\(#(\d+)\)\s*$")


@dataclass(frozen=True)
class Version:
    """One version of a record folder on a branch: the commit that brought these files, and its time."""

    commit: str
    tree: str
    timestamp: int


def _first_parent(graph: Graph, c: str) -> str | None:
    return (graph.parents.get(c) or (None,))[0]


def _on_main_before(entry: Mapping[str, int], head: str) -> Callable[[str], bool]:
    """Whether a commit was on main before `head` came in (a merged branch's own commits came in with it)."""
    limit = entry.get(head, len(entry) + 1)
    return lambda c: entry.get(c, limit) < limit


def folder_versions(graph: Graph, entry: Mapping[str, int], head: str, base: str | None, folders: dict[str, str],
                    folders_at: Callable[[str | None], dict[str, str]],
                    evidence: Callable[[str], object] = lambda tree: tree) -> dict[str, list[Version]]:
    """Each folder's versions on the branch, newest first: walking first parents back to the merge base (or main),
    a commit whose parent held other evidence (or no such folder) starts a version. `folders` is the head's
    name -> tree; `folders_at(tree)` lists a commit tree's record folders; `evidence(tree)` is what counts as
    a change (by default every file; the stream leaves the READMEs out)."""
    out: dict[str, list[Version]] = {name: [] for name in folders}
    name_at, tree_at = {n: n for n in folders}, dict(folders)  # by head name: its name and files at `c`
    todo, c, held_c = set(folders), head, folders_at(graph.trees.get(head))
    on_main = _on_main_before(entry, head)
    for _ in range(MAX_VERSIONS):
        parent = _first_parent(graph, c)
        if not todo or parent is None or parent == base or on_main(parent):
            break
        held = folders_at(graph.trees.get(parent))
        gone = [m for m in held if m not in held_c]  # folders `c` renamed or deleted
        for n in sorted(todo):
            old = held.get(name_at[n])
            if old is None and gone:  # renamed at `c`: the same evidence keeps its date
                name_at[n], old = _renamed_from(gone, held, tree_at[n], evidence)
            if old is None or evidence(old) != evidence(tree_at[n]):
                out[n].append(Version(c, tree_at[n], graph.times.get(c, 0)))
                if old is None:  # added at `c`
                    todo.discard(n)
            tree_at[n] = old or tree_at[n]
        c, held_c = parent, held
    for n in todo:  # the oldest commit walked holds them
        out[n].append(Version(c, tree_at[n], graph.times.get(c, 0)))
    return out


def _renamed_from(gone: list[str], held: dict[str, str], tree: str,
                  evidence: Callable[[str], object]) -> tuple[str, str | None]:
    """The folder a renamed one was: the vanished one with the same evidence, else one that holds at least half of
    its files (renamed and cleaned up); none of them: the folder is new (a replacement is new evidence)."""
    same = [m for m in gone if evidence(held[m]) == evidence(tree)]
    mine = _blobs(evidence(tree))
    name = same[0] if same else next((m for m in gone if 2 * len(mine & _blobs(evidence(held[m]))) >= len(mine)),
                                     None)
    return (name, held[name]) if name is not None else ("", None)


def _blobs(files: object) -> set[str]:
    """The blob ids of a folder's evidence ((path, blob) pairs; a bare tree id stands for itself)."""
    return {oid for _, oid in files} if isinstance(files, frozenset) else {str(files)}


def opened_time(graph: Graph, entry: Mapping[str, int], head: str, base: str | None) -> int:
    """The time of the branch's first commit after the merge base (first parents): about when the PR opened."""
    c, when, on_main = head, graph.times.get(head, 0), _on_main_before(entry, head)
    for _ in range(MAX_VERSIONS):
        parent = _first_parent(graph, c)
        if parent is None or parent == base or on_main(parent):
            break
        when, c = graph.times.get(parent, when), parent
    return when


# --------------------------------------------------------------------------- main's history


@dataclass(frozen=True)
class ReadmeVersion:
    """main's README.md as a commit on main's first-parent line left it."""

    commit: str
    timestamp: int
    text: str


@dataclass(frozen=True)
class MainEvent:
    """A record folder added to (`A`) or deleted from (`D`) main, by a commit on main's first-parent line."""

    name: str
    kind: str
    pr: int | None  # the PR the commit's subject names (a merge or a squash)
    commit: str
    timestamp: int
