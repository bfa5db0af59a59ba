"""pgolf's own training rerun as a submission: a thin train_gpt.py around `python -m pgolf train`
on the micro configuration (.test/config/config.yaml's hyperparameters), claimed from direct
runs of `python -m pgolf train`, rerun through the DAG under torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from workflow_copy import copy_workflow

sys.path.insert(0, str(Path(__file__).parent / "data" / "rerun"))
from standin import MICRO, REPO, snakemake, write_reruns  # noqa: E402

pytestmark = pytest.mark.slow

SEEDS = (1, 2)
SCRIPT = '''"""A submission whose training is pgolf's: SEED from the environment, the rest fixed."""
import os, runpy, sys

sys.argv = ["pgolf", "train", "--seed", os.environ["SEED"], "--out", "out", *{settings!r}]
runpy.run_module("pgolf", run_name="__main__", alter_sys=True)
'''


def _settings(tiny_data) -> list[str]:
    hp = yaml.safe_load((REPO / MICRO).read_text())["train"]["hyperparameters"]
    hp.update(data_path=str(tiny_data.root), tokenizer_path=tiny_data.tokenizer_path, vocab_size=tiny_data.vocab_size)
    return [a for k, v in hp.items() for a in ("--set", f"{k}={v}")]


def test_pgolf_training_as_a_submission_reproduces_its_direct_runs(tmp_path, tiny_data):
    settings = _settings(tiny_data)
    claimed = {}
    for seed in SEEDS:  # the submitter's own runs: plain `python -m pgolf train`, no torchrun
        out = tmp_path / "direct" / str(seed)
        # one intra-op thread, as the rerun's env below: the thread count is part of the machine, and on
        # some CPUs (an AVX-512 Xeon) a second thread changes the matmuls' rounding
        subprocess.run([sys.executable, "-m", "pgolf", "train", "--seed", str(seed), "--out", str(out), *settings],
                       check=True, capture_output=True, cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"})
        final = json.loads((out / "metrics.json").read_text())["final_int8_zlib_roundtrip"]
        claimed[str(seed)] = {"val_bpb": round(final["val_bpb"], 8), "val_loss": round(final["val_loss"], 8)}
    folder = tmp_path / "pgolf_submission"
    folder.mkdir()
    (folder / "train_gpt.py").write_text(SCRIPT.format(settings=settings))
    (folder / "submission.json").write_text(json.dumps({"val_bpb": None, "seeds": claimed}))
    wf = copy_workflow(tmp_path / "wf")
    extra = write_reruns(wf, {"pgolf": {"folder": str(folder), "nproc": 1, "gpus": 0,
                                        "env": {"OMP_NUM_THREADS": 1}}})
    run = snakemake(wf, "results/rerun/pgolf/report.md", "--cores", "2", "--configfile", MICRO, extra)
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
    rec = json.loads((wf / "results/rerun/pgolf/record.json").read_text())
    assert rec["stage"] == "final_int8_zlib_roundtrip" and rec["claim_supported"] is True, rec["flags"]
    for row in rec["per_seed"]:  # same seed, same CPU, one process: the same bits
        assert row["rerun_bpb"] == pytest.approx(claimed[str(row["seed"])]["val_bpb"], abs=1e-8), row
    assert rec["reproduced"] is True
    # the script's own train.log (pgolf writes one in --out) came back with the seed's output
    assert (wf / "results/rerun/pgolf/1/script_logs/out/train.log").is_file()
