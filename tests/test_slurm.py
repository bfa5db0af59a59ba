"""The DAG runs through Snakemake's SLURM executor on a real (one-node, local) cluster.

Needs a cluster that answers: `.ci/slurm/run-tests.sh` starts one
(`.ci/slurm/start.sh`: munged, slurmctld, slurmd on localhost, 2 stand-in GPUs),
sets PGOLF_SLURM=1 and runs this file. Without both, every test here is skipped
and says why. The micro DAG runs once (module fixture) through
`profiles/slurm-ci`; the tests then read what it left.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest
from workflow_copy import copy_workflow as _copy_workflow

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "profiles" / "slurm-ci"
MICRO = ".test/config/config.yaml"
# Rules that must run on the submitting host, never as SLURM jobs.
LOCAL_RULES = {"aggregate", "stats", "plots", "report", "all"}


def _no_cluster_reason() -> str | None:
    """Why the SLURM tests cannot run here, or None when a cluster answers."""
    if os.environ.get("PGOLF_SLURM") != "1":
        return "PGOLF_SLURM=1 is not set (.ci/slurm/run-tests.sh starts a local cluster and sets it)"
    if shutil.which("sinfo") is None:
        return "no `sinfo` on PATH: SLURM is not installed (.ci/slurm/start.sh installs and starts it)"
    try:
        probe = subprocess.run(["sinfo", "-h", "-o", "%P %a"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "`sinfo` did not answer in 30 s: is slurmctld running? (.ci/slurm/start.sh)"
    if probe.returncode != 0:
        return f"`sinfo` failed: {probe.stderr.strip()} (.ci/slurm/start.sh starts a cluster)"
    if not re.search(r"\bup\b", probe.stdout):
        return f"no partition is up: {probe.stdout.strip()!r}"
    return None


_REASON = _no_cluster_reason()
pytestmark = [
    pytest.mark.slurm,
    pytest.mark.slow,
    pytest.mark.skipif(_REASON is not None, reason=_REASON or ""),
]


def _env() -> dict[str, str]:
    """This env, with the repo importable: sbatch --export=ALL hands it to every job."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path)


class Run(NamedTuple):
    returncode: int
    out: str  # stdout + stderr: Snakemake's job and error reports go to stderr


def _snakemake(workdir: Path, *args: str, profile: bool = True, timeout: float = 900) -> Run:
    """snakemake in `workdir`, through the SLURM CI profile unless profile=False (local executor)."""
    cmd = ["snakemake", *(["--profile", str(PROFILE)] if profile else []), *args]
    done = subprocess.run(cmd, cwd=workdir, env=_env(), capture_output=True, text=True, timeout=timeout)
    return Run(done.returncode, done.stdout + done.stderr)




def _submitted(output: str) -> dict[str, str]:
    """SLURM job id -> its log path, from the plugin's 'has been submitted' lines."""
    return dict(re.findall(r"has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.", output))


def _job_counts(output: str) -> dict[str, int]:
    """Snakemake's 'Job stats' table: rule -> number of jobs."""
    table = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)
        if m.group(1) != "total"
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tail(text: str, n: int = 8000) -> str:
    return text[-n:]


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory: pytest.TempPathFactory):
    """The micro DAG, run once through the SLURM profile: (workdir, completed process)."""
    root = _copy_workflow(tmp_path_factory.mktemp("slurm") / "wf")
    return root, _snakemake(root, "--configfile", MICRO)


def test_micro_dag_completes_with_each_compute_job_as_its_own_slurm_job(cluster_run):
    root, run = cluster_run
    assert run.returncode == 0, _tail(run.out)
    counts = _job_counts(run.out)
    remote = sum(n for rule, n in counts.items() if rule not in LOCAL_RULES)
    submitted = _submitted(run.out)
    assert len(submitted) == remote, f"{len(submitted)} SLURM jobs for {counts}"
    for rule in LOCAL_RULES & counts.keys():
        assert re.search(rf"^localrule {rule}:", run.out, re.M), f"rule {rule} did not run locally"
    # every SLURM job left its log (the profile keeps them) where the plugin said
    for log in submitted.values():
        assert Path(log).is_file(), log
        assert Path(log).is_relative_to(root / "results/logs/slurm"), log
    # and nothing is left to do: every output of the DAG is there and up to date
    again = _snakemake(root, "--configfile", MICRO, "--dry-run")
    assert again.returncode == 0, _tail(again.out)
    assert "Nothing to be done" in again.out, _tail(again.out)


