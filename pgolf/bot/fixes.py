"""What would fix a finding, by its rule id: one line a submitter can act on.

Rule ids are today's evidence checks (`bytes`, `code`, `config`, `time`) and the written rules grouped by
what they are about; when the rules registry gives every rule an id and a fix of its own, this table goes.
"""

from __future__ import annotations

import re

# (rule id, pattern on the finding's text): the first match names a finding without a check of its own
RULE_OF_TEXT: tuple[tuple[str, str], ...] = (
    ("claim", r"claimed|no stage of the logs|claims no score|headline|val_loss .* is a val_bpb"),
    ("seed", r"\bseed"),
    ("size", r"bytes|artifact|total size"),
    ("time", r"train time|eval time|wall-clock|artifact production"),
    ("gpus", r"world.size|gpus?\b|grad_accum"),
    ("runs", r"run\(s\)|fewer than|same log content"),
    ("data", r"train_shards|val_tokens|validation split"),
    ("log", r"cut off|no stage line|not UTF|no such file|bound for one file"),
    ("readme", r"README"),
)

FIXES: dict[str, str] = {
    "claim": "make submission.json's val_bpb (and each seed's) the value the logs print at the stage you claim, "
             "at the digits they print",
    "seed": "give one log per claimed seed, its file name and its `seed` line agreeing with submission.json",
    "size": "keep model + code (train_gpt.py) under 16,000,000 bytes and report bytes_total with the code counted",
    "time": "stop training and every post-training step within 600 s, and the evaluation within 600 s",
    "gpus": "run on 8xH100 (world_size 8) and keep the log line that prints it",
    "runs": "add logs of independent seeds: three or more runs are expected",
    "data": "train on the standard 80 shards and evaluate on the full validation split",
    "log": "commit the complete train log as the run wrote it",
    "readme": "make the README's per-seed table repeat the numbers the logs print",
    "bytes": "compute val_bpb over the validation split's true byte count (the tokenizer's byte table)",
    "code": "commit the train_gpt.py the runs used (the one the log dumps)",
    "config": "run every claimed seed with the same settings, the ones train_gpt.py defaults to or the README states",
    "rules": "see the review practice for this rule",
    "verdict": "see the reasons in the verdict",
}


def rule_of(check: str, text: str) -> str:
    """A finding's rule id: its evidence check, else the first topic its text names."""
    if check:
        return check
    return next((rule for rule, pattern in RULE_OF_TEXT if re.search(pattern, text, re.IGNORECASE)), "rules")


def fix_for(rule: str) -> str:
    """The fix of a rule id, or of its family (`time.train_overrun` -> `time`)."""
    return FIXES.get(rule) or FIXES.get(rule.split(".", 1)[0], FIXES["rules"])
