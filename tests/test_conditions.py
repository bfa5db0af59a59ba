"""flat, doc and sliding: equal to pgolf's readable loops (the cross-check), and the semantics the record defines."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from eval_toys import VOCAB, doc_stream, random_lengths, tiny_model, toy_tables

from pgolf.errors import ConfigError, DataError
from pgolf.evaluate import EvalSettings, run_condition
from pgolf.evaluate.loops import loops_condition
from pgolf.model import GPT, ModelConfig
from pgolf.tokenizer import ByteTables

SEQ, CHUNK = 64, 16


@pytest.fixture(scope="module")
def toy():
    torch.set_num_threads(1)  # 2 busy cores shared by the suite
    lengths = random_lengths(30, high=200, seed=1)
    return tiny_model(), doc_stream(lengths, seed=1), toy_tables(), lengths


@pytest.mark.parametrize("condition", ["flat", "doc", "sliding"])
def test_fast_engine_equals_the_readable_loops(toy, condition):
    model, tokens, tables, _ = toy
    fast = run_condition(model, tokens, tables, condition, EvalSettings(seq_len=SEQ, chunk=CHUNK, batch_tokens=700))
    ref = loops_condition(model, tokens, tables, condition, seq_len=SEQ, chunk=CHUNK)
    assert fast.tokens == ref.tokens and fast.bytes == ref.bytes
    assert fast.val_bpb == pytest.approx(ref.val_bpb, abs=1e-6)
    assert fast.val_loss == pytest.approx(ref.val_loss, abs=1e-6)
    if condition != "flat":
        docs = dict(zip(fast.per_doc["doc"].tolist(), fast.per_doc["nats"].tolist(), strict=True))
        assert docs.keys() == ref.per_doc.keys()
        for d, nats in ref.per_doc.items():
            assert docs[d] == pytest.approx(nats, rel=1e-5)


def test_token_counts_are_the_ones_each_condition_must_reach(toy):
    model, tokens, tables, lengths = toy
    n = tokens.size
    assert run_condition(model, tokens, tables, "flat", EvalSettings(seq_len=SEQ)).tokens == ((n - 1) // SEQ) * SEQ
    every_target = sum(lengths) - 1  # every token but the first is some document's target
    for condition in ("doc", "sliding"):
        res = run_condition(model, tokens, tables, condition, EvalSettings(seq_len=SEQ, chunk=CHUNK))
        assert res.tokens == every_target
        assert res.per_doc["tokens"].tolist() == lengths[:-1] + [lengths[-1] - 1]  # + the next BOS
        assert int(res.positions["count"].sum()) == every_target
        assert res.positions["nats"].sum() == pytest.approx(res.loss_sum_nats, rel=1e-12)


def test_single_document_shorter_than_seq_len_scores_the_same_under_flat_and_doc(toy):
    model, _, tables, _ = toy
    tokens = doc_stream([41], seed=5)
    flat = run_condition(model, tokens, tables, "flat", EvalSettings(seq_len=40))  # one window: the document
    doc = run_condition(model, tokens, tables, "doc", EvalSettings(seq_len=SEQ))
    assert flat.tokens == doc.tokens == 40 and flat.bytes == doc.bytes
    assert flat.loss_sum_nats == pytest.approx(doc.loss_sum_nats, rel=1e-6)


def test_sliding_with_chunk_equal_to_seq_len_equals_doc(toy):
    model, tokens, tables, _ = toy
    doc = run_condition(model, tokens, tables, "doc", EvalSettings(seq_len=32, chunk=CHUNK))
    sliding = run_condition(model, tokens, tables, "sliding", EvalSettings(seq_len=32, chunk=32))
    assert doc.tokens == sliding.tokens and doc.bytes == sliding.bytes
    assert doc.loss_sum_nats == sliding.loss_sum_nats
    assert np.array_equal(doc.positions["nats"], sliding.positions["nats"])


def test_doc_full_chunks_are_the_flat_windows_of_a_single_document(toy):
    """Full chunks get non-overlapping windows (context lost at 32, 64, ...); only the last,
    shorter chunk sees the tokens before it, and flat drops that tail."""
    model, _, tables, _ = toy
    tokens = doc_stream([3 * 32 + 10], seed=7)
    doc = run_condition(model, tokens, tables, "doc", EvalSettings(seq_len=32))
    flat = run_condition(model, tokens, tables, "flat", EvalSettings(seq_len=32))
    sliding = run_condition(model, tokens, tables, "sliding", EvalSettings(seq_len=32, chunk=8))
    assert flat.tokens == 96 and doc.tokens == 105
    np.testing.assert_allclose(doc.positions["nats"][:96], flat.positions["nats"], rtol=1e-5)
    assert abs(sliding.positions["nats"][32] - doc.positions["nats"][32]) > 1e-4


def test_hand_computed_bpb_with_a_uniform_model():
    """All-zero weights give uniform logits: every target costs ln V nats; bytes from hand tables."""
    vocab = 8
    model = GPT(ModelConfig(vocab_size=vocab, num_layers=1, model_dim=8, num_heads=2, num_kv_heads=1))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    # base bytes per id; id 5 has a leading space; ids 0-1 (pad, BOS) are boundaries.
    tables = ByteTables(
        torch.tensor([0, 0, 1, 2, 3, 1, 4, 1], dtype=torch.int16),
        torch.tensor([False, False, False, False, False, True, False, False]),
        torch.tensor([True, True, False, False, False, False, False, False]),
    )
    tokens = np.array([1, 2, 5, 3, 1, 5, 6], dtype=np.uint16)  # doc A: 1 2 5 3 (+ next BOS), doc B: 1 5 6
    # targets 2,5,3,1 | 5,6 ; bytes 1, 1+1 (space after 2), 2, 0 | 1+0 (after BOS: boundary), 4
    nbytes, ntok = 1 + 2 + 2 + 0 + 1 + 4, 6
    expect = ntok * math.log(vocab) / math.log(2) / nbytes
    for condition in ("flat", "doc", "sliding"):
        res = run_condition(model, tokens, tables, condition, EvalSettings(seq_len=6, chunk=2))
        assert (res.tokens, res.bytes) == (ntok, nbytes)
        assert res.val_bpb == pytest.approx(expect, rel=1e-6)
        assert res.val_loss == pytest.approx(math.log(vocab), rel=1e-6)
    res = run_condition(model, tokens, tables, "doc", EvalSettings(seq_len=6))
    assert res.per_doc["tokens"].tolist() == [4, 2] and res.per_doc["bytes"].tolist() == [5, 5]
    assert res.positions["count"].tolist() == [2, 2, 1, 1]


def test_bad_settings_and_streams_are_clear_errors(toy):
    model, tokens, tables, _ = toy
    with pytest.raises(ConfigError, match="longer than --seq-len"):
        run_condition(model, tokens, tables, "sliding", EvalSettings(seq_len=16, chunk=32))
    with pytest.raises(ConfigError, match="unknown condition"):
        run_condition(model, tokens, tables, "stride", EvalSettings())
    with pytest.raises(DataError, match="no BOS"):
        run_condition(model, np.full(100, 5, dtype=np.uint16), tables, "doc", EvalSettings(seq_len=SEQ))


def test_max_docs_scores_only_the_first_documents(toy):
    model, tokens, tables, lengths = toy
    res = run_condition(model, tokens, tables, "sliding", EvalSettings(seq_len=SEQ, chunk=CHUNK, max_docs=4))
    assert res.docs == 4 and res.tokens == sum(lengths[:4])  # each of the 4 keeps its next BOS
    flat = run_condition(model, tokens, tables, "flat", EvalSettings(seq_len=8, max_docs=4))
    assert flat.tokens == (sum(lengths[:4]) // 8) * 8
    assert tables.base_bytes.numel() == VOCAB
