"""The evaluation vocabulary: the four conditions, the names of their result files, the settings
with their ranges, and the precision rule.

Torch-free, so that the Snakefile (eval jobs, wildcards, the config check), the report's tables
and the engine (pgolf.evaluate) all read these same values: a condition is one `Condition`, a
setting one field of `EvalSettings`, named the same way in the CLI (`--ttt-seed`), the workflow
config (`eval.ttt_seed`) and the result JSON (`settings.ttt_seed`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from pgolf.errors import ConfigError


@dataclass(frozen=True)
class Condition:
    """One condition of the ablation and what sets it apart."""

    name: str
    label: str  # the report's name for it
    per_document: bool  # each document scored alone (flat cuts the stream across documents)
    chunked: bool  # targets scored `chunk` at a time; otherwise chunk = seq_len (whole windows)
    trains: bool  # LoRA test-time training: its LoRA init draws are separate result files
    color: str  # its colour in the report's figures


CONDITIONS: tuple[Condition, ...] = (
    Condition("flat", "flat stream", per_document=False, chunked=False, trains=False, color="#7f7f7f"),
    Condition("doc", "doc-isolated", per_document=True, chunked=False, trains=False, color="#1f77b4"),
    Condition("sliding", "doc + sliding", per_document=True, chunked=True, trains=False, color="#2ca02c"),
    Condition("ttt", "doc + sliding + LoRA TTT", per_document=True, chunked=True, trains=True, color="#d62728"),
)
NAMES: tuple[str, ...] = tuple(c.name for c in CONDITIONS)  # in ablation order
_BY_NAME = {c.name: c for c in CONDITIONS}


def condition(name: str) -> Condition:
    """The condition called `name`, or a ConfigError listing the names."""
    if name not in _BY_NAME:
        raise ConfigError(f"unknown condition {name!r}; choose from {', '.join(NAMES)}")
    return _BY_NAME[name]


# ---------------------------------------------------------------- result file names
# One evaluation's file stem: the condition for LoRA init draw 0 (`ttt`), `<condition>_draw<d>`
# for draw d >= 1 of a condition that trains (`ttt_draw2`).
_DRAW = "_draw"
NAME_PATTERN = "(" + "|".join(NAMES) + ")(" + _DRAW + r"[1-9]\d*)?"  # the Snakefile's wildcard


def eval_name(name: str, draw: int) -> str:
    return name if draw == 0 else f"{name}{_DRAW}{draw}"


def parse_eval_name(stem: str) -> tuple[str, int]:
    """`ttt_draw2` -> ("ttt", 2); `sliding` -> ("sliding", 0); ConfigError for anything else."""
    match = re.fullmatch(NAME_PATTERN, stem)
    if match is None or (match.group(2) and not condition(match.group(1)).trains):
        raise ConfigError(f"{stem!r} names no evaluation; expected a condition ({', '.join(NAMES)}), "
                          f"or a condition that trains followed by {_DRAW}N (N >= 1)")
    return match.group(1), int(match.group(2)[len(_DRAW):]) if match.group(2) else 0


def evaluations(names: Sequence[str], draws: int) -> list[tuple[str, int]]:
    """(condition, draw) of every evaluation of one checkpoint, in ablation order: each condition,
    with `draws` LoRA init draws of a condition that trains."""
    return [(n, d) for n in names for d in range(draws if condition(n).trains else 1)]


# ---------------------------------------------------------------- precision
PRECISIONS = ("auto", "bf16", "fp32")  # training's `precision` and eval's --precision


def bf16_autocast(precision: str, device_type: str) -> bool:
    """Whether forward passes run under bf16 autocast: `auto` as the record (on CUDA), `bf16` on any
    device (CPU autocast, for tests), `fp32` never."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision == "bf16" or (precision == "auto" and device_type == "cuda")


def reference_cast(precision: str, device_type: str) -> bool:
    """Whether an evaluated model takes the record's CUDA layout (bf16 embedding; pgolf.model)."""
    return precision == "auto" and device_type == "cuda"


# ---------------------------------------------------------------- settings
TTT_ENGINES = ("auto", "kernel", "autograd")


@dataclass(frozen=True)
class TTTSettings:
    """LoRA test-time training; defaults are the record's (seed: pgolf's per-document init draw)."""

    rank: int = 8
    lr: float = 0.01
    batch: int = 64  # documents in flight, each with its own adapters
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-10
    seed: int = 0
    # "kernel" (hand-written, pgolf.evaluate.ttt_kernel), "autograd" (the model and torch
    # autograd), "auto": the faster of the two for the shape (pgolf.evaluate.conditions).
    engine: str = "auto"


