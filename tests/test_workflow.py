"""The real Snakemake DAG on the micro config (.test/config/config.yaml), in a temporary copy.

One run from clean per session (conftest.finished_run), kept pristine; every test that reruns or breaks
something works on its own copy of it (files, mtimes and .snakemake metadata), so the
tests pass in any order or alone: nothing to do when nothing changed; a template edit
reruns the report alone; a failed seed under --keep-going still yields a partial report
(report.partial.md) naming what is missing, beside the complete one. Config errors fail at startup naming the key.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from workflow_copy import MICRO, copy_workflow, run_snakemake, snakemake

CONDITIONS = ("flat", "doc", "sliding", "ttt")


def planned_jobs(where: Path) -> dict[str, int]:
    """rule -> job count from a dry run's 'Job stats' table (empty when there is nothing to do)."""
    out = snakemake(where, "--dry-run")
    assert out.returncode == 0, out.stderr
    text = out.stdout + out.stderr
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:", 1)[1]
    jobs = {}
    for line in table.splitlines()[3:]:
        m = re.match(r"^(\S+)\s+(\d+)$", line.strip())
        if not m:
            break
        if m.group(1) != "total":
            jobs[m.group(1)] = int(m.group(2))
    return jobs


@pytest.mark.slow
def test_full_dag_writes_every_output(finished_run):
    res = finished_run / "results"
    for seed in (1, 2):
        train = res / "seeds" / str(seed) / "train"
        for name in ("final_model.int8.ptz", "final_model.pt", "train.log", "metrics.json"):
            assert (train / name).is_file(), train / name
        for name in (*CONDITIONS, "ttt_draw1"):
            for suffix in (".json", ".positions.csv", ".docs.csv"):
                assert (res / "seeds" / str(seed) / "eval" / f"{name}{suffix}").is_file(), (seed, name, suffix)
    runs = pd.read_csv(res / "tables" / "runs.csv")
    assert len(runs) == 2 * 5
    assert set(runs.columns) >= {"seed", "condition", "draw", "val_loss", "val_bpb", "tokens", "bytes", "seconds"}
    assert sorted(runs[runs["condition"] == "ttt"]["draw"].unique().tolist()) == [0, 1]
    for name in ("tables/conditions.md", "tables/steps.md", "tables/positions.csv", "tables/missing.csv",
                 "stats/claim.json", "stats/paired.csv", "stats/noise.csv", "plots/ablation.png",
                 "plots/positions.png", "report.md"):
        assert (res / name).is_file(), name
    report = (res / "report.md").read_text()
    assert "one-sided t-test p = " in report and "n = 2" in report
    assert "Evaluation noise apart from training noise" in report
    assert "Incomplete" not in report
    for log in ("prepare.log", "train/1.log", "eval/2/ttt_draw1.log", "aggregate.log", "report.log"):
        assert (res / "logs" / log).is_file(), log


@pytest.mark.slow
def test_noise_csv_splits_the_ttt_spread_into_eval_and_train_parts(finished_run):
    """Recomputed by hand from runs.csv: per seed the mean and sample std over its draws; `all` pools
    the within-seed variances (equal draws: their mean) and takes the std of the seed means."""
    import numpy as np

    res = finished_run / "results"
    runs = pd.read_csv(res / "tables" / "runs.csv")
    noise = pd.read_csv(res / "stats" / "noise.csv", dtype={"seed": str})
    ttt = runs[runs["condition"] == "ttt"]
    by_seed = {str(s): g["val_bpb"].to_numpy() for s, g in ttt.groupby("seed")}
    assert list(noise["seed"]) == [*sorted(by_seed), "all"]
    for seed, draws in by_seed.items():
        row = noise[noise["seed"] == seed].iloc[0]
        assert row["draws"] == len(draws) == 2
        assert row["mean_bpb"] == pytest.approx(draws.mean(), abs=1e-8)
        assert row["std_bpb"] == pytest.approx(abs(draws[0] - draws[1]) / np.sqrt(2), abs=1e-8)
    everything = noise[noise["seed"] == "all"].iloc[0]
    within = np.mean([np.var(d, ddof=1) for d in by_seed.values()])
    means = [d.mean() for d in by_seed.values()]
    assert everything["eval_std"] == pytest.approx(np.sqrt(within), abs=1e-8)
    assert everything["train_std"] == pytest.approx(abs(means[0] - means[1]) / np.sqrt(2), abs=1e-8)
    assert everything["eval_share"] == pytest.approx(within / 2 / np.var(means, ddof=1), rel=1e-4)


@pytest.mark.slow
def test_rerun_with_nothing_changed_has_nothing_to_do(run_dir):
    assert planned_jobs(run_dir) == {}


