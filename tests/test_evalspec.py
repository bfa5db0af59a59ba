"""The evaluation vocabulary (pgolf.evalspec): one source for the conditions, the result file names,
the settings with their ranges, and the precision rule, read by the schema, the CLI and the engine."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from pgolf import evalspec
from pgolf.cli import eval as eval_cli
from pgolf.errors import ConfigError
from pgolf.evalspec import EvalSettings, TTTSettings

SCHEMA = yaml.safe_load((Path(__file__).parents[1] / "workflow/schemas/config.schema.yaml").read_text())
EVAL_KEYS = SCHEMA["properties"]["eval"]["properties"]


def test_result_names_round_trip_and_only_a_condition_that_trains_has_draws():
    for name, draw in evalspec.evaluations(list(evalspec.NAMES), 3):
        stem = evalspec.eval_name(name, draw)
        assert evalspec.parse_eval_name(stem) == (name, draw)
        assert re.fullmatch(evalspec.NAME_PATTERN, stem)
    assert evalspec.evaluations(["sliding", "ttt"], 3) == [("sliding", 0), ("ttt", 0), ("ttt", 1), ("ttt", 2)]
    for bad in ("stride", "ttt_draw0", "sliding_draw1", "ttt_draw", "TTT"):
        with pytest.raises(ConfigError, match="names no evaluation"):
            evalspec.parse_eval_name(bad)


def test_the_schema_lists_the_conditions_in_order_and_states_the_ranges_of_the_settings():
    assert tuple(SCHEMA["$defs"]["condition"]["enum"]) == evalspec.NAMES
    for key, (lo, hi, lo_open) in evalspec.RANGES.items():
        if key in EVAL_KEYS:
            spec = EVAL_KEYS[key]
            assert spec.get("exclusiveMinimum" if lo_open else "minimum") == lo, key
            assert spec.get("exclusiveMaximum") == hi, key
    assert EVAL_KEYS["seq_len"]["minimum"] == EVAL_KEYS["chunk"]["minimum"] == 1  # check_sizes' bounds


def test_ttt_lr_zero_is_allowed_by_both_and_a_negative_lr_by_neither():
    EvalSettings(ttt=TTTSettings(lr=0.0)).validate("ttt")
    sub = {"type": "object", "properties": {"ttt_lr": EVAL_KEYS["ttt_lr"]}}
    jsonschema.validate({"ttt_lr": 0.0}, sub)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"ttt_lr": -0.01}, sub)
    with pytest.raises(ConfigError, match=r"eval\.ttt_lr must be a finite number >= 0, got -0.01"):
        EvalSettings(ttt=TTTSettings(lr=-0.01)).validate("ttt", evalspec.config_key)


@pytest.mark.parametrize(("ttt", "message"), [
    ({"rank": 0}, "--ttt-rank must be a finite number >= 1 and < 4096, got 0"),
    ({"rank": 1_000_000}, "--ttt-rank must be a finite number >= 1 and < 4096, got 1000000"),
    ({"batch": 10**9}, "--ttt-batch must be a finite number >= 1 and < 65536, got 1000000000"),
    ({"seed": -1}, "--ttt-seed must be a finite number >= 0 and < 4294967296, got -1"),
    ({"seed": 2**32}, "--ttt-seed must be a finite number >= 0 and < 4294967296, got 4294967296"),
    ({"beta1": 1.0}, "--ttt-beta1 must be a finite number >= 0 and < 1, got 1.0"),
    ({"eps": 0.0}, "--ttt-eps must be a finite number > 0, got 0.0"),
    ({"lr": float("nan")}, "--ttt-lr must be a finite number >= 0, got nan"),
    ({"engine": "fast"}, "--ttt-engine must be one of auto, kernel, autograd, got 'fast'"),
])
def test_each_setting_out_of_range_names_its_flag(ttt, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        EvalSettings(ttt=TTTSettings(**ttt)).validate("ttt")


def test_flat_keys_are_the_json_keys_the_config_keys_and_the_flags():
    settings = EvalSettings(seq_len=64, chunk=16, precision="fp32", ttt=TTTSettings(rank=4, seed=9))
    flat = settings.to_dict()
    assert flat["ttt_rank"] == 4 and flat["ttt_seed"] == 9 and "ttt" not in flat
    assert EvalSettings.from_dict({**flat, "conditions": ["ttt"], "ttt_draws": 2}) == settings
    assert settings.replace_ttt(seed=10).ttt == TTTSettings(rank=4, seed=10)
    parser = argparse.ArgumentParser()
    eval_cli.add_arguments(parser)
    flags = {opt for action in parser._actions for opt in action.option_strings}
    cli_keys = set(flat) - {"ttt_beta1", "ttt_beta2", "ttt_eps"}  # the record's Adam constants: no flag
    assert {evalspec.flag(k) for k in cli_keys} <= flags
    args = parser.parse_args(["--artifact", "a", "--condition", "ttt", "--val", "v", "--tokenizer", "t",
                              "--ttt-seed", "5", "--precision", "bf16"])
    from_cli = EvalSettings.from_dict({**vars(args), "progress_seconds": args.progress})
    assert from_cli.ttt.seed == 5 and from_cli.precision == "bf16"


def test_precision_is_decided_by_one_rule():
    table = {(p, d): (evalspec.bf16_autocast(p, d), evalspec.reference_cast(p, d))
             for p in evalspec.PRECISIONS for d in ("cpu", "cuda")}
    assert table == {("auto", "cpu"): (False, False), ("auto", "cuda"): (True, True),
                     ("bf16", "cpu"): (True, False), ("bf16", "cuda"): (True, False),
                     ("fp32", "cpu"): (False, False), ("fp32", "cuda"): (False, False)}
    from pgolf.config import Hyperparameters

    assert Hyperparameters(precision="auto").bf16_autocast("cuda") is True


def test_condition_properties_decide_the_chunk():
    s = EvalSettings(seq_len=32, chunk=8)
    assert [s.chunk_for(n) for n in evalspec.NAMES] == [32, 32, 8, 8]
    assert [c.name for c in evalspec.CONDITIONS if c.trains] == ["ttt"]
    with pytest.raises(ConfigError, match="unknown condition 'stride'; choose from flat, doc, sliding, ttt"):
        s.validate("stride")
