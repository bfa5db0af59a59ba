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

import contextlib
import json
import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from pgolf.errors import DataError
from pgolf.inputs import read_bytes

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
    reruns_pr: int | None = None  # `supports_pr`, `reproduces_pr`, `rerun_of`: the PR this one reruns
    warnings: list[str] = field(default_factory=list)  # the file was read, with a caveat
    nonfinite: list[str] = field(default_factory=list)  # keys whose value is NaN or infinite: not a claim
    duplicate_seeds: list[int] = field(default_factory=list)  # listed twice in the per-seed results
    seeds_from: str = "submission.json"  # or "README" when only the README names the runs

    @property
    def seed_values(self) -> bool:
        """Does it claim a score for any seed (not only name the seeds)?"""
        return any(s.val_bpb is not None or s.val_loss is not None for s in self.seeds.values())

    @property
    def claims_values(self) -> bool:
        """Does it claim any number a log could show?"""
        return self.val_bpb is not None or self.val_loss is not None or self.seed_values

    @property
    def claimed_seeds(self) -> list[int]:
        return sorted(self.seeds)


_ROUNDINGS = (ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_DOWN)


def matches(value: float | None, claimed: Decimal | None, value_digits: int | None = None) -> bool:
    """The one digits rule: a log's value (or a mean of runs) shows a claim when, rounded or cut to the digits
    the claim prints, it equals the claim. Where the log printed fewer digits than the claim, both are taken
    to the log's digits (a 4-digit log line cannot show an 8th digit either way)."""
    if value is None or claimed is None or not math.isfinite(value) or not claimed.is_finite():
        return False
    digits = max(0, -int(claimed.as_tuple().exponent))
    v = Decimal(repr(value))
    if value_digits is not None and value_digits < digits:
        unit = Decimal(10) ** -value_digits
        return any(v.quantize(unit, rounding=r) == claimed.quantize(unit, rounding=ROUND_HALF_EVEN)
                   for r in _ROUNDINGS)
    unit = Decimal(10) ** -digits
    return any(v.quantize(unit, rounding=r) == claimed for r in _ROUNDINGS)


def _decimal(v: Any) -> Decimal | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, Decimal):
        return v
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, float):
        return Decimal(repr(v))
    if isinstance(v, str) and len(v) < 64:  # `"1e999999999"` as a string is no score either
        with contextlib.suppress(ArithmeticError):
            return Decimal(v.strip())
    return None


def _nonfinite(v: Any) -> bool:
    d = _decimal(v)
    return d is not None and (not d.is_finite() or abs(d.adjusted()) > 30)


def _number(v: Any) -> Decimal | None:
    """A finite number (a score, a byte count), else None: NaN, infinities and absurd exponents say nothing."""
    d = _decimal(v)
    return None if d is None or _nonfinite(d) else d


