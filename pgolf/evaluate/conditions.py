"""The four evaluation conditions of the ablation as one engine.

- flat: the record's eval_val: the stream cut to whole windows of seq_len (+1 target),
  every target scored once with the context inside its window, across documents.
- sliding: each document alone, its targets in chunks of `chunk` from its start, each
  chunk scored in the window of at most seq_len targets that ends at the chunk's end.
- doc: sliding with chunk = seq_len.
- ttt: sliding, plus per-document LoRA test-time training (pgolf.evaluate.ttt).

Windows are built with array operations (pgolf.evaluate.windows), batched by
length, and only scored positions reach the LM head. Sums are float64
(pgolf.evaluate.totals); under torch.distributed, windows (flat) or documents
(the others) are split across ranks in contiguous shares and the sums all-reduced.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor

from pgolf.data.docs import doc_spans
from pgolf.errors import ConfigError
from pgolf.evaluate import ttt as ttt_mod
from pgolf.evaluate import workers
from pgolf.evaluate.totals import EvalResult, Totals
from pgolf.evaluate.ttt_kernel import TTTKernel
from pgolf.evaluate.windows import (
    Windows,
    check_sizes,
    chunk_windows,
    flat_windows,
    length_batches,
    merge_prefix_windows,
    rank_slice,
    target_positions,
)
from pgolf.model import GPT
from pgolf.runtime import autocast as runtime_autocast
from pgolf.runtime import dist_info, in_process_group, sync
from pgolf.tokenizer import ByteTables

CONDITIONS = ("flat", "doc", "sliding", "ttt")
TTT_ENGINES = ("auto", "kernel", "autograd")
# padded() of every TTT window is computed up front where it holds at most this many input
# tokens (the embedded default: 375k); the record's windows (about 240k of 1,024 tokens) are
# computed step by step.
TABLE_ELEMENTS = 1 << 23


@dataclass(frozen=True)
class EvalSettings:
    """Everything that changes a condition's numbers or speed; defaults are the record's."""

    seq_len: int = 1024
    chunk: int = 256
    ttt_rank: int = 8
    ttt_lr: float = 0.01
    ttt_batch: int = 64
    ttt_beta1: float = 0.9
    ttt_beta2: float = 0.95
    ttt_eps: float = 1e-10
    seed: int = 0
    max_docs: int | None = None
    batch_tokens: int | None = None  # padded tokens per forward pass (flat, doc, sliding); None: 65536
    # on CUDA (the record's per-rank batch), 8192 on CPU (cache-friendlier, measured faster)
    autocast: bool | None = None  # bf16 autocast as the reference; None: on for CUDA, off on CPU
    progress_seconds: float = 0.0  # print progress to stderr this often (rank 0); 0: never
    # TTT's forward and backward: "kernel" (hand-written, pgolf.evaluate.ttt_kernel), "autograd"
    # (the model and torch autograd), "auto": the kernel on a CPU without autocast.
    ttt_engine: str = "auto"

    def effective_chunk(self, condition: str) -> int:
        return self.seq_len if condition in ("doc", "flat") else self.chunk

    def validate(self, condition: str) -> None:
        """ConfigError naming the flag, for every setting out of its range (the one place these are checked)."""
        if condition not in CONDITIONS:
            raise ConfigError(f"unknown condition {condition!r}; choose from {', '.join(CONDITIONS)}")
        check_sizes(self.seq_len, self.effective_chunk(condition))
        for flag, value in (("--ttt-rank", self.ttt_rank), ("--ttt-batch", self.ttt_batch),
                            ("--max-docs", self.max_docs), ("--batch-tokens", self.batch_tokens)):
            if value is not None and value < 1:
                raise ConfigError(f"{flag} must be at least 1, got {value}")
        if self.ttt_engine not in TTT_ENGINES:
            raise ConfigError(f"ttt_engine must be one of {', '.join(TTT_ENGINES)}, got {self.ttt_engine!r}")
        for flag, value in (("--ttt-lr", self.ttt_lr), ("--progress", self.progress_seconds)):
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"{flag} must be a finite number >= 0, got {value}")
        if not (0 <= self.ttt_beta1 < 1 and 0 <= self.ttt_beta2 < 1) or not self.ttt_eps > 0:
            raise ConfigError(f"TTT Adam needs 0 <= betas < 1 and eps > 0, got ({self.ttt_beta1}, "
                              f"{self.ttt_beta2}), {self.ttt_eps}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def model_dtype(model: GPT) -> torch.dtype:
    """The dtype of the model's linear weights (float32, or float64 in exactness tests)."""
    return model.blocks[0].attn.c_q.weight.dtype


