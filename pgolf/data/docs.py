"""Document boundaries in a token stream, found by BOS positions alone.

Same semantics as the record's `_find_docs`: a document starts at a BOS and
runs to the next BOS; with `include_next_bos` that next BOS is its last target,
so the documents' targets add up to the flat stream's. The last document runs to
the end of the tokens. Tokens before the first BOS belong to no document.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pgolf.errors import DataError

BOS_ID = 1


def _as_numpy(tokens: Any) -> np.ndarray:
    if hasattr(tokens, "detach"):  # a torch tensor
        tokens = tokens.detach().cpu().numpy()
    arr = np.asarray(tokens)
    if arr.ndim != 1:
        raise DataError(f"doc_spans needs a 1-D token array, got shape {arr.shape}")
    return arr


def doc_spans(tokens: Any, include_next_bos: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(starts, lengths) as int64 arrays, one entry per document.

    Raises DataError when there is no BOS at all, or when a document has fewer
    than 2 tokens (no (input, target) pair; the reference asserts on this).
    """
    arr = _as_numpy(tokens)
    starts = np.flatnonzero(arr == BOS_ID).astype(np.int64)
    if starts.size == 0:
        raise DataError(
            f"no BOS token (id {BOS_ID}) in {arr.size} tokens: documents cannot be found; "
            "shards from `python -m pgolf prepare` put BOS before every document"
        )
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1] = arr.size
    if include_next_bos:
        ends[:-1] += 1
    lengths = ends - starts
    short = np.flatnonzero(lengths < 2)
    if short.size:
        i = int(short[0])
        raise DataError(
            f"document {i} (BOS at token {int(starts[i])}) has {int(lengths[i])} token(s); "
            "every document needs at least 2 (a BOS and one target)"
        )
    return starts, lengths
