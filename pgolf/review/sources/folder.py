"""Where a submission's files come from: a folder on disk, or a folder inside a git commit.

The reviewer side reads a record folder only through `FolderFiles`, so one check runs the same
on a directory (`check-record DIR`, `audit RECORDS_DIR`) and on a pull request's tree read
straight from git objects (`audit --git`), with no checkout and no temporary copies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from pgolf.errors import DataError
from pgolf.gitcheck import gitlink_at, submodule_note
from pgolf.inputs import read_bytes
from pgolf.sanitize import inside


class FolderFiles(Protocol):
    """One submission folder's files, by path relative to the folder (POSIX, `logs/seed1.txt`)."""

    @property
    def name(self) -> str:
        """The folder's own name (`2026-03-19_SlidingWindow`)."""
        ...

    @property
    def label(self) -> str:
        """How a reviewer finds it: a path on disk, or `PR #123 records/.../name`."""
        ...

    def paths(self) -> list[str]:
        """Every file below the folder, sorted; hidden files and folders left out."""
        ...

    def size(self, rel: str) -> int:
        """A file's size in bytes."""
        ...

    def read(self, rel: str) -> bytes:
        """A file's bytes; DataError naming the file when it is missing or over the one bound (inputs.bound())."""
        ...

    def file_label(self, rel: str) -> str:
        """How a report names one of its files: a path on disk, or the folder-relative path in git."""
        ...

    def left_out(self) -> list[str]:
        """What paths() leaves out and why, one sentence each: a link out of the folder, a submodule."""
        ...


def read_text(files: FolderFiles, rel: str) -> str | None:
    """A file as text (undecodable bytes replaced), or None when the folder has no such file."""
    if rel not in files.paths():
        return None
    return files.read(rel).decode("utf-8", errors="replace")


@dataclass
class DirFolder:
    """A record folder on disk. Only regular files are listed: a FIFO or device never blocks a read. A link is
    followed only while it stays inside the folder (sanitize.inside): `train_gpt.py -> /etc/passwd` is left out,
    and left_out() says so, so nothing outside the folder reaches a report."""

    root: Path
    _paths: list[str] | None = field(default=None, repr=False)
    _left_out: list[str] = field(default_factory=list, repr=False)

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def label(self) -> str:
        return str(self.root)

    def paths(self) -> list[str]:
        if self._paths is None:
            self._paths = self._walk() if self.root.is_dir() else []
        return self._paths

    def _walk(self) -> list[str]:
        """Every regular file below the folder; a folder that cannot be listed, a link out and a submodule are
        named in left_out() (an unreadable folder used to read as an empty one: "no claim")."""
        found: list[str] = []
        for top, dirs, names in os.walk(self.root, onerror=self._unlistable):
            here = Path(top)
            dirs[:] = [d for d in dirs if not d.startswith(".") and self._keep(here / d)]
            self._submodule(here, dirs, names)
            found += [(here / n).relative_to(self.root).as_posix() for n in names
                      if not n.startswith(".") and self._keep(here / n) and (here / n).is_file()]
        return sorted(found)

    def _keep(self, p: Path) -> bool:
        try:
            inside(self.root, p.relative_to(self.root))
        except DataError as exc:
            self._left_out.append(str(exc))
            return False
        return True

    def _unlistable(self, exc: OSError) -> None:
        self._left_out.append(f"{exc.filename}: cannot list this folder ({exc.strerror or exc}); its files are not "
                              "read, so the claim is judged without them: fix its permissions")

    def _submodule(self, here: Path, dirs: list[str], names: list[str]) -> None:
        """A folder that git records as a submodule (a gitlink): empty until checked out, so said, not skipped."""
        if (dirs or names) and not (here / ".git").exists():
            return
        if (oid := gitlink_at(here)) is not None:
            self._left_out.append(submodule_note(str(here), oid))

    def left_out(self) -> list[str]:
        self.paths()
        return list(self._left_out)

    def size(self, rel: str) -> int:
        return self._inside(rel).stat().st_size

    def read(self, rel: str) -> bytes:
        return read_bytes(self._inside(rel), "file")

    def _inside(self, rel: str) -> Path:
        """The file, with its links resolved inside the folder; PathEscape (a DataError) when one leads out."""
        return inside(self.root, PurePosixPath(rel))

    def file_label(self, rel: str) -> str:
        return str(self.root / rel)