@pytest.mark.slow
def test_a_record_setting_dry_run_beside_the_default_leaves_it_with_nothing_new_to_do(run_dir):
    before = planned_jobs(run_dir)
    record = run_snakemake(run_dir, "--profile", "profiles/record", "results/record/report.md", "-n")
    assert record.returncode == 0, record.stderr[-3000:]
    outputs = re.findall(r"^\s+output: (.+)$", record.stdout, flags=re.M)
    files = [f.strip() for line in outputs for f in line.split(",")]
    assert files and all(f.startswith(("results/record/", "data/")) for f in files), files
    assert planned_jobs(run_dir) == before


@pytest.mark.slow
def test_editing_the_report_template_reruns_only_the_report(run_dir):
    template = run_dir / "workflow" / "report" / "report_template.md"
    template.write_text(template.read_text() + "\nReviewed by the template test.\n")
    runs_before = (run_dir / "results" / "tables" / "runs.csv").stat().st_mtime_ns
    assert planned_jobs(run_dir) == {"report": 1, "all": 1}
    out = snakemake(run_dir)
    assert out.returncode == 0, out.stderr[-4000:]
    assert "Reviewed by the template test." in (run_dir / "results" / "report.md").read_text()
    assert (run_dir / "results" / "tables" / "runs.csv").stat().st_mtime_ns == runs_before
    assert planned_jobs(run_dir) == {}


@pytest.mark.slow
def test_keep_going_with_a_failed_seed_writes_a_partial_report_beside_the_complete_one(run_dir):
    # A corrupt artifact makes seed 2's evaluations fail; seed 1 is untouched.
    (run_dir / "results" / "seeds" / "2" / "train" / "final_model.int8.ptz").write_bytes(b"not an artifact")
    res = run_dir / "results"
    complete = {p: p.read_bytes() for p in [res / "report.md", *sorted((res / "tables").iterdir())]}
    partial = res / "report.partial.md"
    # A failed target that is not the report, or a run not asked to keep going, writes no partial report.
    one = snakemake(run_dir, "results/seeds/2/eval/flat.json", "--keep-going", "--force")
    assert one.returncode != 0
    assert not partial.exists() and not (res / "logs" / "partial_report.log").exists()
    out = snakemake(run_dir, "--keep-going")
    assert out.returncode != 0
    assert {p: p.read_bytes() for p in complete} == complete  # the complete report and its tables, as they were
    report = partial.read_text()
    assert "Partial report:" in report
    assert "Incomplete run: 5 of 10 evaluations are missing" in report
    assert "seed 2: evaluation did not finish: flat, doc, sliding, ttt, ttt_draw1" in report
    assert "No test was run" in report  # one seed left
    runs = pd.read_csv(res / "partial" / "tables" / "runs.csv")
    assert set(runs["seed"]) == {1}
    assert (res / "seeds" / "1" / "eval" / "ttt.json").is_file()


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("seedz: [1, 2]\n", "'seedz' was unexpected"),
        ("eval:\n  conditions: [flat, slidng]\n", "'slidng' is not one of ['flat', 'doc', 'sliding', 'ttt']"),
        ("train:\n  hyperparameters:\n    num_layer: 3\n", "unknown hyperparameter 'num_layer'"),
        ("eval:\n  conditions: [flat, doc]\n", "config key claim.headline: 'ttt' is not among eval.conditions"),
        ("seeds: [1, 1]\n", "has non-unique elements"),
        ("eval:\n  chunk: 999\n", "eval.chunk 999 is longer than eval.seq_len 64"),
        ("seeds: [1]\n", "config key seeds: [1] gives 1 seed, but testing the claim needs at least 2"),
        ("seeds: [1, 4294967296]\n", "4294967296 is greater than the maximum of 4294967295"),
        ("eval:\n  ttt_draws: 101\n", "101 is greater than the maximum of 100"),
        ("eval:\n  ttt_seed: 4294967295\n", "config key eval.ttt_seed: 4294967295 + 1 draws reaches 4294967296"),
    ],
)
def test_config_error_fails_at_startup_naming_the_key(tmp_path, yaml_text, expected):
    where = copy_workflow(tmp_path / "wf")
    (where / "bad.yaml").write_text(yaml_text)
    out = snakemake(where, "--dry-run", configfiles=(MICRO, "bad.yaml"), timeout=120)
    assert out.returncode != 0
    assert expected in out.stdout + out.stderr


def test_plots_get_the_configured_confidence(tmp_path):
    where = copy_workflow(tmp_path / "wf")
    (where / "level.yaml").write_text("claim:\n  headline: ttt\n  threshold: 10.0\n  confidence: 0.9\n")
    out = snakemake(where, "results/plots/ablation.png", "--dry-run", "--printshellcmds",
                    configfiles=(MICRO, "level.yaml"), timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    plots = [line for line in out.stdout.splitlines() if "python -m pgolf plots" in line]
    assert plots and "--confidence 0.9 " in plots[0]
