"""The reviewer's values, frozen: what a rule finds. The first file a newcomer reads.

A `Flag` is one finding of one registered rule (`pgolf.review.rules`): the rule's id, its severity
for this finding, the run(s) it names, the sentence a reviewer reads, and the numbers behind it.
Flags become dicts only at the JSON/CSV edge (`Flag.to_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warn"]


@dataclass(frozen=True)
class Finding:
    """What a rule function returns: the registry turns it into a `Flag` with the rule's id.
    `severity` None: the rule's own severity."""

    text: str
    run: str = ""  # the run's file name (or several, comma-separated); "" for the submission as a whole
    severity: Severity | None = None
    numbers: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Flag:
    rule: str  # the registered rule's id, e.g. `time.train_overrun`
    severity: Severity
    run: str  # the run's file name, or "" for the record as a whole
    text: str
    check: str = ""  # the evidence check the rule belongs to (`bytes`, `code`, `config`, `time`), else ""
    numbers: tuple[tuple[str, Any], ...] = ()  # the numbers behind it, as (name, value) pairs

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "run": self.run, "text": self.text, "check": self.check,
                "numbers": dict(self.numbers)}

    def __str__(self) -> str:
        return f"{self.run}: {self.text}" if self.run else self.text


def errors(flags: list[Flag] | tuple[Flag, ...]) -> list[Flag]:
    return [f for f in flags if f.severity == "error"]
