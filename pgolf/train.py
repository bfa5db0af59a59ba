"""One training run, the reference's loop: single process or one rank of torchrun.

The loop follows the record's script step for step (warm-up then restore, gradient
accumulation to a fixed global batch, the wall-clock-aware warm-down, validation
cadence, int8+zlib export and the round-trip evaluation) and prints the same log
lines, so tools written for published logs read ours. It reads top to bottom:

    train -> setup -> warm_up -> train_loop (validate, stop, train_step, log) -> finish

Nothing lands in the output folder until the run has succeeded: outputs are staged
in `<out>.partial/` and moved in at the end, so a diverged, crashed or interrupted
run leaves an earlier run's outputs as they were.
"""

from __future__ import annotations

import copy
import io
import random
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from pgolf import atomic, provenance, size
from pgolf.artifact import serialize_artifact, state_dict_from_bytes
from pgolf.config import Hyperparameters
from pgolf.data.loader import DistributedTokenLoader
from pgolf.errors import ConfigError, PgolfError
from pgolf.evalspec import reference_cast
from pgolf.model import GPT, cast_like_reference, count_parameters
from pgolf.optim import Optimizers, build_optimizers, lr_mul, max_wallclock_ms, muon_momentum_at
from pgolf.runtime import Runtime, autocast, process_group, reference_kernels, sync

FINAL_FILES = ("final_model.pt", "final_model.int8.ptz", "train.log", "metrics.json")
# The finiteness flag stays on the device; the host reads it at log and validation steps and at
# least this often, so a diverged run stops within this many steps without a sync every step.
FINITE_CHECK_EVERY = 16


class TrainingDiverged(PgolfError):
    """The training loss became NaN or infinite."""


class TrainLog:
    """train.log's lines (rank 0): kept for the final write, mirrored to the staging folder as they come."""

    def __init__(self, staging: Path | None, echo: Callable[[str], None]) -> None:
        self.lines: list[str] = []
        self.echo = echo
        self.mirror = staging / "train.log" if staging is not None else None
        if self.mirror is not None:
            self.mirror.write_text("", encoding="utf-8")

    def __call__(self, msg: str, console: bool = True) -> None:
        if self.mirror is None:
            return
        if console:
            self.echo(msg)
        self.lines.append(msg)
        with open(self.mirror, "a", encoding="utf-8") as fh:
            fh.write(msg + "\n")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


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


def manifest_hash(train_files: str) -> str | None:
    """sha256 of the data manifest.json beside the train shards, when there is one."""
    manifest = Path(train_files).parent / "manifest.json"
    return atomic.sha256_file(manifest) if manifest.is_file() else None


# ---------------------------------------------------------------------------------------------
# Entry point


