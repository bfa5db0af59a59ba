"""The TTT condition's engine: every chunk window scored, then trained on, with per-document adapters.

TTTEngine holds what only TTT needs beside the scorer (pgolf.evaluate.scorer): a place for every
window's scores until the end (keep, flush; a worker process's share travels as bytes), each
window's padded inputs and targets, and the two step functions, the hand-written kernel
(pgolf.evaluate.ttt_kernel) and the model with autograd. run_ttt_condition drives them over the
documents (pgolf.evaluate.ttt), across worker processes where that pays (pgolf.evaluate.workers).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from pgolf.errors import ConfigError
from pgolf.evalspec import TTTSettings
from pgolf.evaluate import ttt as ttt_mod
from pgolf.evaluate import workers
from pgolf.evaluate.scorer import Scorer
from pgolf.evaluate.ttt_kernel import TTTKernel
from pgolf.model import GPT, cross_entropy_nats
from pgolf.runtime import in_process_group

# padded() of every TTT window is computed up front where it holds at most this many input
# tokens (the embedded default: 375k); the record's windows (about 240k of 1,024 tokens) are
# computed step by step.
TABLE_ELEMENTS = 1 << 23


def model_dtype(model: GPT) -> torch.dtype:
    """The dtype of the model's linear weights (float32, or float64 in exactness tests)."""
    return model.blocks[0].attn.c_q.weight.dtype


class TTTEngine:
    """Padded windows, kept scores and step functions of one TTT run over a scorer's plan."""

    def __init__(self, scorer: Scorer) -> None:
        s = scorer
        self.model, self.stream, self.w, self.progress, self.autocast = s.model, s.stream, s.w, s.progress, s.autocast
        self.start, self.length, self.score_offset, self.score_len = s.start, s.length, s.score_offset, s.score_len
        self.inputs, self.accumulate = s.inputs, s.accumulate
        # A place for every window's scores (keep() fills it, flush() accumulates it), and padded()
        # of every window computed once (TTT steps are many and small), within a budget.
        dtype = torch.promote_types(model_dtype(s.model), torch.float32)
        n, longest, scored = len(self.w), int(self.w.length.max()), int(self.w.score_len.max())
        self.kept = torch.zeros(n, scored, dtype=dtype, device=self.start.device)
        self.padded_all: tuple[Tensor, Tensor, Tensor, Tensor] | None = None
        if n * longest <= TABLE_ELEMENTS:
            self.padded_all = self._padded_of(torch.arange(n, device=self.start.device), longest, scored)

    def padded(self, rows: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Inputs (n, longest window), and the scored runs' window positions, targets and validity
        (n, longest scored run) of windows `rows` (a CPU tensor); past a row's run, its positions
        repeat its last one."""
        host = rows.numpy()
        longest, scored = int(self.w.length[host].max()), int(self.w.score_len[host].max())
        if self.padded_all is None:
            return self._padded_of(ttt_mod.to_device(rows, self.start.device), longest, scored)
        x, col, y, valid = self.padded_all
        if host.size == 1:  # the long tail's one row: views, not gathers
            r = int(host[0])
            return x[r : r + 1, :longest], col[r : r + 1, :scored], y[r : r + 1, :scored], valid[r : r + 1, :scored]
        rows = ttt_mod.to_device(rows, self.start.device)
        return x[rows, :longest], col[rows, :scored], y[rows, :scored], valid[rows, :scored]

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
            nats = cross_entropy_nats(self.model.head_logits(hs, lora), y)
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
        self.kept[ttt_mod.to_device(rows, self.start.device), : nats.size(1)] = nats.detach()  # flush() reads valid positions only

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


def run_ttt_condition(scorer: Scorer, settings: TTTSettings) -> int:
    """Score and train on every window of the scorer's plan; returns the number of processes that did it."""
    engine = TTTEngine(scorer)
    model, w = scorer.model, scorer.w
    docs, counts = np.unique(w.doc, return_counts=True)
    # Longest documents first: with slots refilled as documents finish, the short ones fill the
    # gaps at the end instead of one long document running alone.
    by_length = np.argsort(-counts, kind="stable")
    order, counts = docs[by_length], counts[by_length]
    step, kernel = _ttt_step(engine, model, settings.engine, scorer.autocast_on)
    shapes, dtype = ttt_mod.lora_shapes(model), model_dtype(model)

    def run(share: np.ndarray) -> None:
        ttt_mod.run_ttt(w, share, shapes, settings, dtype, scorer.stream.device, step=step, on_scored=engine.keep)

    # The kernel on a CPU with N threads: N processes of one thread (pgolf.evaluate.workers).
    n = min(torch.get_num_threads(), order.size) if kernel and not in_process_group() and workers.can_fork() else 1
    if n > 1:
        workers.run_shares(run, engine.kept_bytes, engine.store_kept, workers.deal(order, counts, n))
    else:
        run(order)
    engine.flush()
    return n


def auto_engine(device_type: str, autocast: bool) -> str:
    """`auto`'s choice: the kernel on a CPU without autocast, the model and autograd elsewhere.

    Measured on a CPU (3 blocks, vocab 1024, 16 documents, autograd's time over the kernel's, best of
    two alternating rounds, a shared 2-core VM): at one thread 2.57, 1.43, 1.09, 1.43 for (seq-len,
    chunk) (32, 8), (128, 32), (256, 64), (1024, 256) at width 64 and 1.38, 1.34, 1.18, 1.06 at width
    256; at two threads 2.8-12x (the kernel deals documents to one-thread processes, autograd's
    two intra-op threads gain nothing at these sizes). The kernel wins at every seq-len, chunk, width
    and thread count measured, once it attends by torch's fused kernel at long windows (ttt_kernel.
    FLASH_TOKENS: it lost 2.7x at 1,024 before); so the shape decides the kernel's attention path,
    and the device decides the engine. On CUDA the model's own fused attention and autograd run as
    the record's, and the kernel has no bf16 autocast."""
    return "kernel" if device_type == "cpu" and not autocast else "autograd"


def _ttt_step(engine: TTTEngine, model: GPT, choice: str, autocast: bool) -> tuple[ttt_mod.StepFn, bool]:
    """(step, whether it is the kernel on a CPU); `choice` (TTTSettings.engine) may force either engine."""
    if choice == "auto":
        choice = auto_engine(engine.start.device.type, autocast)
    if choice == "autograd":
        return ttt_mod.autograd_step(engine.score_padded), False
    if autocast:
        raise ConfigError("--ttt-engine kernel runs in the model's dtype: use autograd (or auto) with autocast")
    return engine.kernel_step(TTTKernel(model, model_dtype(model))), engine.start.device.type == "cpu"
