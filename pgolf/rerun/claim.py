"""What a record folder's `submission.json` claims per seed.

The file's shape varies between records (../shared/reference/review-practice.md):
`seeds` as a dict seed -> {val_bpb, ...} or as a list beside `seed_scores`, or
`seed_results` as a dict. Only the seeds and their val_bpb are read here; the
reviewer's record check reads the rest.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pgolf.errors import PgolfError

SUBMISSION = "submission.json"


def read_submission(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / SUBMISSION
    if not path.is_file():
        raise PgolfError(f"{path}: no {SUBMISSION}; a record folder holds its claim there")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PgolfError(f"{path}: not valid JSON ({exc}); fix the file") from None
    if not isinstance(data, dict):
        raise PgolfError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _seed_of(key: Any, where: str) -> int:
    """`42`, `"42"`, `"seed_42"` -> 42."""
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    match = re.fullmatch(r"\D*(\d+)", str(key).strip())
    if not match:
        raise PgolfError(f"{where}: {key!r} is not a seed (expected an integer such as 42)")
    return int(match.group(1))


def _score_of(entry: Any) -> float | None:
    if isinstance(entry, int | float) and not isinstance(entry, bool):
        return float(entry)
    if isinstance(entry, dict):
        for key in ("val_bpb", "bpb"):
            if isinstance(entry.get(key), int | float):
                return float(entry[key])
    return None


def claimed_runs(folder: str | Path) -> dict[int, float | None]:
    """seed -> claimed val_bpb (None where only the seed is named), in the file's order."""
    data = read_submission(folder)
    where = str(Path(folder) / SUBMISSION)
    for key in ("seed_results", "seeds"):
        value = data.get(key)
        if isinstance(value, dict):
            return {_seed_of(k, f"{where} key {key}"): _score_of(v) for k, v in value.items()}
        if isinstance(value, list):
            scores = data.get("seed_scores") or data.get("val_bpbs") or []
            out: dict[int, float | None] = {}
            for i, item in enumerate(value):
                seed = _seed_of(item.get("seed") if isinstance(item, dict) else item, f"{where} key {key}[{i}]")
                score = _score_of(item) if isinstance(item, dict) else None
                out[seed] = score if score is not None else (_score_of(scores[i]) if i < len(scores) else None)
            return out
    if "seed" in data:
        return {_seed_of(data["seed"], f"{where} key seed"): _score_of(data)}
    return {}


def claimed_seeds(folder: str | Path) -> list[int]:
    """The seeds submission.json names; an error when it names none."""
    seeds = list(claimed_runs(folder))
    if not seeds:
        raise PgolfError(
            f"{Path(folder) / SUBMISSION}: names no seeds (no `seeds`, `seed_results` or `seed` key); "
            "list them in the rerun entry's `seeds:`"
        )
    return seeds
