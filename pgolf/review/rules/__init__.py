"""Every check of the review as a registered rule (see registry.py and docs/rules.md).

Importing this package registers every family; the order they apply in is `registry.FAMILIES`:
a new family is one more import here and one more name there.
"""

from pgolf.review.rules import bytes, chrono, claim, code, config, eval, files, log, runs, size, time  # noqa: F401  (registration)
from pgolf.review.rules.registry import CHECKS, FAMILIES, Rule, get, rule, rules, run_scope, select

__all__ = ["CHECKS", "FAMILIES", "Rule", "get", "rule", "rules", "run_scope", "select"]
