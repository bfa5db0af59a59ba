"""One run at a time per results folder, across checkouts.

The same lock guards a reviewer verb's --out folder (holding).

Snakemake locks a working directory, not an output folder: two checkouts whose configs
name one absolute `results:` folder would both write it, and lose each other's files.
The workflow takes this lock when it starts running jobs (onstart) and gives it back when
it ends; a second run is told plainly which run holds the folder. A lock whose owner has
died on this host is stale and taken over; one from another host cannot be checked, so
the message says how to remove it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from pgolf.errors import PgolfError

LOCK_NAME = ".pgolf-run.lock"
T = TypeVar("T")


class FolderInUse(PgolfError):
    """Another run holds the results folder."""


@dataclass(frozen=True)
class Owner:
    pid: int
    host: str
    checkout: str
    started: str

    @classmethod
    def me(cls, checkout: str | os.PathLike[str]) -> Owner:
        return cls(os.getpid(), socket.gethostname(), str(Path(checkout).resolve()),
                   dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    def alive(self) -> bool | None:
        """Whether the owning process still runs (None: on another host, cannot tell)."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's live process
            return True
        return True


def acquire(folder: str | os.PathLike[str], checkout: str | os.PathLike[str]) -> Path:
    """Take `folder`'s lock for this process, or FolderInUse naming the run that holds it."""
    path = Path(folder) / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    me = Owner.me(checkout)
    for _ in range(2):  # a second try after removing a stale lock
        try:
            _create(path, json.dumps(asdict(me)).encode("utf-8"))
        except FileExistsError:
            owner = _read(path)
            if owner is not None and (owner.pid, owner.host) == (me.pid, me.host):
                return path
            if owner is not None and owner.alive() is False:
                path.unlink(missing_ok=True)  # its run died without giving it back
                continue
            raise FolderInUse(_in_use(path, owner)) from None
        return path
    raise FolderInUse(_in_use(path, _read(path)))


def _create(path: Path, data: bytes) -> None:
    """Create `path` holding `data`, or FileExistsError: the content is written (and synced) to a temporary
    file first and linked in by name, so a full disk leaves no empty lock that would block every later run."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o644)
        os.link(tmp_name, path)  # atomic, and fails if the lock exists
    except OSError as exc:
        if isinstance(exc, FileExistsError):
            raise
        raise PgolfError(f"cannot take the lock {path}: {exc.strerror or exc}; nothing was written there "
                         "(free space or fix permissions, then run again)") from None
    finally:
        os.unlink(tmp_name)


@contextlib.contextmanager
def holding(folder: str | os.PathLike[str], checkout: str | os.PathLike[str] = ".") -> Iterator[Path]:
    """Hold `folder` for the whole of a run that writes it (a verb's --out): a second run into the same
    folder fails at once, naming this one, instead of mixing its files with this run's; the lock goes
    on exit, whatever happened. Write the outputs with pgolf.atomic.write_group inside it."""
    path = acquire(folder, checkout)
    try:
        yield path
    finally:
        release(folder)


def holds_out(fn: Callable[..., T]) -> Callable[..., T]:
    """Run a verb's library call `fn(out, ...)` holding its --out folder (holding), computing and writing alike:
    two runs into one folder never mix their files; the second fails at once, naming the first."""

    @functools.wraps(fn)
    def held(out: str | os.PathLike[str], *args: Any, **kwargs: Any) -> T:
        fresh = not Path(out).exists()
        try:
            with holding(out):
                return fn(out, *args, **kwargs)
        except BaseException:
            if fresh:  # a run that failed leaves no empty folder of its own making behind
                with contextlib.suppress(OSError):
                    Path(out).rmdir()
            raise

    return held


def release(folder: str | os.PathLike[str]) -> None:
    """Give the lock back, if this process holds it."""
    path = Path(folder) / LOCK_NAME
    owner = _read(path)
    if owner is not None and (owner.pid, owner.host) == (os.getpid(), socket.gethostname()):
        path.unlink(missing_ok=True)


def _read(path: Path) -> Owner | None:
    with contextlib.suppress(OSError, ValueError, TypeError):
        return Owner(**json.loads(path.read_text(encoding="utf-8")))
    return None


def _in_use(path: Path, owner: Owner | None) -> str:
    folder = path.parent
    if owner is None:
        return (f"results folder {folder} is locked by {path}, which cannot be read; if no other run uses "
                f"this folder, delete {path} and run again")
    where = "on this host" if owner.alive() else f"on host {owner.host} (not checked from here)"
    return (f"results folder {folder} is in use by another run: pid {owner.pid} {where}, from checkout "
            f"{owner.checkout}, since {owner.started}. Wait for it to finish, or give this configuration "
            f"its own `results:` folder; if that run is gone, delete {path}")
