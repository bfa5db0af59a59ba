"""Scoring windows of one plan without adapters, and accumulating every scored target.

The scorer of flat, doc and sliding, and the part of TTT (pgolf.evaluate.ttt_engine) that
builds inputs and accumulates scores into Totals.
"""

from __future__ import annotations

import sys
import time

import torch
from torch import Tensor

from pgolf.evaluate.totals import Totals
from pgolf.evaluate.windows import Windows, target_positions
from pgolf.model import GPT, cross_entropy_nats
from pgolf.runtime import autocast as runtime_autocast
from pgolf.tokenizer import ByteTables


class Progress:
    """Progress lines on stderr (rank 0), every `every` seconds (0: never)."""


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


class Scorer:
    """Scores windows of one plan and accumulates their targets into Totals."""

    def __init__(self, model: GPT, stream: Tensor, tables: ByteTables, w: Windows, doc_starts: Tensor,
                 totals: Totals, autocast: bool, progress: Progress) -> None:
        self.model, self.stream, self.tables, self.w = model, stream, tables, w
        self.doc_starts, self.totals, self.progress = doc_starts, totals, progress
        dev = stream.device
        self.start = torch.as_tensor(w.start, device=dev)
        self.length = torch.as_tensor(w.length, device=dev)
        self.score_offset = torch.as_tensor(w.score_offset, device=dev)
        self.score_len = torch.as_tensor(w.score_len, device=dev)
        self.autocast_on, self.autocast = autocast, runtime_autocast(autocast, dev.type)

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
            nats = cross_entropy_nats(self.model.head_logits(h[row_of, col]), self._targets(rows, row_of, col))
        self.accumulate(nats, self.start[rows][row_of] + col + 1)

    def _targets(self, rows: Tensor, row_of: Tensor, col: Tensor) -> Tensor:
        return self.stream[self.start[rows][row_of] + col + 1].long()

    def accumulate(self, nats: Tensor, target_index: Tensor, progress: bool = True) -> None:
        tgt = self.stream[target_index].long()
        prev = self.stream[target_index - 1].long()
        doc, pos = target_positions(target_index, self.doc_starts)
        self.totals.add(nats, self.tables.token_bytes(prev, tgt), doc, pos)
        if progress:
            self.progress.add(int(nats.numel()))
