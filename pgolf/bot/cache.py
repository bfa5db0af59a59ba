"""The bot's cache: main's record folders at a base commit, read once and kept as JSON between runs.

Most of a PR's review is reading and parsing the logs of the base's own record folders (about 46
folders and 130 logs on the challenge's main), which every PR at the same base shares. The first run
at a base reads them and writes `DIR/review-pr/<base-commit>.<track>.json`; the next run at that base
decodes them (`pgolf.bot.codec`) instead, and the judgment (`judge_stream`, the same as audit --git's)
runs over them as over freshly read ones. Every folder but the PR's own is cached (main's; other PRs'
where `review-pr --refs` reads them), keyed by tree id, PR and path (what the record's label is made of);
the PR's own folders are always read.

With `review-pr --refs` most of the rest is listing what each of some 2,000 refs adds or changes against the
base (walking their trees); that listing is a function of the ref's commit and the base, so it is kept in
the same file (`refs`) and a ref whose commit has not moved is not walked again.

The file is stamped with FORMAT and a digest of pgolf's own source, so a pgolf that reads logs
differently never takes an old file's records; a stale or corrupt file is ignored with a warning and
rewritten. It is written atomically (`pgolf.atomic`), so a killed run leaves the old file or none.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pgolf import atomic
from pgolf.bot.codec import CodecError, decode, encode
from pgolf.errors import OutputError
from pgolf.review.judge.record import RecordCheck, load_record
from pgolf.review.judge.stream import Loader
from pgolf.review.sources.git import GitSubmission, RefListing, Stream

FORMAT = 2  # 2: the ref listings (`refs`) beside the records
_PGOLF = Path(__file__).resolve().parents[1]


@functools.cache
def source_digest() -> str:
    """sha256 of pgolf's Python source (every file's path and bytes): a new pgolf ignores an old cache."""
    h = hashlib.sha256()
    for path in sorted(_PGOLF.rglob("*.py")):
        h.update(str(path.relative_to(_PGOLF)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def default_dir(out: str | os.PathLike[str]) -> Path:
    """$XDG_CACHE_HOME/pgolf when set, else `.pgolf-cache` beside the --out folder."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "pgolf" if xdg else Path(out).resolve().parent / ".pgolf-cache"


def cache_file(root: str | os.PathLike[str], base: str, track: str) -> Path:
    return Path(root) / "review-pr" / f"{base}.{track}.json"


class RecordCache:
    """main's records at one base commit: those the file holds, and those read in this run (to add)."""

    def __init__(self, root: str | os.PathLike[str], base: str, track: str) -> None:
        self.path, self.base, self.track = cache_file(root, base, track), base, track
        self.warnings: list[str] = []
        self.own = self.path.exists()
        self.listed: dict[str, RefListing] = {}  # what each ref adds or changes against this base (stream's)
        self.stored: dict[str, Any] = self._read()
        self.fresh: dict[str, Any] = {}
        self.used: set[str] = set()  # keys of stored records this run decoded
        self.known_refs = len(self.listed)

    def _read(self) -> dict[str, Any]:
        """The records of this base's file; when there is none yet, those of the newest file of an earlier
        base (a record's key is its tree id, so a folder main still holds unchanged is still right)."""
        if self.path.exists():
            return self._records(self.path, self.base)
        older = sorted(self.path.parent.glob(f"*.{self.track}.json"), key=lambda p: p.stat().st_mtime)
        return self._records(older[-1], older[-1].name.removesuffix(f".{self.track}.json")) if older else {}

    def _records(self, path: Path, base: str) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return self._ignore(path, f"unreadable ({exc})")
        if not isinstance(data, dict) or not isinstance(data.get("records"), dict):
            return self._ignore(path, "not a pgolf cache file")
        stamp = (data.get("format"), data.get("pgolf_source"), data.get("base"), data.get("track"))
        if stamp != (FORMAT, source_digest(), base, self.track):
            return self._ignore(path, "written by another pgolf version or for another base")
        if base == self.base:  # a ref's listing holds for the base it was made against only
            try:
                self.listed = {k: (list(subs), list(gone)) for k, (subs, gone) in decode(data.get("refs", {})).items()}
            except (CodecError, KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
                self.warnings.append(f"cache {path}: ref listings ignored ({exc}); the refs are listed again")
                self.listed = {}
        return data["records"]

    def _ignore(self, path: Path, why: str) -> dict[str, Any]:
        self.warnings.append(f"cache {path}: ignored, {why}; main's records are read again")
        return {}

    def loader(self, src: Stream, ref: str) -> Loader:
        """`judge_stream`'s reader: every folder but those of `ref` (the PR under review) from the cache when it
        has them, else from git (kept)."""
        own = {g.tree for g in src.submissions if g.ref == ref}  # the PR's: read whole (the bot reads its files)

        def load(g: GitSubmission) -> RecordCheck:
            if g.tree in own:  # another PR, or main, may hold the same tree: one tree, one record, read whole
                return load_record(src.folder(g))
            key = f"{g.tree} {g.pr} {g.folder}"
            if key in self.stored:
                try:
                    rec = decode(self.stored[key])
                    self.used.add(key)
                    return rec
                except (CodecError, KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
                    self.warnings.append(f"cache {self.path}: record {g.folder} ignored ({exc}); read again")
            rec = load_record(src.folder(g))
            try:
                self.fresh[key] = encode(rec)  # now: the stream's cross-record flags are added after loading
            except CodecError as exc:
                self.warnings.append(f"cache {self.path}: {g.folder} not cached ({exc})")
            return rec
        return load

    def save(self) -> None:
        """Write this base's file, holding the records this run used, when it is missing or lacked some
        (atomically; a failure is a warning only)."""
        if not self.fresh and len(self.listed) == self.known_refs and self.path.exists():
            return
        # an earlier base's file: only what main still holds; this base's own: everything
        used = {k: v for k, v in self.stored.items() if k in self.used or self.own}
        data = {"format": FORMAT, "pgolf_source": source_digest(), "base": self.base, "track": self.track,
                "records": {**used, **self.fresh}, "refs": encode(self.listed)}
        try:
            atomic.write_text(self.path, json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n")
        except (OSError, OutputError) as exc:
            self.warnings.append(f"cache {self.path}: not written ({exc})")
