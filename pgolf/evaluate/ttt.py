"""LoRA test-time training, batched per document, reproducible per document.

Each document gets rank-r adapters on the LM head and on c_q and c_v of every
block (A ~ U(+-1/sqrt(in)), B = 0, delta = x A^T B^T). Its chunks are taken in
order: the chunk is scored first, then one Adam step (the record's optimiser:
torch.optim.Adam, lr 0.01, betas (0.9, 0.95), eps 1e-10, no weight decay) is
taken on the chunk's mean loss; the last chunk is never trained on. The base
model is frozen.

Unlike the record, a document's initial A matrices are drawn from a generator
seeded by (seed, document index) alone, and every document has its own Adam step
count, so its score does not depend on batch size, neighbours or ranks. Slots
are refilled as soon as their document finishes, and each step groups the rows
by window length, so no forward pass carries finished documents or padding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from pgolf.evaluate.windows import Windows
from pgolf.model import GPT


def lora_shapes(model: GPT) -> list[tuple[int, int]]:
    """(in_features, out_features) of every adapted projection: head, then c_q, c_v of each block."""
    dim = model.tok_emb.embedding_dim
    shapes = [(dim, model.tok_emb.num_embeddings)]
    for block in model.blocks:
        shapes.append((dim, block.attn.c_q.weight.shape[0]))
        shapes.append((dim, block.attn.c_v.weight.shape[0]))
    return shapes


def doc_seed(seed: int, doc_index: int) -> int:
    """A 63-bit generator seed from (seed, document index) alone."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(seed) >> 32, int(doc_index)]).generate_state(2)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


def initial_a(seed: int, doc_index: int, shapes: list[tuple[int, int]], rank: int) -> list[Tensor]:
    """One document's initial A matrices (float32, CPU): U(-1/sqrt(in), 1/sqrt(in)), shape (rank, in)."""
    gen = torch.Generator().manual_seed(doc_seed(seed, doc_index))
    flat = torch.rand(sum(rank * i for i, _ in shapes), generator=gen, dtype=torch.float32)
    out, at = [], 0
    for in_features, _ in shapes:
        n = rank * in_features
        bound = 1.0 / math.sqrt(in_features)
        out.append(((flat[at : at + n] * 2.0 - 1.0) * bound).reshape(rank, in_features))
        at += n
    return out


def _delta(x: Tensor, a: Tensor, b: Tensor) -> Tensor:
    return (x @ a.transpose(1, 2)) @ b.transpose(1, 2)


class BatchedLora:
    """Per-row adapters (the LoraDeltas protocol): A[i] is (rows, r, in), B[i] is (rows, out, r);
    index 0 is the LM head, 1 + 2*layer is c_q, 2 + 2*layer is c_v."""

    def __init__(self, a: list[Tensor], b: list[Tensor]) -> None:
        self.a, self.b = a, b

    def q(self, layer: int, h: Tensor) -> Tensor:
        return _delta(h, self.a[1 + 2 * layer], self.b[1 + 2 * layer])

    def v(self, layer: int, h: Tensor) -> Tensor:
        return _delta(h, self.a[2 + 2 * layer], self.b[2 + 2 * layer])

    def head(self, h: Tensor) -> Tensor:
        return _delta(h, self.a[0], self.b[0])

    def tensors(self) -> list[Tensor]:
        return [*self.a, *self.b]


@dataclass(frozen=True)
class TTTConfig:
    rank: int = 8
    lr: float = 0.01
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-10
    slots: int = 64
    seed: int = 0


class SlotState:
    """Adapters and Adam moments of `slots` documents in flight, with one Adam step count per slot."""

    def __init__(self, shapes: list[tuple[int, int]], cfg: TTTConfig, dtype: torch.dtype, device: torch.device):
        s, r = cfg.slots, cfg.rank
        self.cfg = cfg
        self.shapes = shapes
        self.a = [torch.zeros(s, r, i, dtype=dtype, device=device) for i, _ in shapes]
        self.b = [torch.zeros(s, o, r, dtype=dtype, device=device) for _, o in shapes]
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.step = torch.zeros(s, dtype=torch.int64)

    @property
    def params(self) -> list[Tensor]:
        return [*self.a, *self.b]

    def reset(self, slots: np.ndarray, docs: np.ndarray) -> None:
        """Fresh adapters for documents entering slots: A from (seed, doc), B = 0, Adam state zero."""
        if slots.size == 0:
            return
        draws = [initial_a(self.cfg.seed, int(d), self.shapes, self.cfg.rank) for d in docs]
        idx = torch.as_tensor(slots, device=self.a[0].device)
        for i, a in enumerate(self.a):
            a.index_copy_(0, idx, torch.stack([d[i] for d in draws]).to(a.device, a.dtype))
        for t in (*self.b, *self.m, *self.v):
            t.index_fill_(0, idx, 0.0)
        self.step[torch.as_tensor(slots)] = 0

    def gather(self, slots: Tensor, grad: bool) -> BatchedLora:
        a = [p.index_select(0, slots) for p in self.a]
        b = [p.index_select(0, slots) for p in self.b]
        if grad:
            for t in (*a, *b):
                t.requires_grad_(True)
        return BatchedLora(a, b)

    @torch.no_grad()
    def adam_step(self, slots: Tensor, lora: BatchedLora) -> None:
        """torch.optim.Adam's update (lerp first moment, eps added to the corrected root), per slot."""
        beta1, beta2 = self.cfg.betas
        steps = self.step[slots.cpu()] + 1
        self.step[slots.cpu()] = steps
        steps64 = steps.to(torch.float64)
        step_size = (self.cfg.lr / (1.0 - beta1**steps64)).to(slots.device)
        bc2_sqrt = torch.sqrt(1.0 - beta2**steps64).to(slots.device)
        for p, m, v, g in zip(self.params, self.m, self.v, lora.tensors(), strict=True):
            grad = g.grad if g.grad is not None else torch.zeros_like(g)
            view = (-1,) + (1,) * (p.dim() - 1)
            mr = m.index_select(0, slots).lerp_(grad, 1.0 - beta1)
            vr = v.index_select(0, slots).mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
            denom = (vr.sqrt() / bc2_sqrt.to(p.dtype).view(view)).add_(self.cfg.eps)
            pr = g.detach() - step_size.to(p.dtype).view(view) * (mr / denom)
            m.index_copy_(0, slots, mr)
            v.index_copy_(0, slots, vr)
            p.index_copy_(0, slots, pr)


