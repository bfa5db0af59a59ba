"""pgolf's readable loops: the evaluation algorithms written plainly, as a cross-check and a speed baseline.

Python loops over batches of documents and, for every chunk, over the documents
of the batch, in the shape of the record's eval_val_ttt_lora; flat has the shape of
its eval_val (mean loss of a batch of windows times its token count). Written by
pgolf from the semantics in record-77.md, not the record's code, and sharing pieces
with the fast engine (BatchedLora, lora_shapes, GPT.token_losses, token_bytes), so
it is a cross-check, not an oracle: the oracle is the record's own numbers in
tests/data/golden (tests/test_golden.py). bench/eval_throughput.py times both.

Slow on purpose; use `python -m pgolf eval` for real runs.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from pgolf.data.docs import BOS_ID
from pgolf.evalspec import EvalSettings, TTTSettings
from pgolf.evalspec import condition as condition_of
from pgolf.evaluate.totals import bits_per_byte
from pgolf.evaluate.ttt import BatchedLora, lora_shapes
from pgolf.model import GPT
from pgolf.runtime import autocast as autocast_ctx
from pgolf.tokenizer import ByteTables


@dataclass
class LoopTotals:
    loss_sum: float
    tokens: int
    bytes: float
    per_doc: dict[int, float] = field(default_factory=dict)  # document index -> nats

    @property
    def val_loss(self) -> float:
        return self.loss_sum / self.tokens

    @property
    def val_bpb(self) -> float:
        return bits_per_byte(self.loss_sum, self.bytes)


def find_docs(tokens: Tensor) -> list[tuple[int, int]]:
    """(start, length) per document: BOS to the next BOS inclusive; the last runs to the end."""
    bos = [int(i) for i in (tokens == BOS_ID).nonzero().flatten().tolist()]
    docs = []
    for k, start in enumerate(bos):
        end = bos[k + 1] + 1 if k + 1 < len(bos) else tokens.numel()
        docs.append((start, end - start))
    return docs


@torch.no_grad()
def loops_flat(model: GPT, tokens: Tensor, tables: ByteTables, seq_len: int, batch_seqs: int = 64,
                   autocast: bool = False) -> LoopTotals:
    """eval_val: whole windows of seq_len across documents, batch mean loss times token count."""
    device = model.tok_emb.weight.device
    tokens = tokens.to(device=device, dtype=torch.int64)
    n_seqs = (tokens.numel() - 1) // seq_len
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    byte_sum = torch.zeros((), dtype=torch.float64, device=device)
    count = 0
    model.eval()
    for first in range(0, n_seqs, batch_seqs):
        last = min(first + batch_seqs, n_seqs)
        local = tokens[first * seq_len : last * seq_len + 1]
        x = local[:-1].reshape(-1, seq_len)
        y = local[1:].reshape(-1, seq_len)
        with autocast_ctx(autocast, device.type):
            mean = model(x, y)
        loss_sum += mean.to(torch.float64) * y.numel()
        count += y.numel()
        byte_sum += tables.token_bytes(x.reshape(-1), y.reshape(-1)).to(torch.float64).sum()
    return LoopTotals(float(loss_sum), count, float(byte_sum))


def chunk_window(ci: int, pred_len: int, num_chunks: int, chunk: int, seq_len: int) -> tuple[int, int, int, int]:
    """(window start, window length, chunk offset in window, chunk length) of chunk ci."""
    chunk_start = ci * chunk
    chunk_end = pred_len if ci == num_chunks - 1 else (ci + 1) * chunk
    win_start = max(0, chunk_end - seq_len)
    return win_start, chunk_end - win_start, chunk_start - win_start, chunk_end - chunk_start


class _LoopLora(nn.Module):
    """The record's per-batch adapters: A uniform in +-1/sqrt(in), B zero."""

    def __init__(self, bsz: int, model: GPT, rank: int, dtype: torch.dtype, device: torch.device) -> None:
        super().__init__()
        self.shapes = lora_shapes(model)
        self.a = nn.ParameterList(
            [nn.Parameter(torch.empty(bsz, rank, i, dtype=dtype, device=device)) for i, _ in self.shapes]
        )
        self.b = nn.ParameterList(
            [nn.Parameter(torch.zeros(bsz, o, rank, dtype=dtype, device=device)) for _, o in self.shapes]
        )

    @torch.no_grad()
    def reset(self, init_a: Callable[[int], list[Tensor]] | None, docs: list[int]) -> None:
        for i, (a, b) in enumerate(zip(self.a, self.b, strict=True)):
            if init_a is None:
                bound = 1.0 / math.sqrt(self.shapes[i][0])
                a.uniform_(-bound, bound)
            else:
                a.copy_(torch.stack([init_a(d)[i] for d in docs]))
            b.zero_()

    def deltas(self) -> BatchedLora:
        return BatchedLora(list(self.a), list(self.b))


