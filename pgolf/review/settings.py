"""The challenge's limits and the review's levels, each written once.

The rule as written (README of the challenge): a new record beats the previous one by 0.005 nats at
p < 0.01. The practice the organizers applied when they built the table: p < 0.25 on per-seed val_bpb,
no margin (review-practice.md). Three runs were asked for from a date derived from main.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgolf.size import SIZE_CAP_BYTES

WORLD_SIZE = 8  # 8xH100
TRAIN_LIMIT_MS = 600_000.0
EVAL_LIMIT_S = 600.0
ARTIFACT_LIMIT_BYTES = SIZE_CAP_BYTES
MIN_RUNS = 3
# A training overrun up to this is the cap working (it stops after the step that crosses it).
OVERRUN_WARN_MS = 1_000.0
STANDARD_TRAIN_SHARDS = 80
# validation splits as the records print them: sp1024 (62,021,632), sp4096 (45,508,608), sp8192
# (40,540,160) and sp8192 CaseOps (47,851,520)
STANDARD_VAL_TOKENS = frozenset({62_021_632, 45_508_608, 40_540_160, 47_851_520})

MARGIN_NATS = 0.005  # the written rule's margin over the previous record, in val_loss nats
RULE_ALPHA = 0.01  # the written rule's level (with the margin)
PRACTICE_ALPHA = 0.25  # the practice's level (Welch, no margin)


@dataclass(frozen=True)
class ReviewSettings:
    """The levels every verb judges at: check-record, audit (both modes) and the bot read them from here."""

    rule_alpha: float = RULE_ALPHA
    practice_alpha: float = PRACTICE_ALPHA
    margin_nats: float = MARGIN_NATS
    min_runs: int = MIN_RUNS  # the runs the practice asked for (from a date derived from main)


DEFAULTS = ReviewSettings()  # every default of a verb's `settings`