def train(hp: Hyperparameters, out_dir: str | Path, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Train one seed into `out_dir`; returns metrics.json's content (on ranks other than 0: {})."""
    hp.resolve()
    hp.validate()
    out_dir = Path(out_dir).resolve()  # "." has no name to stage beside
    with (process_group(hp.device) as rt, reference_kernels(rt.cuda, hp.bf16_autocast(rt.device)),
          (atomic.staging_dir(out_dir) if rt.master else nullcontext()) as staging):
        run = setup(hp, rt, TrainLog(staging, echo), echo)
        warm_up(run)
        loop = train_loop(run)
        return finish(run, loop, staging, out_dir)


# ---------------------------------------------------------------------------------------------
# Setup: seeds, data, model, optimisers, and the log's header


@dataclass
class Run:
    """Everything the loop needs, built once by setup()."""

    hp: Hyperparameters
    rt: Runtime
    log: TrainLog
    echo: Callable[[str], None]
    base_model: GPT
    model: nn.Module  # compiled and/or DDP-wrapped base_model
    opts: Optimizers
    loader: DistributedTokenLoader
    val_tokens: np.ndarray
    tables: Any
    grad_accum_steps: int
    n_params: int


def setup(hp: Hyperparameters, rt: Runtime, log: TrainLog, echo: Callable[[str], None]) -> Run:
    from pgolf.data.shards import list_shards
    from pgolf.data.validation import check_validation_files
    from pgolf.tokenizer import build_byte_tables, check_against_manifest, check_vocab, load_tokenizer

    grad_accum_steps = grad_accum_steps_for(hp, rt.world_size)
    log(f"Running Python {sys.version.split()[0]} PyTorch {torch.__version__} device:{rt.device}", console=False)
    random.seed(hp.seed)
    np.random.seed(hp.seed)
    torch.manual_seed(hp.seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(hp.seed)

    sp = load_tokenizer(hp.tokenizer_path)
    check_vocab(sp, hp.vocab_size, hp.tokenizer_path)
    check_validation_files(hp.val_files, hp.tokenizer_path)  # eval's check: the same tokenizer, a val split
    check_against_manifest(hp.tokenizer_path, list_shards(hp.train_files)[0])
    tables = build_byte_tables(sp, hp.vocab_size, device=rt.device)
    val_tokens = load_validation(hp)
    log(f"val_bpb:enabled tokenizer_kind=sentencepiece tokenizer_path={hp.tokenizer_path}")
    log(f"train_loader:dataset:{Path(hp.train_files).parent.name} train_shards:{len(list_shards(hp.train_files))}")
    log(f"val_loader:shards pattern={hp.val_files} tokens:{scored_tokens(hp, val_tokens)}")

    base_model = GPT(hp.model_config()).to(rt.device)
    if reference_cast(hp.precision, rt.device.type):  # the record's layout; `precision: fp32` keeps float32
        cast_like_reference(base_model)
    model: nn.Module = torch.compile(base_model, dynamic=False, fullgraph=True) if hp.compile else base_model
    if rt.distributed:
        model = nn.parallel.DistributedDataParallel(
            model, device_ids=[rt.local_rank] if rt.cuda else None, broadcast_buffers=False)
    # Sharded Muon under torchrun (the reference's split): bench/train_throughput.py --muon-shard measures it
    # faster than every rank computing every update, with bit-identical weights.
    opts = build_optimizers(base_model, hp, muon_shard=rt.distributed)
    if hp.compile:
        opts.muon.orthogonalize = torch.compile(opts.muon.orthogonalize)
    run = Run(hp, rt, log, echo, base_model, model, opts, new_loader(hp, rt), val_tokens, tables,
              grad_accum_steps, count_parameters(base_model))
    log_header(run)
    return run


def load_validation(hp: Hyperparameters) -> np.ndarray:
    from pgolf.data.shards import load_tokens
    from pgolf.data.validation import check_starts_with_bos
    from pgolf.tokenizer import check_token_ids

    val_tokens = load_tokens(hp.val_files)
    check_token_ids(val_tokens, hp.vocab_size, hp.val_files)
    check_starts_with_bos(val_tokens, hp.val_files)
    if hp.val_max_tokens > 0:
        val_tokens = val_tokens[: hp.val_max_tokens + 1]
    if scored_tokens(hp, val_tokens) <= 0:
        raise ConfigError(f"validation split {hp.val_files} has {len(val_tokens)} tokens, fewer than one "
                          f"window of train_seq_len={hp.train_seq_len} + 1")
    return val_tokens


def scored_tokens(hp: Hyperparameters, val_tokens: np.ndarray) -> int:
    """Targets the flat validation scores: whole windows of train_seq_len."""
    return ((len(val_tokens) - 1) // hp.train_seq_len) * hp.train_seq_len


def new_loader(hp: Hyperparameters, rt: Runtime) -> DistributedTokenLoader:
    return DistributedTokenLoader(hp.train_files, rt.rank, rt.world_size, rt.device, vocab_size=hp.vocab_size)


def log_header(run: Run) -> None:
    hp, log = run.hp, run.log
    token_lr = hp.tied_embed_lr if hp.tie_embeddings else hp.embed_lr
    log(f"model_params:{run.n_params}")
    log(f"world_size:{run.rt.world_size} grad_accum_steps:{run.grad_accum_steps}")
    log(f"attention_mode:gqa num_heads:{hp.num_heads} num_kv_heads:{hp.num_kv_heads}")
    log(f"tie_embeddings:{hp.tie_embeddings} embed_lr:{token_lr} "
        f"head_lr:{hp.head_lr if run.base_model.lm_head is not None else 0.0} "
        f"matrix_lr:{hp.matrix_lr} scalar_lr:{hp.scalar_lr}")
    log(f"train_batch_tokens:{hp.train_batch_tokens} train_seq_len:{hp.train_seq_len} "
        f"iterations:{hp.iterations} warmup_steps:{hp.warmup_steps} "
        f"max_wallclock_seconds:{hp.max_wallclock_seconds:.3f}")
    log(f"seed:{hp.seed}")


# ---------------------------------------------------------------------------------------------
# One step: gradient accumulation over micro-batches, then every optimiser


def forward_backward(run: Run) -> torch.Tensor:
    """Forward/backward over every micro-batch; returns this rank's mean loss (detached, on the device)."""
    hp, n = run.hp, run.grad_accum_steps
    train_loss = torch.zeros((), device=run.rt.device)
    for micro in range(n):
        if run.rt.distributed:  # all-reduce the gradients once, on the last micro-batch
            run.model.require_backward_grad_sync = micro == n - 1
        x, y = run.loader.next_batch(hp.train_batch_tokens, hp.train_seq_len, n)
        with autocast(hp.bf16_autocast(run.rt.device), run.rt.device.type):
            loss = run.model(x, y)
        train_loss += loss.detach()
        (loss * (1.0 / n)).backward()
    return train_loss / n


def train_step(run: Run, step: int, lr_scale: float) -> torch.Tensor:
    run.opts.zero_grad()
    train_loss = forward_backward(run)
    run.opts.set_schedule(lr_scale, muon_momentum_at(step, run.hp))
    if run.hp.grad_clip_norm > 0:
        torch.nn.utils.clip_grad_norm_(run.base_model.parameters(), run.hp.grad_clip_norm)
    run.opts.step()
    run.opts.zero_grad()
    return train_loss


def warm_up(run: Run) -> None:
    """warmup_steps real steps to prime compiled kernels, then weights, optimiser state and the loader
    are restored, so the measured run starts from the true initialisation (reference semantics)."""
    hp = run.hp
    if hp.warmup_steps <= 0:
        return
    initial_model = {k: v.detach().cpu().clone() for k, v in run.base_model.state_dict().items()}
    initial_opts = [copy.deepcopy(s) for s in run.opts.state_dicts()]
    run.model.train()
    for warm in range(hp.warmup_steps):
        run.opts.zero_grad()
        forward_backward(run)  # no schedule: the steps are undone below
        run.opts.step()
        run.opts.zero_grad()
        if hp.warmup_steps <= 20 or (warm + 1) % 10 == 0 or warm + 1 == hp.warmup_steps:
            run.log(f"warmup_step:{warm + 1}/{hp.warmup_steps}")
    run.base_model.load_state_dict(initial_model, strict=True)
    run.opts.load_state_dicts(initial_opts)
    run.opts.zero_grad()
    if run.rt.distributed:
        run.model.require_backward_grad_sync = True
    run.loader = new_loader(hp, run.rt)


# ---------------------------------------------------------------------------------------------
# The loop: validate on cadence, stop at iterations or the wall-clock cap, step, log


class Clock:
    """Training time in ms, paused during validation (the reference's train_time)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.banked_ms = 0.0
        self.resume()

    def elapsed_ms(self) -> float:
        return self.banked_ms + 1000.0 * (time.perf_counter() - self.t0)

    def pause(self) -> float:
        sync(self.device)
        self.banked_ms = self.elapsed_ms()
        return self.banked_ms

    def resume(self) -> None:
        sync(self.device)
        self.t0 = time.perf_counter()


class FiniteGuard:
    """The first step whose training loss was not finite, remembered on the device (no host sync);
    check() reads it, agreed over ranks, and raises."""

    def __init__(self, rt: Runtime, hp: Hyperparameters) -> None:
        self.rt, self.hp = rt, hp
        self.first_step = torch.full((), -1, dtype=torch.int64, device=rt.device)
        self.first_value = torch.zeros((), dtype=torch.float32, device=rt.device)

    def record(self, train_loss: torch.Tensor, step: int) -> None:
        bad = ~torch.isfinite(train_loss) & (self.first_step < 0)
        self.first_step = torch.where(bad, torch.full_like(self.first_step, step), self.first_step)
        self.first_value = torch.where(bad, train_loss.float(), self.first_value)

    def check(self, now: int) -> None:
        never = self.hp.iterations + 1
        probe = torch.where(self.first_step < 0, torch.full_like(self.first_step, never), self.first_step)
        if self.rt.distributed:
            dist.all_reduce(probe, op=dist.ReduceOp.MIN)  # every rank agrees, so none waits forever
        step = int(probe.item())
        if step < never:
            value = float(self.first_value) if int(self.first_step) == step else "non-finite"
            hp = self.hp
            raise TrainingDiverged(
                f"training loss became {value} at step {step}/{hp.iterations} (seen at step {now}; "
                f"matrix_lr={hp.matrix_lr}, "
                f"scalar_lr={hp.scalar_lr}, tied_embed_lr={hp.tied_embed_lr}); no artifact was written. "
                "Lower the learning rates or check the data.")


@dataclass
class LoopResult:
    steps: int
    train_time_ms: float
    stopped_early: bool
    last_val: tuple[float, float] | None


def train_loop(run: Run) -> LoopResult:
    hp, rt = run.hp, run.rt
    cap_ms = max_wallclock_ms(hp)
    guard = FiniteGuard(rt, hp)
    stop_after_step: int | None = None
    last_val: tuple[float, float] | None = None
    run.model.train()
    clock = Clock(rt.device)
    step = 0
    while True:
        last_step = step == hp.iterations or (stop_after_step is not None and step >= stop_after_step)
        if last_step or (hp.val_loss_every > 0 and step % hp.val_loss_every == 0):
            guard.check(step)
            last_val = validate(run, step, clock)
        if last_step:
            break

        lr_scale = lr_mul(step, clock.elapsed_ms(), hp.iterations, hp.warmdown_iters, cap_ms)
        train_loss = train_step(run, step, lr_scale)
        step += 1
        guard.record(train_loss, step)
        approx_ms = clock.elapsed_ms()
        if hp.train_log_every > 0 and (step <= 10 or step % hp.train_log_every == 0 or stop_after_step is not None):
            guard.check(step)
            log_step(run, step, approx_ms, cap_ms, float(train_loss.item()))
        elif step % FINITE_CHECK_EVERY == 0:
            guard.check(step)
        if stop_after_step is None and reached_cap(rt, approx_ms, cap_ms):
            stop_after_step = step

    stopped_early = stop_after_step is not None and step < hp.iterations
    if stopped_early:
        run.log(f"stopping_early: wallclock_cap train_time:{clock.banked_ms:.0f}ms step:{step}/{hp.iterations}")
    if rt.cuda:
        run.log(f"peak memory allocated: {torch.cuda.max_memory_allocated() // 1024 // 1024} MiB "
                f"reserved: {torch.cuda.max_memory_reserved() // 1024 // 1024} MiB")
    return LoopResult(step, clock.banked_ms, stopped_early, last_val)


def validate(run: Run, step: int, clock: Clock) -> tuple[float, float]:
    train_ms = clock.pause()
    val = flat_stream_eval(run.base_model, run.val_tokens, run.tables, run.hp, run.rt.world_size,
                           run.grad_accum_steps)
    _check_finite_value(val[0], f"validation loss at step {step}/{run.hp.iterations}", run.hp)
    run.log(f"step:{step}/{run.hp.iterations} val_loss:{val[0]:.4f} val_bpb:{val[1]:.4f} "
            f"train_time:{train_ms:.0f}ms step_avg:{train_ms / max(step, 1):.2f}ms")
    clock.resume()
    return val


def reached_cap(rt: Runtime, elapsed_ms: float, cap_ms: float | None) -> bool:
    """Past the wall-clock cap on any rank (the reference all-reduces the flag, so all stop together)."""
    if cap_ms is None:
        return False
    reached = elapsed_ms >= cap_ms
    if rt.distributed:
        flag = torch.tensor(int(reached), device=rt.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        reached = bool(flag.item())
    return reached


def log_step(run: Run, step: int, elapsed_ms: float, cap_ms: float | None, loss: float) -> None:
    hp = run.hp
    run.log(f"step:{step}/{hp.iterations} train_loss:{loss:.4f} "
            f"train_time:{elapsed_ms:.0f}ms step_avg:{elapsed_ms / step:.2f}ms")
    if run.rt.master:
        step_ms = elapsed_ms / max(step, 1)
        eta_ms = (hp.iterations - step) * step_ms
        if cap_ms is not None:
            eta_ms = min(eta_ms, max(cap_ms - elapsed_ms, 0.0))
        run.echo(f"progress step {step}/{hp.iterations} loss {loss:.4f} {step_ms:.1f} ms/step "
                 f"ETA {eta_ms / 1000.0:.0f}s")


def flat_stream_eval(model: GPT, val_tokens: np.ndarray, tables: Any, hp: Hyperparameters,
                     world_size: int, grad_accum_steps: int) -> tuple[float, float]:
    """(val_loss, val_bpb) of the flat stream: the reference's eval_val, implemented by pgolf.evaluate.

    Collective under torch.distributed: every rank scores its share and the sums are all-reduced.
    """
    from pgolf.evaluate import EvalSettings, run_condition

    # eval_val's batch: val_batch_size split over ranks and micro-steps (65,536 tokens at the record's setting).
    batch = max(hp.val_batch_size // (world_size * grad_accum_steps), hp.train_seq_len)
    result = run_condition(model, val_tokens, tables, "flat", EvalSettings(
        seq_len=hp.train_seq_len, batch_tokens=batch, precision=hp.precision))
    return float(result.val_loss), float(result.val_bpb)


def _check_finite_value(value: float, what: str, hp: Hyperparameters, hint: str = "") -> None:
    if not np.isfinite(value):
        raise TrainingDiverged(
            f"{what} is {value} (matrix_lr={hp.matrix_lr}, scalar_lr={hp.scalar_lr}, "
            f"tied_embed_lr={hp.tied_embed_lr}); no artifact was written. {hint or 'Lower the learning rates.'}")


def _check_finite_weights(model: nn.Module, step: int, hp: Hyperparameters) -> None:
    bad = [name for name, p in model.named_parameters() if not bool(torch.isfinite(p).all())]
    if bad:
        raise TrainingDiverged(
            f"weights became non-finite by step {step}/{hp.iterations} ({', '.join(bad[:3])}"
            f"{', ...' if len(bad) > 3 else ''}); no artifact was written. Lower the learning rates.")


# ---------------------------------------------------------------------------------------------
# The final round trip: export raw + int8+zlib, score the dequantised weights, write everything


@dataclass
class Export:
    raw: bytes
    blob: bytes
    stats: dict[str, int]
    size: dict[str, Any]


def export(run: Run, steps: int) -> Export:
    """Serialise the trained weights both ways and log their sizes against the record's cap."""
    _check_finite_weights(run.base_model, steps, run.hp)
    raw_buf = io.BytesIO()
    torch.save(run.base_model.state_dict(), raw_buf)
    raw = raw_buf.getvalue()
    blob, stats = serialize_artifact(run.base_model.state_dict())
    code = size.code_size()
    log = run.log
    log(f"Serialized model: {len(raw)} bytes")
    log(f"Code size: {code.raw_bytes} bytes ({len(code.files)} .py files that training and evaluation import)")
    log(f"Code size (compressed): {code.bytes} bytes (their self-extracting lzma bundle: the count below)")
    log(f"Total submission size: {len(raw) + code.bytes} bytes")
    ratio = stats["baseline_tensor_bytes"] / max(stats["int8_payload_bytes"], 1)
    log(f"Serialized model int8+zlib: {stats['bytes']} bytes "
        f"(payload:{stats['int8_payload_bytes']} raw_torch:{stats['raw_torch_bytes']} payload_ratio:{ratio:.2f}x)")
    log(f"Total submission size int8+zlib: {stats['bytes'] + code.bytes} bytes")
    cap = size.size_check(stats["bytes"], code)
    log(size.cap_line(cap))
    return Export(raw, blob, stats, cap)


def round_trip(run: Run, ex: Export, steps: int) -> tuple[float, float, float]:
    """(val_loss, val_bpb, eval_ms) of the weights read back from the int8+zlib bytes, on every rank."""
    hp = run.hp
    max_abs = max((float(p.detach().abs().max()) for p in run.base_model.parameters() if p.numel()), default=0.0)
    run.base_model.load_state_dict(state_dict_from_bytes(ex.blob, "final_model.int8.ptz"), strict=True)
    sync(run.rt.device)
    t_eval = time.perf_counter()
    q_loss, q_bpb = flat_stream_eval(run.base_model, run.val_tokens, run.tables, hp, run.rt.world_size,
                                     run.grad_accum_steps)
    sync(run.rt.device)
    eval_ms = 1000.0 * (time.perf_counter() - t_eval)
    _check_finite_value(q_loss, f"the int8+zlib round trip's validation loss after step {steps}/{hp.iterations}",
                        hp, f"The largest trained weight is {max_abs:.3g}; int8 with float16 scales holds |w| up to "
                        "~8e6. Lower the learning rates.")
    run.log(f"final_int8_zlib_roundtrip val_loss:{q_loss:.4f} val_bpb:{q_bpb:.4f} eval_time:{eval_ms:.0f}ms")
    run.log(f"final_int8_zlib_roundtrip_exact val_loss:{q_loss:.8f} val_bpb:{q_bpb:.8f}")
    return q_loss, q_bpb, eval_ms


def finish(run: Run, loop: LoopResult, staging: Path | None, out_dir: Path) -> dict[str, Any]:
    """Export, round trip, then (rank 0) write every output into staging and move them into out_dir."""
    ex = export(run, loop.steps)
    q_loss, q_bpb, eval_ms = round_trip(run, ex, loop.steps)
    if staging is None:
        return {}
    metrics = build_metrics(run, loop, ex, q_loss, q_bpb, eval_ms)
    # Serialise first (fails on NaN), then write; metrics.json last marks a finished run.
    metrics_text = atomic.json_text(metrics)
    atomic.write_bytes(staging / "final_model.pt", ex.raw)
    atomic.write_bytes(staging / "final_model.int8.ptz", ex.blob)
    atomic.write_text(staging / "train.log", run.log.text())
    atomic.write_text(staging / "metrics.json", metrics_text)
    atomic.move_files(staging, out_dir, FINAL_FILES)
    return metrics


def build_metrics(run: Run, loop: LoopResult, ex: Export, q_loss: float, q_bpb: float,
                  eval_ms: float) -> dict[str, Any]:
    hp, rt = run.hp, run.rt
    return {
        "final_int8_zlib_roundtrip": {"val_loss": q_loss, "val_bpb": q_bpb, "eval_time_ms": eval_ms},
        "final_prequant": ({"val_loss": loop.last_val[0], "val_bpb": loop.last_val[1]} if loop.last_val else None),
        "steps": loop.steps,
        "iterations": hp.iterations,
        "stopped_early": loop.stopped_early,
        "train_time_ms": loop.train_time_ms,
        "step_avg_ms": loop.train_time_ms / max(loop.steps, 1),
        "model_params": run.n_params,
        "world_size": rt.world_size,
        "grad_accum_steps": run.grad_accum_steps,
        "artifact_bytes": ex.stats["bytes"],
        "raw_model_bytes": len(ex.raw),
        "code_bytes": ex.size["code_bytes"],
        "code_bytes_raw": ex.size["code_bytes_raw"],
        "code_count": ex.size["code_count"],
        "code_bytes_note": size.CODE_NOTE,
        "total_submission_bytes": ex.size["total_bytes"],
        "size_cap": ex.size,
        "quant_stats": ex.stats,
        "val_tokens_scored": scored_tokens(hp, run.val_tokens),
        "provenance": provenance.collect(
            config=hp.to_dict(), seed=hp.seed, world_size=rt.world_size, device=str(rt.device),
            data_manifest_sha256=manifest_hash(hp.train_files), tokenizer_sha256=atomic.sha256_file(hp.tokenizer_path),
        ),
    }
