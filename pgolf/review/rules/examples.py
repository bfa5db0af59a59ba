"""Small inputs for the rules' docstring examples (run as tests by tests/review/rules/test_examples.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pgolf.review.judge.record import load_record
from pgolf.review.read.log import ParsedRun, read_log_text
from pgolf.review.read.names import labels
from pgolf.review.read.scripts import Script
from pgolf.review.rules.inputs import FolderInput, RecordInput, RecordRunInput, RunInput, RunsInput


def log(*lines: str, file: str = "train_seed1.log") -> ParsedRun:
    """A train log of these lines, read as the reader reads a file."""
    return read_log_text("\n".join(lines) + "\n", file)


def one(*lines: str, file: str = "train_seed1.log") -> RunInput:
    """The input of a run rule: the log of these lines."""
    r = log(*lines, file=file)
    return RunInput(r, r.name)


def folder_input(*lines: str, file: str = "train_seed1.log", script: str = "") -> FolderInput:
    """The input of a folder rule: one claimed log of these lines beside a `train_gpt.py` of `script`."""
    r = log(*lines, file=file)
    scripts = [Script("train_gpt.py", len(script), len(script), tuple(script.splitlines()), "", False)] \
        if script else []
    return FolderInput([r], [r], None, scripts, labels([r]))


def several(*runs: ParsedRun) -> RunsInput:
    """The input of a counted-runs rule."""
    return RunsInput(runs, labels(runs))


def texts(flags: list) -> list[str]:
    """`severity: text` of each flag, as the reports print them."""
    return [f"{f.severity}: {f.text}" for f in flags]


@dataclass(frozen=True)
class MemoryFolder:
    """A record folder held in memory (FolderFiles): file path -> text."""

    files: Mapping[str, str]
    name: str = "2026-03-19_Example"

    @property
    def label(self) -> str:
        return self.name

    def paths(self) -> list[str]:
        return sorted(self.files)

    def size(self, rel: str) -> int:
        return len(self.read(rel))

    def read(self, rel: str) -> bytes:
        return self.files[rel].encode("utf-8")

    def file_label(self, rel: str) -> str:
        return rel

    def left_out(self) -> list[str]:
        return []


def folder(**files: str) -> MemoryFolder:
    """A folder of these files, each a finished file (ending in a newline); `train_seed1_log` names
    `train_seed1.log` (keywords hold no dot)."""
    return MemoryFolder({_path(k): v if v.endswith("\n") else v + "\n" for k, v in files.items()})


def record(**files: str) -> RecordInput:
    """The input of a record rule: the folder of these files read and matched as check-record reads it."""
    return RecordInput(load_record(folder(**files)))


def record_run(name: str, **files: str) -> RecordRunInput:
    """The input of a per-log record rule: the record of these files and its log `name`."""
    rec = load_record(folder(**files))
    run = next(r for r in rec.runs if r.name == name)
    return RecordRunInput(rec, run, run.name)


def _path(key: str) -> str:
    for ext in ("_log", "_txt", "_json", "_py", "_md"):
        if key.endswith(ext):
            return key[: -len(ext)] + "." + ext[1:]
    return key
