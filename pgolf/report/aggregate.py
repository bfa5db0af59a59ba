"""The aggregate step: every seed x condition eval JSON that exists into tidy tables.

Reads what exists and lists what is missing (so a partial report can be written
after a failed seed); the Snakemake rule only runs it once every input exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pgolf import atomic
from pgolf.provenance import collect
from pgolf.report import tables
from pgolf.report.files import csv_text


def run_info(results: dict, seeds: Sequence[int], train_metrics_pattern: str | None,
             manifest: str | None) -> dict[str, Any]:
    """What ran, from the results themselves: devices, versions, git revisions, settings, data hashes."""
    devices, revisions, hosts, versions, settings = set(), set(), set(), None, {}
    for (_seed, condition, _draw), r in sorted(results.items()):
        prov = r.get("provenance") or {}
        devices.add(str(prov.get("device_name")))
        revisions.add(str(prov.get("git_revision")))
        hosts.add(str(prov.get("host")))
        versions = versions or prov.get("versions")
        s = dict(r.get("settings") or {})
        s.pop("seed", None)
        settings.setdefault(condition, s)
    train = {}
    for seed in seeds:
        if train_metrics_pattern and Path(train_metrics_pattern.format(seed=seed)).is_file():
            train[str(seed)] = tables.read_json(train_metrics_pattern.format(seed=seed), "train metrics")
    data = tables.read_json(manifest, "data manifest") if manifest and Path(manifest).is_file() else None
    platforms = {str((r.get("provenance") or {}).get("platform")) for r in results.values()} - {"None"}
    return {
        "devices": sorted(devices), "git_revisions": sorted(revisions), "hosts": sorted(hosts),
        "platforms": sorted(platforms), "versions": versions, "eval_settings": settings, "train": train,
        "data_manifest": data, "timing": timing(data, train, results), "provenance": collect(verb="aggregate"),
    }


def timing(data: dict | None, train: dict[str, dict], results: dict) -> dict[str, Any]:
    """When the run's outputs were written (each file's provenance stamp, UTC): the dataset, then the
    last evaluation; with the data preparation's own seconds. The report's "how long"."""
    stamps = {"data": [(data or {}).get("provenance", {}).get("created_utc")],
              "train": [(m.get("provenance") or {}).get("created_utc") for m in train.values()],
              "eval": [(r.get("provenance") or {}).get("created_utc") for r in results.values()]}
    stamps = {k: sorted(s for s in v if isinstance(s, str)) for k, v in stamps.items()}
    return {"data_utc": (stamps["data"] or [None])[0], "first_train_utc": (stamps["train"] or [None])[0],
            "last_eval_utc": (stamps["eval"] or [None])[-1], "prepare_seconds": (data or {}).get("seconds")}


def write_tables(out: Path, seeds: Sequence[int], conditions: Sequence[str], ttt_draws: int, eval_pattern: str,
                 artifact_pattern: str | None = None, train_metrics_pattern: str | None = None,
                 manifest: str | None = None, confidence: float = 0.95) -> tuple[int, int]:
    """runs, conditions, steps, positions, missing tables and provenance.json into `out`;
    returns (evaluations found, evaluations missing)."""
    runs, missing, results = tables.collect_runs(seeds, conditions, ttt_draws, eval_pattern, artifact_pattern)
    summary = tables.condition_summary(runs, conditions, confidence)
    steps = tables.seed_steps(runs, conditions)
    positions = tables.position_table({
        c: [str(Path(eval_pattern.format(seed=s, name=c)).with_suffix(".positions.csv"))
            for (s, cond, d) in sorted(results) if cond == c and d == 0]
        for c in conditions
    })
    atomic.write_group({
        out / "runs.csv": csv_text(runs),
        out / "conditions.csv": csv_text(summary),
        out / "conditions.md": tables.conditions_markdown(summary, confidence) + "\n",
        out / "steps.csv": csv_text(steps),
        out / "steps.md": tables.steps_markdown(tables.seed_steps_wide(steps, conditions)) + "\n",
        out / "positions.csv": csv_text(positions),
        out / "missing.csv": csv_text(missing),
        out / "provenance.json": atomic.json_text(run_info(results, seeds, train_metrics_pattern, manifest)),
    })
    return len(runs), len(missing)
