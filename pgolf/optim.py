"""The reference's optimisers: Muon for the block matrices, Adam for everything else, and the LR schedule.

Why pgolf keeps its own Muon rather than `torch.optim.Muon` (tests/test_optim.py measures it):
torch's Muon keeps an exponential-average momentum buffer, buf <- m*buf + (1-m)*g,
where the reference keeps a plain sum, buf <- m*buf + g. With a constant momentum the
two differ only by the factor (1-m), which the Newton-Schulz normalisation removes: one
step from a fresh state agrees to bf16 rounding (~3% relative, the same as bf16 vs
float32 NS5). But the reference warms the momentum up from 0.85 to 0.95 over 500 steps;
while m changes, torch's buffer weights each past gradient by its own (1-m_k), a
systematic bias of the update direction that reaches ~3% (exact arithmetic, independent
gradients) around step 500. It is not rounding noise, so pgolf keeps the reference's buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor

from pgolf.config import Hyperparameters
from pgolf.model import GPT, is_control_tensor

NS5_COEFFICIENTS: tuple[float, float, float] = (3.4445, -4.7750, 2.0315)


def zeropower_via_newtonschulz5(g: Tensor, steps: int = 5, eps: float = 1e-7) -> Tensor:
    """Approximately orthogonalise a matrix (U S V^T -> U S' V^T, S' in ~[0.7, 1.2]), in bf16.

    Reference semantics: cast to bf16, divide by (Frobenius norm + eps), iterate on the
    wide orientation. bf16 on CPU too: the record runs it in bf16, and fidelity of the
    update matters more than the few ulps float32 would change.
    """
    a, b, c = NS5_COEFFICIENTS
    x = g.bfloat16()
    x = x / (x.norm() + eps)
    transposed = g.size(0) > g.size(1)
    if transposed:
        x = x.T
    for _ in range(steps):
        gram = x @ x.T
        poly = b * gram + c * gram @ gram
        x = a * x + poly @ x
    return x.T if transposed else x


class Muon(torch.optim.Optimizer):
    """Muon with Nesterov momentum (reference buffer semantics), no weight decay.

    With `shard=True` under torch.distributed, rank r computes the updates of matrices
    r, r+W, ... and one all-reduce of the flat bf16 updates shares them (the reference's
    scheme); with `shard=False` every rank computes every update. Both give bit-identical
    weights, because gradients are already all-reduced and the summed update has a single
    non-zero contributor per element.
    """

    def __init__(self, params, lr: float, momentum: float, backend_steps: int = 5,
                 nesterov: bool = True, shard: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, backend_steps=backend_steps, nesterov=nesterov))
        self.shard = shard
        self.orthogonalize = zeropower_via_newtonschulz5  # train.py swaps in a torch.compile'd copy

    def _update(self, p: Tensor, group: dict) -> Tensor:
        g = p.grad
        state = self.state[p]
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = torch.zeros_like(g)
        buf = state["momentum_buffer"]
        buf.mul_(group["momentum"]).add_(g)
        if group["nesterov"]:
            g = g.add(buf, alpha=group["momentum"])
        u = self.orthogonalize(g, steps=group["backend_steps"])
        # The scale is applied to the bf16 update, as the reference does, not to the lr.
        return u * max(1, u.size(0) / u.size(1)) ** 0.5

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        distributed = self.shard and dist.is_available() and dist.is_initialized()
        world_size = dist.get_world_size() if distributed else 1
        rank = dist.get_rank() if distributed else 0
        for group in self.param_groups:
            params = group["params"]
            if not params:
                continue
            if not distributed:
                for p in params:
                    if p.grad is not None:
                        p.add_(self._update(p, group).to(p.dtype), alpha=-group["lr"])
                continue
            flat = torch.zeros(sum(p.numel() for p in params), device=params[0].device, dtype=torch.bfloat16)
            offset = 0
            for i, p in enumerate(params):
                if i % world_size == rank and p.grad is not None:
                    flat[offset : offset + p.numel()] = self._update(p, group).reshape(-1)
                offset += p.numel()
            dist.all_reduce(flat, op=dist.ReduceOp.SUM)
            offset = 0
            for p in params:
                p.add_(flat[offset : offset + p.numel()].view_as(p).to(p.dtype), alpha=-group["lr"])
                offset += p.numel()
        return loss


@dataclass
class Optimizers:
    """The reference's optimiser split; `all` is stepped in this order every step."""

    all: list[torch.optim.Optimizer]
    muon: Muon

    def zero_grad(self) -> None:
        for opt in self.all:
            opt.zero_grad(set_to_none=True)

    def set_schedule(self, lr_scale: float, muon_momentum: float) -> None:
        for group in self.muon.param_groups:
            group["momentum"] = muon_momentum
        for opt in self.all:
            for group in opt.param_groups:
                group["lr"] = group["base_lr"] * lr_scale

    def step(self) -> None:
        for opt in self.all:
            opt.step()

    def state_dicts(self) -> list[dict]:
        return [opt.state_dict() for opt in self.all]

    def load_state_dicts(self, states: list[dict]) -> None:
        for opt, state in zip(self.all, states, strict=True):
            opt.load_state_dict(state)


