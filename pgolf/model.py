"""The record's baseline GPT, with the reference's tensor names so its checkpoints load strictly.

Shape (record-77.md, "The baseline model"): RMS-normalised embedding, blocks that
mix in the block-0 input, GQA attention with RMS-normalised q/k, rotary
embeddings and a learned per-head query gain, relu^2 MLP, U-Net skips from the
first half of the blocks to the second, tied soft-capped logits.

Test-time training needs per-document low-rank deltas on q, v and the LM head;
`forward_logits` takes an optional `LoraDeltas` so the evaluator can add them
without the model knowing anything about adapters or optimisers.
"""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pgolf.config import ModelConfig  # the model's sizes, listed once beside the hyperparameters (torch-free)
from pgolf.fused_loss import softcap_cross_entropy

# Small "control" tensors: kept in float32 in the artifact and trained with Adam.
CONTROL_TENSOR_NAME_PATTERNS: tuple[str, ...] = (
    "attn_scale",
    "attn_scales",
    "mlp_scale",
    "mlp_scales",
    "resid_mix",
    "resid_mixes",
    "q_gain",
    "skip_weight",
    "skip_weights",
)


class LoraDeltas(Protocol):
    """Per-layer additive deltas the evaluator supplies (x -> delta of the linear's output)."""

    def q(self, layer: int, x: Tensor) -> Tensor | None: ...

    def v(self, layer: int, x: Tensor) -> Tensor | None: ...

    def head(self, x: Tensor) -> Tensor | None: ...


class RMSNorm(nn.Module):
    """RMSNorm without a learned weight, as the reference."""

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, (x.size(-1),))


class CastedLinear(nn.Linear):
    """Weights stay float32 for the optimiser; the matmul runs in the input's dtype (bf16 on CUDA)."""

    def forward(self, x: Tensor) -> Tensor:
        bias = self.bias.to(x.dtype) if self.bias is not None else None
        return F.linear(x, self.weight.to(x.dtype), bias)


