"""Every rule and problem class of review-practice.md as a flag: severity, the run, the number.

`error`: the rule as written is broken or the evidence is missing (over-cap artifact, wrong GPU
count, a claim no log shows). `warn`: worth a reviewer's look but not disqualifying by itself
(a training overrun of a few hundred ms, two runs, a non-standard data split).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgolf.review.reader import ParsedRun, canonical_stage
from pgolf.size import SIZE_CAP_BYTES

WORLD_SIZE = 8
TRAIN_LIMIT_MS = 600_000.0
EVAL_LIMIT_S = 600.0
ARTIFACT_LIMIT_BYTES = SIZE_CAP_BYTES
MIN_RUNS = 3
# A training overrun up to this is the cap working (it stops after the step that crosses it).
OVERRUN_WARN_MS = 1_000.0
STANDARD_TRAIN_SHARDS = 80
# validation splits as the records print them: sp1024 (62,021,632), sp4096 (45,508,608), sp8192
# (40,540,160) and sp8192 CaseOps (47,851,520)
STANDARD_VAL_TOKENS = {62_021_632, 45_508_608, 40_540_160, 47_851_520}
_SEED_IN_NAME = re.compile(r"(?:seed[_-]?|_log_|_s)(\d+)(?!\d)", re.IGNORECASE)
_SEED_FOLDER = re.compile(r"(?:seed[_-]?|s)(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Flag:
    severity: str  # "error" or "warn"
    run: str  # the run's file name, or "" for the record as a whole
    text: str
    check: str = ""  # which evidence check raised it (`bytes`, `code`, `config`, `time`); "" for the rules above
    numbers: tuple[tuple[str, Any], ...] = ()  # the numbers behind it, as (name, value) pairs

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "run": self.run, "text": self.text, "check": self.check,
                "numbers": dict(self.numbers)}

    def __str__(self) -> str:
        return f"{self.run}: {self.text}" if self.run else self.text


def seed_from_name(file: str) -> int | None:
    """A seed the file name states (`train_seed42.log`, `train_s42.log`, `x_log_7.txt`,
    `train_seed42_rerun_2.log`), else its folder's (`runs/seed_1337/train.log`)."""
    p = Path(file)
    if m := _SEED_IN_NAME.search("_" + p.name):
        return int(m.group(1))
    for folder in p.parts[-3:-1]:  # a folder named only by its seed; never a record folder's name
        if m := _SEED_FOLDER.fullmatch(folder):
            return int(m.group(1))
    return None


def labels(runs: Sequence[ParsedRun]) -> dict[int, str]:
    """Name runs by file name, or by path where two share a name."""
    names = [r.name for r in runs]
    return {id(r): (r.name if names.count(r.name) == 1 else r.where) for r in runs}


def _time_flags(r: ParsedRun, who: str) -> list[Flag]:
    out: list[Flag] = []
    if r.max_wallclock_seconds is not None and r.max_wallclock_seconds > TRAIN_LIMIT_MS / 1000:
        out.append(Flag("error", who, f"wall-clock cap {r.max_wallclock_seconds:g} s is over the 600 s limit"))
    capped = r.stop_reason is None or "wallclock" in r.stop_reason  # another stop: timing.stop_flags, an error
    if r.train_time_ms is not None and r.train_time_ms > TRAIN_LIMIT_MS and capped:
        over = r.train_time_ms - TRAIN_LIMIT_MS
        sev = "warn" if over <= OVERRUN_WARN_MS else "error"
        out.append(Flag(sev, who, f"train time {r.train_time_ms:,.0f} ms is over 600,000 ms by {over:,.0f} ms"))
    if r.eval_time_ms is not None and r.eval_time_ms / 1000 > EVAL_LIMIT_S:
        out.append(Flag("error", who, f"eval time of {r.metric} {r.eval_time_ms / 1000:.1f} s is over 600 s"))
    elif r.total_eval_time_ms is not None and r.total_eval_time_ms / 1000 > EVAL_LIMIT_S:
        out.append(Flag("error", who, f"total eval time {r.total_eval_time_ms / 1000:.1f} s is over 600 s"))
    if r.artifact_production_s is not None:
        limit = r.artifact_production_limit_s or TRAIN_LIMIT_MS / 1000
        if r.artifact_production_s > limit:
            # a warning: the line also counts compression, which may run after the cap
            out.append(Flag("warn", who, f"artifact production ends at {r.artifact_production_s:.1f} s, past the "
                                         f"{limit:g} s cap: check that no work after the cap (GPTQ calibration) "
                                         "reads training data"))
    return out


