"""When a folder's evidence landed on its branch: the commit that added it (issue 28's chronology).

A PR is judged by when its evidence landed: a folder replaced by a new one after the PR opened dates from
the replacement, and a folder first committed on another PR's branch dates from that commit on both (the
lower PR number then holds the original).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol


class Graph(Protocol):
    """The commit graph as sources/git.py reads it (one `git log`)."""

    parents: Mapping[str, tuple[str, ...]]
    times: Mapping[str, int]
    trees: Mapping[str, str]

MAX_VERSIONS = 64  # commits of one branch walked back


def landed_times(graph: Graph, entry: dict[str, int], head: str, base: str | None, folders: dict[str, str],
                 folders_at: Callable[[str | None], dict[str, str]]) -> dict[str, int]:
    """Each folder's landing time: the time of the oldest commit of the branch (first parents, back to the merge
    base or main) from which on the folder exists. `folders_at(tree)` lists a commit tree's record folders."""
    out = {name: graph.times.get(head, 0) for name in folders}
    todo, c = set(folders), head
    for _ in range(MAX_VERSIONS):
        parent = (graph.parents.get(c) or (None,))[0]
        if not todo or parent is None or parent == base or parent in entry:
            break
        held = folders_at(graph.trees.get(parent))
        todo &= held.keys()  # a folder missing from the parent was added at `c`: it landed then
        for name in todo:
            out[name] = graph.times.get(parent, out[name])
        c = parent
    return out


def opened_time(graph: Graph, entry: dict[str, int], head: str, base: str | None) -> int:
    """The time of the branch's first commit after the merge base (first parents): about when the PR opened."""
    c, when = head, graph.times.get(head, 0)
    for _ in range(MAX_VERSIONS):
        parent = (graph.parents.get(c) or (None,))[0]
        if parent is None or parent == base or parent in entry:
            break
        when, c = graph.times.get(parent, when), parent
    return when
