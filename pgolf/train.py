"""One training run, the reference's loop: single process or one rank of torchrun.

The loop follows the record's script step for step (warm-up then restore, gradient
accumulation to a fixed global batch, the wall-clock-aware warm-down, validation
cadence, int8+zlib export and the round-trip evaluation) and prints the same log
lines, so tools written for published logs read ours. Nothing lands in the output
folder until the run has succeeded: a diverged or crashed run leaves no artifact.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from pgolf import atomic, provenance
from pgolf.artifact import serialize_artifact, state_dict_from_bytes
from pgolf.config import Hyperparameters
from pgolf.errors import ConfigError, PgolfError
from pgolf.model import GPT, cast_like_reference, count_parameters
from pgolf.optim import build_optimizers, lr_mul, max_wallclock_ms, muon_momentum_at

FINAL_FILES = ("final_model.pt", "final_model.int8.ptz", "train.log", "metrics.json")


class TrainingDiverged(PgolfError):
    """The training loss became NaN or infinite."""


@dataclass(frozen=True)
class Runtime:
    """Where this process runs: rank within the job, and its device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def distributed(self) -> bool:
        return self.world_size > 1 or dist.is_initialized()

    @property
    def master(self) -> bool:
        return self.rank == 0

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"


def setup_runtime(hp: Hyperparameters) -> Runtime:
    """Read torchrun's environment, pick the device, start the process group (NCCL on CUDA, gloo on CPU)."""
    rank = int(os.environ.get("RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if world_size <= 0:
        raise ConfigError(f"WORLD_SIZE must be positive, got {world_size}")
    want = hp.device
    if want == "auto":
        want = "cuda" if torch.cuda.is_available() else "cpu"
    if want.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"device={hp.device!r} but CUDA is not available; use --set device=cpu")
        device = torch.device("cuda", local_rank) if want == "cuda" else torch.device(want)
        torch.cuda.set_device(device)
    elif want == "cpu":
        device = torch.device("cpu")
    else:
        raise ConfigError(f"device={hp.device!r}: use auto, cpu, cuda or cuda:N")
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ and not dist.is_initialized():
        if device.type == "cuda":
            dist.init_process_group(backend="nccl", device_id=device)
        else:
            dist.init_process_group(backend="gloo")
        dist.barrier()
    return Runtime(rank, world_size, local_rank, device)


def grad_accum_steps_for(hp: Hyperparameters, world_size: int) -> int:
    """Micro-steps per step so that the global batch does not depend on the number of ranks."""
    if hp.grad_accum_base <= 0 or hp.grad_accum_base % world_size:
        raise ConfigError(f"world size {world_size} must divide grad_accum_base={hp.grad_accum_base} "
                          "so grad_accum_steps stays integral; run with a divisor of it")
    steps = hp.grad_accum_base // world_size
    per_micro = world_size * steps * hp.train_seq_len
    if hp.train_batch_tokens % per_micro:
        raise ConfigError(f"train_batch_tokens={hp.train_batch_tokens} must be a multiple of world_size x "
                          f"grad_accum_steps x train_seq_len = {per_micro}")
    return steps


def code_bytes() -> tuple[int, int]:
    """(bytes, files) of the pgolf package's Python source: pgolf's stand-in for the record's code size."""
    root = Path(__file__).resolve().parent
    files = sorted(root.rglob("*.py"))
    return sum(f.stat().st_size for f in files), len(files)


def manifest_hash(train_files: str) -> str | None:
    """sha256 of the data manifest.json beside the train shards, when there is one."""
    manifest = Path(train_files).parent / "manifest.json"
    return atomic.sha256_file(manifest) if manifest.is_file() else None


def _autocast(rt: Runtime) -> contextlib.AbstractContextManager:
    if rt.cuda:
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _sync(rt: Runtime) -> None:
    if rt.cuda:
        torch.cuda.synchronize(rt.device)


def flat_stream_eval(model: GPT, val_tokens: np.ndarray, tables: Any, hp: Hyperparameters,
                     world_size: int, grad_accum_steps: int) -> tuple[float, float]:
    """(val_loss, val_bpb) of the flat stream: the reference's eval_val, implemented by pgolf.evaluate.

    Collective under torch.distributed: every rank scores its share and the sums are all-reduced.
    """
    from pgolf.evaluate import EvalSettings, run_condition

    # eval_val's batch: val_batch_size split over ranks and micro-steps (65,536 tokens at the record's setting).
    batch = max(hp.val_batch_size // (world_size * grad_accum_steps), hp.train_seq_len)
    result = run_condition(model, val_tokens, tables, "flat", EvalSettings(seq_len=hp.train_seq_len,
                                                                           batch_tokens=batch))
    return float(result.val_loss), float(result.val_bpb)


class RunLog:
    """train.log lines (rank 0): kept in memory for the final atomic write, mirrored to a .partial file."""

    def __init__(self, out_dir: Path, master: bool, echo: Callable[[str], None]) -> None:
        self.master = master
        self.lines: list[str] = []
        self.echo = echo
        self.partial = out_dir / "train.log.partial"
        if master:
            out_dir.mkdir(parents=True, exist_ok=True)
            # A run that fails must not leave an earlier run's outputs looking like its own.
            for name in FINAL_FILES:
                (out_dir / name).unlink(missing_ok=True)
            self.partial.write_text("", encoding="utf-8")

    def __call__(self, msg: str, console: bool = True) -> None:
        if not self.master:
            return
        if console:
            self.echo(msg)
        self.lines.append(msg)
        with open(self.partial, "a", encoding="utf-8") as fh:
            fh.write(msg + "\n")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


@contextlib.contextmanager
def _process_group(rt: Runtime) -> Iterator[None]:
    try:
        yield
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def train(hp: Hyperparameters, out_dir: str | os.PathLike[str],
          echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Train one seed into `out_dir`; returns metrics.json's content (the same on every rank but 0: {})."""
    hp.resolve()
    rt = setup_runtime(hp)
    with _process_group(rt):
        return _train(hp, Path(out_dir), rt, echo)


def _train(hp: Hyperparameters, out_dir: Path, rt: Runtime, echo: Callable[[str], None]) -> dict[str, Any]:
    from pgolf.data.loader import DistributedTokenLoader
    from pgolf.data.shards import list_shards, load_tokens
    from pgolf.tokenizer import build_byte_tables, check_vocab, load_tokenizer

    grad_accum_steps = grad_accum_steps_for(hp, rt.world_size)
    grad_scale = 1.0 / grad_accum_steps
    log = RunLog(out_dir, rt.master, echo)
    log(f"Running Python {sys.version.split()[0]} PyTorch {torch.__version__} device:{rt.device}", console=False)
    if rt.cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        # The reference's attention backends: flash only.
        torch.backends.cuda.enable_cudnn_sdp(False)
        torch.backends.cuda.enable_flash_sdp(True)
        torch.backends.cuda.enable_mem_efficient_sdp(False)
        torch.backends.cuda.enable_math_sdp(False)

    random.seed(hp.seed)
    np.random.seed(hp.seed)
    torch.manual_seed(hp.seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(hp.seed)

    sp = load_tokenizer(hp.tokenizer_path)
    check_vocab(sp, hp.vocab_size, hp.tokenizer_path)
    tables = build_byte_tables(sp, hp.vocab_size, device=rt.device)
    val_tokens = load_tokens(hp.val_files)
    if hp.val_max_tokens > 0:
        val_tokens = val_tokens[: hp.val_max_tokens + 1]
    usable = ((len(val_tokens) - 1) // hp.train_seq_len) * hp.train_seq_len
    if usable <= 0:
        raise ConfigError(f"validation split {hp.val_files} has {len(val_tokens)} tokens, fewer than one "
                          f"window of train_seq_len={hp.train_seq_len} + 1")
    train_shards = list_shards(hp.train_files)
    log(f"val_bpb:enabled tokenizer_kind=sentencepiece tokenizer_path={hp.tokenizer_path}")
    log(f"train_loader:dataset:{Path(hp.train_files).parent.name} train_shards:{len(train_shards)}")
    log(f"val_loader:shards pattern={hp.val_files} tokens:{usable}")

    base_model = GPT(hp.model_config()).to(rt.device)
    if rt.cuda:
        cast_like_reference(base_model)
    compiled: nn.Module = torch.compile(base_model, dynamic=False, fullgraph=True) if hp.compile else base_model
    model: nn.Module = compiled
    if rt.distributed:
        model = nn.parallel.DistributedDataParallel(
            compiled, device_ids=[rt.local_rank] if rt.cuda else None, broadcast_buffers=False)
    # Sharded Muon under torchrun (the reference's split): bench/train_throughput.py --muon-shard measures it
    # faster than every rank computing every update, with bit-identical weights.
    opts = build_optimizers(base_model, hp, muon_shard=rt.distributed)
    if hp.compile:
        opts.muon.orthogonalize = torch.compile(opts.muon.orthogonalize)

    n_params = count_parameters(base_model)
    token_lr = hp.tied_embed_lr if hp.tie_embeddings else hp.embed_lr
    log(f"model_params:{n_params}")
    log(f"world_size:{rt.world_size} grad_accum_steps:{grad_accum_steps}")
    log(f"attention_mode:gqa num_heads:{hp.num_heads} num_kv_heads:{hp.num_kv_heads}")
    log(f"tie_embeddings:{hp.tie_embeddings} embed_lr:{token_lr} "
        f"head_lr:{hp.head_lr if base_model.lm_head is not None else 0.0} "
        f"matrix_lr:{hp.matrix_lr} scalar_lr:{hp.scalar_lr}")
    log(f"train_batch_tokens:{hp.train_batch_tokens} train_seq_len:{hp.train_seq_len} "
        f"iterations:{hp.iterations} warmup_steps:{hp.warmup_steps} "
        f"max_wallclock_seconds:{hp.max_wallclock_seconds:.3f}")
    log(f"seed:{hp.seed}")

    def new_loader() -> DistributedTokenLoader:
        return DistributedTokenLoader(hp.train_files, rt.rank, rt.world_size, rt.device)

    def step_once(loader: DistributedTokenLoader) -> torch.Tensor:
        """Forward/backward over every micro-batch; returns this rank's mean loss (detached)."""
        train_loss = torch.zeros((), device=rt.device)
        for micro in range(grad_accum_steps):
            if rt.distributed:
                model.require_backward_grad_sync = micro == grad_accum_steps - 1
            x, y = loader.next_batch(hp.train_batch_tokens, hp.train_seq_len, grad_accum_steps)
            with _autocast(rt):
                loss = model(x, y)
            train_loss += loss.detach()
            (loss * grad_scale).backward()
        return train_loss / grad_accum_steps

    train_loader = new_loader()
    # Warm-up primes compiled kernels; weights, optimiser state and the loader are then restored,
    # so the measured run starts from the true initialisation (reference semantics).
    if hp.warmup_steps > 0:
        initial_model = {k: v.detach().cpu().clone() for k, v in base_model.state_dict().items()}
        initial_opts = [copy.deepcopy(s) for s in opts.state_dicts()]
        model.train()
        for warm in range(hp.warmup_steps):
            opts.zero_grad()
            step_once(train_loader)
            opts.step()
            opts.zero_grad()
            if hp.warmup_steps <= 20 or (warm + 1) % 10 == 0 or warm + 1 == hp.warmup_steps:
                log(f"warmup_step:{warm + 1}/{hp.warmup_steps}")
        base_model.load_state_dict(initial_model, strict=True)
        opts.load_state_dicts(initial_opts)
        opts.zero_grad()
        if rt.distributed:
            model.require_backward_grad_sync = True
        train_loader = new_loader()

    cap_ms = max_wallclock_ms(hp)
    training_time_ms = 0.0
    stop_after_step: int | None = None
    last_val: tuple[float, float] | None = None
    _sync(rt)
    t0 = time.perf_counter()
    step = 0
    model.train()
    while True:
        last_step = step == hp.iterations or (stop_after_step is not None and step >= stop_after_step)
        if last_step or (hp.val_loss_every > 0 and step % hp.val_loss_every == 0):
            _sync(rt)
            training_time_ms += 1000.0 * (time.perf_counter() - t0)
            last_val = flat_stream_eval(base_model, val_tokens, tables, hp, rt.world_size, grad_accum_steps)
            _check_finite_value(last_val[0], f"validation loss at step {step}/{hp.iterations}", hp)
            log(f"step:{step}/{hp.iterations} val_loss:{last_val[0]:.4f} val_bpb:{last_val[1]:.4f} "
                f"train_time:{training_time_ms:.0f}ms step_avg:{training_time_ms / max(step, 1):.2f}ms")
            _sync(rt)
            t0 = time.perf_counter()
        if last_step:
            if stop_after_step is not None and step < hp.iterations:
                log(f"stopping_early: wallclock_cap train_time:{training_time_ms:.0f}ms step:{step}/{hp.iterations}")
            break

        elapsed_ms = training_time_ms + 1000.0 * (time.perf_counter() - t0)
        scale = lr_mul(step, elapsed_ms, hp.iterations, hp.warmdown_iters, cap_ms)
        opts.zero_grad()
        train_loss = step_once(train_loader)
        _check_finite(train_loss, step + 1, hp, rt)
        opts.set_schedule(scale, muon_momentum_at(step, hp))
        if hp.grad_clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(base_model.parameters(), hp.grad_clip_norm)
        opts.step()
        opts.zero_grad()

        step += 1
        approx_ms = training_time_ms + 1000.0 * (time.perf_counter() - t0)
        if hp.train_log_every > 0 and (step <= 10 or step % hp.train_log_every == 0 or stop_after_step is not None):
            log(f"step:{step}/{hp.iterations} train_loss:{train_loss.item():.4f} "
                f"train_time:{approx_ms:.0f}ms step_avg:{approx_ms / step:.2f}ms")
            if rt.master:
                echo(_progress(step, hp, approx_ms, cap_ms, train_loss.item()))
        reached_cap = cap_ms is not None and approx_ms >= cap_ms
        if rt.distributed and cap_ms is not None:
            flag = torch.tensor(int(reached_cap), device=rt.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            reached_cap = bool(flag.item())
        if stop_after_step is None and reached_cap:
            stop_after_step = step

    if rt.cuda:
        log(f"peak memory allocated: {torch.cuda.max_memory_allocated() // 1024 // 1024} MiB "
            f"reserved: {torch.cuda.max_memory_reserved() // 1024 // 1024} MiB")
    return _finish(hp, out_dir, rt, log, base_model, val_tokens, tables, grad_accum_steps,
                   n_params, step, training_time_ms, stop_after_step, last_val)


def _check_finite(train_loss: torch.Tensor, step: int, hp: Hyperparameters, rt: Runtime) -> None:
    """Stop at the first non-finite loss on any rank (all ranks agree, so none waits forever)."""
    probe = train_loss.detach().clone().float()
    if rt.distributed:
        dist.all_reduce(probe, op=dist.ReduceOp.SUM)
    if not math.isfinite(probe.item()):
        raise TrainingDiverged(
            f"training loss became {probe.item()} at step {step}/{hp.iterations} (matrix_lr={hp.matrix_lr}, "
            f"scalar_lr={hp.scalar_lr}, tied_embed_lr={hp.tied_embed_lr}); no artifact was written. "
            "Lower the learning rates or check the data.")


def _check_finite_value(value: float, what: str, hp: Hyperparameters, hint: str = "") -> None:
    if not math.isfinite(value):
        raise TrainingDiverged(
            f"{what} is {value} (matrix_lr={hp.matrix_lr}, scalar_lr={hp.scalar_lr}, "
            f"tied_embed_lr={hp.tied_embed_lr}); no artifact was written. {hint or 'Lower the learning rates.'}")


def _check_finite_weights(model: nn.Module, step: int, hp: Hyperparameters) -> None:
    bad = [name for name, p in model.named_parameters() if not bool(torch.isfinite(p).all())]
    if bad:
        raise TrainingDiverged(
            f"weights became non-finite by step {step}/{hp.iterations} ({', '.join(bad[:3])}"
            f"{', ...' if len(bad) > 3 else ''}); no artifact was written. Lower the learning rates.")


def _progress(step: int, hp: Hyperparameters, elapsed_ms: float, cap_ms: float | None, loss: float) -> str:
    step_ms = elapsed_ms / max(step, 1)
    eta_ms = (hp.iterations - step) * step_ms
    if cap_ms is not None:
        eta_ms = min(eta_ms, max(cap_ms - elapsed_ms, 0.0))
    return (f"progress step {step}/{hp.iterations} loss {loss:.4f} {step_ms:.1f} ms/step "
            f"ETA {eta_ms / 1000.0:.0f}s")


def _finish(hp: Hyperparameters, out_dir: Path, rt: Runtime, log: RunLog, base_model: GPT,
            val_tokens: np.ndarray, tables: Any, grad_accum_steps: int, n_params: int, steps: int,
            training_time_ms: float, stop_after_step: int | None,
            last_val: tuple[float, float] | None) -> dict[str, Any]:
    """Export (raw + int8+zlib), score the round-tripped weights, then write every output at once.

    Every rank quantises its (identical) weights and scores the round trip together, as the
    reference does; only rank 0 writes, and only once everything has succeeded.
    """
    _check_finite_weights(base_model, steps, hp)
    raw_buf = io.BytesIO()
    torch.save(base_model.state_dict(), raw_buf)
    raw_bytes = raw_buf.getvalue()
    n_code, n_files = code_bytes()
    log(f"Serialized model: {len(raw_bytes)} bytes")
    log(f"Code size: {n_code} bytes (pgolf package source, {n_files} .py files)")
    log(f"Total submission size: {len(raw_bytes) + n_code} bytes")
    blob, stats = serialize_artifact(base_model.state_dict())
    ratio = stats["baseline_tensor_bytes"] / max(stats["int8_payload_bytes"], 1)
    log(f"Serialized model int8+zlib: {stats['bytes']} bytes "
        f"(payload:{stats['int8_payload_bytes']} raw_torch:{stats['raw_torch_bytes']} payload_ratio:{ratio:.2f}x)")
    log(f"Total submission size int8+zlib: {stats['bytes'] + n_code} bytes")

    max_abs = max(float(p.detach().abs().max()) for p in base_model.parameters())
    base_model.load_state_dict(state_dict_from_bytes(blob, "final_model.int8.ptz"), strict=True)
    _sync(rt)
    t_eval = time.perf_counter()
    q_loss, q_bpb = flat_stream_eval(base_model, val_tokens, tables, hp, rt.world_size, grad_accum_steps)
    _sync(rt)
    eval_ms = 1000.0 * (time.perf_counter() - t_eval)
    _check_finite_value(q_loss, f"the int8+zlib round trip's validation loss after step {steps}/{hp.iterations}",
                        hp, f"The largest trained weight is {max_abs:.3g}; int8 with float16 scales holds |w| up to "
                        "~8e6. Lower the learning rates.")
    log(f"final_int8_zlib_roundtrip val_loss:{q_loss:.4f} val_bpb:{q_bpb:.4f} eval_time:{eval_ms:.0f}ms")
    log(f"final_int8_zlib_roundtrip_exact val_loss:{q_loss:.8f} val_bpb:{q_bpb:.8f}")
    if not rt.master:
        return {}

    metrics: dict[str, Any] = {
        "final_int8_zlib_roundtrip": {"val_loss": q_loss, "val_bpb": q_bpb, "eval_time_ms": eval_ms},
        "final_prequant": ({"val_loss": last_val[0], "val_bpb": last_val[1]} if last_val else None),
        "steps": steps,
        "iterations": hp.iterations,
        "stopped_early": stop_after_step is not None and steps < hp.iterations,
        "train_time_ms": training_time_ms,
        "step_avg_ms": training_time_ms / max(steps, 1),
        "model_params": n_params,
        "world_size": rt.world_size,
        "grad_accum_steps": grad_accum_steps,
        "artifact_bytes": stats["bytes"],
        "raw_model_bytes": len(raw_bytes),
        "code_bytes": n_code,
        "code_bytes_note": "size of the pgolf package's .py source, standing in for the record's train_gpt.py",
        "total_submission_bytes": stats["bytes"] + n_code,
        "quant_stats": stats,
        "val_tokens_scored": int(((len(val_tokens) - 1) // hp.train_seq_len) * hp.train_seq_len),
        "provenance": provenance.collect(
            config=hp.to_dict(), seed=hp.seed, world_size=rt.world_size, device=str(rt.device),
            data_manifest_sha256=manifest_hash(hp.train_files), tokenizer_sha256=atomic.sha256_file(hp.tokenizer_path),
        ),
    }
    # Serialise first (fails on NaN), then write; metrics.json last marks a finished run.
    metrics_text = json.dumps(metrics, indent=2, sort_keys=True, allow_nan=False) + "\n"
    try:
        atomic.write_bytes(out_dir / "final_model.pt", raw_bytes)
        atomic.write_bytes(out_dir / "final_model.int8.ptz", blob)
        atomic.write_text(out_dir / "train.log", log.text())
        atomic.write_text(out_dir / "metrics.json", metrics_text)
    except BaseException:
        for name in FINAL_FILES:
            (out_dir / name).unlink(missing_ok=True)
        raise
    log.partial.unlink(missing_ok=True)
    return metrics
