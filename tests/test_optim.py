"""Muon as the reference runs it, the optimiser split, and the LR / momentum schedules."""

from __future__ import annotations

import pytest
import torch

from pgolf.config import Hyperparameters
from pgolf.model import GPT, ModelConfig
from pgolf.optim import (
    Muon,
    build_optimizers,
    lr_mul,
    muon_momentum_at,
    split_parameters,
    zeropower_via_newtonschulz5,
)

SHAPES = [(64, 64), (128, 64), (64, 128), (96, 32)]


def _ns5_float32(g: torch.Tensor) -> torch.Tensor:
    a, b, c = (3.4445, -4.7750, 2.0315)
    x = g / (g.norm() + 1e-7)
    tall = g.size(0) > g.size(1)
    x = x.T if tall else x
    for _ in range(5):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


@pytest.mark.parametrize("shape", SHAPES + [(512, 512), (1024, 512)])
def test_ns5_update_is_close_to_orthogonal(shape: tuple[int, int]) -> None:
    """Singular values spread over 1.5 decades all land in NS5's band of roughly [0.7, 1.2]."""
    torch.manual_seed(0)
    rows, cols = shape
    k = min(rows, cols)
    u, _ = torch.linalg.qr(torch.randn(rows, k))
    v, _ = torch.linalg.qr(torch.randn(cols, k))
    s = torch.logspace(-1.5, 0, k)[torch.randperm(k)] * 3.0
    out = zeropower_via_newtonschulz5(u @ torch.diag(s) @ v.T)
    assert out.dtype == torch.bfloat16 and out.shape == shape
    sv = torch.linalg.svdvals(out.float())
    assert sv.min() > 0.65 and sv.max() < 1.25, (sv.min(), sv.max())
    # The singular vectors are kept: the output is ~ U V^T (cosine similarity near 1).
    cos = (out.float() * (u @ v.T)).sum() / (out.float().norm() * (u @ v.T).norm())
    assert cos > 0.97


def test_ns5_in_bf16_is_within_rounding_of_float32() -> None:
    torch.manual_seed(1)
    g = torch.randn(128, 64)
    rel = (zeropower_via_newtonschulz5(g).float() - _ns5_float32(g)).norm() / _ns5_float32(g).norm()
    assert rel < 0.05


def test_muon_keeps_a_summed_nesterov_buffer_and_scales_tall_matrices() -> None:
    torch.manual_seed(2)
    p = torch.nn.Parameter(torch.zeros(128, 64))
    opt = Muon([p], lr=0.1, momentum=0.9)
    g1, g2 = torch.randn(128, 64), torch.randn(128, 64)
    p.grad = g1.clone()
    opt.step()
    before = p.detach().clone()
    p.grad = g2.clone()
    opt.step()
    buf = opt.state[p]["momentum_buffer"]
    torch.testing.assert_close(buf, 0.9 * g1 + g2)
    nesterov = g2 + 0.9 * buf
    expected = zeropower_via_newtonschulz5(nesterov) * 2**0.5  # rows/cols = 2
    torch.testing.assert_close(p.detach() - before, -0.1 * expected.float(), rtol=0, atol=1e-6)


def _step_both(ours: Muon, theirs: torch.optim.Optimizer, ps1, ps2, grads) -> list[float]:
    """Apply the same grads to both; return each matrix's relative update difference, then resync weights."""
    before = [p.detach().clone() for p in ps1]
    for p1, p2, g in zip(ps1, ps2, grads, strict=True):
        p1.grad, p2.grad = g.clone(), g.clone()
    ours.step()
    theirs.step()
    rel = []
    for p1, p2, b in zip(ps1, ps2, before, strict=True):
        u1, u2 = p1.detach() - b, p2.detach() - b
        rel.append(float((u1 - u2).norm() / u1.norm()))
    with torch.no_grad():
        for p1, p2 in zip(ps1, ps2, strict=True):
            p2.copy_(p1)
    return rel