@dataclass(frozen=True)
class EvalSettings:
    """Everything that changes a condition's numbers or speed; defaults are the record's."""

    seq_len: int = 1024
    chunk: int = 256
    max_docs: int | None = None
    # Padded tokens per forward pass (flat, doc, sliding); None: 65536 on CUDA (the record's per-rank
    # batch), 8192 on CPU (cache-friendlier, measured faster).
    batch_tokens: int | None = None
    precision: str = "auto"  # PRECISIONS; see bf16_autocast
    progress_seconds: float = 0.0  # print progress to stderr this often (rank 0); 0: never
    ttt: TTTSettings = field(default_factory=TTTSettings)

    def chunk_for(self, name: str) -> int:
        return self.chunk if condition(name).chunked else self.seq_len

    def replace_ttt(self, **changes: Any) -> EvalSettings:
        return replace(self, ttt=replace(self.ttt, **changes))

    def to_dict(self) -> dict[str, Any]:
        """Flat keys (`ttt_rank`): as in the result JSON, the workflow config and the flags."""
        out = {k: v for k, v in asdict(self).items() if k != "ttt"}
        return {**out, **{f"ttt_{k}": v for k, v in asdict(self.ttt).items()}}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> EvalSettings:
        """From flat keys (to_dict's); keys that are no setting are ignored (a config section's others)."""
        own = {f.name for f in fields(cls)} - {"ttt"}
        ttt = {k.removeprefix("ttt_"): v for k, v in values.items() if k.startswith("ttt_")
               and k.removeprefix("ttt_") in {f.name for f in fields(TTTSettings)}}
        return replace(cls(**{k: v for k, v in values.items() if k in own}), ttt=TTTSettings(**ttt))

    def validate(self, name: str, key: Callable[[str], str] = lambda k: flag(k)) -> None:
        """ConfigError naming the setting (`key` spells it: a flag, or a config key) for every value out
        of its range: the one check of these ranges (eval's flags, pgolf.evaluate, the workflow)."""
        condition(name)
        check_sizes(self.seq_len, self.chunk_for(name), (key("seq_len"), key("chunk")))
        values = self.to_dict()
        for k, (lo, hi, lo_open) in RANGES.items():
            value = values[k]
            if value is None:
                continue
            below = value <= lo if lo_open else value < lo
            if isinstance(value, bool) or not math.isfinite(value) or below or (hi is not None and value >= hi):
                if isinstance(value, int) and hi is None and not lo_open:  # a count or a seed
                    raise ConfigError(f"{key(k)} must be at least {lo}, got {value}")
                span = f"{'>' if lo_open else '>='} {lo}" + (f" and < {hi}" if hi is not None else "")
                raise ConfigError(f"{key(k)} must be a finite number {span}, got {value}")
        for k, choices in CHOICES.items():
            if values[k] not in choices:
                raise ConfigError(f"{key(k)} must be one of {', '.join(choices)}, got {values[k]!r}")


# Key -> (lowest, highest exclusive or None, lowest exclusive): the ranges EvalSettings.validate checks;
# workflow/schemas/config.schema.yaml states the same bounds for the keys it has (tests/test_config.py).
# ttt_lr 0 is allowed: the adapters then never move, a control that scores as sliding does. ttt_rank stays below
# 4,096 and ttt_batch below 65,536: a LoRA rank above the model's width adapts nothing more (widths under the cap
# are at most a few thousand), and `--ttt-rank 1000000` would allocate for minutes before failing.
RANGES: dict[str, tuple[float, float | None, bool]] = {
    "max_docs": (1, None, False), "batch_tokens": (1, None, False), "progress_seconds": (0, None, False),
    "ttt_rank": (1, 4096, False), "ttt_lr": (0, None, False), "ttt_batch": (1, 65536, False),
    "ttt_beta1": (0, 1, False), "ttt_beta2": (0, 1, False), "ttt_eps": (0, None, True), "ttt_seed": (0, 2**32, False),
}
CHOICES: dict[str, tuple[str, ...]] = {"precision": PRECISIONS, "ttt_engine": TTT_ENGINES}
_FLAGS = {"progress_seconds": "--progress"}


def flag(key: str) -> str:
    """The eval flag of a setting: `ttt_seed` -> `--ttt-seed`."""
    return _FLAGS.get(key, "--" + key.replace("_", "-"))


def config_key(key: str) -> str:
    """The workflow config key of a setting: `ttt_seed` -> `eval.ttt_seed`."""
    return f"eval.{key}"


def check_sizes(seq_len: int, chunk: int, names: tuple[str, str] = ("--seq-len", "--chunk")) -> None:
    """ConfigError for evaluation window sizes the windows cannot be built from: the one copy of this check
    (eval's flags, pgolf.evaluate, and the workflow's eval.seq_len/eval.chunk all call it).

    `names` are what the caller's user typed (flags, or config keys such as eval.seq_len).
    """
    seq_name, chunk_name = names
    if seq_len < 1:
        raise ConfigError(f"{seq_name} must be at least 1, got {seq_len}")
    if chunk < 1:
        raise ConfigError(f"{chunk_name} must be at least 1, got {chunk}")
    if chunk > seq_len:
        raise ConfigError(f"{chunk_name} {chunk} is longer than {seq_name} {seq_len}: a chunk must fit in its "
                          f"window; use {chunk_name} between 1 and {seq_len}")
