"""LoRA TTT: the record's algorithm, per-document reproducibility, legality."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from eval_toys import doc_stream, random_lengths, tiny_model, toy_tables

from pgolf.evaluate import EvalSettings, TTTSettings, run_condition
from pgolf.evaluate.loops import loops_condition
from pgolf.evaluate.ttt import BatchedLora, SlotState, initial_a, lora_shapes

SEQ, CHUNK = 48, 16


def _settings(**ttt) -> EvalSettings:
    return EvalSettings(seq_len=SEQ, chunk=CHUNK, ttt=TTTSettings(**{"rank": 2, "batch": 4, "seed": 3, **ttt}))


def _doc_nats(res) -> dict[int, float]:
    return dict(zip(res.per_doc["doc"].tolist(), res.per_doc["nats"].tolist(), strict=True))


@pytest.fixture(scope="module")
def toy64():
    torch.set_num_threads(1)  # 2 busy cores shared by the suite
    lengths = random_lengths(14, high=120, seed=2)
    return tiny_model(torch.float64), doc_stream(lengths, seed=2), toy_tables()


def test_slot_adam_is_torch_adam_with_one_step_count_per_document():
    torch.manual_seed(0)
    cfg = TTTSettings(rank=2, batch=3, lr=0.01, beta1=0.9, beta2=0.95, eps=1e-10)
    shapes = [(5, 4)]
    state = SlotState(shapes, cfg, torch.float64, torch.device("cpu"))
    state.reset(np.arange(3), np.arange(3))
    refs = [[p[s].clone().requires_grad_(True) for p in state.params] for s in range(3)]
    opts = [torch.optim.Adam(r, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps) for r in refs]
    schedule = [[0, 1, 2], [0, 2], [2], [0, 1, 2]]  # slots step at different times
    for slots in schedule:
        idx = np.array(slots)
        lora = state.gather(idx)
        grads = [torch.randn_like(t) for t in lora.tensors()]
        state.adam_step(idx, torch.cat([g.reshape(len(slots), -1) for g in grads], dim=1))
        for k, s in enumerate(slots):
            for r, g in zip(refs[s], grads, strict=True):
                r.grad = g[k].clone()
            opts[s].step()
    for s in range(3):
        for p, r in zip(state.params, refs[s], strict=True):
            torch.testing.assert_close(p[s], r.detach(), rtol=1e-13, atol=1e-15)


def test_initial_a_depends_on_seed_and_document_only():
    shapes = [(8, 3), (8, 5)]
    a = initial_a(1, 7, shapes, 2)
    assert all(torch.equal(x, y) for x, y in zip(a, initial_a(1, 7, shapes, 2), strict=True))
    assert not torch.equal(a[0], initial_a(1, 8, shapes, 2)[0])
    assert not torch.equal(a[0], initial_a(2, 7, shapes, 2)[0])
    assert a[0].abs().max() <= 8**-0.5 and a[0].shape == (2, 8)


def test_fast_ttt_equals_the_readable_loops_in_float64(toy64):
    model, tokens, tables = toy64
    s = _settings()
    fast = run_condition(model, tokens, tables, "ttt", s)
    shapes = lora_shapes(model)
    ref = loops_condition(
        model, tokens, tables, "ttt", seq_len=SEQ, chunk=CHUNK, batch_size=4, lora_rank=2,
        init_a=lambda d: [a.double() for a in initial_a(s.ttt.seed, d, shapes, 2)],
    )
    assert fast.tokens == ref.tokens and fast.bytes == ref.bytes
    assert fast.val_bpb == pytest.approx(ref.val_bpb, abs=1e-9)
    got = _doc_nats(fast)
    for d, nats in ref.per_doc.items():
        assert got[d] == pytest.approx(nats, rel=1e-9, abs=1e-9)
    sliding = run_condition(model, tokens, tables, "sliding", s)
    assert abs(fast.val_bpb - sliding.val_bpb) > 1e-6  # the adapters did train


def test_ttt_score_of_a_document_does_not_depend_on_batch_size_or_neighbours(toy64):
    model, tokens, tables = toy64
    runs = [_doc_nats(run_condition(model, tokens, tables, "ttt", _settings(batch=b))) for b in (1, 3, 16)]
    for d in runs[0]:
        for other in runs[1:]:
            assert other[d] == pytest.approx(runs[0][d], rel=1e-9, abs=1e-9)
    # Other neighbours: every even-numbered document replaced by other tokens of another length,
    # so the odd ones share their batches with different documents; their scores do not move.
    starts = list(np.flatnonzero(tokens == 1)) + [len(tokens)]
    rng = np.random.default_rng(11)
    docs = [tokens[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)]
    swapped = [d if i % 2 else np.concatenate([[1], rng.integers(2, 60, size=int(rng.integers(5, 110)))])
               for i, d in enumerate(docs)]
    other = _doc_nats(run_condition(model, np.concatenate(swapped), tables, "ttt", _settings(batch=3)))
    odd = [d for d in runs[0] if d % 2 and d < len(docs) - 1]  # the last one's final target is the end
    assert odd and all(other[d] == pytest.approx(runs[0][d], rel=1e-9, abs=1e-9) for d in odd)
    assert any(other[d] != pytest.approx(runs[0][d], rel=1e-6) for d in runs[0] if d % 2 == 0)


def test_ttt_with_learning_rate_zero_equals_sliding(toy64):
    model, tokens, tables = toy64
    ttt = run_condition(model, tokens, tables, "ttt", _settings(lr=0.0))
    sliding = run_condition(model, tokens, tables, "sliding", _settings())
    assert (ttt.tokens, ttt.bytes) == (sliding.tokens, sliding.bytes)
    assert ttt.loss_sum_nats == pytest.approx(sliding.loss_sum_nats, rel=1e-12)
    np.testing.assert_allclose(ttt.per_doc["nats"], sliding.per_doc["nats"], rtol=1e-12)


def test_changing_tokens_after_chunk_c_leaves_the_scores_up_to_c_unchanged(toy64):
    """Legality: a chunk is scored before anything after it is seen, and before training on it."""
    model, _, tables = toy64
    tokens = doc_stream([7 * CHUNK + 5], seed=11)
    c = 3
    changed = tokens.copy()
    cut = 1 + (c + 1) * CHUNK  # first token after chunk c's last target
    changed[cut:] = (changed[cut:] + 7) % 60 + 2
    a = run_condition(model, tokens, tables, "ttt", _settings(lr=0.05))
    b = run_condition(model, changed, tables, "ttt", _settings(lr=0.05))
    upto = (c + 1) * CHUNK
    np.testing.assert_array_equal(a.positions["nats"][:upto], b.positions["nats"][:upto])
    assert not np.allclose(a.positions["nats"][upto:], b.positions["nats"][upto:])
    # The chunk right after c is scored with adapters trained on chunk c: TTT changed it.
    s = run_condition(model, tokens, tables, "sliding", _settings())
    assert np.array_equal(a.positions["nats"][:CHUNK], s.positions["nats"][:CHUNK]) or np.allclose(
        a.positions["nats"][:CHUNK], s.positions["nats"][:CHUNK], rtol=1e-12
    )
    assert not np.allclose(a.positions["nats"][CHUNK : 2 * CHUNK], s.positions["nats"][CHUNK : 2 * CHUNK])


def test_ttt_is_deterministic_for_a_seed_and_moves_with_it(toy64):
    model, tokens, tables = toy64
    a = run_condition(model, tokens, tables, "ttt", _settings(seed=1))
    b = run_condition(model, tokens, tables, "ttt", _settings(seed=1))
    c = run_condition(model, tokens, tables, "ttt", _settings(seed=2))
    assert a.loss_sum_nats == b.loss_sum_nats
    assert a.loss_sum_nats != c.loss_sum_nats
    assert a.settings["ttt_seed"] == 1 and a.settings["ttt_lr"] == 0.01


def test_batched_lora_delta_is_x_at_bt():
    a = [torch.randn(2, 3, 5)]
    b = [torch.randn(2, 4, 3)]
    x = torch.randn(2, 6, 5)
    delta = BatchedLora(a, b).head(x)
    torch.testing.assert_close(delta[1], x[1] @ a[0][1].T @ b[0][1].T)