def _leaves(data: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """(dotted key, value) of every scalar in a JSON object, lists included (`seed_scores[0]`), to 6 levels."""
    if depth > 6:
        return []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    out = []
    for k, v in items:
        key = f"{prefix}[{k}]" if isinstance(data, list) else f"{prefix}.{k}" if prefix else str(k)
        out += _leaves(v, key, depth + 1) if isinstance(v, dict | list) else [(key, v)]
    return out


# The headline's key, in the order submissions prefer it: the plain keys first, then the spellings
# later submissions used, then the same inside a `results`/`validation`/`summary` block.
_HEADLINE_KEYS = ("val_bpb", "mean_val_bpb", "val_bpb_mean", "score_bpb_mean", "bpb", "mean_bpb",
                  "final_val_bpb", "final_validation_bpb")
_HEADLINE_PATTERNS = (re.compile(r"^val_bpb_\d+seed_mean$"), re.compile(r"^(?:variant|submission|final)_\w*bpb_mean$"),
                      re.compile(r"^(?:average|avg|mean)_\w*bpb$"))  # `average_ttt_bpb`: the mean of the runs
_BLOCKS = ("results", "validation", "summary", "metrics", "result")


def _score(v: Any) -> Decimal | None:
    """A claimed score: a finite number above 0 (a `0.0` left in a template is a placeholder, no claim)."""
    n = _number(v)
    return n if n is not None and n > 0 else None


def _headline_in(block: dict[str, Any], prefix: str) -> tuple[str, Decimal] | None:
    for key in _HEADLINE_KEYS:
        if (v := _score(block.get(key))) is not None:
            return prefix + key, v
    for key, value in block.items():
        if isinstance(key, str) and any(p.match(key) for p in _HEADLINE_PATTERNS) and _score(value) is not None:
            return prefix + key, _score(value)
    return None


def _headline(data: dict[str, Any]) -> tuple[str | None, Decimal | None]:
    """The claimed val_bpb and the key it sits under (`score` counts when `score_metric` says bpb, or is absent)."""
    found = _headline_in(data, "")
    if found is None and _score(data.get("score")) is not None \
            and "bpb" in str(data.get("score_metric", "bpb")).lower():
        found = ("score", _score(data["score"]))
    for block in _BLOCKS:
        if found is None and isinstance(data.get(block), dict):
            found = _headline_in(data[block], block + ".")
    return found if found else (None, None)


def _int(v: Any) -> int | None:
    n = _number(v)
    return int(n) if n is not None else None


def _is_seed_key(key: Any) -> bool:
    """`42`, `"42"`, `"seed_42"`, `"seed42"`: a key naming a seed (not `mean_val_bpb`)."""
    return bool(re.fullmatch(r"(?:seed[_-]?)?\d+", str(key).strip(), re.IGNORECASE))


def _seed_key(seed: Any) -> int | None:
    """42, "42" or "seed_42"."""
    if isinstance(seed, str) and (m := re.search(r"\d+", seed)):
        return int(m.group(0))
    return _int(seed)


def _words(key: str) -> set[str]:
    return set(key.lower().replace(".", "_").split("_"))


def _bpb_of(entry: dict[str, Any], headline_key: str = "") -> Decimal | None:
    """A seed's val_bpb: `val_bpb` or `bpb`, else the `*val_bpb` key sharing most words with the headline's key
    (`average_ttt_bpb` -> `quantized_ttt_val_bpb`, not `pre_quant_val_bpb`)."""
    others = sorted((k for k in entry if isinstance(k, str) and k.endswith("val_bpb")),
                    key=lambda k: -len(_words(k) & _words(headline_key)))
    for key in ("val_bpb", "bpb", *others):
        if (v := _score(entry.get(key))) is not None:
            return v
    return None


def _seed_entry(seed: Any, entry: Any, headline_key: str = "") -> SeedClaim | None:
    s = _seed_key(seed)
    if s is None:
        return None
    if not isinstance(entry, dict):  # `seeds: {"42": 1.0712}`
        return SeedClaim(seed=s, val_bpb=_score(entry))
    return SeedClaim(seed=s, val_bpb=_bpb_of(entry, headline_key),
                     val_loss=_score(entry.get("val_loss")),
                     artifact_bytes=_int(entry.get("artifact_bytes", entry.get("bytes_total"))),
                     steps=_int(entry.get("steps")))


def _seed_blocks(data: dict[str, Any]) -> list[Any]:
    """Where submissions keep per-seed results: top-level lists or dicts, or a `results` block (itself keyed by
    seed, or holding `seeds`)."""
    blocks = [data.get(k) for k in ("seed_results", "per_seed_results", "per_seed", "val_bpb_per_seed", "runs")]
    results = data.get("results")
    if isinstance(results, dict):
        blocks += [results.get("seeds"), results.get("seed_results"), results]
    elif isinstance(results, list):  # `results: [{"seed": 42, ...}, ...]`
        blocks.append(results)
    return blocks + [data.get("seeds")]


def _per_seed(data: dict[str, Any], headline_key: str = "") -> tuple[dict[int, SeedClaim], list[int]]:
    """The per-seed claims, and the seeds listed more than once (a list collapses them silently otherwise)."""
    for block in _seed_blocks(data):
        entries: list[SeedClaim | None] = []
        if isinstance(block, dict):
            entries = [_seed_entry(k, v, headline_key) for k, v in block.items() if _is_seed_key(k)]
        elif isinstance(block, list) and block and all(isinstance(e, dict) for e in block):
            entries = [_seed_entry(e.get("seed"), e, headline_key) for e in block]
        elif isinstance(block, list) and isinstance(data.get("seed_scores"), list):
            entries = [_seed_entry(s, v) for s, v in zip(block, data["seed_scores"], strict=False)]
        elif isinstance(block, list):  # only the seeds, no scores
            entries = [_seed_entry(s, None) for s in block]
        seeds = [e.seed for e in entries if e is not None]
        if seeds:
            return {e.seed: e for e in entries if e is not None}, sorted({s for s in seeds if seeds.count(s) > 1})
    return {}, []


_RERUN_KEYS = ("supports_pr", "reproduces_pr", "rerun_of_pr", "rerun_of", "reproduction_of", "reproduces")


def _pr_number(v: Any) -> int | None:
    """1851, "1851", "#1851", "PR #1851" -> 1851."""
    m = re.search(r"\d+", str(v)) if isinstance(v, int | str) and not isinstance(v, bool) else None
    return int(m.group(0)) if m else None


def _first(data: dict[str, Any], *keys: str) -> Any:
    """The value of the first key present and not null (submissions spell some fields several ways)."""
    return next((data[k] for k in keys if data.get(k) is not None), None)


def read_claim(path: str | Path) -> Claim:
    """Read one submission.json; DataError naming the file when it is not a JSON object."""
    p = Path(path)
    return read_claim_bytes(read_bytes(p, "claim"), str(p))  # the one bounded reader: names the file and reason


def _json(text: str) -> Any:
    return json.loads(text, parse_float=Decimal, parse_constant=lambda name: Decimal(name.replace("Infinity", "Inf")))


def parse_json_object(data: bytes, p: str) -> tuple[dict[str, Any], str | None]:
    """A submission.json's object and, when it is not valid JSON but holds one (a BOM, a shell heredoc around
    it, a second object after it), a warning that says what was read. DataError when no object is found."""
    text = data.decode("utf-8", errors="replace")
    try:
        obj, warning = _json(text), None
    except json.JSONDecodeError as exc:
        obj, warning = None, f"{p}: not valid JSON ({exc.msg} at line {exc.lineno})"
        start = text.find("{")
        if start >= 0:
            with contextlib.suppress(json.JSONDecodeError, RecursionError):
                obj = json.JSONDecoder(parse_float=Decimal).raw_decode(text, start)[0]
                warning += f"; read the JSON object at character {start}"
        if obj is None:
            raise DataError(warning + "; fix or remove it") from None
    except RecursionError:
        raise DataError(f"{p}: nested too deeply to be a submission.json; fix or remove it") from None
    if not isinstance(obj, dict):
        raise DataError(f"{p}: expected a JSON object, got {type(obj).__name__}")
    return obj, warning


def read_claim_bytes(data: bytes, p: str) -> Claim:
    """A submission.json's bytes as a Claim; `p` names the file in errors and warnings."""
    data, warning = parse_json_object(data, p)
    key, headline = _headline(data)
    seeds, twice = _per_seed(data, key or "")
    loss_key = next((k for k in ("val_loss", "mean_val_loss", "val_loss_mean") if k in data), None)
    date = _DATE.search(str(data.get("date", ""))) if data.get("date") else None
    zero = [k for k in ("val_bpb", "val_loss") if _number(data.get(k)) == 0]
    notes = [warning] if warning else []
    notes += [f"{p}: {k} 0 is a placeholder, not a claim" for k in zero]
    return Claim(
        file=str(p), headline_key=key, val_bpb=headline, warnings=notes,
        val_loss=_score(data.get(loss_key)) if loss_key else None,
        nonfinite=[k for k, v in _leaves(data) if _nonfinite(v)],
        bytes_total=_int(_first(data, "bytes_total", "artifact_bytes", "artifact_size_bytes", "total_bytes")),
        bytes_code=_int(_first(data, "bytes_code", "code_bytes")),
        date=date.group(1) if date else None, seeds=seeds, duplicate_seeds=twice,
        val_bpb_std=_number(_first(data, "val_bpb_std", "std_val_bpb")), p_value=_number(data.get("p_value")),
        base_pr=data.get("base_pr"), comparison_baseline_pr=data.get("comparison_baseline_pr"),
        reruns_pr=_pr_number(_first(data, *_RERUN_KEYS)),
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


def readme_p_values(text: str) -> list[str]:
    """The p-values a record's README.md text quotes (`p=0.020`, `p < 0.01`, `p-value: 0.0065`,
    `p-value < 1.195: 0.0023` -> 0.0023), as printed."""
    tests = list(_README_THRESHOLD_P.finditer(text))
    taken = [range(*m.span()) for m in tests]
    plain = [m for m in _README_P.finditer(text) if not any(m.start() in span for span in taken)]
    return list(dict.fromkeys(m.group(2 if m in tests else 1) for m in sorted(tests + plain, key=lambda m: m.start())))


# `val_bpb: 1.0810`, `**val_bpb = 1.0810**`, `Mean BPB | **1.0810**`: the README's stated result
_README_RESULT = re.compile(r"\b(?:val_)?bpb\b[^\d\n]{0,24}?(\d\.\d{3,})", re.IGNORECASE)


# a README number that is no result of its own: another PR's score, the baseline's, a target or an expectation
_NOT_OWN = re.compile(r"#\d|\bPR\b|baseline|target|expect|previous|prior|pending|placeholder|~", re.IGNORECASE)
_RANGE_AFTER = re.compile(r"\**\s*(?:-|–|to)\s*\d\.\d")


def readme_result(text: str) -> Decimal | None:
    """The first val_bpb a README states as its own result, as printed (the fallback when submission.json cannot
    say it): not a number its line quotes from another PR or the baseline, a target, or one end of a range."""
    for m in _README_RESULT.finditer(text):
        before = text[text.rfind("\n", 0, m.start()) + 1:m.start(1)]
        if not _NOT_OWN.search(before) and not _RANGE_AFTER.match(text, m.end()):
            return Decimal(m.group(1))
    return None


def readme_threshold(text: str) -> float | None:
    """The threshold of the first `p-value < X: P` test a README's text quotes, to compute the same test."""
    m = _README_THRESHOLD_P.search(text)
    return float(m.group(1)) if m else None


# a README results row: `| 1337 | 4,685 | 1.0829 | **1.0748** | 2.7764 | 15,958,373 |` (seed first)
_SEED_ROW = re.compile(r"^\|\s*\**\s*(\d{1,7})\s*\**\s*\|(.+)\|\s*$")
_SCORE_CELL = re.compile(r"^\**\s*(\d\.\d{3,})\s*\**$")  # a loss or bpb: no thousands commas, 3+ decimals


def readme_seed_numbers(text: str) -> dict[int, list[Decimal]]:
    """The per-seed scores a README's results tables print, by seed (step counts, bytes and times left out)."""
    out: dict[int, list[Decimal]] = {}
    for line in text.splitlines():
        if m := _SEED_ROW.match(line.strip()):
            cells = [c for cell in m.group(2).split("|") if (c := _SCORE_CELL.match(cell.strip()))]
            nums = [Decimal(c.group(1)) for c in cells if Decimal("0.3") < Decimal(c.group(1)) < Decimal("9")]
            if nums:
                out.setdefault(int(m.group(1)), []).extend(nums)
    return out
