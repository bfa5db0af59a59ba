"""End-to-end training on the tiny prepared corpus: loss goes down, runs repeat exactly, torchrun agrees."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pgolf.__main__ import main as pgolf_main
from pgolf.config import load_config
from pgolf.errors import ConfigError
from pgolf.train import FINAL_FILES, grad_accum_steps_for, train

ITERATIONS = 12


def _overrides(tiny_data, **extra) -> list[str]:
    base = dict(
        train_files=tiny_data.train_glob, val_files=tiny_data.val_glob, tokenizer_path=tiny_data.tokenizer_path,
        vocab_size=tiny_data.vocab_size, num_layers=2, model_dim=64, num_heads=4, num_kv_heads=2,
        train_seq_len=128, train_batch_tokens=2048, grad_accum_base=2, iterations=ITERATIONS, warmup_steps=2,
        warmdown_iters=4, max_wallclock_seconds=0, val_loss_every=ITERATIONS, train_log_every=4,
        val_batch_size=16384, val_max_tokens=12288, device="cpu",
    )
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]


def _numbers(metrics: dict) -> dict:
    """Every number of metrics.json that does not measure time."""
    return {
        "roundtrip": {k: v for k, v in metrics["final_int8_zlib_roundtrip"].items() if k != "eval_time_ms"},
        "prequant": metrics["final_prequant"],
        "bytes": (metrics["artifact_bytes"], metrics["raw_model_bytes"]),
        "steps": metrics["steps"],
    }


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def single_run(tiny_data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run_a")
    train(load_config(None, _overrides(tiny_data, seed=7)), out, echo=lambda _msg: None)
    return out


@pytest.mark.slow
def test_tiny_run_lowers_the_loss_and_writes_reference_log_lines(single_run: Path) -> None:
    assert sorted(p.name for p in single_run.iterdir()) == sorted(FINAL_FILES)
    log = (single_run / "train.log").read_text()
    vals = [float(v) for v in re.findall(r"^step:\d+/12 val_loss:(\d+\.\d{4}) val_bpb:\d+\.\d{4} "
                                         r"train_time:\d+ms step_avg:\d+\.\d{2}ms$", log, re.M)]
    assert len(vals) == 2 and vals[1] < vals[0] - 0.5, vals
    for pattern in (r"^model_params:\d+$", r"^world_size:1 grad_accum_steps:2$", r"^seed:7$",
                    r"^step:4/12 train_loss:\d+\.\d{4} train_time:\d+ms step_avg:\d+\.\d{2}ms$",
                    r"^Serialized model int8\+zlib: \d+ bytes \(payload:\d+ raw_torch:\d+ payload_ratio:\d+\.\d{2}x\)$",
                    r"^Total submission size int8\+zlib: \d+ bytes$",
                    r"^final_int8_zlib_roundtrip val_loss:\d+\.\d{4} val_bpb:\d+\.\d{4} eval_time:\d+ms$",
                    r"^final_int8_zlib_roundtrip_exact val_loss:\d+\.\d{8} val_bpb:\d+\.\d{8}$"):
        assert re.search(pattern, log, re.M), pattern
    metrics = json.loads((single_run / "metrics.json").read_text())
    exact = re.search(r"final_int8_zlib_roundtrip_exact val_loss:(\S+) val_bpb:(\S+)", log)
    assert float(exact.group(2)) == pytest.approx(metrics["final_int8_zlib_roundtrip"]["val_bpb"], abs=1e-8)
    prov = metrics["provenance"]
    assert prov["seed"] == 7 and prov["world_size"] == 1 and prov["config"]["iterations"] == ITERATIONS
    assert prov["data_manifest_sha256"] and len(prov["data_manifest_sha256"]) == 64
    assert metrics["artifact_bytes"] == (single_run / "final_model.int8.ptz").stat().st_size


@pytest.mark.slow
def test_same_seed_gives_identical_numbers_and_warmup_is_undone(tiny_data, single_run: Path, tmp_path) -> None:
    first = _numbers(json.loads((single_run / "metrics.json").read_text()))
    train(load_config(None, _overrides(tiny_data, seed=7)), tmp_path / "b", echo=lambda _msg: None)
    assert _numbers(json.loads((tmp_path / "b" / "metrics.json").read_text())) == first
    # Warm-up steps are rolled back (weights, optimiser state, data loader): no trace in the result.
    train(load_config(None, _overrides(tiny_data, seed=7, warmup_steps=0)), tmp_path / "c", echo=lambda _msg: None)
    assert _numbers(json.loads((tmp_path / "c" / "metrics.json").read_text())) == first


@pytest.mark.slow
def test_torchrun_two_cpu_ranks_match_one_process(tiny_data, single_run: Path, tmp_path) -> None:
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "pgolf",
           "train", "--seed", "7", "--out", str(out)]
    for item in _overrides(tiny_data):
        cmd += ["--set", item]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = (out / "train.log").read_text()
    assert "world_size:2 grad_accum_steps:1" in log
    two = json.loads((out / "metrics.json").read_text())["final_int8_zlib_roundtrip"]["val_bpb"]
    one = json.loads((single_run / "metrics.json").read_text())["final_int8_zlib_roundtrip"]["val_bpb"]
    assert abs(two - one) < 1e-3, (one, two)


@pytest.mark.slow
@pytest.mark.parametrize(("lrs", "message"), [
    # Embedding blown up: the training loss itself turns NaN.
    ({"matrix_lr": 1e30, "tied_embed_lr": 1e30}, r"training loss became (nan|inf) at step \d+/12"),
    # Matrices blown up: the soft-capped loss stays finite, but the weights do not survive int8 export.
    ({"matrix_lr": 1e30}, r"(round trip's validation loss after step 12/12 is nan|non-finite by step)"),
])
def test_divergence_stops_with_a_clear_error_and_keeps_the_earlier_outputs(tiny_data, tmp_path, capsys, lrs,
                                                                           message) -> None:
    out = tmp_path / "nan"
    out.mkdir()
    earlier = {name: f"earlier good {name}".encode() for name in FINAL_FILES}
    for name, data in earlier.items():
        (out / name).write_bytes(data)
    argv = ["train", "--seed", "7", "--out", str(out)]
    for item in _overrides(tiny_data, warmup_steps=0, **lrs):
        argv += ["--set", item]
    assert pgolf_main(argv) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert "no artifact was written" in err
    # The failed rerun left the earlier run's files exactly as they were, and nothing else.
    assert {p.name: p.read_bytes() for p in out.iterdir()} == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan"]


def test_world_size_must_divide_the_accumulation_base() -> None:
    hp = load_config(None, ["train_batch_tokens=8192", "train_seq_len=128"])
    assert grad_accum_steps_for(hp, 1) == 8 and grad_accum_steps_for(hp, 8) == 1
    with pytest.raises(ConfigError, match="world size 3 must divide grad_accum_base=8"):
        grad_accum_steps_for(hp, 3)
    hp = load_config(None, ["train_batch_tokens=1000", "train_seq_len=128"])
    with pytest.raises(ConfigError, match="multiple of"):
        grad_accum_steps_for(hp, 2)
