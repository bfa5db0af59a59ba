"""Small inputs for the rules' docstring examples (run as tests by tests/review/rules/test_examples.py)."""

from __future__ import annotations

from pgolf.review.reader import ParsedRun, read_log_text
from pgolf.review.rules.inputs import RunInput, RunsInput
from pgolf.review.runlabel import labels


def log(*lines: str, file: str = "train_seed1.log") -> ParsedRun:
    """A train log of these lines, read as the reader reads a file."""
    return read_log_text("\n".join(lines) + "\n", file)


def one(*lines: str, file: str = "train_seed1.log") -> RunInput:
    """The input of a run rule: the log of these lines."""
    r = log(*lines, file=file)
    return RunInput(r, r.name)


def several(*runs: ParsedRun) -> RunsInput:
    """The input of a counted-runs rule."""
    return RunsInput(runs, labels(runs))


def texts(flags: list) -> list[str]:
    """`severity: text` of each flag, as the reports print them."""
    return [f"{f.severity}: {f.text}" for f in flags]
