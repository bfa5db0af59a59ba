"""Audit a whole leaderboard: every record folder, in chronological order, each against its previous record.

The previous record of each is, by default, the best-scoring record before it: an earlier
date, or the same date with a worse score (the date is submission.json's, else the folder
name's prefix; the score is the logs' mean at the claimed stage, else the claimed headline).
A pairs file (CSV with columns `record,previous`; an empty previous means none) sets the
comparisons by hand. Each record is read once.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pgolf.errors import DataError
from pgolf.inputs import read_text
from pgolf.review.judge.record import RecordCheck, RecordResult, compare, load_record
from pgolf.review.read.claim import readme_threshold
from pgolf.review.settings import DEFAULTS, ReviewSettings


@dataclass(frozen=True)
class Audit:
    """Every record of a leaderboard judged, in chronological order, and the seconds it took."""

    results: tuple[RecordResult, ...]
    seconds: float


def record_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        raise DataError(f"records folder {root}: no such folder; give the folder holding one folder per record")
    return [p for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith((".", "_"))]


def chronological(records: Sequence[RecordCheck]) -> list[RecordCheck]:
    """By date; on one date the worse score first (it came before the record that beat it)."""
    def key(r: RecordCheck) -> tuple:
        return (r.date or "9999-99-99", -(r.score if r.score is not None else float("-inf")), r.name)
    return sorted(records, key=key)


def default_previous(ordered: Sequence[RecordCheck]) -> dict[str, str | None]:
    """Each record's previous: the best score among the records before it that have runs."""
    out: dict[str, str | None] = {}
    for i, rec in enumerate(ordered):
        before = [r for r in ordered[:i] if r.values and r.score is not None
                  and (r.date != rec.date or rec.score is None or r.score > rec.score)]
        out[rec.name] = min(before, key=lambda r: r.score).name if before else None
    return out


def read_pairs(path: Path, names: set[str]) -> dict[str, str | None]:
    text = read_text(path, "--pairs")
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    out: dict[str, str | None] = {}
    for i, row in enumerate(rows, start=2):
        rec, prev = (row.get("record") or "").strip(), (row.get("previous") or "").strip() or None
        for name in (rec, prev):
            if name is not None and name not in names:
                raise DataError(f"--pairs {path} line {i}: no record folder {name!r}; use folder names under RECORDS_DIR")
        out[rec] = prev
    return out


def audit(records_dir: str | Path, *, pairs: str | Path | None = None,
          settings: ReviewSettings = DEFAULTS) -> Audit:
    """Check every record folder, each against its previous."""
    start = time.perf_counter()
    ordered = chronological([load_record(p) for p in record_folders(Path(records_dir))])
    by_name = {r.name: r for r in ordered}
    previous = default_previous(ordered)
    if pairs is not None:
        previous.update(read_pairs(Path(pairs), set(by_name)))
    results = []
    for rec in ordered:
        prev = by_name.get(previous.get(rec.name) or "")
        # a README's own `p-value < X: P` test is computed too, to set beside its quote
        threshold = readme_threshold(rec.readme)
        stats = compare(rec, prev, threshold=threshold, threshold_source="README" if threshold is not None else None,
                        settings=settings)
        results.append(RecordResult(rec, stats))
    return Audit(tuple(results), time.perf_counter() - start)
