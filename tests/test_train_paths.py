"""Training paths that matter on a GPU or in a failure, exercised on CPU: the wall-clock cap, bf16
autocast, torch.compile, the deferred finiteness check, the size cap, reruns that fail, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from pgolf.__main__ import main as pgolf_main
from pgolf.config import load_config
from pgolf.data.shards import write_shard
from pgolf.train import FINAL_FILES, FINITE_CHECK_EVERY, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _overrides(tiny_data, **extra) -> list[str]:
    base = dict(
        train_files=tiny_data.train_glob, val_files=tiny_data.val_glob, tokenizer_path=tiny_data.tokenizer_path,
        vocab_size=tiny_data.vocab_size, num_layers=2, model_dim=32, num_heads=2, num_kv_heads=1,
        train_seq_len=64, train_batch_tokens=512, grad_accum_base=1, iterations=6, warmup_steps=0,
        warmdown_iters=2, max_wallclock_seconds=0, val_loss_every=0, train_log_every=1,
        val_batch_size=4096, val_max_tokens=2048, device="cpu",
    )
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]


def _train(tiny_data, out: Path, **extra) -> dict:
    lines: list[str] = []
    metrics = train(load_config(None, _overrides(tiny_data, **extra)), out, echo=lines.append)
    return {"metrics": metrics, "echo": lines, "log": (out / "train.log").read_text()}


def _argv(tiny_data, out: Path, **extra) -> list[str]:
    argv = ["train", "--out", str(out)]
    for item in _overrides(tiny_data, **extra):
        argv += ["--set", item]
    return argv


def test_wallclock_cap_stops_early_logs_it_and_times_the_warmdown(tiny_data, tmp_path):
    from pgolf.optim import lr_mul

    run = _train(tiny_data, tmp_path / "cap", iterations=100000, max_wallclock_seconds=1.0, warmdown_iters=5)
    m = run["metrics"]
    assert m["stopped_early"] and 0 < m["steps"] < 100000
    assert re.search(rf"^stopping_early: wallclock_cap train_time:\d+ms step:{m['steps']}/100000$", run["log"], re.M)
    assert m["train_time_ms"] >= 1000.0
    # The warm-down is counted in measured time: warmdown_iters x the mean step time so far, ending at the cap.
    step_ms = 20.0
    assert lr_mul(10, 10 * step_ms, 100000, 5, 1000.0) == 1.0  # 800 ms left > 5 x 20 ms
    assert lr_mul(47, 47 * step_ms, 100000, 5, 1000.0) == pytest.approx((1000 - 940) / (5 * step_ms))
    assert lr_mul(60, 1200.0, 100000, 5, 1000.0) == 0.0


def test_bf16_autocast_trains_and_evaluates_on_cpu(tiny_data, tmp_path):
    fp32 = _train(tiny_data, tmp_path / "fp32", precision="fp32")["metrics"]
    bf16 = _train(tiny_data, tmp_path / "bf16", precision="bf16")["metrics"]
    a, b = fp32["final_int8_zlib_roundtrip"]["val_bpb"], bf16["final_int8_zlib_roundtrip"]["val_bpb"]
    assert math_isfinite(b) and a != b and abs(a - b) < 0.05, (a, b)  # bf16 really ran, and agrees loosely
    assert bf16["provenance"]["config"]["precision"] == "bf16"


def math_isfinite(x: float) -> bool:
    return bool(np.isfinite(x))


@pytest.mark.slow
def test_compile_true_trains_a_tiny_model(tiny_data, tmp_path):
    eager = _train(tiny_data, tmp_path / "eager", iterations=3)["metrics"]
    compiled = _train(tiny_data, tmp_path / "compiled", iterations=3, compile=True)["metrics"]
    a = eager["final_int8_zlib_roundtrip"]["val_bpb"]
    b = compiled["final_int8_zlib_roundtrip"]["val_bpb"]
    assert abs(a - b) < 1e-3, (a, b)


def test_diverged_loss_is_caught_at_its_step_within_the_check_interval(tiny_data, tmp_path, capsys):
    argv = _argv(tiny_data, tmp_path / "nan", iterations=60, train_log_every=0, matrix_lr=1e30, tied_embed_lr=1e30)
    assert pgolf_main(argv) == 2
    err = capsys.readouterr().err
    m = re.search(r"training loss became (nan|inf) at step (\d+)/60 \(seen at step (\d+);", err)
    assert m, err
    first, seen = int(m.group(2)), int(m.group(3))
    assert 1 <= first <= seen < first + FINITE_CHECK_EVERY and seen % FINITE_CHECK_EVERY == 0
    assert not (tmp_path / "nan").exists() and not list(tmp_path.iterdir())


def test_one_layer_model_trains_to_the_end(tiny_data, tmp_path):
    m = _train(tiny_data, tmp_path / "one", num_layers=1, iterations=2)["metrics"]
    assert m["steps"] == 2 and sorted(p.name for p in (tmp_path / "one").iterdir()) == sorted(FINAL_FILES)


def test_size_cap_is_logged_and_in_metrics(tiny_data, tmp_path):
    run = _train(tiny_data, tmp_path / "size", iterations=1)
    cap = run["metrics"]["size_cap"]
    assert cap["cap_bytes"] == 16_000_000 and cap["over_cap"] is False
    assert cap["total_bytes"] == run["metrics"]["artifact_bytes"] + run["metrics"]["code_bytes"]
    assert run["metrics"]["code_count"] == cap["code_count"] == "lzma"
    assert run["metrics"]["code_bytes"] < run["metrics"]["code_bytes_raw"] / 2  # the bundle, the raw bytes beside
    assert f"size_cap:under_cap total:{cap['total_bytes']} cap:16000000" in run["log"]
    assert f"headroom:{cap['headroom_bytes']} bytes code:lzma" in run["log"]
    assert f"Code size (compressed): {cap['code_bytes']} bytes" in run["log"]
    assert f"Code size: {cap['code_bytes_raw']} bytes" in run["log"]
    assert "pgolf/train.py" in cap["code_files"] and "pgolf/stats.py" not in cap["code_files"]


def test_failed_rerun_on_a_bad_train_shard_keeps_the_earlier_good_run(tiny_data, tmp_path, capsys):
    out = tmp_path / "run"
    _train(tiny_data, out, iterations=1)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = tmp_path / "bad" / "pgolf_train_000000.bin"
    write_shard(bad, np.array([1, 2, 3, tiny_data.vocab_size + 1] * 200, dtype=np.int64))
    assert pgolf_main(_argv(tiny_data, out, iterations=1, train_files=str(bad))) == 2
    err = capsys.readouterr().err
    assert f"train shard {bad} holds token id {tiny_data.vocab_size + 1}" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "run"]  # no staging folder left


@pytest.mark.slow
def test_ctrl_c_ends_with_one_line_and_keeps_the_earlier_run(tiny_data, tmp_path):
    out = tmp_path / "run"
    _train(tiny_data, out, iterations=1)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    cmd = [sys.executable, "-m", "pgolf", *_argv(tiny_data, out, iterations=100000)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and not (tmp_path / "run.partial" / "train.log").exists():
        time.sleep(0.2)
    time.sleep(2.0)  # inside the loop
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("pgolf train: interrupted")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


RECORD_MODEL_BYTES = 15_807_986  # the record's final_model.int8.ptz (record-77.md)
RECORD_LARGEST_MODEL_BYTES = 15_823_937  # the largest of the record's four logs


def test_record_size_random_model_with_counted_code_fits_the_cap():
    """Model bytes measured on a record-shape model (17.06 M parameters) whose random matrices
    (Student t, 60 degrees of freedom: trained weights are a little heavier-tailed than normal)
    compress to within 1% of the record's artifact; with the counted code (the lzma bundle) the total
    is under the cap, and so is the record's largest artifact with it. The headroom is printed."""
    from pgolf import size
    from pgolf.artifact import serialize_artifact
    from pgolf.model import GPT, ModelConfig

    torch.manual_seed(0)
    model = GPT(ModelConfig())
    with torch.no_grad():
        for p in model.parameters():
            if p.ndim == 2:
                p.copy_(torch.distributions.StudentT(60.0).sample(p.shape))
    _, stats = serialize_artifact(model.state_dict())
    code = size.code_size()
    check = size.size_check(stats["bytes"], code)
    largest = size.size_check(RECORD_LARGEST_MODEL_BYTES, code)
    print(f"code: {code.bytes} bytes counted (lzma bundle), {code.raw_bytes} raw, {len(code.files)} files; "
          f"record-shape model {stats['bytes']} bytes, headroom {check['headroom_bytes']}; "
          f"record's largest artifact {RECORD_LARGEST_MODEL_BYTES}, headroom {largest['headroom_bytes']}")
    assert abs(stats["bytes"] - RECORD_MODEL_BYTES) < 0.01 * RECORD_MODEL_BYTES, stats["bytes"]
    assert check["over_cap"] is False and check["total_bytes"] < 16_000_000, check["total_bytes"]
    assert largest["over_cap"] is False and largest["headroom_bytes"] > 0
    # Counted raw, the same code would not fit beside the record's largest artifact.
    assert RECORD_LARGEST_MODEL_BYTES + code.raw_bytes > 16_000_000


def test_a_total_over_the_cap_is_flagged():
    from pgolf import size

    code = size.code_size()
    over = size.size_check(16_000_000 - code.bytes + 1, code)
    assert over["over_cap"] is True and over["headroom_bytes"] == -1
    assert size.cap_line(over).startswith("size_cap:OVER_CAP total:16000001 cap:16000000")
    assert size.size_check(16_000_000 - code.bytes, code)["over_cap"] is False  # the cap itself is allowed