ScoreFn = Callable[[Tensor, BatchedLora], tuple[Tensor, Tensor]]


def run_ttt(
    w: Windows,
    doc_order: np.ndarray,
    chunk: int,
    shapes: list[tuple[int, int]],
    cfg: TTTConfig,
    dtype: torch.dtype,
    device: torch.device,
    score: ScoreFn,
    on_scored: Callable[[Tensor, Tensor, Tensor], None],
) -> None:
    """Drive the slots over the documents' chunk windows.

    `w` holds every chunk window of the documents to score, ordered by document then chunk
    (w.doc are global document indices); `doc_order` is the order documents enter slots.
    `score(rows, lora)` runs the windows `rows` of `w` with per-row adapters and returns
    (nats, valid), both (n, longest scored run); `on_scored(nats, valid, rows)` accumulates them.
    """
    state = SlotState(shapes, cfg, dtype, device)
    docs_in_w, first = np.unique(w.doc, return_index=True)
    first_row = dict(zip(docs_in_w.tolist(), first.tolist(), strict=True))
    queue = list(doc_order)[::-1]  # pop() from the end
    slot_doc = np.full(cfg.slots, -1, dtype=np.int64)
    slot_row = np.zeros(cfg.slots, dtype=np.int64)
    while True:
        free = np.flatnonzero(slot_doc < 0)
        take = min(free.size, len(queue))
        if take:
            new_slots = free[:take]
            new_docs = np.array([queue.pop() for _ in range(take)], dtype=np.int64)
            slot_doc[new_slots] = new_docs
            slot_row[new_slots] = [first_row[int(d)] for d in new_docs]
            state.reset(new_slots, new_docs)
        active = np.flatnonzero(slot_doc >= 0)
        if active.size == 0:
            break
        rows = slot_row[active]
        final = w.last[rows]
        # Train rows have full chunks: group them by window length (no padding at all); final rows
        # are scored without a graph, grouped by length in chunk-sized buckets.
        train_slots, train_rows = active[~final], rows[~final]
        for length in np.unique(w.length[train_rows]):
            sel = w.length[train_rows] == length
            _train_group(state, train_slots[sel], train_rows[sel], score, on_scored, device)
        fin_slots, fin_rows = active[final], rows[final]
        bucket = (w.length[fin_rows] + chunk - 1) // chunk
        for b in np.unique(bucket):
            sel = bucket == b
            slots_t = torch.as_tensor(fin_slots[sel], device=device)
            with torch.no_grad():
                nats, valid = score(torch.as_tensor(fin_rows[sel]), state.gather(slots_t, grad=False))
            on_scored(nats, valid, torch.as_tensor(fin_rows[sel]))
        slot_doc[fin_slots] = -1
        slot_row[train_slots] += 1


def _train_group(state: SlotState, slots: np.ndarray, rows: np.ndarray, score, on_scored, device) -> None:
    slots_t = torch.as_tensor(slots, device=device)
    lora = state.gather(slots_t, grad=True)
    with torch.enable_grad():
        nats, valid = score(torch.as_tensor(rows), lora)
        on_scored(nats.detach(), valid, torch.as_tensor(rows))
        # Each row is a full chunk: the sum over documents of each one's chunk mean (the record's
        # loss); a document's adapters only see its own term.
        loss = nats.mean(dim=1).sum()
    loss.backward()
    state.adam_step(slots_t, lora)


def cross_entropy_nats(logits: Tensor, targets: Tensor) -> Tensor:
    """Per-token nats in float32, as the reference (logits cast to float before the loss)."""
    return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1), reduction="none").reshape(
        targets.shape
    )
