"""The reviewer's typed values <-> JSON, for the bot's cache of records and ref listings (`pgolf.bot.cache`).

A record read from a folder (`RecordCheck`: its runs, stages, claim and flags) becomes plain JSON and
comes back as the same typed value, so a cached record judges exactly as a freshly read one. Tags keep
what JSON cannot say: a Decimal (`$dec`), a tuple (`$tup`), a dict with non-string keys (`$map`), a
non-finite float (`$num`), a dataclass (`$dc`, by name, from a closed list: a cache file is data, never
a recipe for building arbitrary objects) and a second reference to one object (`$ref`): a record's
`counted` runs are some of its `runs`, and code matches them by identity.
A folder's file reader (`files`) is not stored: a cached record is judged, never re-read.
"""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from decimal import Decimal
from typing import Any

from pgolf.review.model import Flag, ParsedRun, ReadmeSeeds, Stage
from pgolf.review.read.claim import Claim, SeedClaim
from pgolf.review.read.record import RecordCheck
from pgolf.review.sources.git import GitSubmission
from pgolf.review.sources.landed import Version

CLASSES: dict[str, type] = {c.__name__: c for c in (RecordCheck, ParsedRun, Stage, Claim, SeedClaim, Flag, ReadmeSeeds,
                                                    GitSubmission, Version)}
SKIPPED = {"files"}  # a reader of the folder's git objects: not data


class CodecError(ValueError):
    """A value the codec cannot write, or JSON it cannot read back."""


def encode(value: Any) -> Any:
    """`value` (a dataclass of CLASSES, or what one holds) as JSON-ready data."""
    return _Encoder().enc(value)


def decode(data: Any) -> Any:
    """The value `encode` was given, rebuilt (objects referenced twice are one object again)."""
    return _Decoder().dec(data)


class _Encoder:
    def __init__(self) -> None:
        self.seen: dict[int, int] = {}  # id(object) -> its number, in the order first met

    def enc(self, v: Any) -> Any:
        if v is None or isinstance(v, bool | int | str):
            return v
        if isinstance(v, float):
            return v if math.isfinite(v) else {"$num": repr(v)}
        if isinstance(v, Decimal):
            return {"$dec": str(v)}
        if isinstance(v, list):
            return [self.enc(x) for x in v]
        if isinstance(v, tuple):
            return {"$tup": [self.enc(x) for x in v]}
        if isinstance(v, dict):
            if all(isinstance(k, str) and not k.startswith("$") for k in v):
                return {k: self.enc(x) for k, x in v.items()}
            return {"$map": [[self.enc(k), self.enc(x)] for k, x in v.items()]}
        if is_dataclass(v) and CLASSES.get(type(v).__name__) is type(v):
            return self._dataclass(v)
        raise CodecError(f"cannot store a {type(v).__name__} in the cache")

    def _dataclass(self, v: Any) -> Any:
        if id(v) in self.seen:
            return {"$ref": self.seen[id(v)]}
        self.seen[id(v)] = len(self.seen)
        return {"$dc": type(v).__name__,
                "f": {f.name: self.enc(getattr(v, f.name)) for f in fields(v) if f.name not in SKIPPED}}


class _Decoder:
    def __init__(self) -> None:
        self.made: list[Any] = []

    def dec(self, d: Any) -> Any:
        if d is None or isinstance(d, bool | int | float | str):
            return d
        if isinstance(d, list):
            return [self.dec(x) for x in d]
        if not isinstance(d, dict):
            raise CodecError(f"unexpected {type(d).__name__} in the cache")
        if len(d) == 1 and (tag := next(iter(d))).startswith("$"):
            return self._tagged(tag, d[tag])
        if "$dc" in d:
            return self._dataclass(d)
        return {k: self.dec(x) for k, x in d.items()}

    def _tagged(self, tag: str, body: Any) -> Any:
        if tag == "$num":
            return float(body)
        if tag == "$dec":
            return Decimal(body)
        if tag == "$tup":
            return tuple(self.dec(x) for x in body)
        if tag == "$map":
            return {self.dec(k): self.dec(x) for k, x in body}
        if tag == "$ref":
            return self.made[body]
        raise CodecError(f"unknown tag {tag!r} in the cache")

    def _dataclass(self, d: dict[str, Any]) -> Any:
        cls = CLASSES.get(d["$dc"])
        if cls is None:
            raise CodecError(f"the cache names no known type: {d['$dc']!r}")
        obj = cls.__new__(cls)  # the stored state as it was: no __init__ or __post_init__ runs again
        self.made.append(obj)
        stored = d["f"]
        for f in fields(cls):
            value = None if f.name in SKIPPED else self.dec(stored[f.name])
            object.__setattr__(obj, f.name, value)  # frozen ones (Flag) too
        return obj
