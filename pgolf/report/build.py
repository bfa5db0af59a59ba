"""The report step: the Markdown template filled from the tables, statistics and figures.

Reads the aggregate's tables, the stats' claim and paired tests and the plots' figures;
names every missing evaluation, and says why no test ran when none could.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pgolf import atomic, inputs
from pgolf.errors import ConfigError, DataError
from pgolf.report import markdown
from pgolf.report.files import read_table, read_text
from pgolf.report.tables import MISSING_COLUMNS, read_json

PLOT_NAMES = ("ablation", "positions")


# The keys of the workflow's validated config that the report reads: key -> the keys it needs inside.
REQUIRED: dict[str, tuple[str, ...]] = {"seeds": (), "data": ("source", "vocab_size", "dir"), "train": (),
                                        "eval": ("conditions", "seq_len", "chunk"), "claim": ("headline", "threshold"),
                                        "report": ()}


def parse_config(text: str) -> dict[str, Any]:
    """The workflow's whole validated config (the report rule passes it); ConfigError naming a missing key."""
    try:
        config = inputs.parse_json(text, "--config-json")
    except DataError as exc:
        raise ConfigError(str(exc)) from None
    if not isinstance(config, dict):
        raise ConfigError(f"--config-json must be a JSON object (the workflow's config), got {type(config).__name__}")
    for key, inner in REQUIRED.items():
        want = list if key == "seeds" else dict
        if not isinstance(config.get(key), want):
            raise ConfigError(f"--config-json: key {key!r} is missing or not a {want.__name__}; give the workflow's "
                              "whole validated config (the report rule passes it)")
        missing = [k for k in inner if k not in config[key]]
        if missing:
            raise ConfigError(f"--config-json: key {key}.{missing[0]} is missing; give the workflow's whole "
                              "validated config (the report rule passes it)")
    return config


def _plots(plots_dir: Path) -> dict[str, Path]:
    """The figures that exist; a missing one is said in the log, the report goes on without it."""
    found = {}
    for name in PLOT_NAMES:
        path = plots_dir / f"{name}.png"
        if path.is_file():
            found[name] = path
        else:
            print(f"report: figure {path} is missing (its plots job did not finish); left out")
    return found


def _sections(config: dict[str, Any], tables_dir: Path, stats_dir: Path, plots_dir: Path, out: Path,
              partial: bool) -> dict[str, str]:
    claim_cfg = config["claim"]
    confidence = float(claim_cfg.get("confidence", 0.95))
    claim = read_json(stats_dir / "claim.json", "claim test")
    summary = read_table(tables_dir / "conditions.csv")
    missing = read_table(tables_dir / "missing.csv")
    if missing.empty:
        missing = pd.DataFrame(columns=MISSING_COLUMNS)
    runs = read_table(tables_dir / "runs.csv")
    expected = len(runs) + len(missing)
    results = config.get("results", "results")
    info = read_json(tables_dir / "provenance.json", "run provenance")
    n_seeds = runs["seed"].nunique() if "seed" in runs else 0
    return {
        "title": config["report"].get("title") or "pgolf report",
        "overview": markdown.overview_section(config, info, runs),
        "missing": markdown.missing_section(missing, expected, results, partial),
        "claim": markdown.claim_section(claim, claim_cfg.get("note", "")),
        "what_ran": markdown.what_ran_section(config, info),
        "tables": markdown.tables_section(read_text(tables_dir / "conditions.md", "table"),
                                          read_text(tables_dir / "steps.md", "table"), confidence),
        "statistics": markdown.statistics_section(read_table(stats_dir / "paired.csv"),
                                                  float(claim_cfg.get("alpha", 0.01))),
        "noise": markdown.noise_section(read_table(stats_dir / "noise.csv")),
        "plots": markdown.plots_section(_plots(plots_dir), out, markdown.figure_notes(config, n_seeds)),
        "published": markdown.published_section(config.get("published"), summary, claim),
    }


def build_report(config: dict[str, Any], template: str, tables_dir: Path, stats_dir: Path, plots_dir: Path,
                 out: Path, template_name: str = "template", partial: bool = False) -> str:
    sections = _sections(config, tables_dir, stats_dir, plots_dir, out, partial)
    return markdown.fill_template(template, sections, template_name)


def write_report(config_json: str, template_path: str | Path, tables_dir: Path, stats_dir: Path, plots_dir: Path,
                 out: Path, partial: bool = False) -> None:
    """Fill the template and write the report atomically."""
    config = parse_config(config_json)
    template = read_text(template_path, "report template")
    text = build_report(config, template, tables_dir, stats_dir, plots_dir, out, str(template_path), partial)
    atomic.write_text(out, text)
