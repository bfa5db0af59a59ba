"""The hand-written TTT forward and backward against the model and autograd (independent: the
model's own modules, F.scaled_dot_product_attention, torch's cross-entropy and backward)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from eval_toys import doc_stream, random_lengths, toy_tables

from pgolf.errors import ConfigError
from pgolf.evaluate import EvalSettings, TTTSettings, run_condition, ttt_kernel
from pgolf.evaluate.ttt import BatchedLora, lora_shapes
from pgolf.evaluate.ttt_kernel import TTTKernel, rms_norm
from pgolf.model import GPT, ModelConfig

SHAPES = {
    "2 blocks, GQA": dict(num_layers=2, model_dim=32, num_heads=4, num_kv_heads=2),
    "3 blocks (odd: one skip), MQA": dict(num_layers=3, model_dim=32, num_heads=4, num_kv_heads=1),
    "1 block, no skip, MHA": dict(num_layers=1, model_dim=16, num_heads=2, num_kv_heads=2),
    "4 blocks, untied head": dict(num_layers=4, model_dim=32, num_heads=2, num_kv_heads=1, tie_embeddings=False),
}


def _model(dtype: torch.dtype, **shape) -> GPT:
    torch.manual_seed(0)
    model = GPT(ModelConfig(vocab_size=48, **shape))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return model.to(dtype).eval().requires_grad_(False)


def _batch(model: GPT, dtype: torch.dtype, rows: int = 3, length: int = 12, seed: int = 1):
    """Rows of different window lengths, right-padded, each scoring its last positions (one row
    scores fewer: its run is padded with its last position and weight zero)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 48, (rows, length), generator=g)
    lengths, scored = [length, length - 3, length - 5][:rows], [4, 4, 2][:rows]
    col = torch.tensor([[max(n - s + j, 0) if j < s else n - 1 for j in range(4)]
                        for n, s in zip(lengths, scored, strict=True)])
    y = torch.randint(0, 48, (rows, 4), generator=g)
    valid = torch.arange(4)[None, :] < torch.tensor(scored)[:, None]
    weight = (valid / valid.sum(1, keepdim=True)).to(dtype)
    shapes = lora_shapes(model)
    a = [torch.randn(rows, 4, i, generator=g, dtype=dtype) * i**-0.5 for i, _ in shapes]
    b = [torch.randn(rows, o, 4, generator=g, dtype=dtype) * 0.1 for _, o in shapes]
    return x, col, y, weight, a, b


def _autograd(model: GPT, x, col, y, weight, a, b):
    a = [t.clone().requires_grad_(True) for t in a]
    b = [t.clone().requires_grad_(True) for t in b]
    lora = BatchedLora(a, b)
    with torch.enable_grad():
        h = model.hidden(x, lora)
        hs = torch.gather(h, 1, col[..., None].expand(-1, -1, h.size(-1)))
        logits = model.head_logits(hs, lora)
        nats = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view(y.shape)
        (weight * nats).sum().backward()
    return nats.detach(), [t.grad for t in (*a, *b)]


ATTENTION = {"explicit attention": 10**9, "fused attention": 0}  # ttt_kernel.FLASH_TOKENS for either path


@pytest.mark.parametrize("attention", list(ATTENTION))
@pytest.mark.parametrize("scored_only", [True, False], ids=["last block at scored positions", "whole"])
@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
def test_kernel_nats_and_adapter_gradients_equal_autograd_on_the_model_in_float64(shape, scored_only, attention,
                                                                                   monkeypatch):
    monkeypatch.setattr(ttt_kernel, "FLASH_TOKENS", ATTENTION[attention])
    model = _model(torch.float64, **SHAPES[shape])
    x, col, y, weight, a, b = _batch(model, torch.float64)
    nats, grads = TTTKernel(model, torch.float64).run(x, col, y, weight, a, b, scored_only=scored_only)
    ref_nats, ref_grads = _autograd(model, x, col, y, weight, a, b)
    torch.testing.assert_close(nats, ref_nats, rtol=1e-12, atol=1e-12)
    assert len(grads) == len(ref_grads) == 2 * len(lora_shapes(model))
    for got, ref in zip(grads, ref_grads, strict=True):
        assert got.shape == ref.shape
        torch.testing.assert_close(got, ref, rtol=1e-9, atol=1e-12)
    assert all(float(g.abs().max()) > 0 for g in grads[len(a):])  # every B got a gradient


def test_kernel_in_float32_is_autograd_to_float_rounding_and_scores_without_a_weight():
    model = _model(torch.float32, **SHAPES["2 blocks, GQA"])
    x, col, y, weight, a, b = _batch(model, torch.float32)
    nats, grads = TTTKernel(model, torch.float32).run(x, col, y, weight, a, b)
    ref_nats, ref_grads = _autograd(model, x, col, y, weight, a, b)
    torch.testing.assert_close(nats, ref_nats, rtol=1e-5, atol=1e-5)
    for got, ref in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(got, ref, rtol=1e-3, atol=1e-5)
    only, none = TTTKernel(model, torch.float32).run(x, col, y, None, a, b)
    assert none is None and torch.equal(only, nats)


def test_kernel_rms_norm_is_torch_rms_norm_to_the_bit():
    for width in (16, 64, 512):
        x = torch.randn(5, 7, width)
        n, rstd = rms_norm(x)
        assert torch.equal(n, F.rms_norm(x, (width,)))
        assert rstd.shape == (5, 7, 1)


@pytest.fixture(scope="module")
def toy64():
    torch.set_num_threads(1)
    lengths = random_lengths(12, high=130, seed=5)
    return _model(torch.float64, **SHAPES["3 blocks (odd: one skip), MQA"]), doc_stream(lengths, seed=5, vocab=48), \
        toy_tables(vocab=48)


@pytest.mark.parametrize("attention", list(ATTENTION))
def test_ttt_condition_by_the_kernel_equals_it_by_autograd(toy64, attention, monkeypatch):
    """The whole condition (slots, padding groups, Adam, accumulation), one engine against the other."""
    monkeypatch.setattr(ttt_kernel, "FLASH_TOKENS", ATTENTION[attention])
    model, tokens, tables = toy64
    base = EvalSettings(seq_len=24, chunk=8, ttt=TTTSettings(rank=2, batch=5, seed=4))
    kernel = run_condition(model, tokens, tables, "ttt", base.replace_ttt(engine="kernel"))
    ref = run_condition(model, tokens, tables, "ttt", base.replace_ttt(engine="autograd"))
    assert (kernel.tokens, kernel.bytes) == (ref.tokens, ref.bytes)
    assert kernel.val_bpb == pytest.approx(ref.val_bpb, rel=1e-11)
    np.testing.assert_allclose(kernel.per_doc["nats"], ref.per_doc["nats"], rtol=1e-10)
    np.testing.assert_allclose(kernel.positions["nats"], ref.positions["nats"], rtol=1e-10, atol=1e-12)
    assert kernel.settings["ttt_engine"] == "kernel"


def test_ttt_engine_is_checked(toy64):
    model, tokens, tables = toy64
    with pytest.raises(ConfigError, match="--ttt-engine must be one of auto, kernel, autograd, got 'fast'"):
        run_condition(model, tokens, tables, "ttt", EvalSettings(seq_len=24, chunk=8, ttt=TTTSettings(engine="fast")))
    with pytest.raises(ConfigError, match="use autograd"):
        run_condition(model, tokens, tables, "ttt",
                      EvalSettings(seq_len=24, chunk=8, precision="bf16", ttt=TTTSettings(engine="kernel")))
