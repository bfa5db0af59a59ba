"""Every registered rule carries its metadata, and the example in its docstring runs (pycodestyle-style)."""

from __future__ import annotations

import datetime as dt
import doctest

import pytest

from pgolf.review.rules import FAMILIES, rules

ALL = rules()
# Rules whose example needs a folder of scripts or an unusual claim; tests/review/rules/test_evidence.py and
# tests/review/judge/test_record.py cover them. Shrink this list, never grow it: a new rule comes with its example.
NO_EXAMPLE_YET = {"size.claimed_seed_over", "code.dump_differs", "code.size_differs", "config.not_defaults",
                  "claim.json_caveat", "claim.duplicate_seed", "claim.second_log", "claim.not_a_run"}


@pytest.mark.parametrize("r", ALL, ids=[r.id for r in ALL])
def test_a_rules_docstring_example_runs(r):
    tests = doctest.DocTestFinder().find(r.fn, r.id, globs=dict(r.fn.__globals__))
    examples = [t for t in tests if t.examples]
    assert examples or r.id in NO_EXAMPLE_YET, f"{r.id}: its docstring has no example (>>> lines)"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for t in examples:
        runner.run(t)
    assert runner.summarize(verbose=False).failed == 0, f"{r.id}: its docstring example fails (see the output)"


@pytest.mark.parametrize("r", ALL, ids=[r.id for r in ALL])
def test_a_rule_says_what_it_checks_and_where_it_comes_from(r):
    assert r.doc, f"{r.id}: no docstring"
    assert r.family in FAMILIES and r.fn.__module__ == f"pgolf.review.rules.{r.family}"
    assert r.source is None or r.source.startswith("https://github.com/openai/parameter-golf/")
    assert r.since is None or dt.date.fromisoformat(r.since)


def test_rule_ids_are_unique_and_every_family_has_rules():
    assert len({r.id for r in ALL}) == len(ALL)
    assert {r.family for r in ALL} == set(FAMILIES)
