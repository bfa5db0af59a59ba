"""`python -m pgolf report`: fill the Markdown template from the tables, statistics and figures
(pgolf.report.build)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pgolf.report.build import write_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config-json", required=True, help="the workflow's validated config, as JSON text")
    parser.add_argument("--template", required=True, help="Markdown template with $placeholders")
    parser.add_argument("--tables-dir", required=True, help="aggregate's folder (runs.csv, conditions.md, ...)")
    parser.add_argument("--stats-dir", required=True, help="stats' folder (claim.json, paired.csv, noise.csv)")
    parser.add_argument("--plots-dir", required=True, help="plots' folder (ablation.png, positions.png)")
    parser.add_argument("--out", required=True, help="the report, e.g. results/report.md")
    parser.add_argument("--partial", action="store_true",
                        help="say at the top that this report was written after failed jobs (--keep-going)")


def main(args: argparse.Namespace) -> int:
    write_report(args.config_json, args.template, Path(args.tables_dir), Path(args.stats_dir),
                 Path(args.plots_dir), Path(args.out), args.partial)
    print(f"report: {args.out}")
    return 0
