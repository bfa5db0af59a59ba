"""The rule registry: every flag comes from a function registered here with an id, a severity, a scope,
the date the practice enforced it (`since`) and where the organizers said so (`source`).

    @rule("runs.world_size", severity="error", scope="run", source=URL)
    def world_size(x: RunInput) -> list[Finding]: ...

Calling the decorated function returns `Flag`s stamped with the rule's id, severity and evidence
check. `run_scope(scope, x)` applies every rule of a scope in a stable order: the families in FAMILIES
order, the rules of a family in the order they are written. Users select rules by id (`time.eval_sum`), by family (`time.*`) or by the evidence
check words of earlier versions (`bytes`, `code`, `config`, `time`: `--tolerate time`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pgolf.errors import ConfigError
from pgolf.review.model import Finding, Flag, Severity

# What a rule looks at; the driver that applies a scope gives its typed input (see the family modules).
Scope = Literal["log", "run", "counted", "scored", "folder", "headline", "file", "claim", "claim-run",
                "claimed-size", "readme", "audit", "previous", "chrono"]
CHECKS = ("bytes", "code", "config", "time")  # the evidence checks: the page's sections, --tolerate's old words
# The order in which the families' rules apply within a scope (then the order of the functions in the module),
# so that reports keep one order. A new family is one more name here and one more import in rules/__init__.py.
FAMILIES = ("runs", "bytes", "time", "size", "log", "code", "eval", "config", "claim", "files", "chrono")


@dataclass(frozen=True)
class Rule:
    id: str  # family.name
    severity: Severity  # the worst severity it gives (a finding may be milder, e.g. an overrun within 1 s)
    scope: Scope
    since: str | None  # YYYY-MM-DD the practice enforced it from; None: always
    source: str | None  # the organizers' words: a PR thread or the challenge README
    check: str  # one of CHECKS for the evidence checks, "" for the rules
    doc: str
    fn: Callable[..., Iterable[Finding]]

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]


_RULES: dict[str, Rule] = {}
_BY_SCOPE: dict[str | None, list[Rule]] = {}  # rules() memoized: a review applies scopes millions of times


def rule(id: str, *, severity: Severity, scope: Scope, since: str | None = None, source: str | None = None,
         check: str = "") -> Callable[[Callable[..., Iterable[Finding]]], Callable[..., list[Flag]]]:
    """Register a rule function; the returned function gives `Flag`s."""
    if "." not in id:
        raise ValueError(f"rule id {id!r}: write it as family.name")
    if id.split(".", 1)[0] not in FAMILIES:
        raise ValueError(f"rule {id}: family {id.split('.', 1)[0]!r} is not one of {FAMILIES}; add it to FAMILIES")
    if check and check not in CHECKS:
        raise ValueError(f"rule {id}: check {check!r} is not one of {CHECKS}")

    def register(fn: Callable[..., Iterable[Finding]]) -> Callable[..., list[Flag]]:
        if id in _RULES:
            raise ValueError(f"rule id {id} is registered twice ({_RULES[id].fn.__module__}, {fn.__module__})")
        r = Rule(id, severity, scope, since, source, check, (fn.__doc__ or "").strip(), fn)
        _RULES[id] = r
        _BY_SCOPE.clear()

        @functools.wraps(fn)
        def flags(*args: Any, **kwargs: Any) -> list[Flag]:
            return _flags(r, fn(*args, **kwargs))

        flags.rule = r  # type: ignore[attr-defined]
        return flags
    return register


def rules(scope: Scope | None = None) -> list[Rule]:
    """The registered rules in the order they apply; of one scope when given."""
    if scope not in _BY_SCOPE:
        ordered = sorted(enumerate(_RULES.values()), key=lambda ir: (FAMILIES.index(ir[1].family), ir[0]))
        _BY_SCOPE[scope] = [r for _, r in ordered if scope is None or r.scope == scope]
    return list(_BY_SCOPE[scope])


def get(rule_id: str) -> Rule:
    return _RULES[rule_id]


def since(rule_id: str) -> str | None:
    """The date a rule was enforced from (None: always, or not a registered rule)."""
    r = _RULES.get(rule_id)
    return r.since if r else None


def run_scope(scope: Scope, *args: Any) -> list[Flag]:
    """Every rule of `scope` applied to one input, in registration order."""
    return [f for r in rules(scope) for f in _flags(r, r.fn(*args))]


def _flags(r: Rule, found: Iterable[Finding]) -> list[Flag]:
    return [Flag(r.id, h.severity or r.severity, h.run, h.text, r.check, h.numbers) for h in found]


def select(words: Iterable[str]) -> frozenset[str]:
    """Rule ids named by `words`: an evidence check word (`time`: the rules of that check), a family
    (`time.*`) or a rule id. An unknown word is an error that lists what is known."""
    out: set[str] = set()
    for w in (w.strip() for w in words):
        if not w:
            continue
        if w in CHECKS:
            hit = {r.id for r in _RULES.values() if r.check == w}
        elif w.endswith(".*"):
            hit = {r.id for r in _RULES.values() if r.family == w[:-2]}
        else:
            hit = {w} & _RULES.keys()
        if not hit:
            families = sorted({r.family + ".*" for r in _RULES.values()})
            raise ConfigError(f"--tolerate: {w!r} names no rule; give a rule id (see docs/rules.md), a family "
                              f"({', '.join(families)}) or a check ({', '.join(CHECKS)})")
        out |= hit
    return frozenset(out)


def table_markdown() -> str:
    """The table of every rule, as docs/rules.md prints it (tests/review/rules/test_docs_rules.py keeps the
    page equal to it): id, severity, scope, check, since, source and the docstring's first paragraph."""
    lines = ["| id | severity | scope | check | since | source | what it flags |", "|---|---|---|---|---|---|---|"]
    for r in rules():
        what = " ".join(r.doc.split("\n\n", 1)[0].split()).replace("|", "\\|")
        source = f"[source]({r.source})" if r.source else ""
        lines.append(f"| `{r.id}` | {r.severity} | {r.scope} | {r.check} | {r.since or ''} | {source} | {what} |")
    return "\n".join(lines) + "\n"
