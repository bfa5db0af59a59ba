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
by window length, so no forward pass carries finished documents (nor, on a CPU, padding).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from pgolf.evalspec import TTTSettings
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

    def flat_grad(self) -> Tensor:
        """The gradient of every adapter of each row, (rows, parameters), zero where none reached."""
        rows = self.a[0].size(0)
        return torch.cat([(t.grad if t.grad is not None else torch.zeros_like(t)).reshape(rows, -1)
                          for t in self.tensors()], dim=1)


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

    def __init__(self, shapes: list[tuple[int, int]], cfg: TTTSettings, dtype: torch.dtype, device: torch.device):
        s, r = cfg.batch, cfg.rank
        self.cfg = cfg
        self.shapes = shapes
        n = sum(r * i + o * r for i, o in shapes)
        self.flat = torch.zeros(s, n, dtype=dtype, device=device)
        self.a, self.b = _views(self.flat, shapes, r)
        self.m = torch.zeros_like(self.flat)
        self.v = torch.zeros_like(self.flat)
        self.step = torch.zeros(s, dtype=torch.float32, device=device)  # Adam's step count, per slot
        # Each slot's row of every state tensor, for the fused update's per-tensor lists, and each
        # slot's adapters as views of its row (gather() of one slot: no copy, no new views).
        self.rows = [t.unbind(0) for t in (self.flat, self.m, self.v, self.step)]
        self.one = [BatchedLora(*_views(self.flat[k : k + 1], shapes, r)) for k in range(s)]

    @property
    def params(self) -> list[Tensor]:
        return [*self.a, *self.b]

    def reset(self, slots: np.ndarray, docs: np.ndarray) -> None:
        """Fresh adapters for documents entering slots: A from (seed, doc), B = 0, Adam state zero."""
        if slots.size == 0:
            return
        draws = [initial_a(self.cfg.seed, int(d), self.shapes, self.cfg.rank) for d in docs]
        idx = to_device(torch.as_tensor(slots), self.flat.device)
        for t in (self.flat, self.m, self.v):
            t.index_fill_(0, idx, 0.0)
        for i, a in enumerate(self.a):
            a.index_copy_(0, idx, to_device(torch.stack([d[i] for d in draws]).to(a.dtype), a.device))
        self.step.index_fill_(0, idx, 0.0)

    def gather(self, slots: np.ndarray) -> BatchedLora:
        """The slots' adapters: views of one (len(slots), parameters) copy of their rows (of the
        state itself for one slot, the long tail's usual case: adam_step replaces rows in place)."""
        if slots.size == 1:
            return self.one[int(slots[0])]
        flat = self.flat.index_select(0, to_device(torch.as_tensor(slots), self.flat.device))
        return BatchedLora(*_views(flat, self.shapes, self.cfg.rank))

    @torch.no_grad()
    def adam_step(self, slots: np.ndarray, grad: Tensor) -> None:
        """One torch.optim.Adam step for each slot (its own step count), `grad` holding their rows
        (len(slots), parameters): torch's fused Adam kernel, one pass over each slot's row
        (the same floats as torch.optim.Adam's default, tested)."""
        beta1, beta2 = self.cfg.beta1, self.cfg.beta2
        params, m, v, steps = ([rows[k] for k in slots.tolist()] for rows in self.rows)
        torch._foreach_add_(steps, 1.0)
        torch._fused_adam_(params, list(grad.unbind(0)), m, v, [], steps, lr=self.cfg.lr, beta1=beta1,
                           beta2=beta2, weight_decay=0.0, eps=self.cfg.eps, amsgrad=False, maximize=False)


ScoreFn = Callable[[Tensor, BatchedLora], tuple[Tensor, Tensor]]
# step(rows, lora, train) -> (nats, valid, gradient): nats and valid (n, longest scored run) of the
# windows `rows` with per-row adapters; with `train`, the (n, parameters) gradient of the sum over
# rows of each row's mean chunk loss (the record's loss: a document's adapters see only its term).
StepFn = Callable[[Tensor, BatchedLora, bool], tuple[Tensor, Tensor, Tensor | None]]


def autograd_step(score: ScoreFn) -> StepFn:
    """A StepFn from a differentiable score function, by autograd."""

    def step(rows: Tensor, lora: BatchedLora, train: bool) -> tuple[Tensor, Tensor, Tensor | None]:
        if not train:
            with torch.no_grad():
                return (*score(rows, lora), None)
        # Contiguous leaves: the batched matmuls want them, and separate leaves keep backward from
        # scattering every view's gradient into a full-size buffer.
        leaves = BatchedLora(*([t.clone(memory_format=torch.contiguous_format).requires_grad_(True) for t in ts]
                               for ts in (lora.a, lora.b)))
        with torch.enable_grad():
            nats, valid = score(rows, leaves)
            loss = nats.mean(dim=1).sum()
        loss.backward()
        return nats.detach(), valid, leaves.flat_grad()

    return step


