"""Outputs that a failed or interrupted Snakemake run cannot lose.

Snakemake deletes a job's declared outputs just before it runs the job, and again when the job
fails or is interrupted; and a missing intermediate output whose consumers are up to date is
never rebuilt ("Nothing to be done"). So a Ctrl-C during a forced retrain, or a prepare that
fails on a schema-valid value, used to lose the earlier models or tokenizer for good.

The workflow's hooks use this module: when jobs are about to run (onstart), every file under the
kept folders gets a second name (a hard link: no copy, no extra space) under
`<folder>/.pgolf-keep/`; when the run fails or is interrupted (onerror), every kept file whose
path is now missing gets its name back: the same bytes and the same modification time, so
Snakemake's time stamps still tell which outputs are older than their inputs. A successful run
drops the second names (onsuccess). A run killed outright (SIGKILL) leaves the folder behind; the
next run restores from it before it keeps anything.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

KEEP_NAME = ".pgolf-keep"
# Never kept: the kept copies themselves and the run lock (pgolf.runlock), which belong to one run.
_SKIP = {KEEP_NAME, ".pgolf-run.lock"}
# A folder below a kept one holding either of these is another configuration's results folder
# (results/record inside results/): its own run keeps it, and only that run may put its files back.
_OTHER_RESULTS = (".pgolf-run.lock", "settings/report.json")


def keep(folders: Iterable[str | os.PathLike[str]], files: Iterable[str | os.PathLike[str]] = ()) -> int:
    """Give every file under each folder, and each of `files`, a second name under `<its folder>/.pgolf-keep/`;
    the number kept. A leftover from a killed run is restored first. A folder where no second name can be
    made (read-only, say) is passed over with a warning: the run goes on as it would without pgolf.keep."""
    count = 0
    for root, paths in _roots(folders, files).items():
        restore([], roots=[root])
        store = root / KEEP_NAME
        try:
            for path in paths:
                target = store / path.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(path, target)
                count += 1
        except OSError as exc:
            shutil.rmtree(store, ignore_errors=True)
            print(f"pgolf: cannot keep the earlier outputs under {root} ({exc.strerror or exc}); "
                  "a failed job there may delete them", file=sys.stderr)
    return count


def restore(folders: Iterable[str | os.PathLike[str]], files: Iterable[str | os.PathLike[str]] = (),
            roots: Iterable[Path] = ()) -> list[Path]:
    """Give back every kept file whose path is now missing (same bytes, same mtime); drop the kept names.
    Returns the restored paths."""
    restored = []
    for root in [*_roots(folders, files, listing=False), *roots]:
        store = root / KEEP_NAME
        if not store.is_dir():
            continue
        for kept in _files(store, skip=set()):
            path = root / kept.relative_to(store)
            if os.path.lexists(path):
                continue  # rebuilt by this run, or never touched
            path.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(kept, path)
            restored.append(path)
        shutil.rmtree(store, ignore_errors=True)
    return restored


def discard(folders: Iterable[str | os.PathLike[str]], files: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Drop the kept names (a successful run: every output it touched is new)."""
    for root in _roots(folders, files, listing=False):
        shutil.rmtree(root / KEEP_NAME, ignore_errors=True)


def _roots(folders: Iterable[str | os.PathLike[str]], files: Iterable[str | os.PathLike[str]],
           listing: bool = True) -> dict[Path, list[Path]]:
    """Each kept folder with the files to keep under it (listed only if `listing`): every file of the
    folders; a file outside them alone, its own folder the root."""
    whole = _distinct(folders)
    roots = {folder: _files(folder) if listing else [] for folder in whole}
    for file in map(Path, files):
        if any(file.resolve().is_relative_to(r.resolve()) for r in whole) or not file.parent.is_dir():
            continue  # kept with its folder
        roots.setdefault(file.parent, [])
        if listing and file.is_file() and not file.is_symlink():
            roots[file.parent].append(file)
    return roots


def _distinct(folders: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Existing folders as given (so restored paths read as the workflow names them), none inside
    another: a folder inside a kept one is kept with it."""
    roots = sorted({Path(f) for f in folders if Path(f).is_dir()}, key=lambda p: len(p.resolve().parts))
    distinct: list[Path] = []
    for root in roots:
        if not any(root.resolve().is_relative_to(d.resolve()) for d in distinct):
            distinct.append(root)
    return distinct


def _files(folder: Path, skip: set[str] = _SKIP) -> list[Path]:
    """Regular files under `folder` (links not followed), skipping the names in `skip` at any depth and
    (when skipping) another configuration's results folder inside it."""
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in skip
                   and not (skip and any(Path(root, d, m).exists() for m in _OTHER_RESULTS))]
        found += [Path(root, n) for n in names if n not in skip and Path(root, n).is_file()
                  and not Path(root, n).is_symlink()]
    return found


def _link_or_copy(src: Path, dst: Path) -> None:
    """A hard link (same inode: free, and the mtime comes along); a copy keeping the mtime where links
    cannot be made (another file system, a file system without links)."""
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno not in {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}:
            raise
        shutil.copy2(src, dst)
