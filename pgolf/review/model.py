"""The reviewer's values: a train log's runs and stages as the reader read them, and what a rule finds.
The first file a newcomer reads.

A `ParsedRun` is one run of one train log: every stage it printed (`Stage`), its sizes, times, seed and
split; `chosen()` returns a copy with the stage under test set. It holds what the log says, nothing judged.

A `Flag` is one finding of one registered rule (`pgolf.review.rules`): the rule's id, its severity
for this finding, the run(s) it names, the sentence a reviewer reads, and the numbers behind it.
Flags become dicts only at the JSON/CSV edge (`pgolf.review.output.rows.flag_dict`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "hold", "warn"]  # hold: never accepted, held for review

# Names that print the same stage: some logs of record #77 print `final_ttt_lora`, others `final_int8_ttt_lora`.
STAGE_ALIASES: dict[str, str] = {"final_ttt_lora": "final_int8_ttt_lora"}

_SEED_SUFFIX = re.compile(r"[_\- ](?:s|seed)[_=]?(\d+)$", re.IGNORECASE)
_NAME = r"[A-Za-z][\w\-]*(?: [A-Za-z][\w\-]*)*"  # `final_ttt_lora`, `diagnostic pre-quantization post-ema`
_CUT_STAGE = re.compile(rf"^({_NAME}) val_loss:")


def stage_seed(name: str) -> int | None:
    """The seed a stage name carries (`final_ttt_s0`, `final_sliding_seed42_exact`), else None."""
    m = _SEED_SUFFIX.search(name.strip().removesuffix("_exact"))
    return int(m.group(1)) if m else None


def canonical_stage(name: str) -> str:
    """The stage a printed name means: `_exact` and a seed suffix dropped, known aliases mapped to one spelling."""
    stage = name.strip().removesuffix("_exact")
    stage = _SEED_SUFFIX.sub("", stage).removesuffix("_exact")
    return STAGE_ALIASES.get(stage, stage)


def decimals(text: str) -> int:
    """Digits after the point of a printed number (`1.0610` -> 4; 0 for nan or inf)."""
    d = Decimal(text.lower().replace("infinity", "inf"))
    return max(0, -int(d.as_tuple().exponent)) if d.is_finite() else 0


@dataclass
class Stage:
    """One evaluation stage, with its `_exact` twin's digits when printed."""

    name: str  # as printed, without `_exact`
    val_loss: float | None = None
    val_bpb: float | None = None
    digits: int = 0  # decimals of the printed val_bpb
    eval_time_ms: float | None = None
    exact_val_loss: float | None = None
    exact_val_bpb: float | None = None
    exact_digits: int = 0
    line: int = 0  # last line that reported this stage (1-based)

    @property
    def bpb(self) -> float | None:
        """The most precise val_bpb printed."""
        return self.exact_val_bpb if self.exact_val_bpb is not None else self.val_bpb

    @property
    def loss(self) -> float | None:
        return self.exact_val_loss if self.exact_val_loss is not None else self.val_loss

    @property
    def bpb_digits(self) -> int:
        return self.exact_digits if self.exact_val_bpb is not None else self.digits

    @property
    def diagnostic(self) -> bool:
        """Diagnostics and pre-quantization scores are never the submission's score by default."""
        low = self.name.lower()
        return low.startswith(("diagnostic", "pre-quantization", "pre_quantization"))


