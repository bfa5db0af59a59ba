"""argparse types shared by every verb: a number option is finite and in its range, or argparse
says so (exit 2, naming the option) before the verb reads or writes anything."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation


def _range_text(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {hi:g}")
    return " and ".join(parts)


def _in_range(v: float, lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> bool:
    if lo is not None and (v <= lo if lo_open else v < lo):
        return False
    return hi is None or (v < hi if hi_open else v <= hi)


def number(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
           hi_open: bool = False) -> Callable[[str], float]:
    """A float option: finite (never nan or inf) and inside [lo, hi] (bounds optional, open or closed)."""
    where = _range_text(lo, hi, lo_open, hi_open)
    want = f"a finite number{' ' + where if where else ''}"

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number; give {want}") from None
        if not math.isfinite(v) or not _in_range(v, lo, hi, lo_open, hi_open):
            raise argparse.ArgumentTypeError(f"{text!r}: must be {want}")
        return v

    parse.__name__ = "number"  # argparse names the type in some messages
    return parse


def integer(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    """An int option inside [lo, hi] (bounds optional)."""
    where = _range_text(lo, hi, False, False)
    want = f"a whole number{' ' + where if where else ''}"

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; give {want}") from None
        if not _in_range(v, lo, hi, False, False):
            raise argparse.ArgumentTypeError(f"{text!r}: must be {want}")
        return v

    parse.__name__ = "integer"
    return parse


probability = number(0.0, 1.0, lo_open=True, hi_open=True)


def number_text(text: str) -> str:
    """Keep a printed number as text (its digits say how it was rounded) after checking it is a finite one."""
    try:
        finite = math.isfinite(float(Decimal(text)))
    except (InvalidOperation, ValueError):
        finite = False
    if not finite:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return text


def pattern(*fields: str) -> Callable[[str], str]:
    """A path pattern that names each of `fields` (e.g. {seed}) and no other: without {seed}, every
    seed would read the first seed's file."""
    import string

    need = ", ".join("{" + f + "}" for f in fields)

    def parse(text: str) -> str:
        try:
            named = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r}: not a pattern ({exc}); write it with {need}") from None
        missing = [f for f in fields if f not in named]
        other = sorted(named - set(fields))
        if missing or other:
            problem = (f"lacks {', '.join('{' + f + '}' for f in missing)}" if missing
                       else f"names {', '.join('{' + f + '}' for f in other)}, which pgolf does not fill")
            raise argparse.ArgumentTypeError(f"{text!r} {problem}; the pattern must name {need}, "
                                             "e.g. results/seeds/{seed}/eval/{name}.json")
        return text

    parse.__name__ = "pattern"
    return parse
