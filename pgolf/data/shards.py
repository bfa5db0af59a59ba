"""Token shards in the reference format.

A shard is a 256-entry little-endian int32 header (magic 20240520, version 1,
token count) followed by the tokens as little-endian uint16. The file size must
be exactly 1024 + 2 * count bytes. Reading checks every one of these facts and
names the file and the fault, because a silently truncated validation shard
would change every bpb number downstream.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import numpy as np

from pgolf.atomic import atomic_path
from pgolf.errors import DataError

SHARD_MAGIC = 20240520
SHARD_VERSION = 1
HEADER_INTS = 256
HEADER_BYTES = HEADER_INTS * 4
TOKEN_BYTES = 2
MAX_TOKENS = 2**31 - 1  # the count lives in an int32


def shard_header(num_tokens: int) -> np.ndarray:
    header = np.zeros(HEADER_INTS, dtype="<i4")
    header[0] = SHARD_MAGIC
    header[1] = SHARD_VERSION
    header[2] = num_tokens
    return header


def write_shard(path: str | os.PathLike[str], tokens: object) -> None:
    """Write `tokens` (any integer array-like) as one shard, atomically.

    Raises DataError if a token does not fit in uint16 or there are too many tokens.
    """
    path = Path(path)
    arr = np.asarray(tokens)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    if arr.size and arr.dtype != np.uint16:
        if not np.issubdtype(arr.dtype, np.integer):
            raise DataError(f"{path}: tokens must be integers, got dtype {arr.dtype}")
        bad = (arr < 0) | (arr > 65535)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{path}: token {int(arr[pos])} at position {pos} is outside [0, 65535]; "
                "a shard stores uint16 tokens, so the vocabulary must be at most 65,536"
            )
    if arr.size > MAX_TOKENS:
        raise DataError(f"{path}: {arr.size} tokens do not fit one shard (at most {MAX_TOKENS}); split them")
    data = arr.astype("<u2", copy=False)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(shard_header(int(data.size)).tobytes())
        fh.write(data.tobytes())


def read_shard_header(path: str | os.PathLike[str]) -> int:
    """Check a shard's header and size without reading its tokens; return the token count."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DataError(f"{path}: shard file not found") from None
    if size < HEADER_BYTES:
        raise DataError(
            f"{path}: truncated header: file has {size} bytes, a shard header alone is {HEADER_BYTES}; "
            "the file is cut short or not a token shard (re-create it with `python -m pgolf prepare`)"
        )
    header = np.fromfile(path, dtype="<i4", count=HEADER_INTS)
    magic, version, count = int(header[0]), int(header[1]), int(header[2])
    if magic != SHARD_MAGIC:
        raise DataError(
            f"{path}: wrong magic {magic} (expected {SHARD_MAGIC}): not a token shard in the reference format"
        )
    if version != SHARD_VERSION:
        raise DataError(f"{path}: unsupported shard version {version} (expected {SHARD_VERSION})")
    if count < 0:
        raise DataError(f"{path}: token count mismatch: header says {count} tokens, which is negative")
    expected = HEADER_BYTES + TOKEN_BYTES * count
    if size < expected:
        raise DataError(
            f"{path}: short file: header says {count} tokens ({expected} bytes) but the file has {size} bytes; "
            "the file was cut short (interrupted copy or download): fetch or prepare it again"
        )
    if size != expected:
        raise DataError(
            f"{path}: token count/size mismatch: header says {count} tokens ({expected} bytes) but the file "
            f"has {size} bytes ({size - expected} extra); the header or the file is wrong"
        )
    return count


def read_shard(path: str | os.PathLike[str]) -> np.ndarray:
    """Return the tokens of one shard as a uint16 array; DataError naming the file and fault."""
    path = Path(path)
    count = read_shard_header(path)
    tokens = np.fromfile(path, dtype="<u2", count=count, offset=HEADER_BYTES)
    if tokens.size != count:  # the file shrank between the size check and the read
        raise DataError(f"{path}: short read: expected {count} tokens, got {tokens.size}")
    return tokens.astype(np.uint16, copy=False)


def list_shards(pattern: str | os.PathLike[str]) -> list[Path]:
    """The files a glob matches, sorted by name (the reference's stream order)."""
    files = sorted(glob.glob(str(pattern)))
    if not files:
        raise DataError(
            f"glob matched nothing: {pattern}; check the path, or build a dataset with `python -m pgolf prepare`"
        )
    return [Path(f) for f in files]


def load_tokens(pattern: str | os.PathLike[str]) -> np.ndarray:
    """All shards of a glob, in sorted order, as one uint16 array."""
    parts = [read_shard(p) for p in list_shards(pattern)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
