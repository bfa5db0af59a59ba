"""Hyperparameters: record defaults, YAML and --set overrides, and the errors a user sees."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pgolf.config import Hyperparameters, load_config
from pgolf.errors import ConfigError
from pgolf.model import ModelConfig


def test_defaults_are_the_record_values() -> None:
    hp = load_config(None, [])
    assert (hp.seed, hp.iterations, hp.warmdown_iters, hp.warmup_steps) == (1337, 20000, 1200, 20)
    assert (hp.train_batch_tokens, hp.train_seq_len, hp.max_wallclock_seconds) == (524288, 1024, 600.0)
    assert (hp.tied_embed_lr, hp.matrix_lr, hp.scalar_lr, hp.muon_momentum) == (0.05, 0.04, 0.04, 0.95)
    assert (hp.muon_momentum_warmup_start, hp.muon_momentum_warmup_steps) == (0.85, 500)
    assert (hp.beta1, hp.beta2, hp.adam_eps, hp.grad_clip_norm) == (0.9, 0.95, 1e-8, 0.0)
    assert (hp.compile, hp.device, hp.grad_accum_base) == (False, "auto", 8)
    assert hp.model_config() == ModelConfig()


def test_yaml_then_set_overrides_are_typed_by_field(tmp_path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("iterations: 50\nmatrix_lr: 1\ntie_embeddings: false\ndata_path: /d\n")
    hp = load_config(cfg, ["iterations=70", "max_wallclock_seconds=0", "compile=true", "train_batch_tokens=8_192"])
    assert hp.iterations == 70 and isinstance(hp.iterations, int)
    assert hp.matrix_lr == 1.0 and isinstance(hp.matrix_lr, float)
    assert hp.tie_embeddings is False and hp.compile is True
    assert hp.max_wallclock_seconds == 0.0 and hp.train_batch_tokens == 8192
    assert hp.train_files == "/d/*_train_*.bin" and hp.val_files == "/d/*_val_*.bin"
    assert hp.model_config().tie_embeddings is False


def test_unknown_key_names_it_and_the_closest_valid_keys(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"'matrix_lrr'.*matrix_lr"):
        load_config(None, ["matrix_lrr=0.1"])
    cfg = tmp_path / "c.yaml"
    cfg.write_text("num_layer: 3\n")
    with pytest.raises(ConfigError, match=r"'num_layer'.*c\.yaml.*num_layers"):
        load_config(cfg, [])


@pytest.mark.parametrize("item", ["iterations=abc", "iterations=1.5", "tie_embeddings=maybe", "matrix_lr=fast"])
def test_bad_value_type_names_key_and_value(item: str) -> None:
    key, value = item.split("=")
    with pytest.raises(ConfigError, match=rf"{key}=.*{value}"):
        load_config(None, [item])


def test_yaml_wrong_types_and_shapes_are_errors(tmp_path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("iterations: true\n")
    with pytest.raises(ConfigError, match="iterations=True"):
        load_config(cfg, [])
    cfg.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(cfg, [])
    with pytest.raises(ConfigError, match="key=value"):
        load_config(None, ["iterations"])
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.yaml", [])


def test_impossible_model_shape_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="divisible"):
        load_config(None, ["model_dim=30", "num_heads=8"])


def test_every_field_has_a_simple_type() -> None:
    from pgolf.config import field_types

    assert set(field_types().values()) <= {bool, int, float, str}
    assert set(field_types()) == set(Hyperparameters().to_dict())


def test_hyperparameters_carry_the_model_shape_fields_and_defaults():
    """The model's sizes are listed once (ModelConfig, inherited by Hyperparameters) with the record's values."""
    from pgolf.config import Hyperparameters
    from pgolf.model import ModelConfig

    assert Hyperparameters().model_config() == ModelConfig()
    # the record's shape, from record-77.md (9 x 512, 8 heads, 4 KV heads, vocabulary 1024)
    shape = Hyperparameters().model_config()
    assert (shape.num_layers, shape.model_dim, shape.num_heads, shape.num_kv_heads, shape.vocab_size) == (
        9, 512, 8, 4, 1024)


SCHEMA = yaml.safe_load((Path(__file__).parents[1] / "workflow/schemas/config.schema.yaml").read_text())


def test_the_schema_bounds_seeds_and_draws_as_the_startup_check_does():
    from pgolf.config import MAX_SEEDS, MAX_TTT_DRAWS, SEED_LIMIT

    seeds = SCHEMA["properties"]["seeds"]
    assert seeds["maxItems"] == MAX_SEEDS and seeds["items"]["maximum"] == SEED_LIMIT - 1
    assert SCHEMA["properties"]["eval"]["properties"]["ttt_draws"]["maximum"] == MAX_TTT_DRAWS


@pytest.mark.parametrize(("seeds", "message"), [
    ([1, 2**32], "4294967296 is out of range; a seed must be >= 0 and < 2^32"),
    (list(range(1001)), "1,001 seeds, more than 1,000"),
])
def test_seeds_beyond_the_bounds_fail_at_startup_naming_the_key(seeds, message):
    from pgolf.config import check_seeds

    with pytest.raises(ConfigError, match=re.escape(f"config key seeds: {message}")):
        check_seeds(seeds, claim=True)
    check_seeds([0, 2**32 - 1], claim=True)  # the bounds themselves are fine


@pytest.mark.parametrize(("draws", "seed", "message"), [
    (0, 0, "eval.ttt_draws: 0 is out of range; give 1 to 100"),
    (10**6, 0, "eval.ttt_draws: 1000000 is out of range"),
    (3, 2**32 - 2, "eval.ttt_seed: 4294967294 \\+ 2 draws reaches 4294967296"),
])
def test_ttt_draws_are_bounded_and_their_seeds_stay_below_2_to_the_32(draws, seed, message):
    from pgolf.config import check_ttt_draws

    with pytest.raises(ConfigError, match=message):
        check_ttt_draws(draws, seed)


def test_a_train_seed_of_2_to_the_32_is_refused_before_training():
    with pytest.raises(ConfigError, match="seed=4294967296 is out of range"):
        load_config(None, ["seed=4294967296"])