def split_parameters(model: GPT) -> tuple[list[Tensor], list[Tensor]]:
    """(Muon matrices, Adam scalars): 2-D block tensors vs vectors, control tensors and skip_weights."""
    named = list(model.blocks.named_parameters())
    matrices = [p for n, p in named if p.ndim == 2 and not is_control_tensor(n)]
    scalars = [p for n, p in named if p.ndim < 2 or is_control_tensor(n)]
    if model.skip_weights.numel() > 0:
        scalars.append(model.skip_weights)
    return matrices, scalars


def build_optimizers(model: GPT, hp: Hyperparameters, muon_shard: bool = False) -> Optimizers:
    """Adam(token embedding), [Adam(untied head)], Muon(block matrices), Adam(scalars), as the reference."""
    matrices, scalars = split_parameters(model)
    fused = model.tok_emb.weight.is_cuda  # fused Adam on CUDA as the reference; default kernels on CPU

    def adam(params: list[Tensor], lr: float) -> torch.optim.Adam:
        return torch.optim.Adam([{"params": params, "lr": lr, "base_lr": lr}], betas=(hp.beta1, hp.beta2),
                                eps=hp.adam_eps, fused=fused or None)

    token_lr = hp.tied_embed_lr if model.lm_head is None else hp.embed_lr
    muon = Muon(matrices, lr=hp.matrix_lr, momentum=hp.muon_momentum, backend_steps=hp.muon_backend_steps,
                shard=muon_shard)
    for group in muon.param_groups:
        group["base_lr"] = hp.matrix_lr
    opts: list[torch.optim.Optimizer] = [adam([model.tok_emb.weight], token_lr), muon, adam(scalars, hp.scalar_lr)]
    if model.lm_head is not None:
        opts.insert(1, adam([model.lm_head.weight], hp.head_lr))
    return Optimizers(all=opts, muon=muon)


def muon_momentum_at(step: int, hp: Hyperparameters) -> float:
    """Linear warm-up from muon_momentum_warmup_start to muon_momentum over the first warm-up steps."""
    warm = hp.muon_momentum_warmup_steps
    frac = min(step / warm, 1.0) if warm > 0 else 1.0
    return (1 - frac) * hp.muon_momentum_warmup_start + frac * hp.muon_momentum


def lr_mul(step: int, elapsed_ms: float, iterations: int, warmdown_iters: int,
           max_wallclock_ms: float | None) -> float:
    """LR multiplier: 1, then linear to 0 over the last `warmdown_iters` steps.

    Without a wall-clock cap the warm-down is counted in iterations. With a cap it is
    counted in time: the warm-down lasts warmdown_iters x (mean step time so far) and
    ends exactly at the cap, so the schedule follows the machine's real speed.
    """
    if warmdown_iters <= 0:
        return 1.0
    if max_wallclock_ms is None:
        warmdown_start = max(iterations - warmdown_iters, 0)
        if warmdown_start <= step < iterations:
            return max((iterations - step) / max(warmdown_iters, 1), 0.0)
        return 1.0
    step_ms = elapsed_ms / max(step, 1)
    warmdown_ms = warmdown_iters * step_ms
    remaining_ms = max(max_wallclock_ms - elapsed_ms, 0.0)
    return remaining_ms / max(warmdown_ms, 1e-9) if remaining_ms <= warmdown_ms else 1.0


def max_wallclock_ms(hp: Hyperparameters) -> float | None:
    return 1000.0 * hp.max_wallclock_seconds if hp.max_wallclock_seconds > 0 else None