class Rotary(nn.Module):
    """Rotary tables for one head size; cached per (length, device).

    Returned as full-width tables (cos, cos) and (sin, -sin), so that apply_rotary is two
    products and a sum (x1 cos + x2 sin, x2 cos - x1 sin: the same floating-point operations
    as the half-by-half form) instead of eight small ops each way."""

    def __init__(self, dim: int, base: float) -> None:
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self._cache: tuple[int, torch.device, Tensor, Tensor] | None = None

    def forward(self, seq_len: int, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        # Tables built under inference_mode cannot be saved for backward: rebuild them for training.
        # (torch.compile cannot trace is_inference(); compiled code never runs under inference_mode.)
        stale = (not torch.compiler.is_compiling() and self._cache is not None
                 and self._cache[2].is_inference() and not torch.is_inference_mode_enabled())
        if stale or self._cache is None or self._cache[0] != seq_len or self._cache[1] != device:
            t = torch.arange(seq_len, device=device, dtype=self.inv_freq.dtype)
            freqs = torch.outer(t, self.inv_freq.to(device))
            cos, sin = freqs.cos(), freqs.sin()
            full_cos = torch.cat((cos, cos), dim=-1)[None, None]
            full_sin = torch.cat((sin, -sin), dim=-1)[None, None]
            self._cache = (seq_len, device, full_cos, full_sin)
        return self._cache[2].to(dtype), self._cache[3].to(dtype)


def apply_rotary(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """(x1 cos + x2 sin, x2 cos - x1 sin) for halves x1, x2, with the full-width tables of Rotary."""
    return x * cos + torch.roll(x, x.size(-1) // 2, dims=-1) * sin


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        dim = cfg.model_dim
        self.num_heads = cfg.num_heads
        self.num_kv_heads = cfg.num_kv_heads
        self.head_dim = dim // cfg.num_heads
        kv_dim = cfg.num_kv_heads * self.head_dim
        self.c_q = CastedLinear(dim, dim, bias=False)
        self.c_k = CastedLinear(dim, kv_dim, bias=False)
        self.c_v = CastedLinear(dim, kv_dim, bias=False)
        self.proj = CastedLinear(dim, dim, bias=False)
        self.proj._zero_init = True
        self.q_gain = nn.Parameter(torch.full((cfg.num_heads,), cfg.qk_gain_init, dtype=torch.float32))
        self.rotary = Rotary(self.head_dim, cfg.rope_base)

    def forward(self, x: Tensor, dq: Tensor | None = None, dv: Tensor | None = None) -> Tensor:
        bsz, seqlen, dim = x.shape
        q = self.c_q(x)
        v = self.c_v(x)
        if dq is not None:
            q = q + dq
        if dv is not None:
            v = v + dv
        q = q.reshape(bsz, seqlen, self.num_heads, self.head_dim).transpose(1, 2)
        k = self.c_k(x).reshape(bsz, seqlen, self.num_kv_heads, self.head_dim).transpose(1, 2)
        v = v.reshape(bsz, seqlen, self.num_kv_heads, self.head_dim).transpose(1, 2)
        q = F.rms_norm(q, (q.size(-1),))
        k = F.rms_norm(k, (k.size(-1),))
        cos, sin = self.rotary(seqlen, x.device, q.dtype)
        q = apply_rotary(q, cos, sin)
        k = apply_rotary(k, cos, sin)
        q = q * self.q_gain.to(q.dtype)[None, :, None, None]
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, enable_gqa=self.num_kv_heads != self.num_heads
        )
        return self.proj(y.transpose(1, 2).contiguous().reshape(bsz, seqlen, dim))


class MLP(nn.Module):
    """relu(x)^2 MLP, `mlp_mult` times wider than the model."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        hidden = cfg.mlp_mult * cfg.model_dim
        self.fc = CastedLinear(cfg.model_dim, hidden, bias=False)
        self.proj = CastedLinear(hidden, cfg.model_dim, bias=False)
        self.proj._zero_init = True

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(torch.relu(self.fc(x)).square())


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        dim = cfg.model_dim
        self.attn_norm = RMSNorm()
        self.mlp_norm = RMSNorm()
        self.attn = CausalSelfAttention(cfg)
        self.mlp = MLP(cfg)
        self.attn_scale = nn.Parameter(torch.ones(dim, dtype=torch.float32))
        self.mlp_scale = nn.Parameter(torch.ones(dim, dtype=torch.float32))
        self.resid_mix = nn.Parameter(torch.stack((torch.ones(dim), torch.zeros(dim))).float())

    def forward(self, x: Tensor, x0: Tensor, layer: int = 0, lora: LoraDeltas | None = None) -> Tensor:
        mix = self.resid_mix.to(x.dtype)
        x = mix[0][None, None, :] * x + mix[1][None, None, :] * x0
        h = self.attn_norm(x)
        dq = lora.q(layer, h) if lora is not None else None
        dv = lora.v(layer, h) if lora is not None else None
        x = x + self.attn_scale.to(x.dtype)[None, None, :] * self.attn(h, dq, dv)
        return x + self.mlp_scale.to(x.dtype)[None, None, :] * self.mlp(self.mlp_norm(x))


class GPT(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.config = cfg
        self.tie_embeddings = cfg.tie_embeddings
        self.logit_softcap = cfg.logit_softcap
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.model_dim)
        self.num_encoder_layers = cfg.num_layers // 2
        self.num_decoder_layers = cfg.num_layers - self.num_encoder_layers
        num_skips = min(self.num_encoder_layers, self.num_decoder_layers)
        self.skip_weights = nn.Parameter(torch.ones(num_skips, cfg.model_dim, dtype=torch.float32))
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.num_layers)])
        self.final_norm = RMSNorm()
        self.lm_head = None if cfg.tie_embeddings else CastedLinear(cfg.model_dim, cfg.vocab_size, bias=False)
        if self.lm_head is not None:
            self.lm_head._zero_init = True
        self._init_weights(cfg.tied_embed_init_std)

    def _init_weights(self, std: float) -> None:
        if self.tie_embeddings:
            nn.init.normal_(self.tok_emb.weight, mean=0.0, std=std)
        for module in self.modules():
            if isinstance(module, nn.Linear) and getattr(module, "_zero_init", False):
                nn.init.zeros_(module.weight)

    def hidden(self, input_ids: Tensor, lora: LoraDeltas | None = None) -> Tensor:
        """Final-normed hidden states, (batch, seq, dim)."""
        x = self.tok_emb(input_ids)
        x = F.rms_norm(x, (x.size(-1),))
        x0 = x
        skips: list[Tensor] = []
        for i in range(self.num_encoder_layers):
            x = self.blocks[i](x, x0, i, lora)
            skips.append(x)
        for i in range(self.num_decoder_layers):
            if skips:
                x = x + self.skip_weights[i].to(x.dtype)[None, None, :] * skips.pop()
            layer = self.num_encoder_layers + i
            x = self.blocks[layer](x, x0, layer, lora)
        return self.final_norm(x)

    def head_logits(self, h: Tensor, lora: LoraDeltas | None = None) -> Tensor:
        """Soft-capped logits of final hidden states of any leading shape.

        Split from forward_logits so the evaluator can send only the positions it scores.
        """
        head = self.lm_head.weight if self.lm_head is not None else self.tok_emb.weight
        logits = F.linear(h, head.to(h.dtype))
        if lora is not None and (dh := lora.head(h)) is not None:
            logits = logits + dh
        return self.logit_softcap * torch.tanh(logits / self.logit_softcap)

    def forward_logits(self, input_ids: Tensor, lora: LoraDeltas | None = None) -> Tensor:
        """Soft-capped logits, (batch, seq, vocab)."""
        return self.head_logits(self.hidden(input_ids, lora), lora)

    def token_losses(self, input_ids: Tensor, target_ids: Tensor, lora: LoraDeltas | None = None) -> Tensor:
        """Per-token cross-entropy in nats, float32, shaped like `target_ids`."""
        return cross_entropy_nats(self.forward_logits(input_ids, lora), target_ids)

    def forward(self, input_ids: Tensor, target_ids: Tensor) -> Tensor:
        """Mean cross-entropy in nats: the training objective.

        The soft-capped head and its loss run as one fused step on CPU (pgolf.fused_loss; the
        same numbers as head_logits then cross-entropy, to float rounding).
        """
        head = self.lm_head.weight if self.lm_head is not None else self.tok_emb.weight
        return softcap_cross_entropy(self.hidden(input_ids), head, target_ids, self.logit_softcap).mean()


def loss_precision(logits: Tensor) -> Tensor:
    """Logits as the loss takes them: bf16 cast up to float32 as the reference does, float64 kept
    (the exactness tests run the whole evaluation in float64)."""
    return logits.to(torch.promote_types(logits.dtype, torch.float32))


def cross_entropy_nats(logits: Tensor, targets: Tensor) -> Tensor:
    """Per-token nats in float32 (float64 for a float64 model), shaped like `targets`: the score of
    every condition, as the reference takes it (logits cast to float before the loss)."""
    return F.cross_entropy(loss_precision(logits).reshape(-1, logits.size(-1)), targets.reshape(-1),
                           reduction="none").reshape(targets.shape)


def is_control_tensor(name: str) -> bool:
    return any(pattern in name for pattern in CONTROL_TENSOR_NAME_PATTERNS)


def cast_like_reference(model: GPT) -> GPT:
    """The reference's CUDA precision layout: bf16 embedding, float32 linears, control tensors and
    rotary frequencies (its main() restores inv_freq too: in bf16, positions past 256 would round,
    since the tables are built from arange(seq_len) in inv_freq's dtype).

    Used on CUDA only; on CPU pgolf keeps every tensor float32.
    """
    model.bfloat16()
    for module in model.modules():
        if isinstance(module, CastedLinear):
            module.float()
        if isinstance(module, Rotary):
            module.inv_freq.data = module.inv_freq.data.float()
            module._cache = None
    with torch.no_grad():
        for name, param in model.named_parameters():
            if (param.ndim < 2 or is_control_tensor(name)) and param.dtype != torch.float32:
                param.data = param.data.float()
    return model


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