def test_micro_dag_tables_cover_every_seed_and_condition(cluster_run):
    root, run = cluster_run
    assert run.returncode == 0, _tail(run.out)
    with open(root / "results/tables/runs.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    seen = {(r["seed"], r["condition"]) for r in rows}
    assert {s for s, _ in seen} == {"1", "2"}
    assert {c for _, c in seen} >= {"flat", "doc", "sliding", "ttt"}
    assert (root / "results/report.md").read_text().strip()


def test_cluster_results_equal_a_local_run_of_the_same_seed(cluster_run, tmp_path):
    """Same seed + config + CPU -> the same numbers, whether SLURM or the local executor ran it."""
    root, run = cluster_run
    assert run.returncode == 0, _tail(run.out)
    local = _copy_workflow(tmp_path / "local")
    target = "results/seeds/1/eval/ttt.json"
    lrun = _snakemake(local, target, "--cores", "2", "--configfile", MICRO, profile=False)
    assert lrun.returncode == 0, _tail(lrun.out)
    # the same data first (a difference here is in prepare, not in the executor) ...
    for rel in ("results/data/pgolf_train_000000.bin", "results/data/pgolf_val_000000.bin"):
        assert _sha256(root / rel) == _sha256(local / rel), rel
    # ... then the same checkpoint and the same evaluation, to the last bit
    a, b = (json.loads((d / target).read_text()) for d in (root, local))
    for key in ("artifact_sha256", "val_loss", "val_bpb", "tokens", "bytes", "loss_sum_nats"):
        assert a[key] == b[key], (key, a[key], b[key])
    rel = "results/seeds/1/eval/ttt.positions.csv"
    assert _sha256(root / rel) == _sha256(local / rel), rel


def test_failed_cluster_job_shows_its_slurm_log_in_the_error(cluster_run, tmp_path):
    """A corrupt checkpoint fails seed 2's eval job on the cluster; the error names its SLURM log.

    Works on its own copy of the finished run (mtimes kept), so the other tests never see the break.
    """
    finished, run = cluster_run
    assert run.returncode == 0, _tail(run.out)
    root = Path(shutil.copytree(finished, tmp_path / "wf", symlinks=True))
    (root / "results/seeds/2/train/final_model.int8.ptz").write_bytes(b"not an artifact")
    # one target, so one job: the eval of seed 2's (now newer) checkpoint
    bad = _snakemake(root, "results/seeds/2/eval/flat.json", "--configfile", MICRO)
    assert bad.returncode != 0, _tail(bad.out)
    errors = re.findall(r"Error in rule (\w+):\n(.*?)\n\s+log: (.+?) \(check log file", bad.out, re.S)
    assert len(errors) == 1, _tail(bad.out)
    for rule, _, logs in errors:
        assert rule == "eval", _tail(bad.out)
        slurm_logs = [Path(p.strip()) for p in logs.split(",") if "/logs/slurm/" in p]
        assert slurm_logs, f"no SLURM log named in: {logs}"
        log = slurm_logs[0]
        assert log.is_file(), log
        # <slurm-logdir>/rule_eval/<seed>_<condition>/<jobid>.log
        assert log.parent.parent.name == "rule_eval" and log.parent.name.startswith("2_"), log
        assert "Error in rule eval" in log.read_text()
        rule_log = root / logs.split(",")[0].strip()
        assert "final_model.int8.ptz: neither an int8+zlib artifact" in rule_log.read_text(), rule_log
    assert "SLURM status is: 'FAILED'" in bad.out


def test_real_train_rule_with_two_gpus_runs_torchrun_with_two_ranks_in_one_slurm_job(tmp_path):
    """train.gpus: 2 -> the real `train` rule asks SLURM for 2 GPUs and runs torchrun with 2 ranks.

    The CI node's GPUs are stand-ins (GRES backed by /dev/null, /dev/zero), so the ranks
    find no CUDA and train on the CPU with gloo; what this pins is the request, the
    launcher and the two-rank run inside one job.
    """
    gres = subprocess.run(["sinfo", "-h", "-o", "%G"], capture_output=True, text=True).stdout
    if "gpu:" not in gres:
        pytest.skip(f"the cluster offers no GPUs (sinfo %G: {gres.strip()!r}); start.sh adds 2 stand-ins")
    root = _copy_workflow(tmp_path / "wf")
    # Two ranks must divide the accumulation base (pgolf.train.grad_accum_steps_for).
    (root / "gpus2.yaml").write_text("train:\n  gpus: 2\n  hyperparameters:\n    grad_accum_base: 2\n")
    target = "results/seeds/1/train/metrics.json"
    run = _snakemake(root, target, "--configfile", MICRO, "gpus2.yaml")
    assert run.returncode == 0, _tail(run.out)
    assert "torchrun --standalone --nproc_per_node=2 -m pgolf train --seed 1" in run.out, _tail(run.out)
    submitted = _submitted(run.out)
    train_jobs = [job for job, log in submitted.items() if "/rule_train/" in log]
    assert len(train_jobs) == 1, submitted
    job = subprocess.run(["scontrol", "show", "job", train_jobs[0]], capture_output=True, text=True).stdout
    assert re.search(r"gres/gpu[:=]2|gpu:2", job), job
    metrics = json.loads((root / target).read_text())
    assert metrics["world_size"] == 2 and metrics["grad_accum_steps"] == 1, metrics["world_size"]
    log = (root / "results/seeds/1/train/train.log").read_text()
    assert "world_size:2 grad_accum_steps:1" in log
    assert (root / "results/seeds/1/train/final_model.int8.ptz").stat().st_size == metrics["artifact_bytes"]
