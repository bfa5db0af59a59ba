"""`python -m pgolf report`: fill the Markdown template from the tables, statistics and figures.

Reads results/tables (aggregate), results/stats (stats) and results/plots (plots);
names every missing evaluation, and says why no test ran when none could.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from pgolf import atomic
from pgolf.errors import ConfigError, DataError
from pgolf.report import markdown
from pgolf.report.tables import read_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config-json", required=True, help="the workflow's validated config, as JSON text")
    parser.add_argument("--template", required=True, help="Markdown template with $placeholders")
    parser.add_argument("--tables-dir", required=True, help="aggregate's folder (runs.csv, conditions.md, ...)")
    parser.add_argument("--stats-dir", required=True, help="stats' folder (claim.json, paired.csv, noise.csv)")
    parser.add_argument("--plots-dir", required=True, help="plots' folder (ablation.png, positions.png)")
    parser.add_argument("--out", required=True, help="the report, e.g. results/report.md")


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (OSError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read {path}: {exc}; rerun the step that writes it") from exc


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read {what} {path}: {exc.strerror}") from exc


def build_report(config: dict, template: str, tables_dir: Path, stats_dir: Path, plots_dir: Path,
                 out: Path, template_name: str = "template") -> str:
    claim_cfg = config["claim"]
    confidence = float(claim_cfg.get("confidence", 0.95))
    claim = read_json(stats_dir / "claim.json", "claim test")
    info = read_json(tables_dir / "provenance.json", "run provenance")
    summary = _read_csv(tables_dir / "conditions.csv")
    missing = _read_csv(tables_dir / "missing.csv")
    if missing.empty:
        missing = pd.DataFrame(columns=["seed", "condition", "draw", "path", "reason"])
    runs = _read_csv(tables_dir / "runs.csv")
    noise = _read_csv(stats_dir / "noise.csv")
    plots = {name: plots_dir / f"{name}.png" for name in ("ablation", "positions")}
    plots = {k: v for k, v in plots.items() if v.is_file()}
    sections = {
        "title": config["report"].get("title") or "pgolf report",
        "missing": markdown.missing_section(missing, len(runs) + len(missing)),
        "claim": markdown.claim_section(claim, claim_cfg.get("note", "")),
        "what_ran": markdown.what_ran_section(config, info),
        "tables": markdown.tables_section(_read_text(tables_dir / "conditions.md", "table"),
                                          _read_text(tables_dir / "steps.md", "table"), confidence),
        "statistics": markdown.statistics_section(_read_csv(stats_dir / "paired.csv"), float(claim_cfg.get("alpha", 0.01))),
        "noise": markdown.noise_section(noise),
        "plots": markdown.plots_section(plots, out),
        "published": markdown.published_section(config.get("published"), summary, claim),
    }
    return markdown.fill_template(template, sections, template_name)


def main(args: argparse.Namespace) -> int:
    try:
        config = json.loads(args.config_json)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--config-json is not valid JSON: {exc}") from exc
    template = _read_text(Path(args.template), "report template")
    text = build_report(config, template, Path(args.tables_dir), Path(args.stats_dir), Path(args.plots_dir),
                        Path(args.out), args.template)
    atomic.write_text(args.out, text)
    print(f"report: {args.out}")
    return 0
