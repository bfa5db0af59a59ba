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
    index 0 is the LM head, 1 + 2*layer is c_q, 2 + 2*layer is c_v.

    `flat`, when given, holds the same values as one (rows, parameters) tensor (SlotState's layout)."""

    def __init__(self, a: list[Tensor], b: list[Tensor], flat: Tensor | None = None) -> None:
        self.a, self.b, self.flat = a, b, flat

    def q(self, layer: int, h: Tensor) -> Tensor:
        return _delta(h, self.a[1 + 2 * layer], self.b[1 + 2 * layer])

    def v(self, layer: int, h: Tensor) -> Tensor:
        return _delta(h, self.a[2 + 2 * layer], self.b[2 + 2 * layer])

    def head(self, h: Tensor) -> Tensor:
        return _delta(h, self.a[0], self.b[0])

    def tensors(self) -> list[Tensor]:
        return [*self.a, *self.b]

    def flat_grad(self) -> Tensor:
        """The gradient of every adapter of each row, (rows, parameters), zero where none reached."""
        rows = self.a[0].size(0)
        return torch.cat([(t.grad if t.grad is not None else torch.zeros_like(t)).reshape(rows, -1)
                          for t in self.tensors()], dim=1)


@dataclass(frozen=True)
class TTTConfig:
    rank: int = 8
    lr: float = 0.01
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-10
    slots: int = 64
    seed: int = 0


def _views(flat: Tensor, shapes: list[tuple[int, int]], rank: int) -> tuple[list[Tensor], list[Tensor]]:
    """A (rows, r, in) and B (rows, out, r) views of a (rows, parameters) tensor: every A, then every B."""
    rows, at, a, b = flat.size(0), 0, [], []
    for i, _ in shapes:
        a.append(flat[:, at : at + rank * i].view(rows, rank, i))
        at += rank * i
    for _, o in shapes:
        b.append(flat[:, at : at + o * rank].view(rows, o, rank))
        at += o * rank
    return a, b


class SlotState:
    """Adapters and Adam moments of `slots` documents in flight, with one Adam step count per slot.

    Each slot's adapters are one row of a (slots, parameters) tensor, and so are its Adam
    moments: a step gathers, updates and scatters three tensors, not three per adapter."""

    def __init__(self, shapes: list[tuple[int, int]], cfg: TTTConfig, dtype: torch.dtype, device: torch.device):
        s, r = cfg.slots, cfg.rank
        self.cfg = cfg
        self.shapes = shapes
        n = sum(r * i + o * r for i, o in shapes)
        self.flat = torch.zeros(s, n, dtype=dtype, device=device)
        self.a, self.b = _views(self.flat, shapes, r)
        self.m = torch.zeros_like(self.flat)
        self.v = torch.zeros_like(self.flat)
        self.step = torch.zeros(s, dtype=torch.int64)

    @property
    def params(self) -> list[Tensor]:
        return [*self.a, *self.b]

    def reset(self, slots: np.ndarray, docs: np.ndarray) -> None:
        """Fresh adapters for documents entering slots: A from (seed, doc), B = 0, Adam state zero."""
        if slots.size == 0:
            return
        draws = [initial_a(self.cfg.seed, int(d), self.shapes, self.cfg.rank) for d in docs]
        idx = torch.as_tensor(slots, device=self.flat.device)
        for t in (self.flat, self.m, self.v):
            t.index_fill_(0, idx, 0.0)
        for i, a in enumerate(self.a):
            a.index_copy_(0, idx, torch.stack([d[i] for d in draws]).to(a.device, a.dtype))
        self.step[torch.as_tensor(slots)] = 0

    def gather(self, slots: Tensor, grad: bool) -> BatchedLora:
        """The slots' adapters as contiguous tensors (leaves with gradients when `grad`)."""
        flat = self.flat.index_select(0, slots)
        a, b = _views(flat, self.shapes, self.cfg.rank)
        # Contiguous copies: the batched matmuls want them, and separate leaves keep backward from
        # scattering every view's gradient into a full-size buffer.
        a, b = [t.contiguous() for t in a], [t.contiguous() for t in b]
        if grad:
            for t in (*a, *b):
                t.requires_grad_(True)
        return BatchedLora(a, b, flat=flat)

    @torch.no_grad()
    def adam_step(self, slots: Tensor, lora: BatchedLora) -> None:
        """torch.optim.Adam's update (lerp first moment, eps added to the corrected root), per slot."""
        beta1, beta2 = self.cfg.betas
        steps = self.step[slots.cpu()] + 1
        self.step[slots.cpu()] = steps
        steps64 = steps.to(torch.float64)
        dtype = self.flat.dtype
        step_size = (self.cfg.lr / (1.0 - beta1**steps64)).to(slots.device, dtype)[:, None]
        bc2_sqrt = torch.sqrt(1.0 - beta2**steps64).to(slots.device, dtype)[:, None]
        grad = lora.flat_grad()
        p = lora.flat  # set by gather(): the slots' rows, one leaf tensor
        m = self.m.index_select(0, slots).lerp_(grad, 1.0 - beta1)
        v = self.v.index_select(0, slots).mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        denom = (v.sqrt() / bc2_sqrt).add_(self.cfg.eps)
        self.m.index_copy_(0, slots, m)
        self.v.index_copy_(0, slots, v)
        self.flat.index_copy_(0, slots, p - step_size * (m / denom))


ScoreFn = Callable[[Tensor, BatchedLora], tuple[Tensor, Tensor]]


def run_ttt(
    w: Windows,
    doc_order: np.ndarray,
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
        # Train rows (full chunks) take one pass with a graph, final rows one without; rows of
        # different window lengths share a pass, right-padded, unless padding would cost more
        # than a pass (see length_groups).
        train_slots, train_rows = active[~final], rows[~final]
        for sel in length_groups(w.length[train_rows]):
            _train_group(state, train_slots[sel], train_rows[sel], score, on_scored, device)
        fin_slots, fin_rows = active[final], rows[final]
        for sel in length_groups(w.length[fin_rows]):
            slots_t = torch.as_tensor(fin_slots[sel], device=device)
            with torch.no_grad():
                nats, valid = score(torch.as_tensor(fin_rows[sel]), state.gather(slots_t, grad=False))
            on_scored(nats, valid, torch.as_tensor(fin_rows[sel]))
        slot_doc[fin_slots] = -1
        slot_row[train_slots] += 1


# A pass of at most this many padded tokens is all overhead at any model size pgolf runs on a
# CPU; above it, padding may add at most PAD_FRACTION of the real tokens' work.
SMALL_PASS_TOKENS = 2048
PAD_FRACTION = 0.0


def length_groups(lengths: np.ndarray) -> list[np.ndarray]:
    """Indices of `lengths` in passes: longest first, a shorter length joins the pass while the
    padded tokens stay within SMALL_PASS_TOKENS or (1 + PAD_FRACTION) x the real ones.

    Right padding never changes a row's scores (causal attention; the loss sees scored positions
    only), so this decides speed alone: few passes where each is small (the embedded default's
    32-token windows), no padding where windows are long (the record's)."""
    if lengths.size == 0:
        return []
    values = np.unique(lengths)[::-1]
    groups: list[list[int]] = []
    rows = real = longest = 0
    for value in values.tolist():
        n = int(np.count_nonzero(lengths == value))
        padded = (rows + n) * (longest or value)
        if groups and (padded <= SMALL_PASS_TOKENS or padded <= (1 + PAD_FRACTION) * (real + n * value)):
            groups[-1].append(value)
            rows, real = rows + n, real + n * value
        else:
            groups.append([value])
            rows, real, longest = n, n * value, value
    return [np.flatnonzero(np.isin(lengths, g)) for g in groups]


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
