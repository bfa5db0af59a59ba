"""The validation split a job scores, checked before anything is scored (train and eval alike).

A wrong split gives a wrong val_bpb with no other sign, so each of these is an error:
shards that manifest.json beside them files under the train split, a tokenizer that is
not the one the shards were made with, and a split whose first token is not BOS (the
record's format puts BOS before every document; tokens before the first BOS belong to
no document and would be dropped from the document-wise conditions without a word).
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any

import numpy as np

from pgolf import inputs
from pgolf.data.docs import BOS_ID
from pgolf.data.shards import list_shards
from pgolf.errors import DataError

MANIFEST = "manifest.json"


def check_validation_files(val_pattern: str | os.PathLike[str], tokenizer_path: str | os.PathLike[str]) -> dict[str, Any]:
    """The shards `val_pattern` matches, none of them a train shard, and the tokenizer theirs.

    Returns what was checked (for the result JSON), with "val_shards": the shard paths."""
    from pgolf.tokenizer import check_against_manifest

    shards = list_shards(val_pattern)
    _refuse_train_shards(shards, val_pattern)
    checked = check_against_manifest(tokenizer_path, shards[0])
    checked["val_shards"] = [str(p) for p in shards]
    return checked


def _refuse_train_shards(shards: list[Path], val_pattern: str | os.PathLike[str]) -> None:
    """DataError naming every matched shard that the manifest beside it files under the train split."""
    wrong = []
    for shard in shards:
        train_glob = _train_glob(shard.parent / MANIFEST)
        if train_glob and fnmatch.fnmatch(shard.name, Path(train_glob).name):
            wrong.append(str(shard))
    if wrong:
        shown = ", ".join(wrong[:3]) + (f" and {len(wrong) - 3} more" if len(wrong) > 3 else "")
        raise DataError(f"the validation glob {val_pattern} matches {len(wrong)} training shard(s) "
                        f"({shown}), which manifest.json files under the train split: scoring them would "
                        "report training text as validation; pass a glob of the val shards only (e.g. *_val_*.bin)")


def _train_glob(manifest: Path) -> str | None:
    if not manifest.is_file():
        return None
    loaded = inputs.read_json(manifest, "manifest")  # names the file: not UTF-8, nested too deeply, NaN
    try:
        glob = loaded.get("train_glob")
    except AttributeError as exc:
        raise DataError(f"manifest {manifest} is unreadable ({exc}); rebuild it with `python -m pgolf prepare`") from None
    return glob if isinstance(glob, str) else None


def check_starts_with_bos(tokens: np.ndarray, val_pattern: str | os.PathLike[str]) -> None:
    """DataError when the split does not start with BOS: its first document would be lost."""
    if tokens.size and int(tokens[0]) != BOS_ID:
        first_bos = np.flatnonzero(tokens == BOS_ID)
        lost = (f"the {int(first_bos[0])} token(s) before the first BOS belong to no document" if first_bos.size
                else f"they hold no BOS at all, so none of their {tokens.size} tokens is in a document")
        raise DataError(f"validation shards {val_pattern} start with token {int(tokens[0])}, not BOS (id {BOS_ID}): "
                        f"{lost} and would not be scored; rebuild the split with `python -m pgolf prepare` "
                        "(BOS before every document)")
