"""The fused soft-capped cross-entropy equals the record's formulation, in value and gradient."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from pgolf import fused_loss
from pgolf.fused_loss import plain_softcap_cross_entropy, softcap_cross_entropy
from pgolf.model import GPT, ModelConfig


def _inputs(n: int, dim: int, vocab: int, dtype: torch.dtype, scale: float = 1.0, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(n, dim, generator=gen, dtype=dtype).mul_(scale).requires_grad_(True)
    w = torch.randn(vocab, dim, generator=gen, dtype=dtype).mul_(0.5).requires_grad_(True)
    y = torch.randint(0, vocab, (n,), generator=gen)
    upstream = torch.rand(n, generator=gen, dtype=dtype)
    return h, w, y, upstream


def _value_and_grads(fn, h, w, y, upstream, cap=30.0):
    h.grad = w.grad = None
    nats = fn(h, w, y, cap)
    (nats * upstream).sum().backward()
    return nats.detach(), h.grad.clone(), w.grad.clone()


@pytest.mark.parametrize("n", [1, 7, 300, 1031])
@pytest.mark.parametrize("vocab", [64, 512, 1024])
def test_fused_matches_plain_to_1e6_in_value_and_gradient_float32(n, vocab):
    # 300 and 1031 rows span several blocks at every vocabulary (256, 128 rows a block), with a
    # ragged last one. h is unit-scale as the final RMSNorm's output; the gradient is the mean
    # loss's, as in training. Nats reach ~10, where one float32 ulp is 1e-6: values to 1e-6 relative.
    h, w, y, _ = _inputs(n, 32, vocab, torch.float32)
    mean = torch.full((n,), 1.0 / n)
    nats, dh, dw = _value_and_grads(softcap_cross_entropy, h, w, y, mean)
    nats0, dh0, dw0 = _value_and_grads(plain_softcap_cross_entropy, h, w, y, mean)
    torch.testing.assert_close(nats, nats0, rtol=1e-6, atol=1e-6)
    # two float32 ulps at the mean's size: a single row's nats reach ~15 at vocab 512, where two ulps are
    # 1.9e-6, and which side of a tie the fused sum lands on depends on the CPU's vector width (seen on
    # an Intel Xeon, not on an AMD EPYC)
    ulps2 = 2 * torch.finfo(torch.float32).eps * max(1.0, abs(nats0.mean().item()))
    torch.testing.assert_close(nats.mean(), nats0.mean(), rtol=0, atol=max(1e-6, ulps2))
    torch.testing.assert_close(dh, dh0, rtol=0, atol=1e-6)
    torch.testing.assert_close(dw, dw0, rtol=0, atol=1e-6)


def test_fused_float32_error_is_no_larger_than_the_plain_ones():
    # Against float64 as the truth, with large logits and per-token upstream gradients.
    h, w, y, up = _inputs(1031, 32, 512, torch.float32, scale=3.0)
    h64, w64 = h.detach().double().requires_grad_(True), w.detach().double().requires_grad_(True)
    truth = _value_and_grads(plain_softcap_cross_entropy, h64, w64, y, up.double())
    fused = _value_and_grads(softcap_cross_entropy, h, w, y, up)
    plain = _value_and_grads(plain_softcap_cross_entropy, h, w, y, up)
    for f, p, t in zip(fused, plain, truth, strict=True):
        err_f, err_p = (f.double() - t).abs().max(), (p.double() - t).abs().max()
        assert err_f <= 2 * err_p + 1e-7, (float(err_f), float(err_p))


def _fused64(h, w, y, cap):
    return fused_loss._SoftcapCrossEntropy.apply(h, w, y, cap)


def _plain64(h, w, y, cap):
    return F.cross_entropy(cap * torch.tanh(h @ w.t() / cap), y, reduction="none")


def test_fused_matches_plain_to_1e12_in_float64():
    h, w, y, up = _inputs(600, 48, 512, torch.float64, scale=3.0)
    fused = _value_and_grads(_fused64, h, w, y, up)
    plain = _value_and_grads(_plain64, h, w, y, up)
    for a, b in zip(fused, plain, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_saturated_logits_stay_finite_and_match():
    # |z| up to ~1e3: tanh saturates at +-1, the capped logits sit at +-30, exp(30) per entry.
    h, w, y, up = _inputs(257, 16, 1024, torch.float32, scale=100.0)
    fused = _value_and_grads(softcap_cross_entropy, h, w, y, up)
    plain = _value_and_grads(plain_softcap_cross_entropy, h, w, y, up)
    assert all(bool(torch.isfinite(t).all()) for t in fused)
    for a, b in zip(fused, plain, strict=True):  # to float32 rounding of each tensor's largest entry
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6 * float(b.abs().max()))


def test_gradient_agrees_with_finite_differences():
    h, w, y, _ = _inputs(9, 4, 70, torch.float64, scale=8.0)
    assert torch.autograd.gradcheck(lambda a, b: _fused64(a, b, y, 30.0), (h, w))


def test_leading_shape_is_kept_and_frozen_weight_gets_no_gradient():
    h, w, _, _ = _inputs(24, 8, 40, torch.float32)
    h3 = h.detach().reshape(2, 3, 4, 8).requires_grad_(True)
    w_frozen = w.detach()
    y = torch.randint(0, 40, (2, 3, 4))
    nats = softcap_cross_entropy(h3, w_frozen, y, 30.0)
    assert nats.shape == (2, 3, 4)
    nats.sum().backward()
    assert h3.grad is not None and h3.grad.shape == h3.shape


def test_block_size_does_not_change_the_numbers(monkeypatch):
    h, w, y, up = _inputs(130, 16, 256, torch.float64)
    base = _value_and_grads(_fused64, h, w, y, up)
    monkeypatch.setattr(fused_loss, "BLOCK_BYTES", 8 * 256 * 3)  # 3 rows a block
    small = _value_and_grads(_fused64, h, w, y, up)
    for a, b in zip(base, small, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-13)


def test_model_training_loss_and_gradients_match_the_plain_head():
    cfg = ModelConfig(vocab_size=128, num_layers=2, model_dim=32, num_heads=4, num_kv_heads=2)
    torch.manual_seed(0)
    model = GPT(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    x = torch.randint(0, 128, (4, 16))
    y = torch.randint(0, 128, (4, 16))
    loss = model(x, y)
    loss.backward()
    fused_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    plain = model.token_losses(x, y).mean()  # head_logits then F.cross_entropy: the record's path
    plain.backward()
    torch.testing.assert_close(loss, plain, rtol=0, atol=1e-6)
    for a, p in zip(fused_grads, model.parameters(), strict=True):
        torch.testing.assert_close(a, p.grad, rtol=0, atol=1e-6)
