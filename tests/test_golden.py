"""pgolf against the record's own code: the independent oracle in tests/data/golden/.

Every number in ref.json was produced by the record's train_gpt.py on the artifact and
shard beside it (see tests/data/golden/README.md); none by pgolf. flat, doc and sliding
are deterministic and must agree to 1e-6 bpb; ttt draws its LoRA A matrices at random, so
pgolf's value must fall within 4 sd of the mean of the record's five draws.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

GOLDEN = Path(__file__).parent / "data" / "golden"
REF = json.loads((GOLDEN / "ref.json").read_text(encoding="utf-8"))
SETTINGS = REF["settings"]


@pytest.fixture(scope="module")
def golden(one_torch_thread):
    from pgolf.artifact import load_model
    from pgolf.data.shards import load_tokens
    from pgolf.tokenizer import build_byte_tables, load_tokenizer

    model = load_model(GOLDEN / "final_model.int8.ptz")
    sp = load_tokenizer(str(GOLDEN / "tokenizer.model"))
    tables = build_byte_tables(sp, model.config.vocab_size, torch.device("cpu"))
    tokens = load_tokens(str(GOLDEN / "val_000000.bin"))
    return model, tokens, tables


def _run(golden, condition: str, **kw):
    from pgolf.evaluate import EvalSettings, TTTSettings, run_condition

    model, tokens, tables = golden
    ttt = TTTSettings(rank=SETTINGS["ttt_rank"], lr=SETTINGS["ttt_lr"], batch=SETTINGS["ttt_batch"],
                      beta1=SETTINGS["betas"][0], beta2=SETTINGS["betas"][1], eps=SETTINGS["eps"], **kw)
    settings = EvalSettings(seq_len=SETTINGS["seq_len"], chunk=SETTINGS["chunk"], ttt=ttt)
    return run_condition(model, tokens, tables, condition, settings)


def test_record_made_artifact_loads_strictly_with_the_record_shape():
    from pgolf.artifact import load_model, load_state_dict

    model = load_model(GOLDEN / "final_model.int8.ptz")  # load_state_dict(strict=True) inside
    cfg = model.config
    shape = {k: getattr(cfg, k) for k in ("vocab_size", "num_layers", "model_dim", "num_heads", "num_kv_heads",
                                          "mlp_mult")}
    assert shape == {k: SETTINGS[k] for k in shape}
    assert cfg.tie_embeddings
    state = load_state_dict(GOLDEN / "final_model.int8.ptz")
    assert set(state) == set(model.state_dict())


def test_shard_holds_the_record_token_and_document_counts(golden):
    from pgolf.data.docs import doc_spans

    _, tokens, _ = golden
    assert len(tokens) == REF["tokens"]
    assert len(doc_spans(tokens)[0]) == REF["docs"]


@pytest.mark.parametrize("condition", ["flat", "doc", "sliding"])
def test_deterministic_conditions_match_the_record_to_1e6_bpb(golden, condition):
    result = _run(golden, condition)
    assert abs(result.val_bpb - REF[condition]["val_bpb"]) < 1e-6
    assert abs(result.val_loss - REF[condition]["val_loss"]) < 1e-6


def test_ttt_falls_within_4_sd_of_the_record_draws(golden):
    ref = REF["ttt"]
    result = _run(golden, "ttt", seed=0)
    assert abs(result.val_bpb - ref["val_bpb"]) < 4 * ref["sd"], (result.val_bpb, ref["val_bpb"], ref["sd"])
    # TTT must help here: the record's draws all beat sliding by ~50 sd.
    assert result.val_bpb < REF["sliding"]["val_bpb"] - 20 * ref["sd"]
