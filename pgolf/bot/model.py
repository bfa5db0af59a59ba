"""The bot's typed review of a pull request: what the judge hands to the comment, the annotations and JSON.

Values only (no logic beyond what a field means); `as_dict` is the JSON edge.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

HOLDS = "accepted"  # the one verdict status under which a claim holds as a record


FORMATS = ("markdown", "github", "json")  # what `review-pr --format` prints on stdout

@dataclass(frozen=True)
class Finding:
    """One finding: the rule that raised it, where, what, and what would fix it."""

    rule: str  # the rule's id (today the evidence check that raised it, `rules` for the written rules)
    severity: str  # error or warn
    file: str  # path in the repository
    line: int | None
    text: str
    fix: str


@dataclass(frozen=True)
class SeedRow:
    """One claimed seed or counted log: what submission.json claims and what the log shows."""

    seed: str
    claimed_bpb: str | None  # as submission.json writes it
    log_bpb: float | None  # the log's value at the claimed stage
    total_bytes: int | None  # the artifact, model + code
    implied_bytes: float | None  # validation bytes the log's val_tokens, val_loss and val_bpb imply
    train_ms: float | None
    eval_ms: float | None
    file: str | None  # the log, in the repository


@dataclass(frozen=True)
class Standing:
    """The record a folder was judged against: the frontier standing on the base."""

    key: str  # `#123 folder-name`
    pr: int | None
    mean_bpb: float | None
    n: int


@dataclass(frozen=True)
class FolderReview:
    folder: str  # path in the repository
    status: str  # the verdict: accepted, not better, held for review, over the cap, ...
    reasons: str
    claimed_bpb: str | None
    stage: str | None
    mean_bpb: float | None
    n: int
    size_cap: int
    max_total_bytes: int | None  # the largest artifact size logged or claimed
    seeds: tuple[SeedRow, ...]
    standing: Standing | None
    p_standing: float | None  # one-sided Welch, no margin (the practice)
    p_standing_margin: float | None  # with the written margin
    method: str | None  # welch, or scores where a side has one run
    findings: tuple[Finding, ...]
    report: str | None = None  # the full report's file name under the output folder

    @property
    def holds(self) -> bool:
        return self.status == HOLDS

    @property
    def headroom(self) -> int | None:
        return self.size_cap - self.max_total_bytes if self.max_total_bytes is not None else None


@dataclass(frozen=True)
class PrReview:
    repo: str
    pr: int | None  # None: a folder checked outside a PR (the pre-commit hook)
    head: str
    base: str  # the base commit the folders are judged against
    table_record: str | None  # the README table's best row at the base
    folders: tuple[FolderReview, ...]
    deleted: tuple[str, ...] = ()  # record folders the PR deletes
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())  # what the clone could not show (a missing tree), as read
    judged: bool = True  # False: the PR's own head could not be read (its notes say why)

    @property
    def holds(self) -> bool:
        """Every folder the PR adds or changes holds as a record (a PR that touches none holds trivially; one
        whose head could not be read does not)."""
        return self.judged and all(f.holds for f in self.folders)

    @property
    def exit_code(self) -> int:
        return 0 if self.holds else 1

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["holds"] = self.holds
        for f, d in zip(self.folders, out["folders"], strict=True):
            d["holds"], d["headroom"] = f.holds, f.headroom
        return out