def run_ttt(
    w: Windows,
    doc_order: np.ndarray,
    shapes: list[tuple[int, int]],
    cfg: TTTSettings,
    dtype: torch.dtype,
    device: torch.device,
    step: StepFn,
    on_scored: Callable[[Tensor, Tensor, Tensor], None],
) -> None:
    """Drive the slots over the documents' chunk windows.

    `w` holds every chunk window of the documents to score, ordered by document then chunk
    (w.doc are global document indices); `doc_order` is the order documents enter slots.
    `step` scores (and trains on) windows of `w` with per-row adapters (StepFn);
    `on_scored(nats, valid, rows)` accumulates the scores.
    """
    state = SlotState(shapes, cfg, dtype, device)
    pad = PAD_FRACTION if device.type == "cpu" else ACCELERATOR_PAD_FRACTION
    docs_in_w, first = np.unique(w.doc, return_index=True)
    first_row = dict(zip(docs_in_w.tolist(), first.tolist(), strict=True))
    queue = list(doc_order)[::-1]  # pop() from the end
    slot_doc = np.full(cfg.batch, -1, dtype=np.int64)
    slot_row = np.zeros(cfg.batch, dtype=np.int64)
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
        # Train rows (full chunks) are scored and trained on, final rows only scored; rows of
        # different window lengths share a pass, right-padded, unless padding would cost more
        # than a pass (see length_groups).
        for train, sel_rows in ((True, ~final), (False, final)):
            slots, group_rows = active[sel_rows], rows[sel_rows]
            for sel in length_groups(w.length[group_rows], pad):
                rows_t = torch.as_tensor(group_rows[sel])
                lora = state.gather(slots[sel])
                nats, valid, grad = step(rows_t, lora, train)
                on_scored(nats, valid, rows_t)
                if grad is not None:
                    state.adam_step(slots[sel], grad)
        slot_doc[active[final]] = -1
        slot_row[active[~final]] += 1


# A pass of at most this many padded tokens is all overhead at any model size pgolf runs on a
# CPU; above it, padding may add at most PAD_FRACTION of the real tokens' work.
SMALL_PASS_TOKENS = 2048
PAD_FRACTION = 0.0
# On an accelerator a pass costs its launches, not its tokens, at TTT's sizes (a 17M-parameter model,
# at most 64 windows of 1,024 tokens: well under a millisecond of matrix work per pass on an H200,
# hundreds of kernel launches): windows of up to 4x shorter share the longest's pass, as the record
# pads every document of its batch to one window (issue 32: with no padding, pgolf's TTT on an
# H200 took 3.7x the record's seconds, one pass per window length and per final-chunk length).
ACCELERATOR_PAD_FRACTION = 3.0


def to_device(t: Tensor, device: torch.device) -> Tensor:
    """A small CPU tensor on `device`; on CUDA from pinned memory without blocking, where a plain
    .to() waits for every queued kernel (cudaStreamSynchronize) before the next launch."""
    if device.type != "cuda":
        return t.to(device)
    return t.pin_memory().to(device, non_blocking=True)


def length_groups(lengths: np.ndarray, pad_fraction: float | None = None) -> list[np.ndarray]:
    """Indices of `lengths` in passes: longest first, a shorter length joins the pass while the
    padded tokens stay within SMALL_PASS_TOKENS or (1 + pad_fraction) x the real ones
    (PAD_FRACTION unless given).

    Right padding never changes a row's scores (causal attention; the loss sees scored positions
    only), so this decides speed alone: few passes where each is small (the embedded default's
    32-token windows), no padding where windows are long (the record's)."""
    if lengths.size == 0:
        return []
    if lengths.min() == lengths.max():  # one pass, no padding (and no sorting: most steps)
        return [np.arange(lengths.size)]
    pad_fraction = PAD_FRACTION if pad_fraction is None else pad_fraction
    values = np.unique(lengths)[::-1]
    groups: list[list[int]] = []
    rows = real = longest = 0
    for value in values.tolist():
        n = int(np.count_nonzero(lengths == value))
        padded = (rows + n) * (longest or value)
        if groups and (padded <= SMALL_PASS_TOKENS or padded <= (1 + pad_fraction) * (real + n * value)):
            groups[-1].append(value)
            rows, real = rows + n, real + n * value
        else:
            groups.append([value])
            rows, real, longest = n, n * value, value
    return [np.flatnonzero(np.isin(lengths, g)) for g in groups]
