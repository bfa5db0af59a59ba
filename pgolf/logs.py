"""Read parameter-golf train logs (the published format) into one record per run.

A published log is the training script's own source (the code dump), a
separator line of `=`, the Python/PyTorch versions and an `nvidia-smi` table,
another separator, then `key:value` lines: `world_size:8 grad_accum_steps:1`,
`seed:1337`, warm-up lines, `step:N/TOTAL ...` lines, `stopping_early: ...`, the
artifact sizes and the `final_*` evaluation lines. Later records add lines and
other `final_*` tags; the parser reads what it knows and ignores the rest.

Robustness rules (why they exist)
- Patterns are anchored at the start of a line and need numbers, so the code
  dump (where the same words appear inside f-strings) never matches; if the text
  before the first separator looks like Python, it is skipped outright.
- A file that does not end in a newline was cut off while writing: its last,
  partial line is dropped (a cut `val_bpb:1.19` would otherwise read as 1.19).
- A run with no final metric is not an exception: `RunLog.error` says what is
  missing and the other runs still count.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pgolf.errors import DataError

# Tags that name the same evaluation stage: some published logs of record #77 print
# `final_ttt_lora`, the others `final_int8_ttt_lora`.
TAG_ALIASES: dict[str, str] = {"final_ttt_lora": "final_int8_ttt_lora"}

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SEPARATOR = re.compile(r"^={20,}\s*$")
_TAG = r"[A-Za-z][\w\-]*(?: [A-Za-z][\w\-]*)*"  # one or more words: `final_ttt_lora`, `diagnostic quantized`
_RE = {
    "world": re.compile(r"^world_size:\s*(\d+)(?:\s+grad_accum_steps:\s*(\d+))?\b"),
    "seed": re.compile(r"^seed:\s*(\d+)\s*$"),
    "params": re.compile(r"^model_params:\s*(\d+)\b"),
    "wallclock": re.compile(rf"\bmax_wallclock_seconds:\s*({_NUM})"),
    "iterations": re.compile(r"\biterations:\s*(\d+)\b"),
    "step": re.compile(r"^step:\s*(\d+)/(\d+)\b(.*)$"),
    "train_time": re.compile(r"\btrain_time:\s*(\d+(?:\.\d+)?)ms"),
    "step_avg": re.compile(rf"\bstep_avg:\s*({_NUM})ms"),
    "stop": re.compile(r"^stopping_early:\s*(\S+)?.*?\btrain_time:\s*(\d+(?:\.\d+)?)ms\s+step:\s*(\d+)/(\d+)"),
    "model_bytes": re.compile(r"^Serialized model (\S+): (\d+) bytes"),
    "total_bytes": re.compile(r"^Total submission size (\S+): (\d+) bytes"),
    "code_bytes": re.compile(r"^Code size: (\d+) bytes"),
    "metric": re.compile(rf"^({_TAG}) val_loss:\s*({_NUM})\s+val_bpb:\s*({_NUM})(.*)$"),
    "eval_time": re.compile(rf"\beval_time:\s*({_NUM})ms"),
    "cut_metric": re.compile(rf"^({_TAG}) val_loss:"),
    "gpu_row": re.compile(r"^\|\s+(\d+)\s+(NVIDIA [^|]*?|Tesla [^|]*?)\s{2,}\S+\s+\|"),
}


def canonical_tag(tag: str) -> str:
    """The stage a tag names: `_exact` dropped, known aliases mapped to one spelling."""
    stage = tag[: -len("_exact")] if tag.endswith("_exact") else tag
    return TAG_ALIASES.get(stage, stage)


@dataclass
class Stage:
    """One evaluation stage (a `final_*` tag, with its optional `_exact` twin)."""

    tag: str  # as printed (without `_exact`)
    val_loss: float | None = None  # printed (4 decimals in the reference)
    val_bpb: float | None = None
    eval_time_ms: float | None = None
    exact_val_loss: float | None = None  # from the `_exact` line (8 decimals), when printed
    exact_val_bpb: float | None = None
    line: int = 0  # last line number that reported this stage (1-based)

    @property
    def best_loss(self) -> float | None:
        return self.exact_val_loss if self.exact_val_loss is not None else self.val_loss

    @property
    def best_bpb(self) -> float | None:
        return self.exact_val_bpb if self.exact_val_bpb is not None else self.val_bpb


@dataclass
class RunLog:
    """Everything check-logs needs from one train log. None: the log did not say."""

    file: str
    sha256: str | None = None  # of the file's bytes: the same log passed twice inflates n
    seed: int | None = None
    world_size: int | None = None
    grad_accum_steps: int | None = None
    gpus_listed: int | None = None  # rows of the nvidia-smi table
    gpu_name: str | None = None
    model_params: int | None = None
    steps: int | None = None  # last step reached
    iterations: int | None = None
    max_wallclock_seconds: float | None = None
    stopped_early: bool = False
    stop_reason: str | None = None
    train_time_ms: float | None = None
    step_avg_ms: float | None = None
    model_bytes: int | None = None  # compressed artifact (`Serialized model <format>:`)
    total_bytes: int | None = None  # artifact + code (`Total submission size <format>:`)
    size_format: str | None = None  # e.g. int8+zlib
    code_bytes: int | None = None
    metric: str | None = None  # tag of the chosen stage, as printed
    val_loss: float | None = None  # chosen stage, exact digits when the log prints them
    val_bpb: float | None = None
    eval_time_ms: float | None = None
    exact: bool = False  # val_loss/val_bpb came from an `_exact` line
    eval_time_total_ms: float | None = None  # every final_* stage together
    roundtrip_exact_val_loss: float | None = None  # flat-stream `final_*_roundtrip_exact`
    roundtrip_exact_val_bpb: float | None = None
    truncated: bool = False
    partial_line: str | None = None  # the cut-off last line of a truncated file
    error: str | None = None
    stages: dict[str, Stage] = field(default_factory=dict)  # canonical tag -> stage

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def name(self) -> str:
        return Path(self.file).name

    def row(self) -> dict[str, Any]:
        """Flat dict for runs.csv (stages left out)."""
        d = asdict(self)
        d.pop("stages")
        return d


def _f(s: str) -> float:
    return float(s)


def _code_dump_end(lines: list[str]) -> int:
    """Index of the first line after the code dump (0 when the log has none)."""
    for i, line in enumerate(lines):
        if _SEPARATOR.match(line):
            head = lines[:i]
            looks_like_code = any(
                ln.startswith(("import ", "from ", "def ", "class ")) for ln in head
            )
            return i + 1 if looks_like_code else 0
    return 0


def parse_log_text(text: str, file: str = "<text>", metric: str | None = None) -> RunLog:
    """Parse one log's text. `metric` names a stage (any spelling or alias, with or without
    `_exact`); by default the last `final_*` stage the log reports is chosen."""
    run = RunLog(file=file)
    lines = text.splitlines()
    if text and not text.endswith(("\n", "\r")):
        run.truncated = True
        run.partial_line = lines[-1].rstrip()
        lines = lines[:-1]  # the last line was cut while being written
    start = _code_dump_end(lines)
    stages: dict[str, Stage] = {}
    for lineno, raw in enumerate(lines[start:], start=start + 1):
        line = raw.rstrip()
        if m := _RE["metric"].match(line):
            tag, loss, bpb, rest = m.group(1), _f(m.group(2)), _f(m.group(3)), m.group(4)
            stage = stages.setdefault(canonical_tag(tag), Stage(tag=tag.removesuffix("_exact")))
            if tag.endswith("_exact"):
                stage.exact_val_loss, stage.exact_val_bpb = loss, bpb
            else:
                stage.tag, stage.val_loss, stage.val_bpb = tag, loss, bpb
                if t := _RE["eval_time"].search(rest):
                    stage.eval_time_ms = _f(t.group(1))
            stage.line = lineno
            continue
        if m := _RE["step"].match(line):
            run.steps, run.iterations = int(m.group(1)), int(m.group(2))
            if t := _RE["train_time"].search(m.group(3)):
                run.train_time_ms = _f(t.group(1))
            if a := _RE["step_avg"].search(m.group(3)):
                run.step_avg_ms = _f(a.group(1))
            continue
        if m := _RE["stop"].match(line):
            run.stopped_early = True
            run.stop_reason = m.group(1)
            run.train_time_ms = _f(m.group(2))
            run.steps, run.iterations = int(m.group(3)), int(m.group(4))
            continue
        if m := _RE["world"].match(line):
            run.world_size = int(m.group(1))
            if m.group(2) is not None:
                run.grad_accum_steps = int(m.group(2))
            continue
        if m := _RE["seed"].match(line):
            run.seed = int(m.group(1))
            continue
        if m := _RE["params"].match(line):
            run.model_params = int(m.group(1))
            continue
        if m := _RE["model_bytes"].match(line):
            run.model_bytes, run.size_format = int(m.group(2)), m.group(1)
            continue
        if m := _RE["total_bytes"].match(line):
            run.total_bytes, run.size_format = int(m.group(2)), m.group(1)
            continue
        if m := _RE["code_bytes"].match(line):
            run.code_bytes = int(m.group(1))
            continue
        if m := _RE["gpu_row"].match(line):
            run.gpus_listed = max(run.gpus_listed or 0, int(m.group(1)) + 1)
            run.gpu_name = m.group(2).strip()
            continue
        if line.startswith("train_batch_tokens:") or "max_wallclock_seconds:" in line:
            if w := _RE["wallclock"].search(line):
                run.max_wallclock_seconds = _f(w.group(1))
            if it := _RE["iterations"].search(line):
                run.iterations = run.iterations or int(it.group(1))
    run.stages = stages
    _choose_metric(run, metric)
    if run.error and run.steps is not None and not run.stopped_early and run.iterations is not None \
            and run.steps < run.iterations:
        run.truncated = True
    return run


def _choose_metric(run: RunLog, metric: str | None) -> None:
    finals = [s for key, s in run.stages.items() if key.startswith("final_")]
    times = [s.eval_time_ms for s in finals if s.eval_time_ms is not None]
    run.eval_time_total_ms = float(sum(times)) if times else None
    for key, s in run.stages.items():
        if key.startswith("final_") and key.endswith("_roundtrip") and s.exact_val_bpb is not None:
            run.roundtrip_exact_val_loss, run.roundtrip_exact_val_bpb = s.exact_val_loss, s.exact_val_bpb
    cut = _RE["cut_metric"].match(run.partial_line or "")
    if cut and (metric is None or canonical_tag(cut.group(1)) == canonical_tag(metric)):
        # the stage being printed when the file was cut is the one that counts, and it is incomplete
        run.error = f"the log is cut off inside its last line `{run.partial_line}`"
        return
    if metric is not None:
        chosen = run.stages.get(canonical_tag(metric))
        if chosen is None:
            run.error = f"no `{metric}` line (stages in this log: {_seen(run)})"
            return
    else:
        # the last stage reported is the last one the run evaluated
        chosen = max(finals, key=lambda s: s.line) if finals else None
        if chosen is None:
            where = f" (log ends at step {run.steps}/{run.iterations})" if run.steps is not None else ""
            cut = ", cut off mid-line" if run.truncated else ""
            other = f"; other stages: {_seen(run)} (name one with --metric)" if run.stages else ""
            run.error = f"no final metric line (final_*){where}{cut}{other}"
            return
    run.metric = chosen.tag
    run.val_loss, run.val_bpb = chosen.best_loss, chosen.best_bpb
    run.exact = chosen.exact_val_bpb is not None
    run.eval_time_ms = chosen.eval_time_ms
    if run.val_bpb is None or not math.isfinite(run.val_bpb):
        run.error = f"`{chosen.tag}` reports no finite val_bpb"


def _seen(run: RunLog) -> str:
    return ", ".join(f"`{s.tag}`" for s in sorted(run.stages.values(), key=lambda s: s.line)) or "none"


def parse_log(path: str | Path, metric: str | None = None) -> RunLog:
    """Parse one log file; DataError only when the file cannot be read at all."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise DataError(f"log {p}: no such file; check the path") from None
    except OSError as exc:
        raise DataError(f"log {p}: cannot read it ({exc.strerror or exc})") from None
    run = parse_log_text(data.decode("utf-8", errors="replace"), file=str(p), metric=metric)
    run.sha256 = hashlib.sha256(data).hexdigest()
    return run
