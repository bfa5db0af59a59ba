"""Which tokens each forward pass sees, and which of its targets it scores.

Every plan is a handful of numpy arrays built with array operations, one row per
forward window. A window covers the stream tokens `start .. start + length`;
its inputs are the first `length` of them, its targets the last `length`, and
the targets at window indices `score_offset .. score_offset + score_len` are
scored. Target `j` of a window is the stream token `start + j + 1`.

Chunk semantics follow the record's `_compute_chunk_window`: a document with
`n` tokens has `n - 1` targets, cut into chunks of `chunk` from its start; chunk
`c` ends at `min((c + 1) * chunk, n - 1)` and is scored in the window of at most
`seq_len` targets that ends at the chunk's end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from pgolf.errors import ConfigError
from pgolf.evalspec import check_sizes


@dataclass(frozen=True)
class Windows:
    """One row per forward window (all arrays int64 except `last`)."""

    doc: np.ndarray  # index of the document (into the doc arrays); -1 for flat windows
    chunk: np.ndarray  # chunk index inside the document; -1 for flat windows
    start: np.ndarray  # stream index of the window's first input token
    length: np.ndarray  # number of inputs (= targets) in the window
    score_offset: np.ndarray  # first scored target inside the window
    score_len: np.ndarray  # number of scored targets
    last: np.ndarray  # bool: the document's last chunk (TTT never trains on it)

    def __len__(self) -> int:
        return int(self.start.size)

    def take(self, rows: np.ndarray) -> Windows:
        return Windows(*(getattr(self, f)[rows] for f in _FIELDS))

    @property
    def scored_tokens(self) -> int:
        return int(self.score_len.sum())


_FIELDS = ("doc", "chunk", "start", "length", "score_offset", "score_len", "last")


def chunk_windows(doc_starts: np.ndarray, doc_lengths: np.ndarray, chunk: int, seq_len: int) -> Windows:
    """Every (document, chunk) window, ordered by document then chunk."""
    check_sizes(seq_len, chunk)
    starts = np.asarray(doc_starts, dtype=np.int64)
    pred = np.asarray(doc_lengths, dtype=np.int64) - 1  # targets per document
    if pred.size and pred.min() < 1:
        raise ConfigError("every document needs at least one target (2 tokens)")
    nchunks = (pred + chunk - 1) // chunk
    doc = np.repeat(np.arange(pred.size, dtype=np.int64), nchunks)
    first_row = np.cumsum(nchunks) - nchunks
    ci = np.arange(doc.size, dtype=np.int64) - np.repeat(first_row, nchunks)
    last = ci == nchunks[doc] - 1
    chunk_start = ci * chunk
    chunk_end = np.where(last, pred[doc], (ci + 1) * chunk)
    win_start = np.maximum(0, chunk_end - seq_len)
    return Windows(
        doc=doc,
        chunk=ci,
        start=starts[doc] + win_start,
        length=chunk_end - win_start,
        score_offset=chunk_start - win_start,
        score_len=chunk_end - chunk_start,
        last=last,
    )


def merge_prefix_windows(w: Windows, doc_starts: np.ndarray) -> Windows:
    """Without test-time training, a document's windows that start at its BOS are prefixes of the
    longest of them; causal attention gives each target the same context in that one window, so
    they are scored in one forward pass. Other windows are kept as they are."""
    at_bos = w.start == np.asarray(doc_starts, dtype=np.int64)[w.doc]
    if not at_bos.any():
        return w
    keep = ~at_bos
    # The prefix windows of a document are consecutive rows; keep the last (longest) of each run,
    # scoring all of it: the runs' chunks tile [0, its length).
    nxt_same = np.zeros(len(w), dtype=bool)
    nxt_same[:-1] = at_bos[1:] & (w.doc[1:] == w.doc[:-1])
    tail = at_bos & ~nxt_same
    rows = np.flatnonzero(keep | tail)
    out = w.take(rows)
    merged = tail[rows]
    score_offset = np.where(merged, 0, out.score_offset)
    score_len = np.where(merged, out.length, out.score_len)
    return Windows(out.doc, out.chunk, out.start, out.length, score_offset, score_len, out.last)


def flat_windows(num_tokens: int, seq_len: int) -> Windows:
    """The reference's eval_val: the stream cut to whole windows of seq_len (+1 target); tail unscored."""
    check_sizes(seq_len, 1)
    n = max(0, (int(num_tokens) - 1) // seq_len)
    if n == 0:
        raise ConfigError(
            f"the validation stream has {num_tokens} tokens, too short for one window of --seq-len {seq_len}"
        )
    starts = np.arange(n, dtype=np.int64) * seq_len
    full = np.full(n, seq_len, dtype=np.int64)
    return Windows(
        doc=np.full(n, -1, dtype=np.int64),
        chunk=np.full(n, -1, dtype=np.int64),
        start=starts,
        length=full,
        score_offset=np.zeros(n, dtype=np.int64),
        score_len=full.copy(),
        last=np.ones(n, dtype=bool),
    )


def rank_slice(n: int, rank: int, world_size: int) -> slice:
    """Contiguous share of n items for one rank, as the reference splits documents and windows."""
    return slice((n * rank) // world_size, (n * (rank + 1)) // world_size)


def length_batches(lengths: np.ndarray, max_tokens: int, max_rows: int | None = None) -> Iterator[np.ndarray]:
    """Row indices in batches of similar length (longest first), each at most max_tokens padded tokens."""
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    i = 0
    while i < order.size:
        longest = int(lengths[order[i]])
        rows = max(1, max_tokens // max(longest, 1))
        if max_rows is not None:
            rows = min(rows, max_rows)
        yield order[i : i + rows]
        i += rows


def target_positions(target_index: torch.Tensor, doc_starts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(doc, position) of stream targets: a target belongs to the document whose BOS precedes it
    (the next document's BOS is the previous document's last target); position 0 is the token after
    BOS. Targets before the first BOS get doc -1 and their stream index - 1 as position."""
    doc = torch.searchsorted(doc_starts, target_index, side="left") - 1
    base = torch.where(doc >= 0, doc_starts[doc.clamp_min(0)], 0)
    return doc, target_index - base - 1
