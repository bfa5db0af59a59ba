"""`python -m pgolf aggregate`: every seed x condition eval JSON into tidy tables.

Reads what exists and lists what is missing (so a partial report can be written
after a failed seed); the Snakemake rule only runs it once every input exists.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from pgolf import atomic
from pgolf.provenance import collect
from pgolf.report import tables


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", nargs="+", type=int, required=True, help="training seeds")
    parser.add_argument("--conditions", nargs="+", choices=tables.CONDITION_ORDER, required=True,
                        help="conditions in ablation order")
    parser.add_argument("--ttt-draws", type=int, default=1, help="LoRA init draws per checkpoint")
    parser.add_argument("--eval-pattern", required=True,
                        help="eval JSON path with {seed} and {name}, e.g. results/seeds/{seed}/eval/{name}.json")
    parser.add_argument("--artifact-pattern", help="artifact path with {seed}: tells a failed training from a failed eval")
    parser.add_argument("--train-metrics-pattern", help="train metrics.json path with {seed}")
    parser.add_argument("--manifest", help="the data manifest.json (hashes go into provenance.json)")
    parser.add_argument("--confidence", type=float, default=0.95, help="level of the t-intervals")
    parser.add_argument("--out-dir", required=True, help="folder for runs.csv and the other tables")


def _csv(df) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n", float_format="%.10g")
    return buf.getvalue()


def run_info(results: dict, args: argparse.Namespace) -> dict:
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
    for seed in args.seeds:
        if args.train_metrics_pattern and Path(args.train_metrics_pattern.format(seed=seed)).is_file():
            train[str(seed)] = tables.read_json(args.train_metrics_pattern.format(seed=seed), "train metrics")
    manifest = None
    if args.manifest and Path(args.manifest).is_file():
        manifest = tables.read_json(args.manifest, "data manifest")
    return {
        "devices": sorted(devices), "git_revisions": sorted(revisions), "hosts": sorted(hosts),
        "versions": versions, "eval_settings": settings, "train": train, "data_manifest": manifest,
        "provenance": collect(verb="aggregate"),
    }


def main(args: argparse.Namespace) -> int:
    out = Path(args.out_dir)
    runs, missing, results = tables.collect_runs(
        args.seeds, args.conditions, args.ttt_draws, args.eval_pattern, args.artifact_pattern
    )
    summary = tables.condition_summary(runs, args.conditions, args.confidence)
    steps = tables.seed_steps(runs, args.conditions)
    positions = tables.position_table({
        c: [str(Path(args.eval_pattern.format(seed=s, name=c)).with_suffix(".positions.csv"))
            for (s, cond, d) in sorted(results) if cond == c and d == 0]
        for c in args.conditions
    })
    atomic.write_text(out / "runs.csv", _csv(runs))
    atomic.write_text(out / "conditions.csv", _csv(summary))
    atomic.write_text(out / "conditions.md", tables.conditions_markdown(summary, args.confidence) + "\n")
    atomic.write_text(out / "steps.csv", _csv(steps))
    atomic.write_text(out / "steps.md", tables.steps_markdown(tables.seed_steps_wide(steps, args.conditions)) + "\n")
    atomic.write_text(out / "positions.csv", _csv(positions))
    atomic.write_text(out / "missing.csv", _csv(missing))
    atomic.write_json(out / "provenance.json", run_info(results, args))
    print(f"aggregate: {len(runs)} evaluation(s), {len(missing)} missing -> {out}")
    return 0
