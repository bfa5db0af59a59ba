"""The evidence checks reviewers ran by hand, as flags: byte accounting, code and configuration provenance, time.

API: `evidence_flags(runs, counted, files, settings) -> list[Flag]` for one submission (check-record,
audit), `loose_evidence_flags(runs, settings)` for loose logs (check-logs: no folder, so no code
check). Each flag names its rule and check (`bytes`, `code`, `config`, `time`) and carries its numbers.
The audit-wide byte comparison of runs without val_tokens is the rule `bytes.ratio`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pgolf.review.model import Flag
from pgolf.review.read.bytecount import ByteSettings
from pgolf.review.read.log import ParsedRun
from pgolf.review.read.names import labels
from pgolf.review.read.scripts import read_scripts
from pgolf.review.rules import config, run_scope
from pgolf.review.rules.inputs import FolderInput, RunInput
from pgolf.review.sources.folder import FolderFiles


@dataclass(frozen=True)
class EvidenceSettings:
    bytes: ByteSettings = field(default_factory=ByteSettings)


def run_evidence_flags(runs: Sequence[ParsedRun], settings: EvidenceSettings = EvidenceSettings()) -> list[Flag]:
    """Per-run checks (scope `scored`): the byte fingerprint and time accounting of every run that has a stage."""
    label = labels(runs)
    return [f for r in runs if r.stages for f in run_scope("scored", RunInput(r, label[id(r)], bytes=settings.bytes))]


def loose_evidence_flags(runs: Sequence[ParsedRun], settings: EvidenceSettings = EvidenceSettings()) -> list[Flag]:
    """check-logs: every per-run check, and the configuration compared across the runs that count."""
    good = [r for r in runs if r.ok]
    return run_evidence_flags(runs, settings) + config.runs_differ(FolderInput(good, good, None, (), labels(good)))


def evidence_flags(runs: Sequence[ParsedRun], counted: Sequence[ParsedRun], files: FolderFiles,
                   settings: EvidenceSettings = EvidenceSettings()) -> list[Flag]:
    """Every evidence check of one submission: `runs` every train log, `counted` the claimed runs, `files`
    the folder (its scripts)."""
    folder = FolderInput(runs, counted, files, read_scripts(files), labels(runs))
    return run_evidence_flags(runs, settings) + run_scope("folder", folder)
