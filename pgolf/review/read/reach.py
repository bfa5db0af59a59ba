"""Is a line of the script live in a run? A code path counts only when the run's settings reach it.

A fact of `evalcode` carries its guards (`ttt_enabled`, `!use_lbfgs`, `eval_mode=slot`). Each is looked up
in the settings the log printed (its hyperparameter block, `key:value` lines), then, for a flag such as
`ttt_enabled` or `slot_steps`, in the log's own lines (a run that printed `ttt:start` or `ttt_epoch:1/30`
ran TTT), then in the script's default. A guard whose value says off makes the path dead; a guard no one
can resolve leaves it live (the code is there, and nothing says it did not run).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from pgolf.review.read.evalcode import EvalCode, EvalFact

_OFF = {"0", "0.0", "false", "none", "", "off", "no", "null", "disabled"}
_FLAG_SUFFIX = re.compile(r"_(?:enabled?|steps|epochs|on)$|^(?:use|enable|do)_")


def is_on(value: str) -> bool:
    """A setting's value as a switch: 0, false, none, off and the like are off."""
    v = value.strip().strip("'\"").lower()
    if v in _OFF:
        return False
    try:
        return float(v) != 0
    except ValueError:
        return True


def stem(guard: str) -> str:
    """The name a guarded path prints its lines under: `ttt_enabled` -> ttt, `use_slot` -> slot."""
    return _FLAG_SUFFIX.sub("", guard)


def printed_under(text: str, name: str) -> bool:
    """Does the log print a line under this name (`ttt:start`, `ttt_epoch:1/30`, `slot:steps=8`)?"""
    return len(name) >= 3 and re.search(rf"^{re.escape(name)}[_:\s]", text, re.IGNORECASE | re.MULTILINE) is not None


def _value(guard: str, code: EvalCode, settings: Mapping[str, str], log_text: Callable[[], str],
           defaults: bool) -> str | None:
    if guard in settings:
        return settings[guard]
    if _FLAG_SUFFIX.search(guard) and printed_under(log_text(), stem(guard)):
        return "1"
    return code.defaults.get(guard) if defaults else None


def live(fact: EvalFact, code: EvalCode, settings: Mapping[str, str], log_text: Callable[[], str] = str,
         defaults: bool = True) -> bool:
    """Do the run's settings reach the fact's line? `settings` by lower-case name (`read.config.settings`);
    `log_text()` the log's text, read only when a guard needs it (default: none). `defaults=False` where the
    submission says it used the technique (its name, its README title): a setting the run command passed and
    the log did not print is then not taken to be the script's default."""
    for guard in fact.guards:
        m = _GUARD.match(guard)
        if m is None:
            continue
        negate, name, op, wanted = m.group(1) == "!", m.group(2), m.group(3), m.group(4)
        value = _value(name, code, settings, log_text, defaults)
        if value is None:
            continue
        on = _holds(value, op, wanted)
        if on is not None and on == negate:
            return False
    return True


_GUARD = re.compile(r"^(!?)(\w+)(?:(==|>=|<=|!=|=|>|<)(.*))?$")
_COMPARE = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__, "==": float.__eq__,
            "!=": float.__ne__}


def _holds(value: str, op: str | None, wanted: str | None) -> bool | None:
    """Does a setting's value pass the guard's test (None: cannot tell)?"""
    if op is None:
        return is_on(value)
    v = value.strip().strip("'\"").lower()
    if op == "=":
        return v == wanted
    try:
        return _COMPARE[op](float(v), float(wanted or 0))
    except ValueError:
        return None
