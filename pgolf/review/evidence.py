"""The evidence checks reviewers ran by hand, as flags: byte accounting, code and configuration provenance, time.

API: `evidence_flags(runs, counted, files, settings) -> list[Flag]` for one submission (check-record,
audit), `loose_evidence_flags(runs, settings)` for loose logs (check-logs: no folder, so no code
check). Each flag names its check (`bytes`, `code`, `config`, `time`) and carries its numbers.
The audit-wide byte comparison of runs without val_tokens is `bytecount.ratio_flags`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from pgolf.review import bytecount, codecheck, configcheck, timing
from pgolf.review.bytecount import ByteSettings
from pgolf.review.flags import Flag, labels
from pgolf.review.reader import ParsedRun
from pgolf.review.source import FolderFiles


@dataclass(frozen=True)
class EvidenceSettings:
    bytes: ByteSettings = field(default_factory=ByteSettings)


def run_evidence_flags(runs: Sequence[ParsedRun], settings: EvidenceSettings = EvidenceSettings()) -> list[Flag]:
    """Per-run checks: the byte fingerprint and time accounting of every run that has a stage."""
    label = labels(runs)
    out: list[Flag] = []
    for r in runs:
        if r.stages:
            out += bytecount.byte_flags(r, label[id(r)], settings.bytes) + timing.time_flags(r, label[id(r)])
    return out


def loose_evidence_flags(runs: Sequence[ParsedRun], settings: EvidenceSettings = EvidenceSettings()) -> list[Flag]:
    """check-logs: every per-run check, and the configuration compared across the runs that count."""
    good = [r for r in runs if r.ok]
    return run_evidence_flags(runs, settings) + configcheck.config_flags(good, labels(good))


def evidence_flags(runs: Sequence[ParsedRun], counted: Sequence[ParsedRun], files: FolderFiles,
                   settings: EvidenceSettings = EvidenceSettings()) -> list[Flag]:
    """Every evidence check of one submission: `runs` every train log, `counted` the claimed runs, `files`
    the folder (its scripts)."""
    label = labels(runs)
    scripts = codecheck.read_scripts(files)
    out = run_evidence_flags(runs, settings)
    out += codecheck.dump_flags(runs, files, scripts, label) + codecheck.code_size_flags(runs, scripts, label)
    out += configcheck.config_flags(list(counted), label)
    main = next((s for s in scripts if PurePosixPath(s.rel).name == "train_gpt.py"), None)
    if main is not None and counted:
        defaults = configcheck.script_defaults("\n".join(main.lines))
        out += configcheck.default_flags(list(counted), defaults, main.rel)
    return out
