"""The one boundary every input file passes: a regular file, a size bound, UTF-8 with a named error, a depth
bound, finite numbers only. Each failure is a DataError naming the file (and the byte or line) and what to do.

A FIFO or a device never blocks a read, `/dev/zero` never fills memory, a file nested thousands deep never
reaches Python's recursion limit, and `NaN`/`Infinity` in JSON never become numbers.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from pgolf.errors import DataError

# One bound for every file and git blob pgolf reads (a config, a table, a train log, a README, a script): 64 MiB
# holds the largest real train log (about 10 MB) many times over and keeps one hostile file (a sparse 2 GiB log,
# a one-line 200 MB blob) from filling memory. Read at call time (`bound()`), so a test can lower it.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 100  # JSON or YAML nesting: pgolf's files are a few levels deep


def bound() -> int:
    """The byte bound of one file, as set now (MAX_FILE_BYTES)."""
    return MAX_FILE_BYTES


def check_size(size: int, label: str) -> None:
    """DataError naming the file, its size and the bound when `size` is over it: such a file is never read."""
    if size > bound():
        raise DataError(f"{label}: {size:,} bytes, over the {bound():,}-byte bound for one file; it is not read "
                        "(is it the right file?)")


def read_bytes(path: str | Path, what: str) -> bytes:
    """A regular file's bytes, under the one bound; DataError naming the file otherwise."""
    p = Path(path)
    try:
        info = p.stat()
        if not stat.S_ISREG(info.st_mode):
            raise DataError(f"{what} {p}: not a regular file; give a file")
        check_size(info.st_size, f"{what} {p}")
        with open(p, "rb") as fh:
            data = fh.read(bound() + 1)
        check_size(len(data), f"{what} {p}")  # it grew after stat: still never more than the bound in memory
        return data
    except FileNotFoundError:
        raise DataError(f"{what} {p}: no such file; check the path") from None
    except OSError as exc:
        raise DataError(f"{what} {p}: cannot read it ({exc.strerror or exc})") from None


def read_text(path: str | Path, what: str) -> str:
    """A text file as UTF-8 (a BOM dropped); DataError naming the file and the byte offset otherwise."""
    data = read_bytes(path, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{what} {path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None


def _depth(obj: Any) -> int:
    depth, level = 0, [obj]
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            return depth
        level = [v for x in level for v in (x.values() if isinstance(x, dict) else x if isinstance(x, list) else ())]
    return depth


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(text: str, where: str) -> Any:
    """JSON text with no NaN/Infinity and at most MAX_DEPTH levels; DataError naming `where` and the line."""
    try:
        obj = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno}); fix or remove it") from None
    except ValueError as exc:
        raise DataError(f"{where}: {exc}; write a finite number or null") from None
    except RecursionError:
        raise _too_deep(where) from None
    return _bounded(obj, where)


def _too_deep(where: str) -> DataError:
    return DataError(f"{where}: nested too deeply (over {MAX_DEPTH} levels); it is not a pgolf file")


def _bounded(obj: Any, where: str) -> Any:
    if _depth(obj) > MAX_DEPTH:
        raise _too_deep(where)
    return obj


def read_json(path: str | Path, what: str) -> Any:
    return parse_json(read_text(path, what), f"{what} {path}")


def read_csv(path: str | Path, what: str, empty_ok: bool = True) -> Any:
    """A CSV table (a pandas DataFrame) through the same boundary: a regular file under the bound, UTF-8 named
    with the byte; a file pandas cannot parse is a DataError naming it. With `empty_ok`, an empty file is an
    empty table."""
    import io

    import pandas as pd

    text = read_text(path, what)
    try:
        return pd.read_csv(io.StringIO(text))
    except pd.errors.EmptyDataError:
        if empty_ok:
            return pd.DataFrame()
        raise DataError(f"{what} {path}: empty, no table") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{what} {path}: not a CSV table ({str(exc).strip()})") from None


def read_yaml(path: str | Path, what: str) -> Any:
    """YAML through yaml.safe_load (no Python objects), with the same bounds."""
    import yaml

    text = read_text(path, what)
    try:
        obj = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise DataError(f"{what} {path}: not valid YAML{where} ({getattr(exc, 'problem', None) or exc})") from None
    except RecursionError:
        raise _too_deep(f"{what} {path}") from None
    return _bounded(obj, f"{what} {path}")
