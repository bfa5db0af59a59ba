"""Float64 sums of one evaluation, their all-reduce, and the files they are written to.

bpb is computed once, from sums over every scored token: nats / ln 2 / bytes
(record-77.md, "Bits per byte"), never as a mean of per-document values. The
per-position and per-document sums are kept so that plots and paired
statistics never need a rerun.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from pgolf.atomic import json_text, write_group
from pgolf.runtime import in_process_group


def bits_per_byte(nats: float, nbytes: float) -> float:
    """The record's bpb: summed nats / ln 2 / summed bytes (never a mean of per-document values)."""
    return nats / math.log(2.0) / nbytes


class Totals:
    """Running sums: overall, by target position inside its document, and by document.

    Document -1 collects targets before the first BOS (flat stream only).
    """

    def __init__(self, num_docs: int, num_positions: int, device: torch.device | str) -> None:
        f64, i64 = torch.float64, torch.int64
        self.device = torch.device(device)
        self.pos_nats = torch.zeros(num_positions, dtype=f64, device=device)
        self.pos_bytes = torch.zeros(num_positions, dtype=i64, device=device)
        self.pos_count = torch.zeros(num_positions, dtype=i64, device=device)
        self.doc_nats = torch.zeros(num_docs + 1, dtype=f64, device=device)
        self.doc_bytes = torch.zeros(num_docs + 1, dtype=i64, device=device)
        self.doc_count = torch.zeros(num_docs + 1, dtype=i64, device=device)

    def add(self, nats: torch.Tensor, nbytes: torch.Tensor, doc: torch.Tensor, position: torch.Tensor) -> None:
        """One batch of scored targets (flat tensors of equal length)."""
        if nats.numel() == 0:
            return
        if int(position.max()) >= self.pos_nats.numel():
            raise ValueError(f"target position {int(position.max())} beyond the {self.pos_nats.numel()} planned")
        nats = nats.detach().to(torch.float64)
        nbytes = nbytes.to(torch.int64)
        ones = torch.ones_like(position)
        self.pos_nats.index_add_(0, position, nats)
        self.pos_bytes.index_add_(0, position, nbytes)
        self.pos_count.index_add_(0, position, ones)
        slot = doc + 1
        self.doc_nats.index_add_(0, slot, nats)
        self.doc_bytes.index_add_(0, slot, nbytes)
        self.doc_count.index_add_(0, slot, ones)

    def all_reduce(self) -> None:
        """Sum over ranks (no-op outside torch.distributed)."""
        if not in_process_group():
            return
        for t in (self.pos_nats, self.pos_bytes, self.pos_count, self.doc_nats, self.doc_bytes, self.doc_count):
            dist.all_reduce(t, op=dist.ReduceOp.SUM)

    def result(self, condition: str, doc_starts: np.ndarray, seconds: float, settings: dict[str, Any]) -> EvalResult:
        doc_nats = self.doc_nats.cpu().numpy()
        doc_bytes = self.doc_bytes.cpu().numpy()
        doc_count = self.doc_count.cpu().numpy()
        # The document sums are the finest partition of every scored target: the totals come from
        # them (in float64), so the JSON, docs.csv and positions.csv agree exactly.
        pos_count = self.pos_count.cpu().numpy()
        used = np.flatnonzero(pos_count)
        n_pos = int(used[-1]) + 1 if used.size else 0
        docs = np.flatnonzero(doc_count) - 1
        starts = np.concatenate([[0], np.asarray(doc_starts, dtype=np.int64)])
        return EvalResult(
            condition=condition,
            loss_sum_nats=float(doc_nats.sum()),
            bytes=int(doc_bytes.sum()),
            tokens=int(doc_count.sum()),
            docs=int((docs >= 0).sum()),
            seconds=seconds,
            settings=dict(settings),
            positions={
                "position": np.arange(n_pos, dtype=np.int64),
                "nats": self.pos_nats.cpu().numpy()[:n_pos],
                "bytes": self.pos_bytes.cpu().numpy()[:n_pos],
                "count": pos_count[:n_pos],
            },
            per_doc={
                "doc": docs,
                "start": starts[docs + 1],
                "tokens": doc_count[docs + 1],
                "bytes": doc_bytes[docs + 1],
                "nats": doc_nats[docs + 1],
            },
        )


@dataclass
class EvalResult:
    """What one condition scored; `val_loss` and `val_bpb` follow the reference's definitions."""

    condition: str
    loss_sum_nats: float
    bytes: int
    tokens: int
    docs: int
    seconds: float
    settings: dict[str, Any]
    positions: dict[str, np.ndarray] = field(repr=False)
    per_doc: dict[str, np.ndarray] = field(repr=False)

    @property
    def val_loss(self) -> float:
        return self.loss_sum_nats / self.tokens

    @property
    def val_bpb(self) -> float:
        return bits_per_byte(self.loss_sum_nats, self.bytes)

    def summary(self) -> dict[str, Any]:
        return {
            "condition": self.condition,
            "val_loss": self.val_loss,
            "val_bpb": self.val_bpb,
            "tokens": self.tokens,
            "bytes": self.bytes,
            "loss_sum_nats": self.loss_sum_nats,
            "docs": self.docs,
            "seconds": self.seconds,
            "settings": self.settings,
        }


def _csv(columns: dict[str, np.ndarray]) -> str:
    out = io.StringIO()
    out.write(",".join(columns) + "\n")
    cols = [
        [repr(float(v)) for v in arr] if np.issubdtype(arr.dtype, np.floating) else [str(int(v)) for v in arr]
        for arr in columns.values()
    ]
    for row in zip(*cols, strict=True):
        out.write(",".join(row) + "\n")
    return out.getvalue()


def output_paths(json_path: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """FILE.json -> (FILE.json, FILE.positions.csv, FILE.docs.csv)."""
    path = Path(json_path)
    stem = path.with_suffix("") if path.suffix == ".json" else path
    return path, stem.with_name(stem.name + ".positions.csv"), stem.with_name(stem.name + ".docs.csv")


def result_files(result: EvalResult, json_path: str | os.PathLike[str], **extra: Any) -> tuple[Path, Path, Path]:
    """Write FILE.json, FILE.positions.csv and FILE.docs.csv as one group (all three or none).

    Everything is serialised first (a NaN fails here, before any file is touched), then
    staged and renamed in, the JSON last; `extra` (artifact, provenance, ...) goes into the JSON.
    """
    paths = output_paths(json_path)
    summary = result.summary()
    # A score we computed ourselves is never NaN by design: the JSON edge would write it as null with a
    # note, but an evaluation that produced one is a bug to stop at, not a result to keep beside good ones.
    bad = [key for key, value in summary.items() if isinstance(value, float) and not math.isfinite(value)]
    if bad:
        raise ValueError(f"{paths[0]}: the evaluation produced non-finite {', '.join(bad)}; nothing was written")
    text = json_text({**summary, **extra})
    write_group({paths[1]: _csv(result.positions).encode(), paths[2]: _csv(result.per_doc).encode(),
                 paths[0]: text.encode()})
    return paths