def loops_chunked(
    model: GPT,
    tokens: Tensor,
    tables: ByteTables,
    *,
    seq_len: int,
    chunk: int,
    batch_size: int = TTTSettings.batch,
    ttt: bool = False,
    lora_rank: int = TTTSettings.rank,
    lr: float = TTTSettings.lr,
    betas: tuple[float, float] = (TTTSettings.beta1, TTTSettings.beta2),
    eps: float = TTTSettings.eps,
    init_a: Callable[[int], list[Tensor]] | None = None,
    autocast: bool = False,
    rank: int = 0,
    world_size: int = 1,
) -> LoopTotals:
    """eval_val_ttt_lora's shape (ttt=True), or its scoring loop alone (ttt=False: sliding and doc).

    Documents are split in contiguous shares per rank, sorted by chunk count, batched
    `batch_size` at a time; for every chunk index every document of the batch is filled
    in by a Python loop. `init_a(doc)` gives a document's A matrices; None draws them from
    the global RNG.
    """
    tokens = tokens.to(torch.int64)
    all_docs = find_docs(tokens)
    lo, hi = (len(all_docs) * rank) // world_size, (len(all_docs) * (rank + 1)) // world_size
    docs = [(i, *all_docs[i]) for i in range(lo, hi)]
    docs.sort(key=lambda d: (d[2] - 2) // chunk)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    acc = _Sums(model.tok_emb.weight.device)
    adapters = _Adapters(model, batch_size, lora_rank, lr, betas, eps) if ttt else None
    for first in range(0, len(docs), batch_size):
        batch = docs[first : first + batch_size]
        lora, opt = adapters.for_batch(batch, init_a) if adapters else (None, None)
        _score_batch(model, tokens, tables, batch, chunk, seq_len, lora, opt, autocast, acc)
    return acc.totals()


class _Sums:
    """float64 sums over every scored target, and nats per document."""

    def __init__(self, device: torch.device) -> None:
        self.loss = torch.zeros((), dtype=torch.float64, device=device)
        self.bytes = torch.zeros((), dtype=torch.float64, device=device)
        self.tokens = 0
        self.per_doc: dict[int, float] = {}

    def add(self, doc: int, nats: Tensor, nbytes: Tensor) -> None:
        self.loss += nats.sum()
        self.bytes += nbytes.to(torch.float64).sum()
        self.tokens += nats.numel()
        self.per_doc[doc] = self.per_doc.get(doc, 0.0) + float(nats.sum())

    def totals(self) -> LoopTotals:
        return LoopTotals(float(self.loss), self.tokens, float(self.bytes), self.per_doc)


class _Adapters:
    """The record's adapter lifecycle: one full-size LoRA and Adam reused (moments reset) for
    every full batch, a fresh pair for a short last batch."""

    def __init__(self, model: GPT, batch_size: int, rank: int, lr: float, betas: tuple[float, float],
                 eps: float) -> None:
        self.model, self.batch_size, self.rank = model, batch_size, rank
        self.lr, self.betas, self.eps = lr, betas, eps
        self.full: tuple[_LoopLora, torch.optim.Adam] | None = None

    def for_batch(self, batch: list[tuple[int, int, int]], init_a) -> tuple[_LoopLora, torch.optim.Adam]:
        bsz = len(batch)
        if bsz == self.batch_size and self.full is not None:
            lora, opt = self.full
            for state in opt.state.values():
                state["exp_avg"].zero_()
                state["exp_avg_sq"].zero_()
                state["step"].zero_()
        else:
            weight = self.model.blocks[0].attn.c_q.weight
            lora = _LoopLora(bsz, self.model, self.rank, weight.dtype, weight.device)
            opt = torch.optim.Adam(lora.parameters(), lr=self.lr, betas=self.betas, eps=self.eps)
            if bsz == self.batch_size:
                self.full = (lora, opt)
        lora.reset(init_a, [d[0] for d in batch])
        return lora, opt


def _score_batch(model: GPT, tokens: Tensor, tables: ByteTables, batch: list[tuple[int, int, int]], chunk: int,
                 seq_len: int, lora: _LoopLora | None, opt: torch.optim.Optimizer | None, autocast: bool,
                 acc: _Sums) -> None:
    """Every chunk index of one batch: score each document's chunk, then (TTT) one Adam step."""
    device = model.tok_emb.weight.device
    pred_lens = [length - 1 for _, _, length in batch]
    num_chunks = [(p + chunk - 1) // chunk for p in pred_lens]
    for ci in range(max(num_chunks)):
        _, context, offset, _ = chunk_window(ci, (ci + 1) * chunk, ci + 1, chunk, seq_len)
        train = lora is not None and any(ci < n - 1 for n in num_chunks)
        x = torch.zeros(len(batch), context, dtype=torch.int64, device=device)
        y = torch.zeros(len(batch), context, dtype=torch.int64, device=device)
        spans: list[tuple[int, int] | None] = []
        for b, (_, start, _) in enumerate(batch):
            if ci >= num_chunks[b]:
                spans.append(None)
                continue
            ws, wl, co, cl = chunk_window(ci, pred_lens[b], num_chunks[b], chunk, seq_len)
            window = tokens[start + ws : start + ws + wl + 1].to(device)
            x[b, :wl] = window[:-1]
            y[b, :wl] = window[1:]
            spans.append((co, cl))
        grad_ctx = contextlib.nullcontext() if train else torch.no_grad()
        with grad_ctx, autocast_ctx(autocast, device.type):
            ptl = model.token_losses(x, y, lora.deltas() if lora is not None else None)
        with torch.no_grad():  # score first ...
            for b, span in enumerate(spans):
                if span is not None:
                    co, cl = span
                    acc.add(batch[b][0], ptl[b, co : co + cl].to(torch.float64),
                            tables.token_bytes(x[b, co : co + cl], y[b, co : co + cl]))
        if train:  # ... then train on the chunk, never on a document's last one
            mask = torch.tensor([float(ci < n - 1) for n in num_chunks], device=device, dtype=ptl.dtype)
            per_doc = ptl[:, offset : offset + chunk].mean(dim=-1)
            opt.zero_grad()
            (per_doc * mask).sum().backward()
            opt.step()


def loops_condition(model: GPT, tokens: Tensor | np.ndarray, tables: ByteTables, condition: str, *,
                        seq_len: int = EvalSettings.seq_len, chunk: int = EvalSettings.chunk,
                        **ttt: object) -> LoopTotals:
    """One condition by the readable loops (doc = chunked with chunk = seq_len)."""
    tokens = torch.as_tensor(np.asarray(tokens, dtype=np.int64)) if not isinstance(tokens, Tensor) else tokens
    cond = condition_of(condition)
    if not cond.per_document:
        return loops_flat(model, tokens, tables, seq_len, autocast=bool(ttt.get("autocast", False)))
    return loops_chunked(model, tokens, tables, seq_len=seq_len, chunk=chunk if cond.chunked else seq_len,
                         ttt=cond.trains, **ttt)
