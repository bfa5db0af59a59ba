"""The byte-accounting fingerprint: how many validation bytes a run's own val_bpb and val_loss imply.

val_loss is nats per scored token and val_bpb bits per scored byte, so over a full pass of the
validation split

    implied validation bytes = val_tokens / (ln 2 * val_bpb / val_loss)

does not depend on the tokenizer when the bytes are counted right. A byte table that counts the
leading space twice, miscounts byte-fallback pieces or hides sentinel characters moves it by
percents; the spread of the accepted records is a hundredth of a percent.

How the defaults were derived (`python -m pgolf audit` over every folder of
records/track_10min_16mb on the challenge's main branch, 2026-12; every stage of every log that
prints val_tokens): sp1024 (62,021,632 tokens) 151.0716-151.0898 million bytes, sp4096
(45,508,608) 151.0741, sp8192 (40,540,160) 151.0765-151.0782, CaseOps sp8192 (47,851,520)
151.0745; all within 151.08 million +-0.01%. The first baseline's older split (63,779,840 sp1024
tokens) implies 155.77 million: another document set, recognised as such.

Without val_tokens the ratio val_bpb/val_loss is compared across submissions that use the same
tokenizer (the rule `bytes.ratio`); the audit applies it to every submission's ratio.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pgolf.review.read.log import ParsedRun, Stage

MIN_REFERENCE = 3  # other submissions with the tokenizer: a median of three outvotes one miscount
# a stage that may score less than the whole split: a sliding window's tail, a subset
PARTIAL = re.compile(r"sliding|subset|partial|sample|quick|short|tail", re.IGNORECASE)


@dataclass(frozen=True)
class ByteSettings:
    """The validation split's byte count and how far a run may be from it (see the module docstring)."""

    standard_bytes: float = 151_080_000.0  # FineWeb validation split, 50,000 documents
    tolerance: float = 0.001  # relative: 0.1 %, ten times the accepted records' spread
    # val_tokens that mark a full pass of the standard split: sp1024, sp4096, sp8192, CaseOps sp8192
    full_pass_tokens: frozenset[int] = frozenset({62_021_632, 45_508_608, 40_540_160, 47_851_520})
    older_split_tokens: frozenset[int] = frozenset({63_779_840})  # the first baseline's split (sp1024)
    older_split_bytes: float = 155_770_000.0


@dataclass(frozen=True)
class StageBytes:
    """One stage's implied bytes against the split it was scored on."""

    stage: str
    implied: float
    expected: float
    split: str  # "standard" or "older"

    @property
    def diff(self) -> float:
        """Relative difference from the expected bytes (0.08: +8 %)."""
        return self.implied / self.expected - 1.0


def implied_bytes(val_tokens: int, val_loss: float, val_bpb: float) -> float:
    """Validation bytes implied by a full pass: val_tokens / (ln 2 * val_bpb / val_loss)."""
    return val_tokens * val_loss / (math.log(2) * val_bpb)


def _scored(s: Stage) -> bool:
    return s.loss is not None and s.bpb is not None and s.loss > 0 and s.bpb > 0


def stage_bytes(r: ParsedRun, settings: ByteSettings = ByteSettings()) -> list[StageBytes]:
    """Every scored stage's implied bytes; empty when the log prints no val_tokens."""
    if not r.val_tokens:
        return []
    older = r.val_tokens in settings.older_split_tokens
    expected = settings.older_split_bytes if older else settings.standard_bytes
    return [StageBytes(s.name, implied_bytes(r.val_tokens, s.loss, s.bpb), expected, "older" if older else "standard")
            for s in r.ordered_stages() if _scored(s)]


# --------------------------------------------------------------------------- without val_tokens


def tokenizer_id(r: ParsedRun) -> str | None:
    """Vocab size and tokenizer file name (`8192:fineweb_8192_bpe.model`) from what the log prints; None
    when it prints neither."""
    settings = {**r.printed_config, **r.hyperparameters}
    vocab = settings.get("vocab_size")
    file = r.tokenizer_file or (settings.get("tokenizer_path", "").replace("\\", "/").rsplit("/", 1)[-1] or None)
    if vocab is None and file is None:
        return None
    return f"{vocab or '?'}:{file or '?'}"


def bpb_per_nat(r: ParsedRun) -> float | None:
    """val_bpb / val_loss of the run's stage under test: fixed by the tokenizer and the split."""
    if r.val_bpb is None or not r.val_loss:
        return None
    return r.val_bpb / r.val_loss


@dataclass(frozen=True)
class RatioEntry:
    """One submission's run for the audit-wide comparison."""

    key: str  # the submission (and run) it belongs to, as the flag names it
    submission: str  # runs of one submission are not compared with each other
    tokenizer: str
    ratio: float


def ratio_entries(submission: str, runs: Sequence[ParsedRun], label: dict[int, str]) -> list[RatioEntry]:
    """The entries of one submission's counted runs that print no val_tokens (with val_tokens, byte_flags
    already checks them) and name their tokenizer."""
    out = []
    for r in runs:
        tok, ratio = tokenizer_id(r), bpb_per_nat(r)
        if r.val_tokens is None and tok is not None and ratio is not None:
            out.append(RatioEntry(f"{submission}: {label.get(id(r), r.name)}", submission, tok, ratio))
    return out
