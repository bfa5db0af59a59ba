"""Lines a log prints in free text rather than as `key:value` tokens: the validation split's token count in
every shape seen in real logs, and the GatedDeltaNet family's `Seed:`, `World size:` and `Artifact:` lines."""

from __future__ import annotations

import re
from collections.abc import Callable

from pgolf.review.model import ParsedRun

# Every shape in which a log prints the validation split's token count (commas stripped): `val_loader:shards
# pattern=P tokens:N`, `val_tokens: N` (also `[default0]:`-prefixed, `train_loader:dataset:D train_shards:N
# val_tokens:N`, `data: D train_shards:N val_tokens:N`), `val_loader:tokens:N`, `val:P tokens:N`,
# `Validation tokens: 40,540,160`, `Val tokens: N`, `[ValEval] Loaded 62,021,846 tokens`, `caseops_assertions
# ... val_tokens_len:N`. Anchored, so the code dump's `val_batch_tokens = int(os.environ...)` never matches.
_VAL_TOKENS = re.compile(
    r"^(?:\[default\d+\]:)?\s*(?:"
    r"val_loader:shards\s+pattern=\S+\s+tokens:\s*(?P<a>\d+)"
    r"|(?:(?:train_loader:dataset:|data:\s+)\S+\s+train_shards:(?P<shards>\d+)\s+)?val_tokens:\s*(?P<b>\d+)\b"
    r"|val_loader:tokens:(?P<c>\d+)"
    r"|val:\S+\s+tokens:(?P<d>\d+)"
    r"|(?:Validation|Val)\s+tokens:\s*(?P<e>\d{1,3}(?:,\d{3})+|\d+)"
    r"|(?:\[ValEval\]\s+)?Loaded\s+(?P<f>\d[\d,]*)\s+tokens\s+from\s+\S*val"
    r"|caseops_assertions\b.*?\bval_tokens_len:(?P<g>\d+))")


def _on_val_tokens(run: ParsedRun, m: re.Match, lineno: int) -> None:
    count = next(v for k, v in m.groupdict().items() if k != "shards" and v is not None)
    run.val_tokens = int(count.replace(",", ""))
    if m.group("shards"):
        run.train_shards = int(m.group("shards"))


def _on_free_seed(run: ParsedRun, m: re.Match, lineno: int) -> None:
    run.seed = int(m.group(1))
    if m.group(2):
        run.world_size = int(m.group(2))


def _on_free_artifact(run: ParsedRun, m: re.Match, lineno: int) -> None:
    # `Artifact: 15,595,190 bytes (14.87 MB)`, `Artifact size: N bytes`: model + code, as the family prints it;
    # `Artifact: 15103390 bytes, code: 61581 bytes, total: 15164971 bytes` names its total
    total = m.group(2) or m.group(1)
    if run.total_bytes is None:
        run.total_bytes = int(total.replace(",", ""))


def _on_free_world(run: ParsedRun, m: re.Match, lineno: int) -> None:
    run.world_size, run.grad_accum_steps = int(m.group(1)), int(m.group(2))


# GPTQ calibration after the training loop: `gptq:calibrating with training data...`, `gptq:calibrating with 256
# batches...`, `GPTQ:collecting Hessians from calibration data...`, `gptq:generating autoregressive calibration
# data`; the reserve before the cap: `gptq:reserving 12s, effective=588000ms`, `gptq:budget_check train:...`
# (the timed lines, `gptq:calibrated 68 layers in 4.3s`, are the reader's evidence lines: not matched here)
_CALIBRATING = re.compile(r"^(?:gptq|GPTQ):\s*(?:calibrating|collecting|building calibration|generating)\b.*",
                          re.IGNORECASE)
_TRAIN_DATA = re.compile(r"training data|training batches|train data|train_loader|train shard", re.IGNORECASE)
_GENERATED = re.compile(r"autoregressive|self-generated|generat", re.IGNORECASE)


def _on_calibrating(run: ParsedRun, m: re.Match, lineno: int) -> None:
    line = m.group(0)
    run.calibration_line = run.calibration_line or line.strip()[:160]
    if _GENERATED.search(line):
        run.calibration_data = "generated"
    elif _TRAIN_DATA.search(line) and run.calibration_data is None:
        run.calibration_data = "train"


def _on_budget(run: ParsedRun, m: re.Match, lineno: int) -> None:
    # an effective cap under 600 s is the reserve; a budget check line shows the script counted calibration in
    run.calibration_reserve_ms = max(0.0, 600_000.0 - float(m.group(1))) if m.group(1) else \
        max(run.calibration_reserve_ms or 0.0, 1.0)


def _on_reserve(run: ParsedRun, m: re.Match, lineno: int) -> None:
    if run.calibration_reserve_ms is None:  # the `gptq:reserving ... effective=` line, when printed, decides
        run.calibration_reserve_ms = float(m.group(2)) * 1000


FREE_TEXT_HANDLERS: list[tuple[re.Pattern, Callable[[ParsedRun, re.Match, int], None]]] = [
    (_VAL_TOKENS, _on_val_tokens),
    (re.compile(r"^gptq:reserving\s.*?\beffective=(\d+(?:\.\d+)?)ms|^gptq:budget_check\b()"), _on_budget),
    (re.compile(r"^gptq_reserve_(?:seconds|s)?:\s*()(\d+(?:\.\d+)?)\s*$"), _on_reserve),
    (_CALIBRATING, _on_calibrating),
    # `Seed: 1337, Steps: 7000, Warmdown: 2100` (Steps is the budget, not the stop), `Seed: 300 | GPUs: 8`,
    # `World size: 8, Grad accum: 1`, `Artifact: 15,595,190 bytes (14.87 MB)` (a path after `Artifact:` is skipped)
    (re.compile(r"^Seed:\s*(\d+)(?:\s*\|\s*GPUs:\s*(\d+))?(?=[\s,|]|$)"), _on_free_seed),
    (re.compile(r"^World size:\s*(\d+),\s*Grad accum:\s*(\d+)"), _on_free_world),
    (re.compile(r"^Artifact(?: size)?:\s*(\d[\d,]*)\s+bytes(?:.*?\btotal:\s*(\d+)\s+bytes)?"), _on_free_artifact),
]

# what every line above starts with: one match per log line before the handlers are tried
_START = re.compile(r"\s*(?:\[default|val|Val|train_loader|data:|\[ValEval|Loaded|caseops|Seed:|World size|Artifact|"
                    r"gptq|GPTQ)")


def read_free_text(run: ParsedRun, line: str, lineno: int) -> bool:
    """Read `line` when it is one of the free-text lines above; False when it is none (other handlers try)."""
    if not _START.match(line):
        return False
    for pattern, handle in FREE_TEXT_HANDLERS:
        if m := pattern.match(line):
            handle(run, m, lineno)
            return True
    return False
