"""What the speed work may not change: padding passes, the slot layout and the rotary form."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from eval_toys import doc_stream, random_lengths, tiny_model, toy_tables

from pgolf.evaluate import EvalSettings, TTTSettings, run_condition
from pgolf.evaluate import ttt as ttt_mod
from pgolf.evaluate.ttt import length_groups
from pgolf.model import Rotary, apply_rotary


def _sorted_groups(lengths: list[int]) -> list[list[int]]:
    return [sorted(np.asarray(lengths)[g].tolist(), reverse=True) for g in length_groups(np.asarray(lengths))]


def test_small_passes_of_mixed_lengths_share_one_pass(monkeypatch):
    monkeypatch.setattr(ttt_mod, "SMALL_PASS_TOKENS", 2048)
    monkeypatch.setattr(ttt_mod, "PAD_FRACTION", 0.0)
    # 62 windows of 32 and two new documents' first windows: 64 x 32 = 2048 padded tokens.
    groups = _sorted_groups([32] * 62 + [8, 16])
    assert len(groups) == 1 and len(groups[0]) == 64


def test_long_windows_of_different_lengths_are_not_padded(monkeypatch):
    monkeypatch.setattr(ttt_mod, "SMALL_PASS_TOKENS", 2048)
    monkeypatch.setattr(ttt_mod, "PAD_FRACTION", 0.0)
    assert _sorted_groups([1024, 768, 1024, 512, 768, 512]) == [[1024, 1024], [768, 768], [512, 512]]
    assert length_groups(np.zeros(0, dtype=np.int64)) == []


def test_every_row_lands_in_exactly_one_group():
    lengths = np.random.default_rng(0).integers(1, 600, size=200)
    rows = np.concatenate(length_groups(lengths))
    assert sorted(rows.tolist()) == list(range(200))


@pytest.fixture(scope="module")
def toy64():
    torch.set_num_threads(1)
    return tiny_model(torch.float64), doc_stream(random_lengths(14, high=120, seed=5), seed=5), toy_tables()


def test_padding_passes_do_not_change_any_documents_ttt_score(toy64, monkeypatch):
    model, tokens, tables = toy64
    settings = EvalSettings(seq_len=48, chunk=16, ttt=TTTSettings(rank=2, batch=5, seed=1))
    monkeypatch.setattr(ttt_mod, "SMALL_PASS_TOKENS", 0)  # one pass per window length
    apart = run_condition(model, tokens, tables, "ttt", settings)
    monkeypatch.setattr(ttt_mod, "SMALL_PASS_TOKENS", 10**9)  # everything padded into one pass
    merged = run_condition(model, tokens, tables, "ttt", settings)
    assert merged.tokens == apart.tokens
    np.testing.assert_allclose(merged.per_doc["nats"], apart.per_doc["nats"], rtol=1e-12, atol=1e-12)


def test_rotary_equals_the_half_by_half_form_bit_for_bit():
    rot = Rotary(16, 10000.0)
    x = torch.randn(3, 4, 11, 16, generator=torch.Generator().manual_seed(0))
    cos, sin = rot(11, x.device, x.dtype)
    # The reference form, from the tables' first halves: (x1 cos + x2 sin, x1 (-sin) + x2 cos).
    c, s = cos[..., :8], sin[..., :8]
    x1, x2 = x[..., :8], x[..., 8:]
    expected = torch.cat((x1 * c + x2 * s, x1 * (-s) + x2 * c), dim=-1)
    assert torch.equal(apply_rotary(x, cos, sin), expected)
    t = torch.arange(11, dtype=torch.float32)[:, None] * rot.inv_freq[None, :]
    assert torch.equal(c[0, 0], t.cos()) and torch.equal(s[0, 0], t.sin())


def test_accelerator_padding_leaves_autograd_ttt_scores_unchanged(toy64, monkeypatch):
    # The CUDA path: the autograd engine with windows up to 4x shorter padded into the longest's pass.
    model, tokens, tables = toy64
    settings = EvalSettings(seq_len=48, chunk=16, ttt=TTTSettings(rank=2, batch=5, seed=1, engine="autograd"))
    monkeypatch.setattr(ttt_mod, "SMALL_PASS_TOKENS", 0)
    apart = run_condition(model, tokens, tables, "ttt", settings)
    monkeypatch.setattr(ttt_mod, "PAD_FRACTION", ttt_mod.ACCELERATOR_PAD_FRACTION)
    assert len(ttt_mod.length_groups(np.array([48, 32, 16, 40]))) == 1
    padded = run_condition(model, tokens, tables, "ttt", settings)
    assert padded.tokens == apart.tokens
    np.testing.assert_allclose(padded.per_doc["nats"], apart.per_doc["nats"], rtol=1e-12, atol=1e-12)
