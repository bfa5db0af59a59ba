"""Tiny models, token streams and byte tables for the evaluation tests (not a test module)."""

from __future__ import annotations

import numpy as np
import torch

from pgolf.model import GPT, ModelConfig
from pgolf.tokenizer import ByteTables

VOCAB = 64


def tiny_model(dtype: torch.dtype = torch.float32, seed: int = 0, vocab: int = VOCAB) -> GPT:
    """2 blocks, width 32, with every weight perturbed so that outputs depend on context."""
    torch.manual_seed(seed)
    model = GPT(ModelConfig(vocab_size=vocab, num_layers=2, model_dim=32, num_heads=2, num_kv_heads=1))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model.to(dtype).eval()


def doc_stream(lengths: list[int], seed: int = 0, vocab: int = VOCAB) -> np.ndarray:
    """BOS + (length - 1) random non-BOS tokens per document, concatenated (uint16)."""
    rng = np.random.default_rng(seed)
    parts = [np.concatenate([[1], rng.integers(2, vocab, size=n - 1)]) for n in lengths]
    return np.concatenate(parts).astype(np.uint16)


def random_lengths(n: int, low: int = 2, high: int = 150, seed: int = 0) -> list[int]:
    return [int(x) for x in np.random.default_rng(seed).integers(low, high, size=n)]


def toy_tables(seed: int = 0, vocab: int = VOCAB) -> ByteTables:
    rng = np.random.default_rng(seed)
    return ByteTables(
        torch.tensor(rng.integers(0, 4, size=vocab), dtype=torch.int16),
        torch.tensor(rng.random(vocab) < 0.3),
        torch.tensor(rng.random(vocab) < 0.1),
    )
