"""The rules of one run and of the counted runs together, applied from the registry (`pgolf.review.rules`).

`error`: the rule as written is broken or the evidence is missing (over-cap artifact, wrong GPU
count, a claim no log shows). `warn`: worth a reviewer's look but not disqualifying by itself
(a training overrun of a few hundred ms, two runs, a non-standard data split).
"""

from __future__ import annotations

from collections.abc import Sequence

from pgolf.review.model import Flag
from pgolf.review.read.log import ParsedRun
from pgolf.review.read.names import labels
from pgolf.review.rules import run_scope
from pgolf.review.rules.inputs import RunInput, RunsInput
from pgolf.review.settings import MIN_RUNS


def run_flags(r: ParsedRun, who: str, code_bytes: int | None = None) -> list[Flag]:
    """The rules one run breaks (scopes `log`, then `run` when it is readable). `code_bytes`: the submission's
    code size, when the log prints none."""
    x = RunInput(r, who, code_bytes)
    out = run_scope("log", x)
    return out if r.error else out + run_scope("run", x)


def set_flags(runs: Sequence[ParsedRun], min_runs: int = MIN_RUNS) -> list[Flag]:
    """Rules about the counted runs together (scope `counted`): duplicates, repeated seeds, too few, mixed stages."""
    return run_scope("counted", RunsInput(runs, labels(runs), min_runs))
