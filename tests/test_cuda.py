"""pgolf's CUDA paths: the golden numbers on a CUDA card, torchrun on NCCL, the record's precision layout.

The tests marked `cuda` are skipped without a CUDA device; bench/gpu_check.sh runs this module on a
lent GPU (docs/gpu.md). The rest check, on any machine, what the CUDA paths are built from:
cast_like_reference's layout is the record's (its main() casts everything to bf16, then its
CastedLinear weights, the rotary frequencies and the low-dimensional and control tensors back to
float32), and training's process-wide kernel flags are set only for the run and restored after.

Golden numbers (tests/data/golden, the record's own code on a CPU): flat, doc and sliding in float32
on CUDA must agree to 1e-5 bpb (float32 sums in another order, TF32 off); in the record's precision
(`--precision auto` on CUDA: bf16 embedding, bf16 autocast) and in `bf16`, to 1e-3; ttt (LoRA A drawn
at random) within 4 sd of the record's five draws, as tests/test_golden.py asks of the CPU.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pgolf.model import GPT, CastedLinear, ModelConfig, Rotary, cast_like_reference, is_control_tensor

GOLDEN = Path(__file__).parent / "data" / "golden"
REF = json.loads((GOLDEN / "ref.json").read_text(encoding="utf-8"))
SETTINGS = REF["settings"]
REPO = Path(__file__).resolve().parents[1]
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (bench/gpu_check.sh)")


# ---- on any machine: the pieces the CUDA paths are made of


def _small() -> GPT:
    torch.manual_seed(0)
    return GPT(ModelConfig(vocab_size=64, num_layers=2, model_dim=32, num_heads=2, num_kv_heads=1))


def test_cast_like_reference_is_the_record_layout():
    """bf16 embedding; every CastedLinear weight, every vector and control tensor, and inv_freq float32."""
    model = cast_like_reference(_small())
    assert model.tok_emb.weight.dtype == torch.bfloat16
    linears = {f"{n}.weight" for n, m in model.named_modules() if isinstance(m, CastedLinear)}
    for name, p in model.named_parameters():
        want = torch.float32 if name in linears or p.ndim < 2 or is_control_tensor(name) else torch.bfloat16
        assert p.dtype == want, (name, p.dtype)
    rotaries = [m for m in model.modules() if isinstance(m, Rotary)]
    assert rotaries and all(m.inv_freq.dtype == torch.float32 for m in rotaries)


def test_cast_rotary_tables_keep_every_position():
    """The record's main() casts inv_freq to bf16 and back (its values rounded once), then builds the
    tables from a float32 arange. Left in bf16, arange(1024) would round every position past 256."""
    plain, cast = _small(), cast_like_reference(_small())
    inv_freq = plain.blocks[0].attn.rotary.inv_freq.bfloat16().float()
    rotary = cast.blocks[0].attn.rotary
    assert torch.equal(rotary.inv_freq, inv_freq)
    freqs = torch.outer(torch.arange(1024, dtype=torch.float32), inv_freq)
    for dtype in (torch.float32, torch.bfloat16):
        cos, sin = rotary(1024, torch.device("cpu"), dtype)
        half = inv_freq.numel()
        assert torch.equal(cos[0, 0, :, :half], freqs.cos().to(dtype)), dtype
        assert torch.equal(sin[0, 0, :, :half], freqs.sin().to(dtype)), dtype


def test_reference_kernels_are_set_for_the_run_and_restored():
    from pgolf.runtime import _kernel_flags, reference_kernels

    before = _kernel_flags()
    with reference_kernels(cuda=True, bf16=True):
        b = torch.backends.cuda
        assert b.matmul.allow_tf32 and b.flash_sdp_enabled()
        assert not (b.cudnn_sdp_enabled() or b.mem_efficient_sdp_enabled() or b.math_sdp_enabled())
    assert _kernel_flags() == before
    with reference_kernels(cuda=True, bf16=False):  # float32 training: no TF32, and flash has no float32 kernel
        assert _kernel_flags() == before
    with reference_kernels(cuda=False, bf16=True):
        assert _kernel_flags() == before


# ---- on a CUDA card: golden numbers, training paths


@pytest.fixture(scope="module")
def golden_cuda():
    from pgolf.data.shards import load_tokens
    from pgolf.tokenizer import build_byte_tables, load_tokenizer

    device = torch.device("cuda")
    sp = load_tokenizer(str(GOLDEN / "tokenizer.model"))
    tables = build_byte_tables(sp, SETTINGS["vocab_size"], device)
    return load_tokens(str(GOLDEN / "val_000000.bin")), tables


def _run(golden_cuda, condition: str, precision: str, **ttt):
    from pgolf.artifact import load_model
    from pgolf.evalspec import reference_cast
    from pgolf.evaluate import EvalSettings, TTTSettings, run_condition

    tokens, tables = golden_cuda
    model = load_model(GOLDEN / "final_model.int8.ptz", "cuda")
    if reference_cast(precision, "cuda"):  # as `pgolf eval` does (pgolf.evaluate.job)
        cast_like_reference(model)
    settings = EvalSettings(seq_len=SETTINGS["seq_len"], chunk=SETTINGS["chunk"], precision=precision, ttt=TTTSettings(
        rank=SETTINGS["ttt_rank"], lr=SETTINGS["ttt_lr"], batch=SETTINGS["ttt_batch"], beta1=SETTINGS["betas"][0],
        beta2=SETTINGS["betas"][1], eps=SETTINGS["eps"], **ttt))
    assert not torch.backends.cuda.matmul.allow_tf32, "TF32 left on by an earlier run in this process"
    return run_condition(model, tokens, tables, condition, settings)


@cuda
@pytest.mark.parametrize("condition", ["flat", "doc", "sliding"])
def test_fp32_on_cuda_matches_the_record_to_1e5_bpb(golden_cuda, condition):
    result = _run(golden_cuda, condition, "fp32")
    assert abs(result.val_bpb - REF[condition]["val_bpb"]) < 1e-5, (result.val_bpb, REF[condition]["val_bpb"])
    assert result.tokens > 0


@cuda
@pytest.mark.parametrize("precision", ["auto", "bf16"])
@pytest.mark.parametrize("condition", ["flat", "doc", "sliding"])
def test_record_precision_on_cuda_within_1e3_bpb(golden_cuda, condition, precision):
    result = _run(golden_cuda, condition, precision)
    assert abs(result.val_bpb - REF[condition]["val_bpb"]) < 1e-3, (result.val_bpb, REF[condition]["val_bpb"])


@cuda
@pytest.mark.parametrize("precision", ["fp32", "auto"])
def test_ttt_on_cuda_falls_within_the_record_draws(golden_cuda, precision):
    ref = REF["ttt"]
    result = _run(golden_cuda, "ttt", precision, seed=0)
    slack = 4 * ref["sd"] + (1e-3 if precision != "fp32" else 0.0)
    assert abs(result.val_bpb - ref["val_bpb"]) < slack, (result.val_bpb, ref["val_bpb"], ref["sd"])
    assert result.val_bpb < REF["sliding"]["val_bpb"] - 20 * ref["sd"]


def _train_sets(tiny_data, **extra) -> list[str]:
    values = dict(data_path=str(tiny_data.root), tokenizer_path=tiny_data.tokenizer_path,
                  vocab_size=tiny_data.vocab_size, num_layers=2, model_dim=64, num_heads=4, num_kv_heads=2,
                  train_seq_len=128, train_batch_tokens=2048, grad_accum_base=2, iterations=4, warmup_steps=1,
                  warmdown_iters=2, max_wallclock_seconds=0, val_loss_every=0, train_log_every=1,
                  val_max_tokens=4096)
    values.update(extra)
    return [arg for k, v in values.items() for arg in ("--set", f"{k}={v}")]


def _pgolf_train(launcher: list[str], tiny_data, out: Path, **extra) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
           "NCCL_DEBUG": "INFO"}
    return subprocess.run([*launcher, "train", "--out", str(out), *_train_sets(tiny_data, **extra)],
                          env=env, capture_output=True, text=True, timeout=300)


def _torchrun() -> list[str]:
    found = shutil.which("torchrun")
    return [found] if found else [sys.executable, "-m", "torch.distributed.run"]


@cuda
def test_torchrun_one_process_trains_on_nccl(tiny_data, tmp_path):
    out = tmp_path / "run"
    res = _pgolf_train([*_torchrun(), "--standalone", "--nproc_per_node=1", "-m", "pgolf"], tiny_data, out)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "NCCL INFO" in res.stdout + res.stderr  # the process group is NCCL's
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 1 and metrics["steps"] == 4
    log = (out / "train.log").read_text()
    assert "device:cuda:0" in log and "step:4/4 train_loss:" in log


@cuda
@pytest.mark.parametrize("extra", [{"compile": "true"}, {"precision": "fp32"}], ids=["compile", "fp32"])
def test_single_process_training_paths_on_cuda(tiny_data, tmp_path, extra):
    """torch.compile (model and Muon's orthogonalisation) on CUDA; float32 training, whose attention
    cannot run on flash alone."""
    out = tmp_path / "run"
    res = _pgolf_train([sys.executable, "-m", "pgolf"], tiny_data, out, **extra)
    assert res.returncode == 0, res.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 4
    assert 0 < metrics["final_int8_zlib_roundtrip"]["val_bpb"] < 20
    # float32 training keeps a float32 embedding; the record's precision casts it to bf16
    state = torch.load(out / "final_model.pt", map_location="cpu", weights_only=True)
    want = torch.float32 if extra.get("precision") == "fp32" else torch.bfloat16
    assert state["tok_emb.weight"].dtype == want


@cuda
def test_cast_like_reference_runs_a_bf16_step_on_flash_attention():
    from pgolf.runtime import reference_kernels

    model = cast_like_reference(_small().cuda())
    x = torch.randint(0, 64, (4, 128), device="cuda")
    with reference_kernels(cuda=True, bf16=True), torch.autocast("cuda", torch.bfloat16):
        loss = model(x, torch.roll(x, -1, dims=1))
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and p.grad.dtype == p.dtype for p in model.parameters())
