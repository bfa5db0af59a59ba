"""The challenge's pull-request stream, read straight from git objects: no checkout, no network, no copies.

`stream(repo, refs=..., track=...) -> list[GitSubmission]`: main's record folders (each with the
PR whose merge brought it in) and, for every matching ref, the record folders the ref adds or
changes against its merge base with main. A folder the ref deletes is no submission.

Git access: the git CLI in batch mode. One `git cat-file --batch-command` process serves every tree and blob
(~40,000 objects of a 1,500-submission stream in a few seconds); merge bases are computed in-process from one
`git log --stdin` of every ref (hash, time, tree, parents), not one `git merge-base` per ref (~7 ms each).
pygit2 or dulwich would add a dependency for those two calls; the git CLI is on every reviewer's machine.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from pgolf.errors import DataError
from pgolf.gitcheck import CorruptRepository, is_submodule, missing_object, submodule_note
from pgolf.review.sources.gitobjects import GitObjects, Skipped, TreeEntry
from pgolf.review.sources.graph import CommitGraph, read_graph
from pgolf.review.sources.landed import (
    PR_OF_SUBJECT,
    MainEvent,
    ReadmeVersion,
    Version,
    folder_versions,
    opened_time,
)

DEFAULT_REFS = "refs/pull/*/head"
DEFAULT_TRACK = "track_10min_16mb"
_PR_OF_REF = re.compile(r"refs/pull/(\d+)/")
MAX_EARLIER = 4  # earlier versions of a folder kept for the judge (when the head does not hold)
@dataclass
class GitFolder:
    """One record folder inside a commit: implements review.source.FolderFiles over git objects."""

    objects: GitObjects
    tree_oid: str
    path: str  # in the repository: records/track_10min_16mb/<name>
    where: str  # `PR #123` or `main`
    submodule: bool = False  # the record folder itself is a gitlink: a commit of another repository
    _files: dict[str, str] | None = field(default=None, repr=False)
    _sizes: dict[str, int] = field(default_factory=dict, repr=False)
    _skipped: list[Skipped] = field(default_factory=list, repr=False)

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def label(self) -> str:
        return f"{self.where} {self.path}"

    def _listing(self) -> dict[str, str]:
        if self._files is None and self.submodule:
            self._files, self._skipped = {}, [Skipped("", self.tree_oid, "submodule")]
        if self._files is None:
            self._files = dict(sorted(self.objects.walk(self.tree_oid, skipped=self._skipped)))
        return self._files

    def paths(self) -> list[str]:
        return list(self._listing())

    def size(self, rel: str) -> int:
        if rel not in self._sizes:
            info = self.objects.info(self._listing()[rel])
            self._sizes[rel] = info[1] if info else 0
        return self._sizes[rel]

    def read(self, rel: str) -> bytes:
        oid = self._listing().get(rel)
        if oid is None:
            raise DataError(f"{self.label}/{rel}: no such file")
        return self.objects.blob(oid, f"{self.label}/{rel}")

    def left_out(self) -> list[str]:
        """A submodule and a tree missing from the repository, each named with its object: never read as empty."""
        self._listing()
        return [self._note(f"{self.label}/{s.path}".rstrip("/"), s) for s in self._skipped]

    def _note(self, where: str, s: Skipped) -> str:
        if s.why == "submodule":
            return submodule_note(where, s.oid)
        return str(missing_object(self.objects.repo, s.oid, where, "its files are not judged"))

    def file_label(self, rel: str) -> str:
        return rel


@dataclass(frozen=True)
class GitSubmission:
    """One record folder of one ref: where it was read from, and when."""

    pr: int | None
    ref: str
    commit: str
    date: str  # the day its evidence landed (the folder's first version on the branch), YYYY-MM-DD (UTC)
    timestamp: int  # that commit's Unix time: orders submissions, and copies (the first is the original)
    folder: str  # path in the repository
    tree: str  # the folder's tree id: two refs with the same id hold the same files
    on_main: bool = False  # the folder is on main (merged)
    opened: int = 0  # Unix time of the branch's first commit after the merge base (when the PR opened, about)
    earlier: tuple[Version, ...] = ()  # the folder's earlier versions on the branch, newest first
    submodule: bool = False  # the folder is a gitlink (`tree` is then the other repository's commit id)


# --------------------------------------------------------------------------- the stream


@dataclass(frozen=True)
class StreamRef:
    ref: str
    commit: str

    @property
    def pr(self) -> int | None:
        m = _PR_OF_REF.match(self.ref)
        return int(m.group(1)) if m else None


def list_refs(objects: GitObjects, pattern: str | Sequence[str]) -> list[StreamRef]:
    """The commits of the refs matching `pattern` (one, or several: each ref once), in PR order."""
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    out = objects.git("for-each-ref", "--format=%(objectname) %(objecttype) %(refname)", *patterns)
    refs = [StreamRef(ref, sha) for sha, kind, ref in (line.split(" ", 2) for line in out.splitlines())
            if kind == "commit"]
    return sorted(refs, key=lambda r: (r.pr is None, r.pr or 0, r.ref))


def _entries(objects: GitObjects, tree: str | None, track_path: str, where: str) -> dict[str, TreeEntry]:
    """Record folder name -> its entry (a tree, or a submodule's gitlink) in one commit's track folder;
    CorruptRepository naming `where` (a commit) and the path when a tree on the way is missing."""
    track = objects.subtree(tree, track_path, where) if tree else None
    if track is None:
        return {}
    return {e.name: e for e in objects.tree(track, f"{where}:{track_path}")
            if (e.is_tree or is_submodule(e.mode)) and not e.name.startswith(".")}


def _folders(objects: GitObjects, tree: str | None, track_path: str, where: str) -> dict[str, str]:
    """Record folder name -> its tree id (a submodule's: its commit id), in one commit's track folder."""
    return {name: e.oid for name, e in _entries(objects, tree, track_path, where).items()}


def _day(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).date().isoformat()


def merged_by(events: list[MainEvent]) -> dict[str, tuple[int | None, str, int]]:
    """Folder name -> (PR, commit, time) of the first commit on main's first-parent line that added it."""
    out: dict[str, tuple[int | None, str, int]] = {}
    for e in events:
        if e.kind == "A":
            out.setdefault(e.name, (e.pr, e.commit, e.timestamp))
    return out


@dataclass
class MainHistory:
    """main's first-parent line, oldest first: record folders added (`A`) and deleted (`D`), README.md's versions."""

    events: list[MainEvent] = field(default_factory=list)
    readmes: list[tuple[str, int, str]] = field(default_factory=list)  # (commit, time, blob id) where it changed


def main_history(objects: GitObjects, graph: CommitGraph, main: str, track_path: str,
                 warnings: list[str]) -> MainHistory:
    """Read from the trees of main's first-parent commits, one at a time (`git log --name-status` stopped the whole
    audit at the first missing tree): a commit whose tree is missing is a warning naming it and the object, and
    what it changed counts from the next commit that can be read."""
    out, before, readme = MainHistory(), {}, None
    for line in objects.git("log", "--first-parent", "--reverse", "--format=%H %s", main).splitlines():
        sha, subject = (line.split(" ", 1) + [""])[:2]
        try:
            now = _folders(objects, graph.trees.get(sha), track_path, sha[:12])
            top = objects.tree(graph.trees[sha], f"{sha[:12]}'s root tree")
        except CorruptRepository as exc:
            warnings.append(f"main's history: {exc}")
            continue
        m, when = PR_OF_SUBJECT.search(subject), graph.times.get(sha, 0)
        pr = int(m.group(1) or m.group(2)) if m else None
        out.events += [MainEvent(n, "A", pr, sha, when) for n in sorted(now.keys() - before.keys())]
        out.events += [MainEvent(n, "D", pr, sha, when) for n in sorted(before.keys() - now.keys())]
        oid = next((e.oid for e in top if e.name == "README.md" and not e.is_tree), None)
        if oid is not None and oid != readme:
            out.readmes.append((sha, when, oid))
        before, readme = now, oid
    return out


@dataclass
class Stream:
    """What `audit --git` reads: the submissions and the git objects to read their files from."""

    objects: GitObjects
    submissions: list[GitSubmission]
    main: str  # main's commit
    refs: int  # refs matched
    deleted: list[tuple[int | None, str]]  # (PR, folder) a ref deletes: no submission
    history: MainHistory = field(default_factory=MainHistory)
    warnings: list[str] = field(default_factory=list)  # a ref or commit whose trees are missing: not read
    unjudged: list[str] = field(default_factory=list)  # the refs those warnings left unread

    @property
    def events(self) -> list[MainEvent]:
        """Record folders added to and deleted from main, oldest first."""
        return self.history.events

    def tree_of(self, ref: str, folder: str) -> str:
        """The tree id of a submission's folder at its ref's head (as read)."""
        return next(s.tree for s in self.submissions if s.ref == ref and s.folder == folder)

    def readme_history(self) -> list[ReadmeVersion]:
        """main's README.md at each commit that changed it, oldest first: the table as of any date (bounded)."""
        return [ReadmeVersion(c, t, self.objects.blob(oid, f"README.md at {c[:12]}").decode("utf-8", "replace"))
                for c, t, oid in self.history.readmes]

    def folder(self, sub: GitSubmission) -> GitFolder:
        where = f"PR #{sub.pr}" if sub.pr is not None else sub.ref
        return GitFolder(self.objects, sub.tree, sub.folder, where, submodule=sub.submodule)

    def main_readme(self) -> str:
        """The README at main (the published table) or ""; through the bounded blob reader, never read whole."""
        what, found = f"{self.main}:README.md", self.objects.info(f"{self.main}:README.md")
        return self.objects.blob(what, "main's README.md").decode("utf-8", "replace") \
            if found is not None and found[0] == "blob" else ""

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.objects.close()


def evidence_files(objects: GitObjects) -> Callable[[str], frozenset[tuple[str, str]]]:
    """A folder tree's evidence: its files but the Markdown ones (a README edit is no new evidence); cached."""
    @functools.cache
    def files(tree: str) -> frozenset[tuple[str, str]]:
        return frozenset((p, oid) for p, oid in objects.walk(tree) if not p.lower().endswith(".md"))
    return files


def _ref_submissions(objects: GitObjects, graph: CommitGraph, entry: dict[str, int], ref: StreamRef,
                     track_path: str, evidence: Callable[[str], object]
                     ) -> tuple[list[GitSubmission], list[tuple[int | None, str]]]:
    base = graph.merge_base(ref.commit, entry)
    entries = _entries(objects, graph.trees.get(ref.commit), track_path, ref.ref)
    head = {name: e.oid for name, e in entries.items()}
    before = _folders(objects, graph.trees.get(base), track_path, f"{ref.ref}'s merge base {base[:12]}") if base else {}
    changed = {name: oid for name, oid in sorted(head.items()) if before.get(name) != oid}
    versions = folder_versions(graph, entry, ref.commit, base, changed,
                               lambda tree: _folders(objects, tree, track_path, f"a commit of {ref.ref}"), evidence)
    opened = opened_time(graph, entry, ref.commit, base)
    subs = [GitSubmission(ref.pr, ref.ref, ref.commit, _day(v[-1].timestamp), v[-1].timestamp,
                          f"{track_path}/{name}", oid, opened=opened, earlier=tuple(v[1:1 + MAX_EARLIER]),
                          submodule=not entries[name].is_tree)
            for name, oid in changed.items() if (v := versions[name])]
    return subs, [(ref.pr, f"{track_path}/{name}") for name in sorted(before.keys() - head.keys())]


# what one ref adds or changes, and the folders it deletes: a function of the ref's commit and main's alone
RefListing = tuple[list[GitSubmission], list[tuple[int | None, str]]]


def listing_key(ref: StreamRef) -> str:
    return f"{ref.ref} {ref.commit}"


def stream(repo: str | os.PathLike[str], *, refs: str | Sequence[str] = DEFAULT_REFS, track: str = DEFAULT_TRACK,
           main: str = "main", listed: dict[str, RefListing] | None = None) -> Stream:
    """main's record folders and every ref's added or changed ones (see the module docstring). A ref or a commit
    of main whose trees the repository lacks is a warning naming it and the missing object; the rest is read.
    `listed`: refs already listed against this same main (the bot's cache), by listing_key: taken from it
    instead of walked again, and the refs walked now are added to it."""
    objects = GitObjects(repo)
    main_sha = objects.git("rev-parse", "--verify", "--quiet", f"{main}^{{commit}}").strip()
    matched = list_refs(objects, refs)
    graph = read_graph(objects, [main_sha, *(r.commit for r in matched)])
    entry = graph.entry_on(main_sha)
    track_path = f"records/{track}"
    subs: list[GitSubmission] = []
    deleted: list[tuple[int | None, str]] = []
    warnings: list[str] = []
    unjudged: list[str] = []
    evidence = evidence_files(objects)
    known = listed if listed is not None else {}
    for ref in matched:
        try:
            got, gone = known.get(listing_key(ref)) or _ref_submissions(objects, graph, entry, ref, track_path,
                                                                        evidence)
            known[listing_key(ref)] = (got, gone)
        except CorruptRepository as exc:
            warnings.append(f"{_who(ref)} is not judged: {exc}")
            unjudged.append(ref.ref)
            continue
        subs += got
        deleted += gone
    history = main_history(objects, graph, main_sha, track_path, warnings)
    merged = functools.partial(_merged_row, objects, graph, entry, track_path, evidence)
    subs = _with_main(objects, graph, main_sha, track_path, subs, merged_by(history.events), warnings, merged)
    return Stream(objects, subs, main_sha, len(matched), deleted, history, warnings, unjudged)


def _who(ref: StreamRef) -> str:
    return f"PR #{ref.pr} ({ref.ref})" if ref.pr is not None else ref.ref


def _with_main(objects: GitObjects, graph: CommitGraph, main_sha: str, track_path: str,
               subs: list[GitSubmission], by_merge: dict[str, tuple[int | None, str, int]],
               warnings: list[str], merged: Callable[[str, int | None, str], GitSubmission | None]
               ) -> list[GitSubmission]:
    """Mark the PR rows whose folder is on main; main's folders no PR row holds become rows of their own."""
    try:
        on_main = _entries(objects, graph.trees[main_sha], track_path, "main")
    except CorruptRepository as exc:
        warnings.append(f"main's record folders are not listed: {exc}")
        return subs
    keyed = {(s.pr, s.folder): i for i, s in enumerate(subs)}
    out = list(subs)
    for name, e in sorted(on_main.items()):
        oid = e.oid
        path = f"{track_path}/{name}"
        pr, commit, when = by_merge.get(name, (None, main_sha, graph.times.get(main_sha, 0)))
        if pr is None:  # added by a plain commit: the PR whose folder is the same tree
            pr = next((s.pr for s in subs if s.folder == path and s.tree == oid), None)
        if (pr, path) in keyed:
            i = keyed[(pr, path)]
            out[i] = replace(out[i], on_main=True)
        elif (row := merged(commit, pr, path)) is not None:  # dated as its PR's own row (review-pr reads no ref)
            out.append(replace(row, ref="main", commit=commit, tree=oid, on_main=True, submodule=not e.is_tree))
        else:
            out.append(GitSubmission(pr, "main", commit, _day(when), when, path, oid, on_main=True, opened=when,
                                     submodule=not e.is_tree))
    return sorted(out, key=lambda s: (s.pr is None, s.pr or 0, s.timestamp, s.folder))


def _merged_row(objects: GitObjects, graph: CommitGraph, entry: dict[str, int], track_path: str,
                evidence: Callable[[str], object], commit: str, pr: int | None, path: str) -> GitSubmission | None:
    """A folder main got by a merge commit, as its PR's own row: the merged branch's head read as that PR's ref
    (dated by its first version there); None for a squash or plain commit (no branch on main)."""
    parents = graph.parents.get(commit, ())
    if len(parents) < 2:
        return None
    try:
        got, _ = _ref_submissions(objects, graph, entry, StreamRef(f"refs/pull/{pr}/head", parents[1]), track_path,
                                  evidence)
    except CorruptRepository:
        return None
    return next((s for s in got if s.folder == path), None)
