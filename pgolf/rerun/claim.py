"""What a rerun is checked against: the seeds and per-seed scores a record folder's
submission.json claims (read by the reviewer's `pgolf.review.read.claim`, every shape it takes)."""

from __future__ import annotations

from pathlib import Path

from pgolf.errors import PgolfError
from pgolf.review.read.claim import read_claim

SUBMISSION = "submission.json"


def claimed_scores(folder: str | Path) -> dict[int, float | None]:
    """seed -> claimed val_bpb (None where submission.json names the seed without a score)."""
    claim = read_claim(Path(folder) / SUBMISSION)
    return {seed: (None if c.val_bpb is None else float(c.val_bpb)) for seed, c in sorted(claim.seeds.items())}


def claimed_seeds(folder: str | Path) -> list[int]:
    """The seeds submission.json names; an error when it names none."""
    seeds = list(claimed_scores(folder))
    if not seeds:
        raise PgolfError(f"{Path(folder) / SUBMISSION}: names no seeds (no `seeds` or `seed_results`); "
                         "list the seeds to rerun in the rerun entry's `seeds:`")
    return seeds