@dataclass
class ParsedRun:
    """Everything the reviewer side reads from one train log. None: the log did not say."""

    file: str
    sha256: str | None = None  # of the file's bytes: the same log twice inflates n
    seed: int | None = None
    world_size: int | None = None
    grad_accum_steps: int | None = None
    gpus_listed: int | None = None  # rows of the nvidia-smi table
    gpu_name: str | None = None
    model_params: int | None = None
    steps: int | None = None  # last step reached
    iterations: int | None = None
    max_wallclock_seconds: float | None = None
    train_shards: int | None = None
    val_tokens: int | None = None
    stopped_early: bool = False
    stop_reason: str | None = None
    train_time_ms: float | None = None
    step_avg_ms: float | None = None
    model_bytes: int | None = None  # compressed model (`Serialized model <fmt>:`, `artifact_bytes:`)
    total_bytes: int | None = None  # model + code (`Total submission size <fmt>:`)
    size_format: str | None = None  # e.g. int8+zlib, quantized+brotli
    code_bytes: int | None = None
    code_bytes_compressed: int | None = None
    artifact_mb: float | None = None  # `artifact:15.92MB`
    total_eval_time_ms: float | None = None  # `total_eval_time:329.0s`
    artifact_production_s: float | None = None
    artifact_production_limit_s: float | None = None
    hyperparameters: dict[str, str] = field(default_factory=dict)
    truncated: bool = False
    partial_line: str | None = None  # the cut-off last line of a truncated file
    error: str | None = None
    unreadable: str | None = None  # why the file could not be read (a missing blob, over the size bound)
    stages: dict[str, Stage] = field(default_factory=dict)  # canonical name -> stage
    # the stage under test, set on the copy chosen() returns; check-logs and check-record fill them
    metric: str | None = None
    val_loss: float | None = None
    val_bpb: float | None = None
    eval_time_ms: float | None = None
    exact: bool = False
    part: str | None = None  # `seed 42` when the file holds several runs
    seed_stages: dict[int, dict[str, Stage]] = field(default_factory=dict, repr=False)  # read, then split
    # evidence checks (pgolf.review.rules.evidence): the code dump's fingerprint, settings printed as `key:value`
    # lines, the tokenizer file, and the post-training work's own times
    code_dump_sha256: str | None = None  # of the dump's lines as `code_dump` returns them; None: no dump
    code_dump_lines: int = 0
    printed_config: dict[str, str] = field(default_factory=dict)  # `key:value` lines (first value of a key)
    tokenizer_file: str | None = None  # `fineweb_8192_bpe.model`, from a `tokenizer_path` the log prints
    calibration_s: float | None = None  # GPTQ / calibration steps summed (`GPTQ:collected 66 Hessians in 8.2s`)
    calibration_total_s: float | None = None  # a printed GPTQ total (`gptq:done in 241.8s`)
    serialize_s: float | None = None  # compression steps summed (`Serialize: ... done in 97.8s`)
    serialize_wallclock_s: float | None = None  # `serialize_wallclock: 74.318s`
    # GPTQ calibration after training, as the log tells it (rules/time.py): the first calibration line, whether
    # it names training data or self-generated data, and the time reserved for it before the cap
    calibration_line: str | None = None
    calibration_data: str | None = None  # "train", "generated" or None (the log does not say)
    calibration_reserve_ms: float | None = None  # `gptq:reserving 12s, effective=588000ms`, `gptq_reserve_seconds`

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def name(self) -> str:
        return Path(self.file).name + (f" [{self.part}]" if self.part else "")

    @property
    def where(self) -> str:
        """The file's path, and the part of it when it holds several runs."""
        return self.file + (f" [{self.part}]" if self.part else "")

    def stage(self, name: str) -> Stage | None:
        return self.stages.get(canonical_stage(name))

    def ordered_stages(self) -> list[Stage]:
        return sorted(self.stages.values(), key=lambda s: s.line)

    def default_stage(self) -> Stage | None:
        """Without a claim: the last `final_*` stage, else the last non-diagnostic one, else the last."""
        stages = self.ordered_stages()
        for pick in ([s for s in stages if s.name.startswith("final_")], [s for s in stages if not s.diagnostic],
                     stages):
            if pick:
                return pick[-1]
        return None

    def artifact_total(self, code_bytes: int | None = None) -> int | None:
        """Total artifact bytes with code counted: the log's total, else model + the log's (or given) code."""
        if self.total_bytes is not None:
            return self.total_bytes
        code = self.code_bytes_compressed if self.code_bytes_compressed is not None else self.code_bytes
        code = code if code is not None else code_bytes
        if self.model_bytes is not None and code is not None:
            return self.model_bytes + code
        return None

    def chosen(self, name: str | None) -> ParsedRun:
        """A copy with `name` (any spelling; None: default_stage) as the stage under test, or with `error` set
        (the stage chosen before, if any, stays). The run itself is left as the reader read it."""
        if self.unreadable:  # nothing was read: the reason stays the run's error, whatever stage is asked for
            return replace(self, error=self.unreadable)
        cut = _CUT_STAGE.match(self.partial_line or "")
        if cut and (name is None or canonical_stage(cut.group(1)) == canonical_stage(name)):
            return replace(self, error=f"the log is cut off inside its last line `{self.partial_line}`")
        stage = self.stage(name) if name else self.default_stage()
        if stage is None:
            return replace(self, error=f"no `{name}` line (stages in this log: {self.seen()})" if name and self.stages
                           else self._no_stage())
        if stage.bpb is None or not math.isfinite(stage.bpb):
            return replace(self, error=f"`{stage.name}` printed val_bpb {stage.bpb}: not a score")
        return replace(self, metric=stage.name, val_loss=stage.loss, val_bpb=stage.bpb,
                       exact=stage.exact_val_bpb is not None, eval_time_ms=stage.eval_time_ms, error=None)

    def _no_stage(self) -> str:
        where = f" (log ends at step {self.steps}/{self.iterations})" if self.steps is not None else ""
        cut = ", cut off mid-line" if self.truncated else ""
        return f"no stage line (NAME val_loss:X val_bpb:Y){where}{cut}"

    def seen(self) -> str:
        return ", ".join(f"`{s.name}`" for s in self.ordered_stages()) or "none"


@dataclass(frozen=True)
class ReadmeSeeds:
    """The README's per-seed scores against the logs: how many a stage of the seed's log shows, which not."""

    shown: int = 0
    total: int = 0
    missing: tuple[str, ...] = ()  # `seed 2 1.0799`


@dataclass(frozen=True)
class Finding:
    """What a rule function returns: the registry turns it into a `Flag` with the rule's id.
    `severity` None: the rule's own severity."""

    text: str
    run: str = ""  # the run's file name (or several, comma-separated); "" for the submission as a whole
    severity: Severity | None = None
    numbers: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Flag:
    rule: str  # the registered rule's id, e.g. `time.train_overrun`
    severity: Severity
    run: str  # the run's file name, or "" for the record as a whole
    text: str
    check: str = ""  # the evidence check the rule belongs to (`bytes`, `code`, `config`, `time`), else ""
    numbers: tuple[tuple[str, Any], ...] = ()  # the numbers behind it, as (name, value) pairs

    def __str__(self) -> str:
        return f"{self.run}: {self.text}" if self.run else self.text


def errors(flags: list[Flag] | tuple[Flag, ...]) -> list[Flag]:
    return [f for f in flags if f.severity == "error"]


def holds(flags: list[Flag] | tuple[Flag, ...]) -> list[Flag]:
    """Flags that hold a submission for review (never accepted, not rejected)."""
    return [f for f in flags if f.severity == "hold"]
