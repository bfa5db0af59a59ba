"""A record's claim, read from its `submission.json` in every shape the leaderboard used.

Shapes (review-practice.md): a headline `val_bpb` or `mean_val_bpb`, often `val_loss`,
`bytes_total`, `bytes_code`, `date`; per-seed results as `seed_results` or `seeds`
(a dict seed -> {val_bpb, val_loss, artifact_bytes, steps, ...}, or a list of such dicts
with a `seed` key) or as `seeds` + `seed_scores` lists; sometimes `val_bpb_std`,
`p_value`, `base_pr`, `comparison_baseline_pr`.

Numbers are kept as `Decimal` so that the digits the submission printed say how it
rounded: a claim is matched "at its printed digits" (`matches`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pgolf.errors import DataError

_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass
class SeedClaim:
    seed: int
    val_bpb: Decimal | None = None
    val_loss: Decimal | None = None
    artifact_bytes: int | None = None
    steps: int | None = None


@dataclass
class Claim:
    """What a submission.json says; None where it says nothing."""

    file: str | None = None
    headline_key: str | None = None  # val_bpb or mean_val_bpb
    val_bpb: Decimal | None = None
    val_loss: Decimal | None = None
    bytes_total: int | None = None
    bytes_code: int | None = None
    date: str | None = None  # YYYY-MM-DD
    seeds: dict[int, SeedClaim] = field(default_factory=dict)
    val_bpb_std: Decimal | None = None
    p_value: Decimal | None = None
    base_pr: Any = None
    comparison_baseline_pr: Any = None
    name: str | None = None

    @property
    def claimed_seeds(self) -> list[int]:
        return sorted(self.seeds)


def matches(value: float | None, claimed: Decimal | None, value_digits: int | None = None) -> bool:
    """Does a log's value equal a claimed number at the digits both printed? Rounded (within half a unit of
    the coarser) or cut (the claim is the value with its further digits dropped)."""
    if value is None or claimed is None:
        return False
    digits = max(0, -int(claimed.as_tuple().exponent))
    if value_digits is not None:
        digits = min(digits, value_digits)
    v, unit = Decimal(repr(value)), Decimal(10) ** -digits
    if abs(v - claimed) <= unit / 2 * Decimal("1.000001"):
        return True
    return digits == max(0, -int(claimed.as_tuple().exponent)) and v.quantize(unit, rounding="ROUND_DOWN") == claimed


def _number(v: Any) -> Decimal | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, Decimal):
        return v
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, str):
        try:
            return Decimal(v.strip())
        except ArithmeticError:
            return None
    return None


def _int(v: Any) -> int | None:
    n = _number(v)
    return int(n) if n is not None else None


def _seed_key(seed: Any) -> int | None:
    """42, "42" or "seed_42"."""
    if isinstance(seed, str) and (m := re.search(r"\d+", seed)):
        return int(m.group(0))
    return _int(seed)


def _bpb_of(entry: dict[str, Any]) -> Decimal | None:
    for key in ("val_bpb", "bpb", *sorted(k for k in entry if isinstance(k, str) and k.endswith("val_bpb"))):
        if (v := _number(entry.get(key))) is not None:
            return v
    return None


def _seed_entry(seed: Any, entry: Any) -> SeedClaim | None:
    s = _seed_key(seed)
    if s is None:
        return None
    if not isinstance(entry, dict):  # `seeds: {"42": 1.0712}`
        return SeedClaim(seed=s, val_bpb=_number(entry))
    return SeedClaim(seed=s, val_bpb=_bpb_of(entry),
                     val_loss=_number(entry.get("val_loss")),
                     artifact_bytes=_int(entry.get("artifact_bytes", entry.get("bytes_total"))),
                     steps=_int(entry.get("steps")))


def _per_seed(data: dict[str, Any]) -> dict[int, SeedClaim]:
    for key in ("seed_results", "seeds"):
        block = data.get(key)
        entries: list[SeedClaim | None] = []
        if isinstance(block, dict):
            entries = [_seed_entry(k, v) for k, v in block.items()]
        elif isinstance(block, list) and block and all(isinstance(e, dict) for e in block):
            entries = [_seed_entry(e.get("seed"), e) for e in block]
        elif isinstance(block, list) and isinstance(data.get("seed_scores"), list):
            entries = [_seed_entry(s, v) for s, v in zip(block, data["seed_scores"], strict=False)]
        elif isinstance(block, list):  # only the seeds, no scores
            entries = [_seed_entry(s, None) for s in block]
        found = {e.seed: e for e in entries if e is not None}
        if found:
            return found
    return {}


def _first(data: dict[str, Any], *keys: str) -> Any:
    """The value of the first key present and not null (submissions spell some fields several ways)."""
    return next((data[k] for k in keys if data.get(k) is not None), None)


def read_claim(path: str | Path) -> Claim:
    """Read one submission.json; DataError naming the file when it is not a JSON object."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8", errors="replace"), parse_float=Decimal)
    except FileNotFoundError:
        raise DataError(f"{p}: no such file; a record folder holds its claim in submission.json") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno}); fix or remove it") from None
    if not isinstance(data, dict):
        raise DataError(f"{p}: expected a JSON object, got {type(data).__name__}")
    key = next((k for k in ("val_bpb", "mean_val_bpb") if _number(data.get(k)) is not None), None)
    date = _DATE.search(str(data.get("date", ""))) if data.get("date") else None
    return Claim(
        file=str(p), headline_key=key, val_bpb=_number(data.get(key)) if key else None,
        val_loss=_number(data.get("val_loss", data.get("mean_val_loss"))),
        bytes_total=_int(_first(data, "bytes_total", "artifact_bytes", "artifact_size_bytes", "total_bytes")),
        bytes_code=_int(_first(data, "bytes_code", "code_bytes")),
        date=date.group(1) if date else None, seeds=_per_seed(data),
        val_bpb_std=_number(_first(data, "val_bpb_std", "std_val_bpb")), p_value=_number(data.get("p_value")),
        base_pr=data.get("base_pr"), comparison_baseline_pr=data.get("comparison_baseline_pr"),
        name=data.get("name") if isinstance(data.get("name"), str) else None,
    )


