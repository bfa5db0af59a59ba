"""Writes a stand-in record folder for the rerun tests: a script that behaves like a record's
train_gpt.py and a submission.json claiming its seeds' scores.

The script reads SEED, RUN_ID, RANK and WORLD_SIZE, can join a gloo process group (so torchrun's
ranks really talk), prints only on rank 0 and writes logs/<RUN_ID>.txt itself, in the April
`Hyperparameters:` family of ../shared/reference/review-practice.md (stage lines
`quantized_ttt val_loss:X val_bpb:Y eval_time:Nms`, size lines). Its score depends on the seed
only, so a rerun of a seed prints the same score. Knobs, from the environment:
  STANDIN_GLOO=1      the ranks join a gloo process group and gather their ranks
  STANDIN_FAIL_SEED   this seed exits 3 after printing a bad-value line
  STANDIN_SLEEP_SEED  this seed sleeps STANDIN_SLEEP_S seconds (default 600) before printing
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
MICRO = ".test/config/config.yaml"

BPB_PER_NAT = 0.5918  # the sp1024 ratio of review-practice.md

SCRIPT = r'''
import os, sys, time

SEED = int(os.environ["SEED"])
RUN_ID = os.environ["RUN_ID"]
RANK = int(os.environ["RANK"])
WORLD_SIZE = int(os.environ["WORLD_SIZE"])
GLOO = os.environ.get("STANDIN_GLOO") == "1"
if GLOO:  # the ranks really talk; without it each only reads its environment (faster)
    import torch.distributed as dist
    dist.init_process_group("gloo")
    ranks = [0] * WORLD_SIZE
    dist.all_gather_object(ranks, RANK)
    assert sorted(ranks) == list(range(WORLD_SIZE)), ranks

os.makedirs("pids", exist_ok=True)  # the tests check that a timeout leaves no rank alive
with open(f"pids/rank{RANK}.pid", "w") as fh:
    fh.write(str(os.getpid()))
if os.environ.get("STANDIN_SLEEP_SEED") == str(SEED):
    time.sleep(float(os.environ.get("STANDIN_SLEEP_S", "600")))
if os.environ.get("STANDIN_FAIL_SEED") == str(SEED):
    if RANK == 0:
        print(f"bad value: seed {SEED} told to fail", file=sys.stderr, flush=True)
    sys.exit(3)

bpb = __BASE__ + 0.0004 * ((SEED * 37) % 5)
loss = bpb / __RATIO__
lines = [
    "Hyperparameters:",
    f"  seed: {SEED}",
    f"  world_size: {WORLD_SIZE}",
    "  max_wallclock_seconds: 600.0",
    f"  run_id: {RUN_ID}",
    "train_shards: 80",
    "val_tokens: 47851520",
    "step:100/200 train_loss:2.3456 train_time:1000ms",
    "stopping_early: wallclock_cap train_time:588136ms step:200/20000",
    f"pre-quantization post-ema val_loss:{loss - 0.01:.8f} val_bpb:{bpb - 0.006:.8f} eval_time:2100ms",
    f"quantized val_loss:{loss + 0.004:.8f} val_bpb:{bpb + 0.0024:.8f} eval_time:2200ms",
    f"quantized_ttt val_loss:{loss:.8f} val_bpb:{bpb:.8f} eval_time:300000ms",
    f"cuda_visible_devices: {os.environ.get('CUDA_VISIBLE_DEVICES', '-')}",
    f"slurm_job_id: {os.environ.get('SLURM_JOB_ID', '-')}",
    "Code size: 61234 bytes",
    "Total submission size quantized+brotli: 15912345 bytes",
]
if RANK == 0:
    print("\n".join(lines), flush=True)
    os.makedirs("logs", exist_ok=True)
    with open(f"logs/{RUN_ID}.txt", "w") as fh:
        fh.write("\n".join(lines) + "\n")
if GLOO:
    dist.barrier()
    dist.destroy_process_group()
'''


def standin_bpb(seed: int, base: float = 1.12) -> float:
    """The score the stand-in prints for `seed`, at its printed 8 digits."""
    return round(base + 0.0004 * ((seed * 37) % 5), 8)


def write_standin(folder: Path, seeds: list[int], claim_offset: float = 0.0, base: float = 1.12) -> Path:
    """The folder: train_gpt.py, requirements.txt, submission.json claiming each seed's score + offset."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train_gpt.py").write_text(SCRIPT.replace("__BASE__", repr(base)).replace("__RATIO__", repr(BPB_PER_NAT)))
    (folder / "requirements.txt").write_text("torch\n")
    claimed = {str(s): {"val_bpb": round(standin_bpb(s, base) + claim_offset, 8),
                        "val_loss": round((standin_bpb(s, base) + claim_offset) / BPB_PER_NAT, 8)}
               for s in seeds}
    mean = math.fsum(v["val_bpb"] for v in claimed.values()) / len(claimed)
    (folder / "submission.json").write_text(json.dumps(
        {"name": "stand-in", "date": "2026-04-20", "val_bpb": round(mean, 4), "seeds": claimed}, indent=2))
    return folder




def write_reruns(workdir: Path, reruns: dict) -> str:
    """A config file holding only `reruns:`, given after the micro config."""
    (workdir / "reruns.yaml").write_text(yaml.safe_dump({"reruns": reruns}))
    return "reruns.yaml"


def snakemake(workdir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """snakemake in `workdir` with this repository's pgolf importable (sbatch --export=ALL passes it on)."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return subprocess.run(["snakemake", *args], cwd=workdir, env=dict(os.environ, PYTHONPATH=path),
                          capture_output=True, text=True, timeout=timeout)


def write_previous(folder: Path, seeds: list[int], base: float) -> Path:
    """A previous record: the stand-in run once per seed in one process (no torchrun), its stdout
    kept as the folder's train logs, and a submission.json claiming what they show."""
    write_standin(folder, seeds, base=base)
    for seed in seeds:
        env = dict(os.environ, SEED=str(seed), RUN_ID=f"prev{seed}", RANK="0", WORLD_SIZE="8")
        done = subprocess.run([sys.executable, "train_gpt.py"], cwd=folder, env=env, capture_output=True,
                              text=True, check=True)
        (folder / f"train_seed{seed}.log").write_text(done.stdout)
    shutil.rmtree(folder / "logs")
    shutil.rmtree(folder / "pids")
    return folder
