"""The frozen GPT's forward and backward for LoRA test-time training, written out by hand.

On a CPU at the sizes pgolf runs there (the embedded default: 2 blocks, width 64, 32-token
windows), a TTT step is a few hundred tiny tensor operations, and autograd's bookkeeping
(recording the graph, walking it back, module calls) costs several times the arithmetic.
The longest document's chunks form a chain of steps that no batching can shorten (1,707 at
the default), so the cost of one step sets the condition's time. This module computes what
GPT.hidden and GPT.head_logits with per-row adapters, then autograd, compute: every scored
token's nats, and the gradient of the sum over rows of each row's mean chunk loss with
respect to every adapter. It does so in about half the operations and none of the
bookkeeping: q and k share one product and one norm, the query gain is folded into the
rotary tables, and the attention is three batched products with an explicit causal mask.
tests/test_ttt_kernel.py holds it to autograd on the model.

Only the adapters get gradients: the base model is frozen, so nothing is computed for its
weights, for the embedding, or below the first block's adapters. The loss is taken in
float32 (float64 for a float64 model), as the record's: logits cast to float first.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from pgolf.model import GPT, Block, loss_precision
from pgolf.runtime import one_thread_if

# Passes of at least this many input tokens run the last block at the scored positions alone
# (measured on a step: 16% slower for one 32-token row, even at two, 15-20% faster from four).
SCORED_ONLY_TOKENS = 64
# Windows of at least this many tokens attend by torch's fused CPU attention (no (T, T) scores held);
# shorter ones by three batched products with an explicit mask. Measured (one thread, 3 blocks,
# explicit/fused time, 2 rounds on a shared 2-core VM): 64 tokens 0.81 (width 64) and 0.99 (width 256),
# 128: 1.08 and 0.89, 256: 1.15 and 1.01; at the record's 1,024-token windows the fused path takes
# the whole condition from 22.2 s to 7.5 s. The embedded default's 32-token windows stay explicit.
FLASH_TOKENS = 256
# Passes of at most this many input tokens run on one thread (a 32-token row: 10% faster than
# on two; from four rows two threads are as fast or faster; a 2-core AMD EPYC VM).
ONE_THREAD_TOKENS = 64

@functools.cache
def _scalar(value: float, dtype: torch.dtype, device: torch.device) -> Tensor:
    """A 0-dim tensor of the operands' dtype: an in-place op with a Python number first converts
    it (a copy per call, half the op's time at these sizes), with this it does not."""
    return torch.tensor(value, dtype=dtype, device=device)


def _c(value: float, like: Tensor) -> Tensor:
    return _scalar(value, like.dtype, like.device)


def rms_norm(x: Tensor) -> tuple[Tensor, Tensor]:
    """F.rms_norm over the last dimension (no weight, the dtype's eps; the same floats, tested),
    and the 1/rms it used."""
    rstd = _mean_last(x * x).add_(_c(torch.finfo(x.dtype).eps, x)).rsqrt_()
    return x * rstd, rstd


def _mean_last(x: Tensor) -> Tensor:
    """x.mean(-1, keepdim=True) as a sum and a product: a third of mean's time on small tensors
    (the same floats where the width is a power of two, as every width here)."""
    return x.sum(-1, keepdim=True).mul_(_c(1.0 / x.size(-1), x))


def rms_norm_backward(grad: Tensor, normed: Tensor, rstd: Tensor) -> Tensor:
    """The input's gradient of n = x / rms(x), from n and 1/rms: (g - n mean(g n)) / rms.
    (torch has no CPU kernel for _fused_rms_norm_backward.)"""
    return torch.addcmul(grad, normed, _mean_last(grad * normed), value=-1.0).mul_(rstd)


@dataclass(frozen=True)
class _Block:
    """One block's frozen weights, laid out for the kernel."""

    mix0: Tensor  # resid_mix[0], the weight of the block's input
    mix1: Tensor  # resid_mix[1], of the embedding x0
    w_qk: Tensor  # (D + kv_dim, D): c_q then c_k
    w_v: Tensor
    w_proj: Tensor
    attn_scale: Tensor
    w_fc: Tensor
    w_mlp: Tensor
    mlp_scale: Tensor
    gain: Tensor  # (H,): q_gain

    @classmethod
    def of(cls, block: Block, dtype: torch.dtype) -> _Block:
        a, m = block.attn, block.mlp
        return cls(block.resid_mix[0].to(dtype), block.resid_mix[1].to(dtype), torch.cat([a.c_q.weight, a.c_k.weight]).to(dtype),
                   a.c_v.weight.to(dtype), a.proj.weight.to(dtype), block.attn_scale.to(dtype),
                   m.fc.weight.to(dtype), m.proj.weight.to(dtype), block.mlp_scale.to(dtype), a.q_gain.to(dtype))


class _Saved:
    """What a block's backward needs of its forward."""

    __slots__ = ("xm", "h", "r1", "h_aq", "h_av", "n", "r2", "at", "q3", "k3", "v3", "p", "x1", "n2", "r3", "f",
                 "q", "k", "v", "out", "lse")


class TTTKernel:
    """Forward and backward of a frozen GPT with per-row adapters (BatchedLora's layout)."""

    def __init__(self, model: GPT, dtype: torch.dtype) -> None:
        attn = model.blocks[0].attn
        self.model, self.dtype = model, dtype
        self.heads, self.kv_heads, self.head_dim = attn.num_heads, attn.num_kv_heads, attn.head_dim
        self.dim = model.tok_emb.embedding_dim
        self.blocks = [_Block.of(b, dtype) for b in model.blocks]
        self.n_enc = model.num_encoder_layers
        self.skip_weights = model.skip_weights.detach().to(dtype)
        head = model.lm_head.weight if model.lm_head is not None else model.tok_emb.weight
        self.emb, self.head = model.tok_emb.weight.detach().to(dtype), head.detach().to(dtype)
        self.cap = float(model.logit_softcap)
        self._tables: dict[int, tuple[list[tuple[Tensor, Tensor]], Tensor]] = {}
        self.first = self._first_block_by_token()

    @torch.no_grad()
    def _first_block_by_token(self) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """Per vocabulary entry: x0, block 0's mixed input, its q|k and v products, and its norm
        (the order _projections reads them). Block 0 sees only the embedding, so all of it before
        the adapters is a function of the token."""
        w = self.blocks[0]
        x0 = rms_norm(self.emb)[0]
        xm = torch.mul(x0, w.mix0).addcmul_(x0, w.mix1)
        h = rms_norm(xm)[0]
        return x0, xm, F.linear(h, w.w_qk), F.linear(h, w.w_v), h

    def tables(self, length: int) -> tuple[list[tuple[Tensor, Tensor]], Tensor]:
        """Per block, rotary tables (T, H + KV, hd) with the query gain folded into the q heads;
        and the additive causal mask (G*T, T) of the grouped queries."""
        if length not in self._tables:
            out = []
            for blk, module in zip(self.blocks, self.model.blocks, strict=True):
                cos, sin = module.attn.rotary(length, self.emb.device, self.dtype)  # (1, 1, T, hd)
                scale = torch.cat([blk.gain, torch.ones(self.kv_heads, dtype=self.dtype, device=self.emb.device)])
                scale = scale[None, :, None]
                out.append((cos[0, 0][:, None, :] * scale, sin[0, 0][:, None, :] * scale))
            pos = torch.arange(length, device=self.emb.device)
            mask = torch.zeros(length, length, dtype=self.dtype, device=self.emb.device)
            mask.masked_fill_(pos[None, :] > pos[:, None], float("-inf"))
            self._tables[length] = (out, mask.repeat(self.heads // self.kv_heads, 1))
        return self._tables[length]

    def run(self, x: Tensor, col: Tensor, y: Tensor, weight: Tensor | None, a: list[Tensor],
            b: list[Tensor], scored_only: bool | None = None) -> tuple[Tensor, list[Tensor] | None]:
        """Nats (rows, scored) of targets `y` at window positions `col` of inputs `x` (rows, T), and,
        when `weight` (rows, scored) is given, the gradients of sum(weight * nats) with respect to
        a and b (the order of BatchedLora.tensors()); otherwise None.

        `scored_only`: the last block at the scored positions alone (fewer products, a few more
        small operations); None: where the pass has at least SCORED_ONLY_TOKENS inputs."""
        if scored_only is None:
            scored_only = x.numel() >= SCORED_ONLY_TOKENS
        with torch.no_grad(), one_thread_if(x.numel() <= ONE_THREAD_TOKENS):
            return self._run(x, col, y, weight, a, b, scored_only)

    def _run(self, x: Tensor, col: Tensor, y: Tensor, weight: Tensor | None, a: list[Tensor],
             b: list[Tensor], scored_only: bool) -> tuple[Tensor, list[Tensor] | None]:
        rotary, mask = self.tables(x.size(1))
        x0 = F.embedding(x, self.first[0])
        h, saved, skips = x0, [], []
        for i in range(len(self.blocks)):
            j = i - self.n_enc
            if 0 <= j < self.skip_weights.size(0):
                h = torch.addcmul(h, skips.pop(), self.skip_weights[j])
            at = col if scored_only and i == len(self.blocks) - 1 else None
            h, s = self._block(i, x if i == 0 else h, x0, a, b, rotary[i], mask, at)
            saved.append(s)
            if i < self.n_enc:
                skips.append(h)
        gathered = not scored_only
        head = self._head(torch.gather(h, 1, _expand(col, h)) if gathered else h, y, a[0], b[0])
        if weight is None:
            return head[0], None
        return head[0], self._backward(head, weight, saved, a, b, rotary, col if gathered else None)

    def _backward(self, head, weight: Tensor, saved: list[_Saved], a: list[Tensor], b: list[Tensor],
                  rotary, gathered_at: Tensor | None) -> list[Tensor]:
        ga, gb = [torch.empty(0)] * len(a), [torch.empty(0)] * len(b)
        g = self._head_backward(head, weight, a[0], b[0], ga, gb)
        if gathered_at is not None:  # the head saw the scored positions of the last block's whole output
            g = torch.zeros_like(saved[-1].xm).scatter_add_(1, _expand(gathered_at, g), g)
        skip_grads: dict[int, Tensor] = {}
        for i in reversed(range(len(self.blocks))):
            if i in skip_grads:
                g = g + skip_grads.pop(i)
            g = self._block_backward(i, g, saved[i], a, b, rotary[i], ga, gb)
            j = i - self.n_enc
            if 0 <= j < self.skip_weights.size(0):
                skip_grads[self.n_enc - 1 - j] = g * self.skip_weights[j]
        return [*ga, *gb]

    def _projections(self, i: int, x: Tensor, x0: Tensor, s: _Saved) -> tuple[Tensor, Tensor]:
        """The block's q|k and v products before the adapters; s.xm, s.h, s.r1 set. Block 0 takes
        token ids and reads them from the per-token tables (s.r1 is not needed there)."""
        if i == 0:
            _, xm, qk, v, h = self.first
            s.xm, s.h, s.r1 = F.embedding(x, xm), F.embedding(x, h), None
            return F.embedding(x, qk), F.embedding(x, v)
        w = self.blocks[i]
        s.xm = torch.mul(x, w.mix0).addcmul_(x0, w.mix1)
        s.h, s.r1 = rms_norm(s.xm)
        return F.linear(s.h, w.w_qk), F.linear(s.h, w.w_v)

    def _block(self, i: int, x: Tensor, x0: Tensor, a: list[Tensor], b: list[Tensor], rotary, mask: Tensor,
               at: Tensor | None):
        """Block i on its input x (token ids for block 0), with the adapters; its output and _Saved.

        With `at` (rows, S), the output only at those window positions: the last block, whose other
        positions reach no scored target, needs keys and values everywhere but queries, the
        attention output and the MLP only there."""
        w, s = self.blocks[i], _Saved()
        rows, length, dim = x0.shape
        hd, kv = self.head_dim, self.kv_heads
        qk, v = self._projections(i, x, x0, s)
        s.h_aq = torch.bmm(s.h, a[1 + 2 * i].mT)
        qk[..., :dim].add_(torch.bmm(s.h_aq, b[1 + 2 * i].mT))  # (baddbmm_ into a strided slice loops over rows)
        s.h_av = torch.bmm(s.h, a[2 + 2 * i].mT)
        v.baddbmm_(s.h_av, b[2 + 2 * i].mT)
        s.n, s.r2 = rms_norm(qk.view(rows, length, self.heads + kv, hd))
        cos, sin = rotary
        rot = torch.mul(s.n, cos).addcmul_(torch.roll(s.n, hd // 2, -1), sin)
        s.at = at
        flash = length >= FLASH_TOKENS and rot.device.type == "cpu"  # torch's fused attention op for the CPU
        att = self._flash_attention(s, rot, v) if flash else self._attention(s, rot, v, mask)
        if flash and at is not None:  # every query attended (a causal kernel), the scored ones kept
            att = torch.gather(att, 1, _expand(at, att))
        xm = s.xm if at is None else torch.gather(s.xm, 1, _expand(at, s.xm))
        s.x1 = torch.addcmul(xm, F.linear(att, w.w_proj), w.attn_scale)
        s.n2, s.r3 = rms_norm(s.x1)
        s.f = F.linear(s.n2, w.w_fc).relu_()
        return torch.addcmul(s.x1, F.linear(s.f * s.f, w.w_mlp), w.mlp_scale), s

    def _block_backward(self, i: int, g: Tensor, s: _Saved, a: list[Tensor], b: list[Tensor], rotary,
                        ga: list[Tensor], gb: list[Tensor]) -> Tensor:
        """The gradient of the block's input (none for block 0) given its output's; adapters' into ga, gb."""
        w = self.blocks[i]
        rows, length, dim = s.xm.shape
        hd = self.head_dim
        g_f = torch.matmul(g * w.mlp_scale, w.w_mlp).mul_(s.f).mul_(_c(2.0, g))  # d f^2 = 2 f; relu' is f > 0
        g_x1 = g + rms_norm_backward(torch.matmul(g_f, w.w_fc), s.n2, s.r3)
        g_att = torch.matmul(g_x1 * w.attn_scale, w.w_proj)
        if s.out is not None:
            g_rot, g_v = self._flash_attention_backward(s, g_att)
        else:
            g_rot, g_v = self._attention_backward(s, g_att)
        cos, sin = rotary
        g_n = torch.mul(g_rot, cos).add_(torch.roll(g_rot * sin, hd // 2, -1))  # roll by half is its own inverse
        g_qk = rms_norm_backward(g_n, s.n, s.r2).view(rows, length, -1)
        g_qq = g_qk[..., :dim]
        qi, vi = 1 + 2 * i, 2 + 2 * i
        g_haq, g_hav = torch.bmm(g_qq, b[qi]), torch.bmm(g_v, b[vi])
        gb[qi], gb[vi] = torch.bmm(g_qq.mT, s.h_aq), torch.bmm(g_v.mT, s.h_av)
        ga[qi], ga[vi] = torch.bmm(g_haq.mT, s.h), torch.bmm(g_hav.mT, s.h)
        if i == 0:
            return g  # nothing below block 0 has adapters
        g_h = torch.matmul(g_qk, w.w_qk).add_(torch.matmul(g_v, w.w_v))
        g_h.baddbmm_(g_haq, a[qi]).baddbmm_(g_hav, a[vi])
        g_xm = rms_norm_backward(g_h, s.h, s.r1)
        if s.at is None:
            g_xm.add_(g_x1)
        else:
            g_xm.scatter_add_(1, _expand(s.at, g_x1), g_x1)
        return g_xm.mul_(w.mix0)

    def _attention(self, s: _Saved, rot: Tensor, v: Tensor, mask: Tensor) -> Tensor:
        """Causal attention (rows, queries, dim) as three batched products with an explicit mask: the
        fastest where windows are short (the whole (G*T, T) score matrix is a few kilobytes)."""
        rows, length = rot.shape[:2]
        hd, kv, at = self.head_dim, self.kv_heads, s.at
        groups = self.heads // kv
        q = rot[:, :, : self.heads]
        q = q if at is None else torch.gather(q, 1, _expand(at, q))
        queries = q.size(1)
        s.out = None
        s.q3 = q.reshape(rows, queries, kv, groups, hd).permute(0, 2, 3, 1, 4).reshape(rows * kv, groups * queries, hd)
        s.k3 = rot[:, :, self.heads :].permute(0, 2, 1, 3).reshape(rows * kv, length, hd)
        s.v3 = v.view(rows, length, kv, hd).permute(0, 2, 1, 3).reshape(rows * kv, length, hd)
        if at is None:
            scores = torch.baddbmm(mask, s.q3, s.k3.mT, alpha=1.0 / math.sqrt(hd))
        else:
            scores = torch.bmm(s.q3, s.k3.mT).mul_(_c(1.0 / math.sqrt(hd), s.q3))
            future = torch.arange(length, device=at.device)[None, None, :] > at[:, :, None]  # (rows, S, T)
            scores.view(rows, kv, groups, queries, length).masked_fill_(future[:, None, None], float("-inf"))
        s.p = torch.softmax(scores, -1)
        att = torch.bmm(s.p, s.v3).view(rows, kv, groups, queries, hd).permute(0, 3, 1, 2, 4)
        return att.reshape(rows, queries, self.dim)

    def _attention_backward(self, s: _Saved, g_att: Tensor) -> tuple[Tensor, Tensor]:
        """Gradients of the rotated q|k (rows, T, H + KV, hd) and of v (rows, T, KV * hd) given the
        attention output's (rows, queries, dim), through _attention's saved products."""
        rows, length = s.n.shape[:2]
        hd, kv, heads = self.head_dim, self.kv_heads, self.heads
        groups, queries = heads // kv, g_att.size(1)
        g_att = g_att.view(rows, queries, kv, groups, hd).permute(0, 2, 3, 1, 4).reshape(rows * kv, groups * queries, hd)
        g_v3 = torch.bmm(s.p.mT, g_att)
        g_s = torch._softmax_backward_data(torch.bmm(g_att, s.v3.mT), s.p, -1, s.p.dtype)
        g_s.mul_(_c(1.0 / math.sqrt(hd), g_s))
        g_q = torch.bmm(g_s, s.k3).view(rows, kv, groups, queries, hd).permute(0, 3, 1, 2, 4)
        g_rot = torch.empty_like(s.n) if s.at is None else torch.zeros_like(s.n)
        if s.at is None:
            g_rot[:, :, :heads].view(rows, length, kv, groups, hd).copy_(g_q)
        else:
            g_q = g_q.reshape(rows, queries, heads, hd)
            g_rot[:, :, :heads].scatter_add_(1, _expand(s.at, g_q), g_q)
        g_rot[:, :, heads:].copy_(torch.bmm(g_s.mT, s.q3).view(rows, kv, length, hd).permute(0, 2, 1, 3))
        return g_rot, g_v3.view(rows, kv, length, hd).permute(0, 2, 1, 3).reshape(rows, length, kv * hd)

    def _flash_attention(self, s: _Saved, rot: Tensor, v: Tensor) -> Tensor:
        """Causal attention (rows, T, dim) of every position by torch's fused CPU kernel (the one
        F.scaled_dot_product_attention runs, grouped heads included): it never holds the (T, T)
        scores, which at the record's 1,024-token windows are most of a step's memory traffic."""
        rows, length = rot.shape[:2]
        s.q = rot[:, :, : self.heads].transpose(1, 2)
        s.k = rot[:, :, self.heads :].transpose(1, 2)
        s.v = v.view(rows, length, self.kv_heads, self.head_dim).transpose(1, 2)
        s.out, s.lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(
            s.q, s.k, s.v, 0.0, True, scale=1.0 / math.sqrt(self.head_dim))
        return s.out.transpose(1, 2).reshape(rows, length, self.dim)

    def _flash_attention_backward(self, s: _Saved, g_att: Tensor) -> tuple[Tensor, Tensor]:
        """_attention_backward's gradients through the fused kernel's own backward."""
        rows, length = s.n.shape[:2]
        g = g_att.view(rows, g_att.size(1), self.heads, self.head_dim)
        if s.at is not None:  # only the scored queries reached the loss
            g = torch.zeros(rows, length, self.heads, self.head_dim, dtype=g.dtype).scatter_add_(1, _expand(s.at, g), g)
        g_q, g_k, g_v = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward(
            g.transpose(1, 2), s.q, s.k, s.v, s.out, s.lse, 0.0, True, scale=1.0 / math.sqrt(self.head_dim))
        g_rot = torch.cat([g_q.transpose(1, 2), g_k.transpose(1, 2)], dim=2)
        return g_rot, g_v.transpose(1, 2).reshape(rows, length, -1)

    def _head(self, hs: Tensor, y: Tensor, a: Tensor, b: Tensor):
        """Final norm of the scored positions' hidden states, soft-capped logits with the head
        adapter, nats in float32."""
        hf, rf = rms_norm(hs)
        h_a = torch.bmm(hf, a.mT)
        t = torch.baddbmm(F.linear(hf, self.head), h_a, b.mT)
        t = t.div_(_c(self.cap, t)).tanh_()
        logits = loss_precision(t * _c(self.cap, t))
        # No max subtracted: capped logits lie in [-cap, cap] (pgolf.fused_loss says why that is safe).
        e = logits.exp()
        sumexp = e.sum(-1, keepdim=True)
        nats = (sumexp.log() - logits.gather(-1, y[..., None])).squeeze(-1)
        return nats, (hf, rf, y, h_a, t, e, sumexp)

    def _head_backward(self, head, weight: Tensor, a: Tensor, b: Tensor, ga: list[Tensor],
                       gb: list[Tensor]) -> Tensor:
        hf, rf, y, h_a, t, e, sumexp = head[1]
        g = e.div_(sumexp)  # softmax; exp(logits) is not needed again
        g.scatter_add_(-1, y[..., None], torch.full_like(sumexp, -1.0))
        g = g.mul_(weight[..., None].to(g.dtype)).to(self.dtype)
        g.addcmul_(g * t, t, value=-1.0)  # d cap tanh(z / cap) / dz = 1 - tanh^2
        g_ha = torch.bmm(g, b)
        gb[0], ga[0] = torch.bmm(g.mT, h_a), torch.bmm(g_ha.mT, hf)
        return rms_norm_backward(torch.matmul(g, self.head).baddbmm_(g_ha, a), hf, rf)


def _expand(at: Tensor, like: Tensor) -> Tensor:
    """Window positions (rows, S) as a gather/scatter index over dim 1 of a (rows, T, ...) tensor."""
    return at.view(*at.shape, *([1] * (like.dim() - 2))).expand(-1, -1, *like.shape[2:])