def folder_date(folder: str | Path) -> str | None:
    """The date prefix of a record folder's name (`2026-03-19_Name` -> 2026-03-19)."""
    m = re.match(r"(\d{4}-\d{2}-\d{2})", Path(folder).name)
    return m.group(1) if m else None


_P_NUM = r"\d*\.\d+(?:[eE]-?\d+)?|\d+[eE]-?\d+"
_README_P = re.compile(rf"(?<![\w-])p(?:[-_ ]?value)?\s*(?:=|<|≈|~|:)\s*({_P_NUM})", re.IGNORECASE)


# `p-value < 1.195: 0.00234486`: a one-sample test of the runs against the record's own threshold (record #77)
_README_THRESHOLD_P = re.compile(rf"(?<![\w-])p[-_ ]?value\s*<\s*({_P_NUM})\s*:\s*({_P_NUM})", re.IGNORECASE)


def _readme_text(folder: str | Path) -> str:
    path = Path(folder) / "README.md"
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def readme_p_values(folder: str | Path) -> list[str]:
    """The p-values a record's README.md quotes (`p=0.020`, `p < 0.01`, `p-value: 0.0065`,
    `p-value < 1.195: 0.0023` -> 0.0023), as printed."""
    text = _readme_text(folder)
    tests = list(_README_THRESHOLD_P.finditer(text))
    taken = [range(*m.span()) for m in tests]
    plain = [m for m in _README_P.finditer(text) if not any(m.start() in span for span in taken)]
    return list(dict.fromkeys(m.group(2 if m in tests else 1) for m in sorted(tests + plain, key=lambda m: m.start())))


def readme_threshold(folder: str | Path) -> float | None:
    """The threshold of the first `p-value < X: P` test a README quotes, to compute the same test."""
    m = _README_THRESHOLD_P.search(_readme_text(folder))
    return float(m.group(1)) if m else None


# a README results row: `| 1337 | 4,685 | 1.0829 | **1.0748** | 2.7764 | 15,958,373 |` (seed first)
_SEED_ROW = re.compile(r"^\|\s*\**\s*(\d{1,7})\s*\**\s*\|(.+)\|\s*$")
_SCORE_CELL = re.compile(r"^\**\s*(\d\.\d{3,})\s*\**$")  # a loss or bpb: no thousands commas, 3+ decimals


def readme_seed_numbers(folder: str | Path) -> dict[int, list[Decimal]]:
    """The per-seed scores a README's results tables print, by seed (step counts, bytes and times left out)."""
    out: dict[int, list[Decimal]] = {}
    for line in _readme_text(folder).splitlines():
        if m := _SEED_ROW.match(line.strip()):
            cells = [c for cell in m.group(2).split("|") if (c := _SCORE_CELL.match(cell.strip()))]
            nums = [Decimal(c.group(1)) for c in cells if Decimal("0.3") < Decimal(c.group(1)) < Decimal("9")]
            if nums:
                out.setdefault(int(m.group(1)), []).extend(nums)
    return out
