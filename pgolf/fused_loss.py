"""The LM head's loss, cap * tanh(h W^T / cap) then cross-entropy, forward and backward in one pass.

Same numbers as the plain formulation (`plain_softcap_cross_entropy`, the record's: logits,
soft cap, log-softmax, NLL) to float rounding; tests/test_fused_loss.py holds the two together.
On a CPU the plain one makes about ten passes over the (tokens x vocab) logits forward and back,
each through main memory, and keeps three copies for backward; at the embedded default (4,096
tokens x 512) that was a third of a training step. Here the rows are taken in blocks that fit
in cache: each block's logits are computed, capped, exponentiated and summed while they are
hot, and backward rebuilds the softmax from the stored tanh and forms the gradient of the
block, then its two matrix products, again in cache. Only tanh(z / cap) and the row
log-sum-exps are kept for backward.

No max is subtracted before the exponential: the capped logits lie in [-cap, cap], so
exp stays below e^cap (1e13 at cap 30) and the sum over any vocabulary in use is far from
float32's range.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

# Rows per block: a block of logits of about 512 KiB stays in a core's L2 cache.
BLOCK_BYTES = 1 << 19


def plain_softcap_cross_entropy(h: Tensor, weight: Tensor, targets: Tensor, cap: float) -> Tensor:
    """Per-token nats, the record's way: logits, soft cap, cross-entropy in float32."""
    logits = cap * torch.tanh(F.linear(h, weight.to(h.dtype)) / cap)
    return F.cross_entropy(logits.float(), targets, reduction="none")


def _block_rows(vocab: int, itemsize: int) -> int:
    return max(1, BLOCK_BYTES // (vocab * itemsize))


class _SoftcapCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h: Tensor, weight: Tensor, targets: Tensor, cap: float) -> Tensor:  # type: ignore[override]
        n, vocab = h.size(0), weight.size(0)
        rows = _block_rows(vocab, h.element_size())
        t = torch.empty(n, vocab, dtype=h.dtype, device=h.device)  # tanh(z / cap), kept for backward
        sumexp = torch.empty(n, dtype=h.dtype, device=h.device)
        buf = torch.empty(min(rows, n), vocab, dtype=h.dtype, device=h.device)
        wt = weight.t()
        for s in range(0, n, rows):
            tb = t[s : s + rows]
            torch.mm(h[s : s + rows], wt, out=tb)
            tb.mul_(1.0 / cap).tanh_()
            eb = torch.mul(tb, cap, out=buf[: tb.size(0)]).exp_()
            torch.sum(eb, 1, out=sumexp[s : s + rows])
        lse = sumexp.log_()
        nats = lse - cap * t.gather(1, targets[:, None]).squeeze(1)
        ctx.save_for_backward(h, weight, targets, t, lse)
        ctx.cap = cap
        return nats

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None, None]:  # type: ignore[override]
        h, weight, targets, t, lse = ctx.saved_tensors
        cap = ctx.cap
        need_h, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        n, vocab = t.shape
        rows = _block_rows(vocab, t.element_size())
        dh = torch.empty_like(h) if need_h else None
        dw = torch.zeros_like(weight) if need_w else None
        p_buf = torch.empty(min(rows, n), vocab, dtype=t.dtype, device=t.device)
        q_buf = torch.empty_like(p_buf)
        grad = grad.to(t.dtype)
        for s in range(0, n, rows):
            tb = t[s : s + rows]
            m = tb.size(0)
            # d nats / d c = softmax(c) - onehot(y); d c / d z = 1 - tanh^2; times the incoming grad.
            p = torch.add(-lse[s : s + m, None], tb, alpha=cap, out=p_buf[:m]).exp_()
            gb = grad[s : s + m]
            p.mul_(gb[:, None])
            p[torch.arange(m, device=p.device), targets[s : s + m]] -= gb
            q = torch.mul(p, tb, out=q_buf[:m])
            p.addcmul_(q, tb, value=-1.0)
            if dh is not None:
                torch.mm(p, weight, out=dh[s : s + m])
            if dw is not None:
                dw.addmm_(p.t(), h[s : s + m])
        return dh, dw, None, None


def softcap_cross_entropy(h: Tensor, weight: Tensor, targets: Tensor, cap: float) -> Tensor:
    """Per-token nats (float32, as the record's loss) of cap * tanh(h W^T / cap) against `targets`:
    h (..., dim), W (vocab, dim).

    The fused path on CPU (float32, or float64 in exactness tests); elsewhere, under autocast or
    torch.compile, the plain formulation (the record's numerics: bf16 logits under CUDA autocast).
    """
    shape = targets.shape
    h2, y = h.reshape(-1, h.size(-1)), targets.reshape(-1)
    fused = (h.device.type == "cpu" and h.dtype in (torch.float32, torch.float64)
             and weight.dtype == h.dtype and not torch.is_autocast_enabled("cpu")
             and not torch.compiler.is_compiling())
    if not fused:
        return plain_softcap_cross_entropy(h2, weight, y, cap).reshape(shape)
    return _SoftcapCrossEntropy.apply(h2, weight, y, float(cap)).float().reshape(shape)
