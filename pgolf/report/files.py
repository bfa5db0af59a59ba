"""Reading and writing the DAG's tables: one CSV format for every table pgolf writes,
and readers that name the file and the step to rerun when one is missing or broken."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from pgolf import inputs
from pgolf.errors import DataError
from pgolf.report.tables import RUN_COLUMNS


def csv_text(df: pd.DataFrame) -> str:
    """A table as CSV text: no index, Unix newlines, floats to 10 significant digits
    (stable bytes across platforms, and every digit a reader needs)."""
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n", float_format="%.10g")
    return buf.getvalue()


def read_table(path: str | Path, rerun: str = "the step that writes it", empty_ok: bool = True) -> pd.DataFrame:
    """A CSV table through the one input boundary (pgolf.inputs.read_csv); with `empty_ok`, an empty file is an
    empty table. The error names the file and the step to rerun."""
    try:
        return inputs.read_csv(path, "table", empty_ok)
    except DataError as exc:
        raise DataError(f"{exc}; rerun {rerun}") from None


def read_runs(path: str | Path) -> pd.DataFrame:
    """results/tables/runs.csv, checked for the columns every reader needs."""
    rerun = "`python -m pgolf aggregate`"
    try:
        runs = inputs.read_csv(path, "runs table", empty_ok=False)
    except DataError as exc:
        raise DataError(f"{exc}; rerun {rerun}") from None
    lacking = set(RUN_COLUMNS) - set(runs.columns)
    if lacking:
        raise DataError(f"{path}: lacks column(s) {', '.join(sorted(lacking))}; rerun {rerun}")
    _check_runs(runs, path, rerun)
    return runs


def _check_runs(runs: pd.DataFrame, path: str | Path, rerun: str) -> None:
    """Every measured value a finite number and every run listed once, or DataError naming the row (the
    statistics would otherwise fail inside pandas or scipy, or silently drop a NaN run)."""
    for column in ("seed", "draw", "val_loss", "val_bpb", "tokens", "bytes"):
        values = pd.to_numeric(runs[column], errors="coerce")
        bad = runs.index[values.isna() | ~values.abs().lt(float("inf"))]
        if len(bad):
            row = runs.loc[bad[0]]
            value = row[column]
            shown = repr(value) if isinstance(value, str) else str(value)
            raise DataError(f"{path}: row {bad[0] + 2} (seed {row['seed']}, condition {row['condition']}) has "
                            f"{column} = {shown}, not a finite number; rerun {rerun}")
    key = ["seed", "condition", "draw"]
    repeated = runs[runs.duplicated(key, keep="first")]
    if len(repeated):
        row = repeated.iloc[0]
        raise DataError(f"{path}: seed {row['seed']}, condition {row['condition']}, draw {row['draw']} is listed "
                        f"more than once (row {repeated.index[0] + 2}); each run must appear once: rerun {rerun}")


def read_text(path: str | Path, what: str) -> str:
    return inputs.read_text(path, what)
