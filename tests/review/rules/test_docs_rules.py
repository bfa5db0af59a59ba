"""docs/rules.md lists every registered rule, and no rule that is gone."""

from __future__ import annotations

import re
from pathlib import Path

from pgolf.review.rules import rules

DOC = Path(__file__).resolve().parents[3] / "docs" / "rules.md"


def test_the_rules_page_lists_every_registered_rule():
    listed = set(re.findall(r"^\| `([a-z]+\.[a-z_]+)` \|", DOC.read_text(), re.MULTILINE))
    assert listed == {r.id for r in rules()}
