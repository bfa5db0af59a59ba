"""Compliance reruns through Snakemake's SLURM executor on the local one-node cluster
(.ci/slurm/start.sh; PGOLF_SLURM=1), with profiles/slurm-ci: each seed is its own SLURM
job asking for --gpus=nproc, the check runs on the submitting host."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from workflow_copy import copy_workflow

sys.path.insert(0, str(Path(__file__).parent / "data" / "rerun"))
from standin import MICRO, REPO, snakemake, write_reruns, write_standin  # noqa: E402


def _no_cluster() -> str | None:
    if os.environ.get("PGOLF_SLURM") != "1":
        return "PGOLF_SLURM=1 is not set (.ci/slurm/run-tests.sh starts a local cluster and sets it)"
    if shutil.which("sinfo") is None:
        return "no `sinfo` on PATH: SLURM is not installed (.ci/slurm/start.sh)"
    gres = subprocess.run(["sinfo", "-h", "-o", "%G"], capture_output=True, text=True, timeout=30).stdout
    if "gpu:" not in gres:
        return f"the cluster offers no GPUs (sinfo %G: {gres.strip()!r}); start.sh adds 2 stand-ins"
    return None


_REASON = _no_cluster()
pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.skipif(_REASON is not None, reason=_REASON or "")]


def test_reruns_run_as_one_slurm_job_per_seed_with_the_gpus_of_nproc(tmp_path):
    wf = copy_workflow(tmp_path / "wf")
    extra = write_reruns(wf, {
        "ok": {"folder": str(write_standin(tmp_path / "ok", [1, 2])), "nproc": 2, "env": {"STANDIN_GLOO": 1}},
        "stale": {"folder": str(write_standin(tmp_path / "stale", [1, 2], claim_offset=-0.01)),
                  "nproc": 2, "gpus": 0},
    })
    run = snakemake(wf, "--profile", str(REPO / "profiles/slurm-ci"), "results/rerun/ok/report.md",
                    "results/rerun/stale/report.md", "--configfile", MICRO, extra, timeout=900)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-6000:]
    submitted = dict(re.findall(r"has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.", out))
    assert len(submitted) == 4, out[-4000:]  # the four seeds; rerun_check is local
    assert len(re.findall(r"^localrule rerun_check:", out, re.M)) == 2
    # <slurm-logdir>/rule_rerun_seed/<name>_<seed>/<jobid>.log, as the README says
    dirs = sorted(Path(log).parent.name for log in submitted.values())
    assert dirs == ["ok_1", "ok_2", "stale_1", "stale_2"], dirs
    for log in submitted.values():
        assert Path(log).is_file() and Path(log).parent.parent.name == "rule_rerun_seed", log
    for seed in (1, 2):
        log = (wf / f"results/rerun/ok/{seed}/train.log").read_text()
        assert "cuda_visible_devices: 0,1" in log  # sbatch --gpus=2 handed both stand-in GPUs over
        assert re.search(r"slurm_job_id: (\d+)", log).group(1) in submitted
    ok = json.loads((wf / "results/rerun/ok/record.json").read_text())
    stale = json.loads((wf / "results/rerun/stale/record.json").read_text())
    assert ok["reproduced"] is True and stale["reproduced"] is False