def nonfinite_flags(r: ParsedRun, who: str) -> list[Flag]:
    """A stage that printed nan or inf: the run diverged or its evaluation broke; never silently passed over."""
    bad = [s for s in r.ordered_stages() if any(v is not None and not math.isfinite(v) for v in (s.bpb, s.loss))]
    return [Flag("error", who, f"stage `{s.name}` printed val_loss {s.loss} val_bpb {s.bpb}: not a finite score "
                               "(a diverged run or a broken evaluation)") for s in bad]


def run_flags(r: ParsedRun, who: str, code_bytes: int | None = None) -> list[Flag]:
    """The rules one run breaks. `code_bytes`: the submission's code size, when the log prints none."""
    out: list[Flag] = nonfinite_flags(r, who)
    if r.error:
        return out + [Flag("error", who, f"{r.error}; left out of the test")]
    if r.world_size is None:
        out.append(Flag("warn", who, f"no world_size; cannot check that it ran on {WORLD_SIZE} GPUs"))
    elif r.world_size != WORLD_SIZE:
        extra = f" (grad_accum_steps {r.grad_accum_steps})" if r.grad_accum_steps is not None else ""
        out.append(Flag("error", who, f"world size {r.world_size}{extra}, not {WORLD_SIZE}: not the 8xH100 setting"))
    out += _time_flags(r, who)
    total = r.artifact_total(code_bytes)
    if total is None:
        out.append(Flag("warn", who, "no total size line (model + code); artifact size unchecked"))
    elif total > ARTIFACT_LIMIT_BYTES:
        how = "" if r.total_bytes is not None else f" (model {r.model_bytes:,} + code)"
        out.append(Flag("error", who, f"total artifact {total:,} bytes{how} is over {ARTIFACT_LIMIT_BYTES:,} "
                                      f"by {total - ARTIFACT_LIMIT_BYTES:,}"))
    if r.train_shards is not None and r.train_shards != STANDARD_TRAIN_SHARDS:
        out.append(Flag("warn", who, f"train_shards {r.train_shards}, not the standard {STANDARD_TRAIN_SHARDS}"))
    if r.val_tokens is not None and r.val_tokens not in STANDARD_VAL_TOKENS:
        std = " or ".join(f"{v:,}" for v in sorted(STANDARD_VAL_TOKENS))
        out.append(Flag("warn", who, f"val_tokens {r.val_tokens:,}, not a standard validation split ({std})"))
    named = seed_from_name(r.file)
    if r.seed is not None and named is not None and named != r.seed:
        out.append(Flag("error", who, f"the log's seed {r.seed} disagrees with the file name's seed {named}"))
    if r.truncated:
        out.append(Flag("warn", who, "the log is cut off at the end (last line partial)"))
    return out


def set_flags(runs: Sequence[ParsedRun], min_runs: int = MIN_RUNS) -> list[Flag]:
    """Rules about the runs together: duplicates, repeated seeds, too few runs, mixed stages."""
    label = labels(runs)
    out: list[Flag] = []
    by_hash: dict[str, list[str]] = defaultdict(list)
    by_seed: dict[int, list[str]] = defaultdict(list)
    for r in runs:
        if r.sha256:
            by_hash[r.sha256].append(label[id(r)])
        if r.seed is not None and r.ok:
            by_seed[r.seed].append(label[id(r)])
        elif r.ok:
            out.append(Flag("warn", label[id(r)], "no seed line"))
    for same in by_hash.values():
        if len(same) > 1:
            out.append(Flag("warn", ", ".join(same), f"the same log content {len(same)} times; it counts once per copy"))
    good = [r for r in runs if r.ok]
    for seed, who in sorted(by_seed.items()):
        if len(who) > 1:
            every = "all " if len(who) == len(good) else ""
            out.append(Flag("warn", ", ".join(who), f"seed {seed} is used by {every}{len(who)} runs: their spread is "
                                                   "run-to-run (GPU) noise, not seed-to-seed variance"))
    if len(good) < min_runs:
        names = ", ".join(label[id(r)] for r in good) or "none"
        out.append(Flag("warn", "", f"only {len(good)} run(s) with the stage under test ({names}): fewer than {min_runs}"))
    stages = {r.metric for r in good if r.metric}
    if len({canonical_stage(s) for s in stages}) > 1:
        out.append(Flag("warn", "", "runs report different stages: "
                        + "; ".join(f"{label[id(r)]}: {r.metric}" for r in good) + " (name one with --metric)"))
    return out


def errors(flags: Sequence[Flag]) -> list[Flag]:
    return [f for f in flags if f.severity == "error"]
