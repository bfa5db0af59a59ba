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


def write_csv(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> None:
    buf = io.StringIO()
    pd.DataFrame(list(rows), columns=list(columns) if columns else None).to_csv(buf, index=False, lineterminator="\n")
    atomic.write_text(path, buf.getvalue())


def check_record_to(out: str | Path, folder: str | Path, **options: Any) -> dict[str, Any]:
    """check_record(folder, **options), then DIR/runs.csv, DIR/record.json and DIR/report.md."""
    result = check_record(folder, **options)
    out = Path(out)
    write_csv(out / "runs.csv", result["runs"])
    logs = [{"file": r["file"]} for r in result["runs"]]
    result["provenance"] = provenance.collect(command="check-record", folder=str(folder), logs=logs,
                                              **{k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()})
    atomic.write_json(out / "record.json", result)
    atomic.write_text(out / "report.md", record_report(result))
    return result


def audit_to(out: str | Path, records_dir: str | Path, **options: Any) -> dict[str, Any]:
    """audit(records_dir, **options), then DIR/runs.csv, records.csv, records.json, frontier.png, report.md."""
    from pgolf.review.audit import RECORD_COLUMNS, RUN_COLUMNS, audit, record_row
    from pgolf.review.frontier import draw_frontier
    from pgolf.review.render import audit_report

    result = audit(records_dir, **options)
    out = Path(out)
    records = result["records"]
    runs = [{k: r.get(k) for k in RUN_COLUMNS} for d in records for r in d["runs"]]
    write_csv(out / "runs.csv", runs, RUN_COLUMNS)
    rows = [record_row(d) for d in records]
    write_csv(out / "records.csv", rows, RECORD_COLUMNS)
    draw_frontier(records, out / "frontier.png")
    meta = provenance.collect(command="audit", records_dir=str(records_dir),
                              **{k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()})
    atomic.write_json(out / "records.json", {"records": records, "seconds": result["seconds"], "provenance": meta})
    atomic.write_text(out / "report.md", audit_report([{**row, "flag_list": d["flags"]} for row, d in
                                                        zip(rows, records, strict=True)], result["seconds"]))
    return result
