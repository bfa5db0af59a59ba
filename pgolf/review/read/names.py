"""How runs are named in reports: by file name (or path where two share one), and the seed a name states."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from pgolf.review.read.log import ParsedRun

_SEED_IN_NAME = re.compile(r"(?:seed[_-]?|_log_|_s)(\d+)(?!\d)", re.IGNORECASE)
_SEED_FOLDER = re.compile(r"(?:seed[_-]?|s)(\d+)", re.IGNORECASE)


def seed_from_name(file: str) -> int | None:
    """A seed the file name states (`train_seed42.log`, `train_s42.log`, `x_log_7.txt`,
    `train_seed42_rerun_2.log`), else its folder's (`runs/seed_1337/train.log`)."""
    p = Path(file)
    if m := _SEED_IN_NAME.search("_" + p.name):
        return int(m.group(1))
    for folder in p.parts[-3:-1]:  # a folder named only by its seed; never a record folder's name
        if m := _SEED_FOLDER.fullmatch(folder):
            return int(m.group(1))
    return None


def labels(runs: Sequence[ParsedRun]) -> dict[int, str]:
    """Name runs by file name, or by path where two share a name."""
    names = [r.name for r in runs]
    return {id(r): (r.name if names.count(r.name) == 1 else r.where) for r in runs}