class _Progress:
    def __init__(self, condition: str, total: int, every: float, rank: int) -> None:
        self.condition, self.total, self.every = condition, max(total, 1), every
        self.enabled = every > 0 and rank == 0
        self.t0 = self.last = time.perf_counter()
        self.done = 0

    def add(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and now - self.last >= self.every:
            self.last = now
            frac = self.done / self.total
            eta = (now - self.t0) * (1 - frac) / max(frac, 1e-9)
            print(
                f"eval {self.condition}: {self.done}/{self.total} tokens on rank 0 ({100 * frac:.1f}%), "
                f"{now - self.t0:.0f}s elapsed, ~{eta:.0f}s left",
                file=sys.stderr,
                flush=True,
            )


class _Engine:
    """Scores windows of one plan and accumulates their targets into Totals."""

    def __init__(self, model: GPT, stream: Tensor, tables: ByteTables, w: Windows, doc_starts: Tensor,
                 totals: Totals, autocast: bool, progress: _Progress) -> None:
        self.model, self.stream, self.tables, self.w = model, stream, tables, w
        self.doc_starts, self.totals, self.progress = doc_starts, totals, progress
        dev = stream.device
        self.start = torch.as_tensor(w.start, device=dev)
        self.length = torch.as_tensor(w.length, device=dev)
        self.score_offset = torch.as_tensor(w.score_offset, device=dev)
        self.score_len = torch.as_tensor(w.score_len, device=dev)
        self.autocast = runtime_autocast(autocast, dev.type)
        self.kept: Tensor | None = None
        self.padded_all: tuple[Tensor, Tensor, Tensor, Tensor] | None = None

    def inputs(self, rows: Tensor, longest: int | None = None) -> Tensor:
        """Input tokens of windows `rows`, right-padded (causal: padding never reaches a scored target)."""
        longest = int(self.length[rows].max()) if longest is None else longest
        idx = self.start[rows, None] + torch.arange(longest, device=rows.device)
        return self.stream[idx.clamp_max(self.stream.numel() - 1)].long()

    def score_flat(self, rows: Tensor) -> None:
        """No adapters: gather only the scored positions' hidden states, then the head."""
        rows = rows.to(self.start.device)
        x = self.inputs(rows)
        lens = self.score_len[rows]
        row_of = torch.repeat_interleave(torch.arange(rows.numel(), device=rows.device), lens)
        first = torch.cumsum(lens, 0) - lens
        col = torch.arange(int(lens.sum()), device=rows.device) - first[row_of] + self.score_offset[rows][row_of]
        with self.autocast:
            h = self.model.hidden(x)
            nats = ttt_mod.cross_entropy_nats(self.model.head_logits(h[row_of, col]), self._targets(rows, row_of, col))
        self.accumulate(nats, self.start[rows][row_of] + col + 1)

    def _targets(self, rows: Tensor, row_of: Tensor, col: Tensor) -> Tensor:
        return self.stream[self.start[rows][row_of] + col + 1].long()

    def padded(self, rows: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Inputs (n, longest window), and the scored runs' window positions, targets and validity
        (n, longest scored run) of windows `rows` (a CPU tensor); past a row's run, its positions
        repeat its last one."""
        host = rows.numpy()
        longest, scored = int(self.w.length[host].max()), int(self.w.score_len[host].max())
        if self.padded_all is None:
            return self._padded_of(rows.to(self.start.device), longest, scored)
        x, col, y, valid = self.padded_all
        if host.size == 1:  # the long tail's one row: views, not gathers
            r = int(host[0])
            return x[r : r + 1, :longest], col[r : r + 1, :scored], y[r : r + 1, :scored], valid[r : r + 1, :scored]
        rows = rows.to(self.start.device)
        return x[rows, :longest], col[rows, :scored], y[rows, :scored], valid[rows, :scored]

    def prepare_ttt(self, dtype: torch.dtype) -> None:
        """A place for every window's scores (keep() fills it, flush() accumulates it), and padded()
        of every window computed once (TTT steps are many and small), within a budget."""
        n, longest, scored = len(self.w), int(self.w.length.max()), int(self.w.score_len.max())
        self.kept = torch.zeros(n, scored, dtype=dtype, device=self.start.device)
        if n * longest <= TABLE_ELEMENTS:
            self.padded_all = self._padded_of(torch.arange(n, device=self.start.device), longest, scored)

    def _padded_of(self, rows: Tensor, longest: int, scored: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        x = self.inputs(rows, longest)
        span = torch.arange(scored, device=rows.device)
        valid = span[None, :] < self.score_len[rows][:, None]
        col = (self.score_offset[rows][:, None] + span[None, :]).minimum(self.length[rows][:, None] - 1)
        y = self.stream[(self.start[rows][:, None] + col + 1).clamp_max(self.stream.numel() - 1)].long()
        return x, col, y, valid

    def score_padded(self, rows: Tensor, lora: ttt_mod.BatchedLora) -> tuple[Tensor, Tensor]:
        """With per-row adapters, through the model: (nats, valid) of shape (rows, longest scored run)."""
        x, col, y, valid = self.padded(rows)
        with self.autocast:
            h = self.model.hidden(x, lora)
            hs = torch.gather(h, 1, col[..., None].expand(-1, -1, h.size(-1)))
            nats = ttt_mod.cross_entropy_nats(self.model.head_logits(hs, lora), y)
        return nats, valid

    def kernel_step(self, kernel: TTTKernel) -> ttt_mod.StepFn:
        """A StepFn by the hand-written forward and backward (the CPU path)."""

        def step(rows: Tensor, lora: ttt_mod.BatchedLora, train: bool) -> tuple[Tensor, Tensor, Tensor | None]:
            x, col, y, valid = self.padded(rows)
            # The record's loss: each row's mean over its chunk (train rows are full chunks).
            weight = valid / valid.sum(1, keepdim=True) if train else None
            nats, grads = kernel.run(x, col, y, weight, lora.a, lora.b)
            grad = None if grads is None else torch.cat([g.reshape(x.size(0), -1) for g in grads], dim=1)
            return nats, valid, grad

        return step

    def keep(self, nats: Tensor, valid: Tensor, rows: Tensor) -> None:
        """Hold scores of windows `rows` until flush(): one accumulation at the end, not one per step."""
        self.progress.add(int(self.w.score_len[rows.numpy()].sum()))  # from the host: no device sync
        self.kept[rows.to(self.start.device), : nats.size(1)] = nats.detach()  # flush() reads valid positions only

    def _windows_of(self, docs: np.ndarray) -> Tensor:
        return torch.as_tensor(np.flatnonzero(np.isin(self.w.doc, docs)))

    def kept_bytes(self, docs: np.ndarray) -> bytes:
        """The kept scores of the windows of documents `docs` (a worker process's share)."""
        return self.kept[self._windows_of(docs)].cpu().numpy().tobytes()

    def store_kept(self, docs: np.ndarray, data: bytes) -> bool:
        """Put kept_bytes(docs) of another process in place; False (nothing stored) if it is not whole."""
        rows = self._windows_of(docs)
        shape = (rows.numel(), self.kept.size(1))
        if len(data) != shape[0] * shape[1] * self.kept.element_size():
            return False
        self.kept[rows] = torch.frombuffer(bytearray(data), dtype=self.kept.dtype).view(shape).to(self.kept.device)
        return True

    def flush(self) -> None:
        """Accumulate every kept score, in window order."""
        span = torch.arange(self.kept.size(1), device=self.start.device)
        valid = span[None, :] < self.score_len[:, None]
        t = (self.start[:, None] + self.score_offset[:, None] + span[None, :] + 1)[valid]
        self.accumulate(self.kept[valid], t, progress=False)

    def accumulate(self, nats: Tensor, target_index: Tensor, progress: bool = True) -> None:
        tgt = self.stream[target_index].long()
        prev = self.stream[target_index - 1].long()
        doc, pos = target_positions(target_index, self.doc_starts)
        self.totals.add(nats, self.tables.token_bytes(prev, tgt), doc, pos)
        if progress:
            self.progress.add(int(nats.numel()))


def _stream_tensor(tokens: Any, device: torch.device) -> Tensor:
    if isinstance(tokens, Tensor):
        return tokens.to(device=device, dtype=torch.int32)
    return torch.from_numpy(np.asarray(tokens).astype(np.int32)).to(device)


def run_condition(
    model: GPT,
    tokens: Any,
    tables: ByteTables,
    condition: str,
    settings: EvalSettings | None = None,
) -> EvalResult:
    """Score `tokens` (the whole validation stream) under one condition; sums over all ranks.

    The model is put in eval mode with frozen weights for the call and restored afterwards.
    """
    settings = settings or EvalSettings()
    settings.validate(condition)
    chunk = settings.effective_chunk(condition)
    device = model.tok_emb.weight.device
    # bf16 autocast as the reference; on CPU only when asked (torch's CPU autocast, for tests).
    autocast = settings.autocast if settings.autocast is not None else device.type == "cuda"
    rank, world = dist_info()
    host, starts, lengths = _documents(tokens, settings.max_docs)
    stream = _stream_tensor(host, device)
    doc_starts = torch.as_tensor(starts, device=device)
    w = _plan(condition, host, starts, lengths, settings.seq_len, chunk, rank, world)
    n_positions = max(int(lengths.max()) - 1, int(starts[0]), 1)
    totals = Totals(starts.size, n_positions, device)
    progress = _Progress(condition, w.scored_tokens, settings.progress_seconds, rank)

    was_training = model.training
    grads = [p.requires_grad for p in model.parameters()]
    model.eval()
    model.requires_grad_(False)
    sync(device)
    t0 = time.perf_counter()
    workers_used = 1
    try:
        if condition == "ttt":
            workers_used = _run_ttt(model, stream, tables, w, doc_starts, totals, autocast, progress, settings)
        else:
            if condition != "flat":
                w = merge_prefix_windows(w, starts)
            engine = _Engine(model, stream, tables, w, doc_starts, totals, autocast, progress)
            with torch.inference_mode():
                batch_tokens = settings.batch_tokens or (65536 if device.type == "cuda" else 8192)
                for rows in length_batches(w.length, batch_tokens):
                    engine.score_flat(torch.as_tensor(rows))
        totals.all_reduce()
        sync(device)
    finally:
        model.train(was_training)
        for p, g in zip(model.parameters(), grads, strict=True):
            p.requires_grad_(g)
    seconds = time.perf_counter() - t0
    info = _info(settings, condition, chunk, autocast, world, model)
    if condition == "ttt":
        info["ttt_workers"] = workers_used  # processes the documents were dealt to (float rounding may differ)
    return totals.result(condition, starts, seconds, info)


def _documents(tokens: Any, max_docs: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(stream, document starts, document lengths), cut to the first `max_docs` documents."""
    host = tokens.cpu().numpy() if isinstance(tokens, Tensor) else np.asarray(tokens)
    starts, lengths = doc_spans(host)
    if max_docs is not None and max_docs < starts.size:
        # Keep the next document's BOS: it is the last target of the last document kept.
        host = host[: starts[max_docs] + 1]
        starts, lengths = starts[:max_docs], lengths[:max_docs]
    return host, starts, lengths


def _plan(condition: str, host: np.ndarray, starts: np.ndarray, lengths: np.ndarray, seq_len: int, chunk: int,
          rank: int, world: int) -> Windows:
    """This rank's windows: a contiguous share of the flat windows, or of the documents."""
    if condition == "flat":
        w = flat_windows(host.size, seq_len)
        return w.take(np.arange(len(w))[rank_slice(len(w), rank, world)])
    share = rank_slice(starts.size, rank, world)
    w = chunk_windows(starts[share], lengths[share], chunk, seq_len)
    return replace(w, doc=w.doc + share.start)


def _info(settings: EvalSettings, condition: str, chunk: int, autocast: bool, world: int,
          model: GPT) -> dict[str, Any]:
    info = {
        **settings.to_dict(),
        "chunk": chunk,
        "autocast": autocast,
        "world_size": world,
        "device": str(model.tok_emb.weight.device),
        "dtype": str(model_dtype(model)).removeprefix("torch."),
    }
    if condition != "ttt":
        for key in ("ttt_rank", "ttt_lr", "ttt_batch", "ttt_beta1", "ttt_beta2", "ttt_eps", "seed", "ttt_engine"):
            info.pop(key)
    return info


def _run_ttt(model: GPT, stream: Tensor, tables: ByteTables, w: Windows, doc_starts: Tensor, totals: Totals,
             autocast: bool, progress: _Progress, settings: EvalSettings) -> int:
    """Score and train on every window of `w`; returns the number of processes that did it."""
    engine = _Engine(model, stream, tables, w, doc_starts, totals, autocast, progress)
    engine.prepare_ttt(torch.promote_types(model_dtype(model), torch.float32))
    docs, counts = np.unique(w.doc, return_counts=True)
    # Longest documents first: with slots refilled as documents finish, the short ones fill the
    # gaps at the end instead of one long document running alone.
    by_length = np.argsort(-counts, kind="stable")
    order, counts = docs[by_length], counts[by_length]
    cfg = ttt_mod.TTTConfig(
        rank=settings.ttt_rank,
        lr=settings.ttt_lr,
        betas=(settings.ttt_beta1, settings.ttt_beta2),
        eps=settings.ttt_eps,
        slots=settings.ttt_batch,
        seed=settings.seed,
    )
    step, kernel = _ttt_step(engine, model, settings.ttt_engine, autocast)
    shapes, dtype = ttt_mod.lora_shapes(model), model_dtype(model)

    def run(share: np.ndarray) -> None:
        ttt_mod.run_ttt(w, share, shapes, cfg, dtype, stream.device, step=step, on_scored=engine.keep)

    # The kernel on a CPU with N threads: N processes of one thread (pgolf.evaluate.workers).
    n = min(torch.get_num_threads(), order.size) if kernel and not in_process_group() and workers.can_fork() else 1
    if n > 1:
        workers.run_shares(run, engine.kept_bytes, engine.store_kept, workers.deal(order, counts, n))
    else:
        run(order)
    engine.flush()
    return n


def _ttt_step(engine: _Engine, model: GPT, choice: str, autocast: bool) -> tuple[ttt_mod.StepFn, bool]:
    """(step, whether it is the kernel): the hand-written kernel where autograd's bookkeeping is
    most of a step's time (a CPU, no autocast), else the model and autograd; `choice`
    (EvalSettings.ttt_engine) may force either."""
    if choice == "auto":
        choice = "kernel" if engine.start.device.type == "cpu" and not autocast else "autograd"
    if choice == "autograd":
        return ttt_mod.autograd_step(engine.score_padded), False
    if autocast:
        raise ConfigError("ttt_engine 'kernel' runs in the model's dtype: use 'autograd' (or 'auto') with autocast")
    return engine.kernel_step(TTTKernel(model, model_dtype(model))), engine.start.device.type == "cpu"
