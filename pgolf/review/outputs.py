"""Write the reviewer side's result files atomically, with provenance (runs.csv, record.json, report.md)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pgolf import atomic, provenance
from pgolf.review.record import check_record
from pgolf.review.render import record_report


def csv_text(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    buf = io.StringIO()
    pd.DataFrame(list(rows), columns=list(columns) if columns else None).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def _plain(v: Any) -> Any:
    """Options as JSON values: paths as text."""
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return str(v) if isinstance(v, Path) else v


def check_record_to(out: str | Path, folder: str | Path, **options: Any) -> dict[str, Any]:
    """check_record(folder, **options), then DIR/runs.csv, DIR/record.json and DIR/report.md."""
    result = check_record(folder, **options)
    out = Path(out)
    runs_csv = csv_text(result["runs"])
    files = [{"file": r["file"], "sha256": sha} for r, sha in zip(result["runs"], result.pop("sha256s"), strict=True)]
    result["provenance"] = provenance.collect(command="check-record", folder=str(folder), files=files,
                                              **{k: _plain(v) for k, v in options.items()})
    atomic.write_group({out / "runs.csv": runs_csv, out / "record.json": atomic.json_text(result),
                        out / "report.md": record_report(result)})
    return result


def audit_to(out: str | Path, records_dir: str | Path, **options: Any) -> dict[str, Any]:
    """audit(records_dir, **options), then DIR/runs.csv, records.csv, records.json, frontier.png, report.md."""
    from pgolf.review.audit import RECORD_COLUMNS, RUN_COLUMNS, audit, record_row
    from pgolf.review.frontier import frontier_png
    from pgolf.review.render import audit_report

    result = audit(records_dir, **options)
    out = Path(out)
    records = result["records"]
    runs = [{k: r.get(k) for k in RUN_COLUMNS} for d in records for r in d["runs"]]
    rows = [record_row(d) for d in records]
    meta = provenance.collect(command="audit", records_dir=str(records_dir),
                              **{k: _plain(v) for k, v in options.items()})
    atomic.write_group({
        out / "runs.csv": csv_text(runs, RUN_COLUMNS), out / "records.csv": csv_text(rows, RECORD_COLUMNS),
        out / "frontier.png": frontier_png(records),
        out / "records.json": atomic.json_text({"records": records, "seconds": result["seconds"], "provenance": meta}),
        out / "report.md": audit_report([{**row, "flag_list": d["flags"]} for row, d in
                                         zip(rows, records, strict=True)], result["seconds"])})
    return result