def test_torch_muon_one_step_matches_reference_to_bf16_rounding() -> None:
    """torch.optim.Muon(adjust_lr_fn="original") gives the reference update from a fresh state."""
    torch.manual_seed(3)
    ps1 = [torch.nn.Parameter(torch.randn(*s) * 0.02) for s in SHAPES]
    ps2 = [torch.nn.Parameter(p.detach().clone()) for p in ps1]
    ours = Muon(ps1, lr=0.04, momentum=0.95)
    theirs = torch.optim.Muon(ps2, lr=0.04, momentum=0.95, nesterov=True, weight_decay=0.0,
                              ns_coefficients=(3.4445, -4.7750, 2.0315), ns_steps=5, eps=1e-7,
                              adjust_lr_fn="original")
    rel = _step_both(ours, theirs, ps1, ps2, [torch.randn(*s) for s in SHAPES])
    # bf16 rounding floor: reference NS5 in bf16 vs float32 is ~2-3% relative on these sizes.
    assert max(rel) < 0.06, rel


def test_torch_muon_buffer_differs_from_pgolf_muon_while_momentum_warms_up() -> None:
    """Why pgolf keeps its own Muon: pgolf's Muon, stepped through the reference's 0.85 -> 0.95
    warm-up, keeps the reference buffer (buf <- m buf + g); torch.optim.Muon's EMA buffer gives
    Nesterov inputs of the same direction under constant momentum but not under the warm-up."""
    torch.manual_seed(4)
    hp = Hyperparameters()

    def worst_direction_gap(warmup: bool) -> float:
        p = torch.nn.Parameter(torch.zeros(32, 32, dtype=torch.float64))
        ours = Muon([p], lr=0.0, momentum=0.95)  # lr 0: only the buffer is under test
        ref = torch.zeros(32, 32, dtype=torch.float64)
        ema = torch.zeros_like(ref)
        worst = 0.0
        for step in range(520):
            m = muon_momentum_at(step, hp) if warmup else 0.95
            for group in ours.param_groups:
                group["momentum"] = m
            g = torch.randn(32, 32, dtype=torch.float64)
            p.grad = g.clone()
            ours.step()
            ref.mul_(m).add_(g)  # the reference's recurrence, by hand
            buf = ours.state[p]["momentum_buffer"]
            torch.testing.assert_close(buf, ref, rtol=1e-12, atol=1e-12)
            ema.lerp_(g, 1 - m)  # torch.optim.Muon: buf <- m buf + (1-m) g; update lerp(g, buf, m)
            u_ours, u_torch = g + m * buf, g.lerp(ema, m)
            worst = max(worst, float((u_ours / u_ours.norm() - u_torch / u_torch.norm()).norm()))
        return worst

    assert worst_direction_gap(warmup=False) < 1e-12
    assert worst_direction_gap(warmup=True) > 0.02


def test_optimizer_split_matches_the_reference() -> None:
    cfg = ModelConfig(vocab_size=64, num_layers=3, model_dim=32, num_heads=4, num_kv_heads=2)
    model = GPT(cfg)
    hp = Hyperparameters()
    matrices, scalars = split_parameters(model)
    names = {id(p): n for n, p in model.named_parameters()}
    assert sorted(names[id(p)].split(".", 2)[2] for p in matrices) == sorted(
        ["attn.c_q.weight", "attn.c_k.weight", "attn.c_v.weight", "attn.proj.weight", "mlp.fc.weight",
         "mlp.proj.weight"] * 3)
    assert {names[id(p)].rsplit(".", 1)[-1] for p in scalars} == {
        "q_gain", "attn_scale", "mlp_scale", "resid_mix", "skip_weights"}
    opts = build_optimizers(model, hp)
    assert [type(o).__name__ for o in opts.all] == ["Adam", "Muon", "Adam"]
    assert opts.all[0].param_groups[0]["lr"] == 0.05 and opts.all[2].param_groups[0]["lr"] == 0.04
    assert opts.all[0].defaults["betas"] == (0.9, 0.95) and opts.all[0].defaults["eps"] == 1e-8
    covered = sum(len(g["params"]) for o in opts.all for g in o.param_groups)
    assert covered == len(list(model.parameters()))

    untied = GPT(ModelConfig(vocab_size=64, num_layers=2, model_dim=32, num_heads=4, num_kv_heads=2,
                             tie_embeddings=False))
    opts = build_optimizers(untied, hp)
    assert [type(o).__name__ for o in opts.all] == ["Adam", "Adam", "Muon", "Adam"]
    assert opts.all[0].param_groups[0]["lr"] == hp.embed_lr and opts.all[1].param_groups[0]["lr"] == hp.head_lr
    opts.set_schedule(0.5, 0.9)
    assert opts.all[2].param_groups[0]["lr"] == 0.02 and opts.muon.param_groups[0]["momentum"] == 0.9


