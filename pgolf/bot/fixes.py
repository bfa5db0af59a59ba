"""What would fix a finding, by its rule's id (the rules registry's, `family.name`): one line a submitter
can act on. A rule without a line of its own takes its family's."""

from __future__ import annotations

SEED = "give one log per claimed seed, its file name and its `seed` line agreeing with submission.json"
GPUS = "run on 8xH100 (world_size 8) and keep the log line that prints it"
DATA = "train on the standard 80 shards and evaluate on the full validation split"

FIXES: dict[str, str] = {
    # families
    "claim": "make submission.json's val_bpb (and each seed's) the value the logs print at the stage you claim, "
             "at the digits they print",
    "size": "keep model + code (train_gpt.py) under 16,000,000 bytes and report bytes_total with the code counted",
    "time": "stop training and every post-training step within 600 s, and the evaluation within 600 s",
    "runs": "add logs of independent seeds: three or more runs are expected",
    "log": "commit the complete train log as the run wrote it",
    "bytes": "compute val_bpb over the validation split's true byte count (the tokenizer's byte table)",
    "code": "commit the train_gpt.py the runs used (the one the log dumps)",
    "config": "run every claimed seed with the same settings, the ones train_gpt.py defaults to or the README states",
    # rules whose family's line does not fit
    "claim.seed_mismatch": SEED, "claim.seed_not_claimed": SEED, "claim.seed_without_log": SEED,
    "claim.duplicate_seed": SEED, "claim.second_log": SEED, "log.seed_name": SEED, "runs.no_seed": SEED,
    "claim.readme_numbers": "make the README's per-seed table repeat the numbers the logs print",
    "runs.world_size": GPUS, "runs.world_size_missing": GPUS,
    "log.train_shards": DATA, "log.val_tokens": DATA,
}
DEFAULT = "see the rule in docs/rules.md"


def fix_for(rule: str) -> str:
    """The fix of a rule id, else of its family (`time.train_overrun` -> `time`)."""
    return FIXES.get(rule) or FIXES.get(rule.split(".", 1)[0], DEFAULT)
