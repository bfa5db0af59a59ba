"""Atomic file writes: a reader (or Snakemake) never sees a half-written output.

Every result file pgolf writes goes through these helpers: the bytes land in a
temporary file in the same folder, are flushed to disk, then renamed over the
target, which POSIX makes atomic. A crash leaves the old file or none.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pgolf.errors import OutputError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600; outputs get the usual mode
        os.replace(tmp, target)
    finally:
        uninterrupted(lambda: tmp.unlink(missing_ok=True))


def uninterrupted(cleanup: Callable[[], object]) -> None:
    """Run `cleanup` to its end even when an interrupt arrives during it, then raise that interrupt.
    A stop often comes twice (Ctrl-C pressed again; SIGTERM to the process group and again from Snakemake
    stopping its jobs), and the second one used to land in a `finally` and leave a staging folder behind."""
    stopped: KeyboardInterrupt | None = None
    while True:
        try:
            cleanup()
            break
        except KeyboardInterrupt as exc:
            stopped = exc
    if stopped is not None:
        raise stopped


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | os.PathLike[str], text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


# The key under which json_text lists where a number was not finite (JSON has no NaN or inf).
NON_FINITE_KEY = "non_finite"


def json_text(obj: Any) -> str:
    """pgolf's one JSON edge: sorted keys, trailing newline (identical runs give identical files). A NaN or
    infinite number is written as null, and the object says so: its key `non_finite` lists the path of each
    (`runs[2].val_bpb`), so a reader never takes a null for a missing value. Only an object can carry that
    list: a NaN inside a top-level list, or an object that already has the key, is a ValueError."""
    clean, paths = finite_json(obj)
    if paths:
        if not isinstance(clean, dict) or NON_FINITE_KEY in clean:
            raise ValueError(f"non-finite numbers at {', '.join(paths)} and no object to record them in")
        clean = {**clean, NON_FINITE_KEY: paths}
    return json.dumps(clean, indent=2, sort_keys=True, allow_nan=False) + "\n"


def finite_json(obj: Any, path: str = "") -> tuple[Any, list[str]]:
    """`obj` with every NaN or infinite float replaced by None, and the paths where that happened, in order."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None, [path or "$"]
    if isinstance(obj, dict):
        out, paths = {}, []
        for key, value in obj.items():
            out[key], found = finite_json(value, f"{path}.{key}" if path else str(key))
            paths += found
        return out, paths
    if isinstance(obj, list | tuple):
        items = [finite_json(value, f"{path}[{i}]") for i, value in enumerate(obj)]
        return [v for v, _ in items], [p for _, found in items for p in found]
    return obj, []


def write_json(target: str | os.PathLike[str], obj: Any) -> None:
    write_text(target, json_text(obj))


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def move_files(src_dir: str | os.PathLike[str], dst_dir: str | os.PathLike[str], names: tuple[str, ...]) -> None:
    """Move finished files from a staging folder (same filesystem) into `dst_dir`, in order, each by an
    atomic rename: put the file that marks a finished run last."""
    src, dst = Path(src_dir), Path(dst_dir)
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        os.replace(src / name, dst / name)


# Write errors that name no file (a full disk, a file-size or quota limit): only outputs raise them.
_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


@contextlib.contextmanager
def staging_dir(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """`<out_dir>.partial/`, empty, beside `out_dir` (so on its filesystem: the moves in are renames);
    removed on exit, whatever happened. A job builds its outputs there and moves them in at the end
    (move_files), so a failed or interrupted job leaves the earlier outputs in `out_dir` as they were."""
    out_dir = Path(out_dir).resolve()  # "." has no name to stage beside
    staging = out_dir.with_name(out_dir.name + ".partial")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"output folder {out_dir} is a file; name a folder, or move the file away")
    _check_parents(out_dir)
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        yield staging
    except OSError as exc:
        ours = exc.errno in _FULL or (exc.filename is not None and Path(exc.filename).resolve().is_relative_to(staging))
        if not ours:
            raise  # not a write of ours (an input, say): the caller's to report
        raise output_error(exc, staging) from None
    finally:
        uninterrupted(lambda: shutil.rmtree(staging, ignore_errors=True))


def check_targets(targets: Iterable[str | os.PathLike[str]]) -> None:
    """OutputError, before anything is computed or written, for a target that cannot become a file:
    a folder in its place, or a file where one of its folders should be."""
    for target in map(Path, targets):
        if target.is_dir():
            raise OutputError(f"output {target} is a folder; name a file path, or move the folder away")
        _check_parents(target)


def _check_parents(path: Path) -> None:
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"output {path}: {parent} is a file, not a folder; choose another output path")
            return


def output_error(exc: OSError, where: str | os.PathLike[str]) -> OutputError:
    """An OSError while writing outputs, as one line naming the path and what to do."""
    path = exc.filename or where
    return OutputError(f"cannot write {path}: {exc.strerror or exc}; nothing was replaced "
                       "(free space or fix permissions there, then run again)")


def write_group(files: dict[str | os.PathLike[str], bytes | str]) -> None:
    """Write several files as one group: every one is staged beside its target first, then all are
    renamed in. Every verb that writes an output set uses this.

    A target that cannot become a file fails before anything is written; a failure while
    staging (disk full, a crash) leaves every target as it was and no temporary file; the
    renames that follow cannot fail halfway for want of space. Put the file that marks the
    group complete last; text is written as UTF-8.
    """
    targets = [Path(t) for t in files]
    check_targets(targets)
    staged: list[tuple[Path, Path]] = []
    try:
        for target, data in zip(targets, files.values(), strict=True):
            staged.append((_stage(target, data.encode("utf-8") if isinstance(data, str) else data), target))
        for tmp, target in staged:
            os.replace(tmp, target)
    finally:
        uninterrupted(lambda: [tmp.unlink(missing_ok=True) for tmp, _ in staged])


def _stage(target: Path, data: bytes) -> Path:
    """`data` in a temporary file beside `target`, on disk; OutputError (and no file left) if it cannot be."""
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        tmp = Path(name)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_current_umask())
        return tmp
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise output_error(exc, target) from None