@pytest.mark.parametrize(("step", "expected"), [(0, 1.0), (79, 1.0), (80, 1.0), (90, 0.5), (99, 0.05),
                                                (100, 1.0)])
def test_lr_mul_by_iterations(step: int, expected: float) -> None:
    assert lr_mul(step, 0.0, iterations=100, warmdown_iters=20, max_wallclock_ms=None) == pytest.approx(expected)


@pytest.mark.parametrize(("step", "elapsed_ms", "expected"), [
    (50, 500.0, 1.0),    # 10 ms/step: warm-down lasts 100 ms, 500 ms remain
    (90, 900.0, 1.0),    # exactly 100 ms remain: ratio 1
    (95, 950.0, 0.5),    # 50 ms of the 100 ms warm-down remain
    (10, 950.0, 0.0526315789),  # slow steps (95 ms): warm-down 950 ms, 50 ms remain
    (120, 1200.0, 0.0),  # past the cap
])
def test_lr_mul_by_wallclock(step: int, elapsed_ms: float, expected: float) -> None:
    got = lr_mul(step, elapsed_ms, iterations=20000, warmdown_iters=10, max_wallclock_ms=1000.0)
    assert got == pytest.approx(expected, rel=1e-6)


def test_lr_mul_without_warmdown_is_constant() -> None:
    assert lr_mul(99, 5000.0, iterations=100, warmdown_iters=0, max_wallclock_ms=1000.0) == 1.0


def test_muon_momentum_warms_up_linearly() -> None:
    hp = Hyperparameters()
    assert [round(muon_momentum_at(s, hp), 10) for s in (0, 250, 500, 2000)] == [0.85, 0.9, 0.95, 0.95]
    hp.muon_momentum_warmup_steps = 0
    assert muon_momentum_at(0, hp) == 0.95


def _sharded_worker(rank: int, init_file: str, out: str) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    weights = []
    for shard in (False, True):
        torch.manual_seed(0)
        params = [torch.nn.Parameter(torch.randn(*s)) for s in SHAPES + [(48, 16)]]
        opt = Muon(params, lr=0.04, momentum=0.9, shard=shard)
        for i in range(3):
            torch.manual_seed(10 + i)  # same grads on both ranks, as after DDP's all-reduce
            for p in params:
                p.grad = torch.randn_like(p)
            opt.step()
        weights.append(torch.cat([p.detach().flatten() for p in params]))
    if rank == 1:
        torch.save(weights, out)
    dist.destroy_process_group()


@pytest.mark.slow
def test_sharded_muon_over_two_gloo_ranks_gives_identical_weights(tmp_path) -> None:
    import torch.multiprocessing as mp

    out = tmp_path / "w.pt"
    mp.spawn(_sharded_worker, args=(str(tmp_path / "init"), str(out)), nprocs=2, join=True)
    full, sharded = torch.load(out)
    assert torch.equal(full, sharded)
