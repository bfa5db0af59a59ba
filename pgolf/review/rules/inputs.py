"""What each rule scope looks at: one typed input per scope, built by the driver that applies it.

| scope       | input            | applied to                                                   |
|-------------|------------------|--------------------------------------------------------------|
| log         | RunInput         | every log of a submission, readable or not                   |
| run         | RunInput         | every readable log                                           |
| scored      | RunInput         | every log that printed a stage (the evidence checks)         |
| counted     | RunsInput        | the runs counted for the claim together                      |
| folder      | FolderInput      | the folder's scripts against its logs                        |
| file        | RecordRunInput   | one log of a record beside its claim (before its run rules)  |
| headline    | RecordInput      | how the headline was formed                                  |
| claim       | RecordInput      | submission.json against the logs                             |
| claim-run   | RecordRunInput   | one log against the claimed seeds                            |
| claimed-size| RecordInput      | submission.json's byte counts                                |
| readme      | RecordInput      | the README's per-seed numbers                                |
| previous    | PreviousInput    | a --previous log of check-logs                               |
| audit       | AuditInput       | every submission of an audit together                        |
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pgolf.review.read.bytecount import ByteSettings, RatioEntry
from pgolf.review.read.log import ParsedRun
from pgolf.review.read.record import RecordCheck
from pgolf.review.read.scripts import Script
from pgolf.review.settings import MIN_RUNS
from pgolf.review.sources.folder import FolderFiles


@dataclass(frozen=True)
class RunInput:
    run: ParsedRun
    who: str  # the run's label in reports
    code_bytes: int | None = None  # the submission's code size, when the log prints none
    bytes: ByteSettings = field(default_factory=ByteSettings)


@dataclass(frozen=True)
class RunsInput:
    runs: Sequence[ParsedRun]
    label: Mapping[int, str]
    min_runs: int = MIN_RUNS


@dataclass(frozen=True)
class FolderInput:
    runs: Sequence[ParsedRun]  # every train log
    counted: Sequence[ParsedRun]  # the claimed runs
    files: FolderFiles | None
    scripts: Sequence[Script]
    label: Mapping[int, str]


@dataclass(frozen=True)
class RecordInput:
    rec: RecordCheck


@dataclass(frozen=True)
class RecordRunInput:
    rec: RecordCheck
    run: ParsedRun
    who: str


@dataclass(frozen=True)
class PreviousInput:
    run: ParsedRun
    metric: str  # the stage asked for; the run fell back to its own


@dataclass(frozen=True)
class AuditInput:
    entries: Sequence[RatioEntry]
    bytes: ByteSettings = field(default_factory=ByteSettings)
