"""Training hyperparameters: the reference's names and the record's values, overridable from YAML or `--set`.

The reference reads each hyperparameter from an environment variable; pgolf keeps
the same names (lower case) and defaults, and takes them from a YAML file and
`--set key=value` instead, so a run is described by files rather than by a shell.
Unknown keys and values of the wrong type are errors, never silently ignored.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pgolf.errors import ConfigError, PgolfError
from pgolf.evalspec import PRECISIONS, bf16_autocast

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


# Not frozen: Hyperparameters inherits these fields and is filled from YAML and --set.
@dataclass
class ModelConfig:
    """Every size of the model; defaults are the record's (17,059,912 parameters)."""

    vocab_size: int = 1024
    num_layers: int = 9
    model_dim: int = 512
    num_heads: int = 8
    num_kv_heads: int = 4
    mlp_mult: int = 2
    tie_embeddings: bool = True
    tied_embed_init_std: float = 0.005
    logit_softcap: float = 30.0
    rope_base: float = 10000.0
    qk_gain_init: float = 1.5

    def __post_init__(self) -> None:
        if self.model_dim % self.num_heads != 0:
            raise ValueError(f"model_dim={self.model_dim} must be divisible by num_heads={self.num_heads}")
        if self.num_heads % self.num_kv_heads != 0:
            raise ValueError(f"num_heads={self.num_heads} must be divisible by num_kv_heads={self.num_kv_heads}")
        if (self.model_dim // self.num_heads) % 2 != 0:
            raise ValueError(f"head size {self.model_dim // self.num_heads} must be even for rotary embeddings")
        if self.logit_softcap <= 0:
            raise ValueError(f"logit_softcap must be positive, got {self.logit_softcap}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def matrix_parameters(self) -> int:
        """The weights in matrices (embedding, head, attention, MLP): all but a few vectors per block."""
        head = self.model_dim // self.num_heads
        attn = 2 * self.model_dim * self.model_dim + 2 * self.model_dim * self.num_kv_heads * head
        mlp = 2 * self.model_dim * self.mlp_mult * self.model_dim
        embed = self.vocab_size * self.model_dim * (1 if self.tie_embeddings else 2)
        return embed + self.num_layers * (attn + mlp)


# The most parameters an artifact under the 16 MB cap can hold is ~128M at one bit each (the largest real
# submission, a binary 106M model); a model beyond this is no model of the challenge, and is refused before
# a tensor is allocated (a `--set model_dim=1e6` would otherwise run for minutes, then fail).
MAX_PARAMETERS = 200_000_000


@dataclass
class Hyperparameters(ModelConfig):
    """Every knob of a training run. Defaults are record #77's (8xH100, 600 s cap).

    The model's sizes (vocab_size, num_layers, model_dim, ...) are ModelConfig's fields,
    inherited: one list, named as the reference's environment variables.
    """

    # Data. Empty train_files/val_files are derived from data_path (see resolve()).
    data_path: str = "./data/datasets/fineweb10B_sp1024"
    train_files: str = ""
    val_files: str = ""
    tokenizer_path: str = "./data/tokenizers/fineweb_1024_bpe.model"
    seed: int = 1337

    # Validation cadence and batch.
    val_batch_size: int = 524_288
    val_loss_every: int = 1000
    train_log_every: int = 200

    # Training length.
    iterations: int = 20_000
    warmdown_iters: int = 1200
    warmup_steps: int = 20
    train_batch_tokens: int = 524_288
    train_seq_len: int = 1024
    max_wallclock_seconds: float = 600.0  # 0 = no cap

    # Optimisers.
    embed_lr: float = 0.6
    head_lr: float = 0.008
    tied_embed_lr: float = 0.05
    matrix_lr: float = 0.04
    scalar_lr: float = 0.04
    muon_momentum: float = 0.95
    muon_backend_steps: int = 5
    muon_momentum_warmup_start: float = 0.85
    muon_momentum_warmup_steps: int = 500
    beta1: float = 0.9
    beta2: float = 0.95
    adam_eps: float = 1e-8
    grad_clip_norm: float = 0.0

    # pgolf extras (not in the reference).
    compile: bool = False  # torch.compile the model (the reference always compiles on CUDA)
    device: str = "auto"  # auto = cuda:<local rank> when available, else cpu
    grad_accum_base: int = 8  # grad_accum_steps = grad_accum_base / world_size (reference: 8)
    val_max_tokens: int = 0  # >0: score only the first N validation tokens (quick CPU runs); 0 = all
    precision: str = "auto"  # auto: bf16 autocast on CUDA as the reference, float32 on CPU; bf16; fp32

    def __post_init__(self) -> None:
        """No shape check at construction: validate() checks the ranges first, then the shape."""

    def bf16_autocast(self, device: Any) -> bool:
        """Whether the forward passes run under bf16 autocast (`precision`; CPU autocast for tests)."""
        return bf16_autocast(self.precision, getattr(device, "type", str(device)))

    def validate(self) -> Hyperparameters:
        """Every value inside its range, or a ConfigError naming the key, the value and the range."""
        for key, (lo, hi, lo_open) in RANGES.items():
            value = getattr(self, key)
            below = value <= lo if lo_open else value < lo
            if not math.isfinite(value) or below or (hi is not None and value > hi):
                low = f"> {lo}" if lo_open else f">= {lo}"
                allowed = f"{low} and <= {hi}" if hi is not None else low
                raise ConfigError(f"{key}={value!r} is out of range: {key} must be {allowed}; fix it in the config file or --set")
        for key, choices in CHOICES.items():
            if getattr(self, key) not in choices:
                raise ConfigError(f"{key}={getattr(self, key)!r}: choose one of {', '.join(choices)}")
        params = self.model_config().matrix_parameters()
        if params > MAX_PARAMETERS:
            raise ConfigError(f"the model would hold {params:,} parameters (vocab_size={self.vocab_size}, "
                              f"num_layers={self.num_layers}, model_dim={self.model_dim}, mlp_mult={self.mlp_mult}), "
                              f"more than any artifact under the 16 MB cap ({MAX_PARAMETERS:,}); make it smaller")
        return self

    def resolve(self) -> Hyperparameters:
        """Fill the derived paths (reference: `<data_path>/fineweb_{train,val}_*.bin`).

        pgolf globs `*_train_*.bin` / `*_val_*.bin`, which matches the FineWeb names and the
        default corpus's `pgolf_train_*.bin` alike.
        """
        if not self.train_files:
            self.train_files = os.path.join(self.data_path, "*_train_*.bin")
        if not self.val_files:
            self.val_files = os.path.join(self.data_path, "*_val_*.bin")
        return self

    def model_config(self) -> ModelConfig:
        try:
            # Every ModelConfig field has a hyperparameter of the same name.
            return ModelConfig(**{f.name: getattr(self, f.name) for f in fields(ModelConfig)})
        except ValueError as exc:
            raise ConfigError(f"model shape is inconsistent: {exc}") from exc


# key -> (lower bound, upper bound or None, lower bound excluded?). Keys not listed take any value of their type.
RANGES: dict[str, tuple[float, float | None, bool]] = {
    "val_batch_size": (1, None, False), "val_loss_every": (0, None, False), "train_log_every": (0, None, False),
    "iterations": (1, None, False), "warmdown_iters": (0, None, False), "warmup_steps": (0, None, False),
    "train_batch_tokens": (1, None, False), "train_seq_len": (1, None, False),
    "max_wallclock_seconds": (0, None, False), "qk_gain_init": (-1e6, 1e6, False),
    "vocab_size": (2, 65536, False),  # shards hold uint16 ids
    "num_layers": (1, None, False), "num_kv_heads": (1, None, False), "model_dim": (2, None, False),
    "num_heads": (1, None, False), "mlp_mult": (1, None, False), "rope_base": (0, None, True),
    "logit_softcap": (0, None, True),
    "embed_lr": (0, None, False), "head_lr": (0, None, False), "tied_embed_lr": (0, None, False),
    "tied_embed_init_std": (0, None, False), "matrix_lr": (0, None, False), "scalar_lr": (0, None, False),
    "muon_momentum": (0, 1, False), "muon_backend_steps": (1, None, False),
    "muon_momentum_warmup_start": (0, 1, False), "muon_momentum_warmup_steps": (0, None, False),
    "beta1": (0, 1, False), "beta2": (0, 1, False), "adam_eps": (0, None, True), "grad_clip_norm": (0, None, False),
    "grad_accum_base": (1, None, False), "val_max_tokens": (0, None, False),
    "seed": (0, 2**32 - 1, False),  # numpy's and torch's seed range
}
CHOICES: dict[str, tuple[str, ...]] = {"precision": PRECISIONS}


def field_types() -> dict[str, type]:
    """Field name -> its Python type (bool, int, float or str)."""
    names = {"bool": bool, "int": int, "float": float, "str": str}
    return {f.name: names[f.type] if isinstance(f.type, str) else f.type for f in fields(Hyperparameters)}


def _unknown_key(key: str, where: str) -> ConfigError:
    valid = list(field_types())
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; valid keys: {', '.join(valid)}"
    return ConfigError(f"unknown hyperparameter {key!r} in {where}{hint}")


def coerce(key: str, value: Any, where: str) -> Any:
    """Convert `value` to the type of field `key`; strings (from --set) are parsed, others checked."""
    types = field_types()
    if key not in types:
        raise _unknown_key(key, where)
    want = types[key]
    bad = ConfigError(f"{where}: {key}={value!r} is not a valid {want.__name__}")
    if isinstance(value, str) and want is not str:
        text = value.strip()
        if want is bool:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise bad
        try:
            return want(text)
        except ValueError:
            if want is int:  # accept "1e3" only when it is a whole number
                try:
                    as_float = float(text)
                except ValueError:
                    raise bad from None
                if as_float.is_integer():
                    return int(as_float)
            raise bad from None
    if want is bool:
        if isinstance(value, bool):
            return value
        raise bad
    if isinstance(value, bool):  # bool is an int subclass; never accept it for numbers
        raise bad
    if want is int:
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise bad
    if want is float:
        if isinstance(value, int | float):
            return float(value)
        raise bad
    if want is str and isinstance(value, str):
        return value
    raise bad


def parse_override(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected key=value (for example --set iterations=200)")
    key, value = text.split("=", 1)
    return key.strip(), value


def load_config(path: str | os.PathLike[str] | None = None, overrides: list[str] | None = None) -> Hyperparameters:
    """Record defaults, then the YAML file (a mapping of field -> value), then each `key=value`."""
    values: dict[str, Any] = {}
    if path is not None:
        from pgolf.inputs import read_yaml

        p = Path(path)
        try:
            loaded = read_yaml(p, "config file")
        except PgolfError as exc:
            raise ConfigError(str(exc)) from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {p} must hold a mapping of hyperparameter: value, got {type(loaded).__name__}")
        for key, value in loaded.items():
            values[str(key)] = coerce(str(key), value, f"config file {p}")
    for item in overrides or []:
        key, value = parse_override(item)
        values[key] = coerce(key, value, f"--set {item}")
    return Hyperparameters(**values).resolve().validate()  # fail early on a bad value or shape


# The workflow's counts and seeds, bounded (workflow/schemas/config.schema.yaml states the same; tests/test_config.py):
# every seed and LoRA draw is a job, and 100,000 seeds or 10^6 draws ran for minutes into MemoryError; a seed
# seeds numpy and torch, whose seeds are below 2^32 (a larger one passed startup and crashed the train job).
MAX_SEEDS = 1000
MAX_TTT_DRAWS = 100
SEED_LIMIT = 2**32  # exclusive


def check_seeds(seeds: list[Any], claim: bool) -> None:
    """The workflow's `seeds` key: one to MAX_SEEDS seeds, each below 2^32, no repeats, and two or more when a
    claim is tested (a t-test needs a spread). ConfigError naming the key; called by the Snakefile's check_config()."""
    shown = list(seeds)
    if not shown:
        raise ConfigError("config key seeds: the list is empty; list the seeds to train, e.g. seeds: [1, 2, 3]")
    if len(shown) > MAX_SEEDS:
        raise ConfigError(f"config key seeds: {len(shown):,} seeds, more than {MAX_SEEDS:,} (each is a train job); "
                          "list fewer seeds")
    too_big = [s for s in shown if isinstance(s, int) and not 0 <= s < SEED_LIMIT]
    if too_big:
        raise ConfigError(f"config key seeds: {too_big[0]} is out of range; a seed must be >= 0 and < 2^32 "
                          f"({SEED_LIMIT:,}), the range numpy and torch take")
    repeated = sorted({s for s in shown if shown.count(s) > 1}, key=str)
    if repeated:
        raise ConfigError(f"config key seeds: {shown} repeats {', '.join(map(str, repeated))}; "
                          "each seed is one run, list each once")
    if claim and len(shown) < 2:
        raise ConfigError(f"config key seeds: {shown} gives {len(shown)} seed, but testing the claim needs at "
                          "least 2 (the t-test needs a spread over seeds); list 2 or more seeds, e.g. seeds: [1, 2, 3]")


def check_ttt_draws(draws: int, ttt_seed: int) -> None:
    """The workflow's `eval.ttt_draws`: 1 to MAX_TTT_DRAWS, and draw d's seed (ttt_seed + d) below 2^32."""
    if not 1 <= draws <= MAX_TTT_DRAWS:
        raise ConfigError(f"config key eval.ttt_draws: {draws} is out of range; give 1 to {MAX_TTT_DRAWS} "
                          "(each draw is an eval job per seed)")
    if not 0 <= ttt_seed + draws - 1 < SEED_LIMIT:
        raise ConfigError(f"config key eval.ttt_seed: {ttt_seed} + {draws - 1} draws reaches {ttt_seed + draws - 1}; "
                          f"LoRA init seeds must stay below 2^32 ({SEED_LIMIT:,}): give a smaller ttt_seed")


def check_results_folder(results: str) -> None:
    """`results` must be a folder of its own: not the file-system root, a home folder or an existing file."""
    path = Path(results).expanduser()
    resolved = path.resolve()
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
        raise ConfigError(f"config key results: {results!r} is {resolved}; outputs would be planned there, among "
                          "everything else: give a folder of their own, e.g. results/")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"config key results: {results!r} is an existing file, not a folder; give a folder")


def check_finite(value: Any, key: str = "config") -> None:
    """ConfigError naming the first key (dotted path) whose value is a NaN or infinite number: a schema's
    `minimum` lets `.nan` through, and the job that reads it would fail only after Snakemake deleted its
    earlier outputs."""
    if isinstance(value, dict):
        for k, v in value.items():
            check_finite(v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_finite(v, f"{key}[{i}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"config key {key}: {value} is not a finite number; give a number")


# Keys the workflow derives from `data`: a hyperparameter of the same name must agree with it.
DATA_KEYS = ("vocab_size", "data_path", "tokenizer_path")


def check_train_settings(config_file: str | None, derived: dict[str, Any], hyperparameters: dict[str, Any],
                         data_keys: dict[str, str]) -> Hyperparameters:
    """The hyperparameters a workflow train job will run with, built and validated now, as the job builds
    them (`--config` then one `--set` per key); ConfigError naming the key. `derived` are the values taken
    from `data` (data_keys: their config keys), which train.hyperparameters must not contradict."""
    for key, value in hyperparameters.items():
        if key in derived and str(value) != str(derived[key]):
            raise ConfigError(f"config key train.hyperparameters.{key}: {value!r} disagrees with {data_keys[key]} "
                              f"({derived[key]!r}), which the data were prepared with; remove it from "
                              f"train.hyperparameters or set {data_keys[key]} instead")
    settings = {**derived, **hyperparameters}
    try:
        return load_config(config_file, [f"{k}={set_text(v)}" for k, v in settings.items()])
    except ConfigError as exc:
        raise ConfigError(f"config key train.hyperparameters (or train.config): {exc}") from None


def set_text(value: Any) -> str:
    """A value as `--set` text, the way the workflow writes it on the command line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
