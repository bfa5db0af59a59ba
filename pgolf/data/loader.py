"""The training loader: one deterministic stream of tokens, split across torchrun ranks.

Reference semantics: the shards of a glob are read in sorted order and the
stream wraps around forever. Each `next_batch` call takes (local + 1) *
world_size consecutive tokens of that one stream and gives rank r the r-th span
of local + 1 tokens; the extra token makes the shifted targets. Every rank reads
the same stream, so ranks never share a span and no coordination is needed.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from pgolf.data.shards import list_shards, read_shard
from pgolf.errors import ConfigError, DataError


class TokenStream:
    """Shards of a glob, in sorted order, as an endless stream (wraps to the first shard)."""

    def __init__(self, pattern: str | os.PathLike[str], vocab_size: int | None = None):
        self.files = list_shards(pattern)
        self.vocab_size = vocab_size
        self.file_idx = 0
        self.tokens = self._read(0)
        self.pos = 0

    def _read(self, idx: int) -> np.ndarray:
        tokens = read_shard(self.files[idx])
        if self.vocab_size is not None:  # once per shard load: an id past the vocabulary is another tokenizer's
            from pgolf.tokenizer import check_token_ids

            check_token_ids(tokens, self.vocab_size, f"train shard {self.files[idx]}")
        return tokens

    def _advance_file(self) -> None:
        self.file_idx = (self.file_idx + 1) % len(self.files)
        self.tokens = self._read(self.file_idx)
        self.pos = 0

    def take(self, n: int) -> np.ndarray:
        """The next n tokens (uint16), crossing shard ends and wrapping as needed."""
        if n < 0:
            raise ValueError(f"take needs n >= 0, got {n}")
        chunks: list[np.ndarray] = []
        remaining = n
        empty_in_a_row = 0
        while remaining > 0:
            avail = self.tokens.size - self.pos
            if avail <= 0:
                empty_in_a_row += 1
                if empty_in_a_row > len(self.files):
                    raise DataError(f"every shard of {self.files[0].parent} is empty: nothing to stream")
                self._advance_file()
                continue
            empty_in_a_row = 0
            k = min(remaining, avail)
            chunks.append(self.tokens[self.pos : self.pos + k])
            self.pos += k
            remaining -= k
        if not chunks:
            return np.empty(0, dtype=np.uint16)
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


class DistributedTokenLoader:
    """Rank `rank` of `world_size`: its own disjoint span of each global batch, as (x, y) int64."""

    def __init__(self, pattern: str | os.PathLike[str], rank: int, world_size: int, device: Any = "cpu",
                 vocab_size: int | None = None):
        if world_size <= 0 or not 0 <= rank < world_size:
            raise ConfigError(f"rank {rank} is not in a world of size {world_size}")
        self.rank = rank
        self.world_size = world_size
        self.device = torch.device(device)
        self.stream = TokenStream(pattern, vocab_size)

    def next_batch(self, global_tokens: int, seq_len: int, grad_accum_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        local_tokens = global_tokens // (self.world_size * grad_accum_steps)
        if local_tokens <= 0 or local_tokens % seq_len:
            raise ConfigError(
                f"train_batch_tokens={global_tokens} gives {local_tokens} tokens per rank and micro-step "
                f"(world_size={self.world_size}, grad_accum_steps={grad_accum_steps}), which is not a positive "
                f"multiple of train_seq_len={seq_len}; choose train_batch_tokens divisible by "
                f"{self.world_size * grad_accum_steps * seq_len}"
            )
        span = local_tokens + 1
        chunk = self.stream.take(span * self.world_size)
        start = self.rank * span
        local = torch.from_numpy(chunk[start : start + span].astype(np.int64))
        x = local[:-1].reshape(-1, seq_len)
        y = local[1:].reshape(-1, seq_len)
        non_blocking = self.device.type == "cuda"
        return x.to(self.device, non_blocking=non_blocking), y.to(self.device, non_blocking=non_blocking)
