"""The model's structural facts: reference parameter count, causality, LoRA hooks."""

from __future__ import annotations

import pytest
import torch

from pgolf.model import GPT, ModelConfig, count_parameters

TINY = ModelConfig(vocab_size=64, num_layers=3, model_dim=32, num_heads=4, num_kv_heads=2, mlp_mult=2)


def _randomised(cfg: ModelConfig, seed: int = 0) -> GPT:
    """A model whose zero-initialised projections are filled, so every path carries signal."""
    torch.manual_seed(seed)
    model = GPT(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model.eval()


def test_record_configuration_has_17059912_parameters():
    assert count_parameters(GPT(ModelConfig())) == 17_059_912


def test_output_projections_start_at_zero_and_gains_at_reference_values():
    model = GPT(TINY)
    for block in model.blocks:
        assert torch.count_nonzero(block.attn.proj.weight) == 0
        assert torch.count_nonzero(block.mlp.proj.weight) == 0
        assert torch.all(block.attn.q_gain == 1.5)
        assert torch.equal(block.resid_mix[0], torch.ones(TINY.model_dim))
        assert torch.equal(block.resid_mix[1], torch.zeros(TINY.model_dim))
    assert model.skip_weights.shape == (1, TINY.model_dim)  # min(3 // 2, 3 - 3 // 2)


def test_logits_at_a_position_ignore_later_tokens():
    model = _randomised(TINY)
    x = torch.randint(0, TINY.vocab_size, (2, 12))
    x2 = x.clone()
    x2[:, 7:] = (x2[:, 7:] + 5) % TINY.vocab_size
    with torch.no_grad():
        a, b = model.forward_logits(x), model.forward_logits(x2)
    torch.testing.assert_close(a[:, :7], b[:, :7], rtol=0, atol=1e-6)
    assert not torch.allclose(a[:, 7:], b[:, 7:])


def test_logits_are_soft_capped():
    model = _randomised(TINY)
    with torch.no_grad():
        model.tok_emb.weight.mul_(1e4)
        logits = model.forward_logits(torch.randint(0, TINY.vocab_size, (1, 8)))
    assert logits.abs().max() <= TINY.logit_softcap


def test_mean_loss_equals_mean_of_token_losses():
    model = _randomised(TINY)
    x = torch.randint(0, TINY.vocab_size, (3, 10))
    y = torch.randint(0, TINY.vocab_size, (3, 10))
    with torch.no_grad():
        torch.testing.assert_close(model(x, y), model.token_losses(x, y).mean())


class _ConstantDeltas:
    """Adds a fixed vector to the head logits only."""

    def __init__(self, head_delta: torch.Tensor | None) -> None:
        self.head_delta = head_delta

    def q(self, layer, h):
        return None

    def v(self, layer, h):
        return None

    def head(self, h):
        return None if self.head_delta is None else self.head_delta.expand(*h.shape[:-1], -1)


def test_head_delta_is_added_before_the_soft_cap():
    model = _randomised(TINY)
    x = torch.randint(0, TINY.vocab_size, (1, 6))
    delta = torch.zeros(TINY.vocab_size)
    delta[3] = 1000.0
    with torch.no_grad():
        logits = model.forward_logits(x, _ConstantDeltas(delta))
    # A huge pre-cap delta saturates at the cap instead of passing through.
    assert torch.allclose(logits[..., 3], torch.full_like(logits[..., 3], TINY.logit_softcap), atol=1e-3)


def test_bad_shapes_are_rejected_with_the_offending_values():
    with pytest.raises(ValueError, match="num_kv_heads=3"):
        ModelConfig(num_heads=8, num_kv_heads=3)


def test_training_after_inference_mode_scoring_still_backpropagates():
    model = _randomised(TINY)
    x = torch.randint(0, TINY.vocab_size, (2, 8))
    with torch.inference_mode():
        model(x, x)  # builds the rotary tables as inference tensors
    model.train()
    loss = model(x, x)
    loss.backward()
    assert model.blocks[0].attn.c_q.weight.grad is not None
