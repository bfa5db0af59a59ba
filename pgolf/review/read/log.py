"""Read one parameter-golf train log, of any family, into a `ParsedRun` holding every stage it printed.

API (stable): `read_log(path) -> ParsedRun`, `read_log_text(text, file) -> ParsedRun`,
`canonical_stage(name) -> str`, `ParsedRun.stage(name) -> Stage | None`.

A log is the script's own source (the code dump), an nvidia-smi table, then the run.
The families (see review-practice.md) differ in how they print the same facts:
- seed / world size: `seed:1337`, `world_size:8 grad_accum_steps:1`; a `Hyperparameters:`
  block of indented `  key: value` lines; or a one-line dump `... seed=42 world_size=8 ...`;
- stages: every line `NAME val_loss:X val_bpb:Y [eval_time:Nms]` is a stage under its own
  name (`final_int8_zlib_roundtrip`, `quantized_ttt_phased`, `diagnostic quantized`, ...);
  an `_exact` twin adds the 8-decimal digits to the same stage;
- sizes: `Serialized model <fmt>: N bytes`, `Total submission size <fmt>: N bytes` for every
  compressor, `artifact_bytes:N`, `artifact:15.92MB`, `Code size: N bytes` (or `(uncompressed)`), `Code size (compressed): N bytes`;
- stop: `stopping_early: wallclock_cap train_time:600061ms step:13764/20000` or a bare
  `train_time: 588136ms step:...`; `total_eval_time:329.0s`;
  `artifact_production_wallclock: 825.352s (must be < 600.0)`;
- any line may carry a Unix timestamp prefix.

Robustness rules (why they exist)
- Patterns are anchored at the start of a line and need numbers, so the code dump (whose
  f-strings hold the same words) never matches; text before the first `=====` separator is
  skipped when it looks like Python.
- A file that does not end in a newline may have been cut off while writing: its last line is
  dropped as partial (a cut `val_bpb:1.19` would otherwise read as 1.19) unless it reads whole
  (`text._whole`: a unit at its end, its key's decimals, an earlier line's shape).
- Unknown lines are ignored. A log with no stage is not an exception: `ParsedRun.error`
  says so, naming the file, and the other runs still count.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pgolf.inputs import read_bytes
from pgolf.review.model import STAGE_ALIASES, ParsedRun, Stage, canonical_stage, decimals, stage_seed
from pgolf.review.read.freetext import read_free_text
from pgolf.review.read.text import clean_lines, code_dump, code_dump_end, dump_lines, lines_sha256

# the reader's API; Stage, ParsedRun and the stage names live in model.py
__all__ = ["STAGE_ALIASES", "ParsedRun", "Stage", "canonical_stage", "code_dump", "decimals", "dump_lines",
           "lines_sha256", "read_log", "read_log_file_runs", "read_log_runs", "read_log_text", "stage_line",
           "stage_seed", "with_hash"]

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
# a score may be printed as nan or inf: such a stage is read (and flagged), never skipped
_SCORE = rf"(?:{_NUM}|[-+]?(?:nan|inf(?:inity)?))"
# no loss or bpb is near 1e30; past it, sums, byte counts and decimal rounding overflow, so it reads as infinite
_HUGE_SCORE = 1e30


def _score(text: str) -> float:
    """A printed score as a float: nan and inf as they are, a magnitude of 1e30 or more (1e308) as inf with its
    sign, so every check downstream sees a non-finite score (flagged) instead of overflowing on it."""
    value = float(text)
    return math.copysign(math.inf, value) if math.isfinite(value) and abs(value) >= _HUGE_SCORE else value

# one score pair anywhere in a stage line: `val_bpb:1.08`, `bpb=1.08`, `vl: 2.8`, `val_loss 2.8` is not one
_PAIR = re.compile(rf"(?<![\w.])(val_loss|val_bpb|vl|loss|bpb)\s*[:=]\s*({_SCORE})(?![\w.])", re.IGNORECASE)
_NUMERIC_KV = re.compile(r"\s+\w+[:=]\s*[-+]?[\d.]\S*$")
# a training step, a progress line (`ttt_chunk [1200/1200]`), code or a comment is no stage name
_NOT_A_NAME = re.compile(r"^(?:step\b|\d|#|epoch\b|iter\b)|[{}\"'`]|\[\d+/\d+\]|\b(?:if|def|print|log0?)\b",
                         re.IGNORECASE)
# free text: `Quantized BPB (sliding, stride 64): 1.1234`, `Final val BPB = 1.12`
_FREE_BPB = re.compile(rf"^([A-Za-z][^:=]*?\bBPB\b[^:=]*?)\s*[:=]\s*({_SCORE})\s*$")
_EVAL_TIME = re.compile(rf"\beval_time:\s*({_NUM})ms")
_TRAIN_TIME = re.compile(r"\btrain_time[:=]\s*(\d+(?:\.\d+)?)ms")
_STEP_AVG = re.compile(rf"\bstep_avg:\s*({_NUM})ms")
_ARG_DUMP = re.compile(r"\b(\w+)=(\S+)")
# keys read from a Hyperparameters block, a `key:value` line or an argument dump
_FACT_KEYS = {"seed": int, "world_size": int, "grad_accum_steps": int, "max_wallclock_seconds": float,
              "iterations": int, "train_shards": int, "val_tokens": int}


# --------------------------------------------------------------------------- line handlers


def stage_line(line: str) -> tuple[str, str | None, str, str] | None:
    """(name, val_loss or None, val_bpb, the rest of the line) of a stage line, in every shape logs print:
    `NAME [k:v ...] val_loss:X val_bpb:Y [k:v ...]`, `key=value` pairs, `vl:`/`bpb:` abbreviations, a `+` or
    `:` in the name, val_bpb alone, free text `Quantized BPB (...): X`. Training-time lines (`step:N/M ...`) and
    code are not stages."""
    pairs = list(_PAIR.finditer(line))
    bpb = next((m for m in pairs if m.group(1).lower() in ("val_bpb", "bpb")), None)
    if bpb is None:
        free = _FREE_BPB.match(line)
        return (free.group(1).strip(), None, free.group(2), "") if free and not _NOT_A_NAME.search(free.group(1)) \
            else None
    loss = next((m for m in pairs if m.group(1).lower() in ("val_loss", "vl", "loss")), None)
    first = min(m.start() for m in (bpb, loss) if m is not None)
    name = " " + line[:first].rstrip()
    while (kv := _NUMERIC_KV.search(name)) is not None:  # `stride:64` before the scores
        name = name[:kv.start()]
    name = name.strip().rstrip(":=-|,(").strip()
    if _NOT_A_NAME.search(name):
        return None
    last = max(m.end() for m in (bpb, loss) if m is not None)
    return name or "val_bpb", loss.group(2) if loss else None, bpb.group(2), line[last:]


def _on_stage(run: ParsedRun, parsed: tuple[str, str | None, str, str], lineno: int) -> None:
    printed, loss, bpb, rest = parsed
    seed = stage_seed(printed)
    into = run.stages if seed is None else run.seed_stages.setdefault(seed, {})
    stage = into.setdefault(canonical_stage(printed), Stage(name=printed.removesuffix("_exact")))
    loss_value = _score(loss) if loss is not None else None
    if printed.endswith("_exact"):
        stage.exact_val_loss, stage.exact_val_bpb, stage.exact_digits = loss_value, _score(bpb), decimals(bpb)
    else:
        stage.name, stage.val_loss, stage.val_bpb, stage.digits = printed, loss_value, _score(bpb), decimals(bpb)
    # April logs print only `legal_ttt_exact ... eval_time:Nms`: the time is on the `_exact` line then
    if (t := _EVAL_TIME.search(rest)) and (not printed.endswith("_exact") or stage.eval_time_ms is None):
        stage.eval_time_ms = float(t.group(1))
    stage.line = lineno


def _on_step(run: ParsedRun, m: re.Match, lineno: int) -> None:
    run.steps, run.iterations = int(m.group(1)), int(m.group(2))
    if t := _TRAIN_TIME.search(m.group(3)):
        run.train_time_ms = float(t.group(1))
    if a := _STEP_AVG.search(m.group(3)):
        run.step_avg_ms = float(a.group(1))


def _on_stop(run: ParsedRun, m: re.Match, lineno: int) -> None:
    run.stopped_early = m.group(1) is not None
    run.stop_reason = m.group(2) or ("wallclock_cap" if run.stopped_early else "iterations")
    run.train_time_ms = float(m.group(3))
    run.steps, run.iterations = int(m.group(4)), int(m.group(5))


def _on_world(run: ParsedRun, m: re.Match, lineno: int) -> None:
    run.world_size = int(m.group(1))
    if m.group(2) is not None:
        run.grad_accum_steps = int(m.group(2))


def _on_fact(run: ParsedRun, key: str, value: str) -> None:
    """One seed / world size / cap / split fact, from whichever line printed it."""
    cast = _FACT_KEYS.get(key)
    if cast is None:
        return
    with contextlib.suppress(ValueError, OverflowError):  # a placeholder (`seed: None`, `seed: inf`) says nothing
        setattr(run, key, cast(float(value)) if cast is int else cast(value))


def _setter(attr: str, cast: Callable[[str], Any] = int, group: int = 1, fmt: str | None = None):
    def handle(run: ParsedRun, m: re.Match, lineno: int) -> None:
        setattr(run, attr, cast(m.group(group)))
        if fmt:
            run.size_format = m.group(fmt)
    return handle


def _on_artifact_bytes(run: ParsedRun, m: re.Match, lineno: int) -> None:
    # the int6 family prints the model as `artifact_bytes:N`; a summary block after the run repeats the
    # total under that key (`artifact_bytes:   15555017`), which is no model size
    if run.model_bytes is None and run.total_bytes is None:
        run.model_bytes = int(m.group(1))


def _on_production(run: ParsedRun, m: re.Match, lineno: int) -> None:
    run.artifact_production_s = float(m.group(1))
    if m.group(2):
        run.artifact_production_limit_s = float(m.group(2))


def _on_gpu(run: ParsedRun, m: re.Match, lineno: int) -> None:
    run.gpus_listed = max(run.gpus_listed or 0, int(m.group(1)) + 1)
    run.gpu_name = m.group(2).strip()


def _on_key_value(run: ParsedRun, m: re.Match, lineno: int) -> None:
    _on_fact(run, m.group(1), m.group(2))


def _on_loader(run: ParsedRun, m: re.Match, lineno: int) -> None:
    if s := re.search(r"\btrain_shards:\s*(\d+)", m.group(0)):
        run.train_shards = int(s.group(1))
    if t := re.search(r"^val_loader:.*\btokens:\s*(\d+)", m.group(0)):
        run.val_tokens = int(t.group(1))


HANDLERS: list[tuple[re.Pattern, Callable[[ParsedRun, re.Match, int], None]]] = [
    (re.compile(r"^step:\s*(\d+)/(\d+)\b(.*)$"), _on_step),
    (re.compile(r"^(stopping_early:\s*(\S+)?.*?)?\btrain_time[:=]\s*(\d+(?:\.\d+)?)ms\s+step[:=]\s*(\d+)/(\d+)"),
     _on_stop),
    (re.compile(r"^world_size:\s*(\d+)(?:\s+grad_accum_steps:\s*(\d+))?\b"), _on_world),
    (re.compile(r"^model_params:\s*(\d+)\b"), _setter("model_params")),
    (re.compile(r"^Serialized model (\S+): (\d+) bytes"), _setter("model_bytes", group=2, fmt=1)),
    (re.compile(r"^Total submission size (\S+): (\d+) bytes"), _setter("total_bytes", group=2, fmt=1)),
    (re.compile(r"^Code size \(compressed\):\s*(\d+) bytes"), _setter("code_bytes_compressed")),
    (re.compile(r"^Code size(?: \(uncompressed\))?:\s*(\d+) bytes"), _setter("code_bytes")),
    (re.compile(r"^artifact_bytes:\s*(\d+)\b"), _on_artifact_bytes),
    (re.compile(rf"^artifact:\s*({_NUM})\s*MB\b"), _setter("artifact_mb", float)),
    (re.compile(rf"^total_eval_time:\s*({_NUM})s\b"), _setter("total_eval_time_ms", lambda s: float(s) * 1000.0)),
    (re.compile(rf"^artifact_production_wallclock:\s*({_NUM})s(?:.*?<\s*({_NUM}))?"), _on_production),
    (re.compile(r"^\|\s+(\d+)\s+(NVIDIA [^|]*?|Tesla [^|]*?)\s{2,}\S+\s+\|"), _on_gpu),
    (re.compile(r"^(?:train_loader|val_loader):.*$"), _on_loader),
    (re.compile(r"^(seed|train_shards|val_tokens|iterations|max_wallclock_seconds):\s*(\S+)\s*$"), _on_key_value),
]


# Evidence lines (pgolf.review.rules.evidence): the work after training, each step with its own time, in the shapes
# the logs print (`GPTQ:collected 66 Hessians in 8.2s`, `gptq:generated 64 sequences in 240.8s`, `gptq:done in
# 241.8s`, `Serialize: per-group compression done in 97.8s`, `serialize_wallclock: 74.318s`).
_IN_SECONDS = rf".*?\bin\s+({_NUM})\s*s\b"
_CALIBRATION_PART = re.compile(r"^(?:GPTQ:collected \d+ Hessians|gptq:generated \d+ seq\w*|gptq:(?:loop-aware )?"
                               r"calibrated \d+ layers|gptq:collected hessians for \d+ layers)"
                               + _IN_SECONDS, re.IGNORECASE)
_CALIBRATION_TOTAL = re.compile(r"^gptq:(?:done|quantization complete)" + _IN_SECONDS, re.IGNORECASE)
# quantizing and compressing read no data: counted with serialization
_SERIALIZE_PART = re.compile(r"^(?:Serialize:.*\bdone|GPTQ:compressed\+saved|GPTQ:quantized)" + _IN_SECONDS)
# settings printed as `key:value` tokens; keys whose values change from run to run by nature are left out
_CONFIG_PAIR = re.compile(r"^([a-z][a-z0-9_]*):(\S+)$")
_VOLATILE = re.compile(r"(?:^|_)(?:steps?|time|ms|loss|bpb|avg|memory|allocated|reserved|bytes|artifact|elapsed)$")


def _add(attr: str):
    def handle(run: ParsedRun, m: re.Match, lineno: int) -> None:
        setattr(run, attr, (getattr(run, attr) or 0.0) + float(m.group(1)))
    return handle


def _on_tokenizer(run: ParsedRun, m: re.Match, lineno: int) -> None:
    run.tokenizer_file = m.group(1).replace("\\", "/").rsplit("/", 1)[-1].strip("'\",")


def _on_config_line(run: ParsedRun, line: str) -> None:
    """A line made only of `key:value` tokens (`world_size:8 grad_accum_steps:1`): every setting, first value kept."""
    if ":" not in line:
        return
    tokens = line.split()
    pairs = [m.groups() for t in tokens if (m := _CONFIG_PAIR.match(t))]
    if not pairs or len(pairs) != len(tokens) or any(_VOLATILE.search(k) for k, _ in pairs):
        return
    for key, value in pairs:
        run.printed_config.setdefault(key, value)


EVIDENCE_HANDLERS: list[tuple[re.Pattern, Callable[[ParsedRun, re.Match, int], None]]] = [
    (_CALIBRATION_PART, _add("calibration_s")),
    (_CALIBRATION_TOTAL, _setter("calibration_total_s", float)),
    (_SERIALIZE_PART, _add("serialize_s")),
    (re.compile(rf"^serialize_wallclock:\s*({_NUM})\s*s\b"), _setter("serialize_wallclock_s", float)),
    (re.compile(r"^.*?\btokenizer_path[=:]\s*(\S+)"), _on_tokenizer),
]


_ALL_HANDLERS = HANDLERS + EVIDENCE_HANDLERS

# --------------------------------------------------------------------------- reading


def _read_block(run: ParsedRun, lines: list[str], i: int) -> int:
    """Read a `Hyperparameters:` block of indented `key: value` lines from lines[i]; returns the next index."""
    while i < len(lines) and lines[i][:1] in (" ", "\t") and ":" in lines[i]:
        key, _, value = lines[i].strip().partition(":")
        run.hyperparameters[key.strip()] = value.strip()
        _on_fact(run, key.strip(), value.strip())
        i += 1
    return i


def _read_line(run: ParsedRun, line: str, lineno: int) -> None:
    _on_config_line(run, line)
    if read_free_text(run, line, lineno):
        return
    for pattern, handle in _ALL_HANDLERS:
        if m := pattern.match(line):
            handle(run, m, lineno)
            return
    if ("bpb" in line or "BPB" in line or "Bpb" in line) and (parsed := stage_line(line)):
        _on_stage(run, parsed, lineno)
        return
    pairs = dict(_ARG_DUMP.findall(line))
    if len(pairs) >= 3 and pairs.keys() & {"seed", "world_size", "max_wallclock_seconds"}:
        for key, value in pairs.items():  # a one-line argument dump
            run.hyperparameters.setdefault(key, value)
            _on_fact(run, key, value.rstrip(",)"))
    elif "max_wallclock_seconds:" in line or line.startswith("train_batch_tokens:"):
        for key in ("max_wallclock_seconds", "iterations"):
            if w := re.search(rf"\b{key}:\s*({_NUM})", line):
                _on_fact(run, key, w.group(1))


_SEED_LINE = re.compile(r"^\s*seed\s*[:=]\s*(\d+)\s*$|(?:^|[\s,(])seed=(\d+)(?=[\s,)]|$)")


def _parse(lines: list[str], file: str, start: int, end: int, partial: str | None) -> ParsedRun:
    run = ParsedRun(file=file, truncated=partial is not None, partial_line=partial)
    i = start
    while i < end:
        if lines[i].strip() == "Hyperparameters:":
            i = _read_block(run, lines[:end], i + 1)
            continue
        _read_line(run, lines[i], i + 1)
        i += 1
    run = run.chosen(None)
    if run.error and run.steps is not None and not run.stopped_early and run.iterations is not None \
            and run.steps < run.iterations:
        run.truncated = True
    return run


def _segments(lines: list[str], start: int) -> list[tuple[int, int]]:
    """Several runs concatenated in one log: a new run starts after the last stage line before a line that
    prints another seed. One run (the whole log) when the log prints one seed."""
    seeds = [(i, int(m.group(1) or m.group(2))) for i in range(start, len(lines))
             if "seed" in lines[i] and (m := _SEED_LINE.search(lines[i]))]
    if len({seed for _, seed in seeds}) < 2:
        return [(start, len(lines))]
    cuts, current, last_stage, begin = [], seeds[0][1], None, start
    stage_at = [i for i in range(start, len(lines)) if stage_line(lines[i])]
    for i, seed in seeds:
        before = [j for j in stage_at if begin <= j < i]
        if seed != current and before:
            last_stage = before[-1]
            cuts.append((begin, last_stage + 1))
            begin = last_stage + 1
        current = seed
    return cuts + [(begin, len(lines))]


def _split_seed_stages(run: ParsedRun) -> list[ParsedRun]:
    """Stages named with a seed (`final_ttt_s0`, `final_ttt_s1`): one run per seed when there are several."""
    if len(run.seed_stages) < 2:
        for stages in run.seed_stages.values():
            for key, stage in stages.items():
                run.stages.setdefault(key, stage)
        run.seed_stages = {}
        return [run.chosen(None)]
    out = [run] if run.stages else []
    for seed, stages in sorted(run.seed_stages.items()):
        out.append(replace(run, seed=seed, stages=dict(stages), seed_stages={}, part=f"seed {seed}").chosen(None))
    run.seed_stages = {}
    return out


def read_log_runs(text: str, file: str = "<text>") -> list[ParsedRun]:
    """Every run one log holds: usually one; several when runs of other seeds were concatenated into it (split
    by the seed each prints) or when its stage names carry the seed. Each is named `file [seed N]` then."""
    lines, partial = clean_lines(text)
    start = code_dump_end(lines)
    dump = dump_lines(lines[:start - 1]) if start else None
    parts = _segments(lines, start)
    runs = []
    for k, (a, b) in enumerate(parts):
        run = _parse(lines, file, a, b, partial if k == len(parts) - 1 else None)
        if dump is not None:
            run.code_dump_sha256, run.code_dump_lines = lines_sha256(dump), len(dump)
        if len(parts) > 1:
            run.part = f"seed {run.seed}" if run.seed is not None else f"part {k + 1}"
        runs += _split_seed_stages(run)
    return runs


def read_log_text(text: str, file: str = "<text>") -> ParsedRun:
    """Parse one log's text into a ParsedRun with every stage; the default stage is chosen (see choose).
    A log of several runs gives its last (`read_log_runs` gives each)."""
    return read_log_runs(text, file)[-1]


def read_log(path: str | Path) -> ParsedRun:
    """Read one log file (its last run, see read_log_text); DataError only when the file cannot be read."""
    return read_log_file_runs(path)[-1]


def read_log_file_runs(path: str | Path) -> list[ParsedRun]:
    """Every run of one log file (see read_log_runs); DataError only when the file cannot be read at all."""
    p = Path(path)
    data = read_bytes(p, "log")  # the one bound of every file (inputs.bound())
    return with_hash(read_log_runs(data.decode("utf-8", errors="replace"), file=str(p)), data)


def with_hash(runs: list[ParsedRun], data: bytes) -> list[ParsedRun]:
    """Every run of one file carries the file's sha256 (and, split, its part): the same log twice inflates n."""
    digest = hashlib.sha256(data).hexdigest()
    for r in runs:
        r.sha256 = digest if r.part is None else f"{digest}#{r.part}"
    return runs
