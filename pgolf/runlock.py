"""One run at a time per results folder, across checkouts.

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
import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

from pgolf.errors import PgolfError

LOCK_NAME = ".pgolf-run.lock"


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
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _read(path)
            if owner is not None and (owner.pid, owner.host) == (me.pid, me.host):
                return path
            if owner is not None and owner.alive() is False:
                path.unlink(missing_ok=True)  # its run died without giving it back
                continue
            raise FolderInUse(_in_use(path, owner)) from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(me), fh)
        return path
    raise FolderInUse(_in_use(path, _read(path)))


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
