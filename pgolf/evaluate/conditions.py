"""The four evaluation conditions of the ablation as one engine.

- flat: the record's eval_val: the stream cut to whole windows of seq_len (+1 target),
  every target scored once with the context inside its window, across documents.
- sliding: each document alone, its targets in chunks of `chunk` from its start, each
  chunk scored in the window of at most seq_len targets that ends at the chunk's end.
- doc: sliding with chunk = seq_len.
- ttt: sliding, plus per-document LoRA test-time training (pgolf.evaluate.ttt_engine).

What sets each apart is a property of its pgolf.evalspec.Condition, never its name.
Windows are built with array operations (pgolf.evaluate.windows), batched by
length, scored by pgolf.evaluate.scorer, and only scored positions reach the LM head. Sums are float64
(pgolf.evaluate.totals); under torch.distributed, windows (flat) or documents
(the others) are split across ranks in contiguous shares and the sums all-reduced.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import Tensor

from pgolf.data.docs import doc_spans
from pgolf.evalspec import Condition, EvalSettings, bf16_autocast
from pgolf.evalspec import condition as condition_of
from pgolf.evaluate.scorer import Progress, Scorer
from pgolf.evaluate.totals import EvalResult, Totals
from pgolf.evaluate.ttt_engine import model_dtype, run_ttt_condition
from pgolf.evaluate.windows import (
    Windows,
    chunk_windows,
    flat_windows,
    length_batches,
    merge_prefix_windows,
    rank_slice,
)
from pgolf.model import GPT
from pgolf.runtime import dist_info, sync
from pgolf.tokenizer import ByteTables


def _stream_tensor(tokens: Any, device: torch.device) -> Tensor:
    if isinstance(tokens, Tensor):
        return tokens.to(device=device, dtype=torch.int32)
    return torch.from_numpy(np.asarray(tokens).astype(np.int32)).to(device)


def run_condition(
    model: GPT,
    tokens: Any,
    tables: ByteTables,
    condition: str,
    settings: EvalSettings | None = None,
) -> EvalResult:
    """Score `tokens` (the whole validation stream) under one condition; sums over all ranks.

    The model is put in eval mode with frozen weights for the call and restored afterwards.
    """
    settings = settings or EvalSettings()
    settings.validate(condition)
    cond = condition_of(condition)
    chunk = settings.chunk_for(condition)
    device = model.tok_emb.weight.device
    autocast = bf16_autocast(settings.precision, device.type)
    rank, world = dist_info()
    host, starts, lengths = _documents(tokens, settings.max_docs)
    stream = _stream_tensor(host, device)
    w = _plan(cond, host, starts, lengths, settings.seq_len, chunk, rank, world)
    n_positions = max(int(lengths.max()) - 1, int(starts[0]), 1)
    totals = Totals(starts.size, n_positions, device)
    progress = Progress(condition, w.scored_tokens, settings.progress_seconds, rank)

    was_training = model.training
    grads = [p.requires_grad for p in model.parameters()]
    model.eval()
    model.requires_grad_(False)
    sync(device)
    t0 = time.perf_counter()
    workers_used = 1
    try:
        if cond.per_document and not cond.trains:
            w = merge_prefix_windows(w, starts)
        scorer = Scorer(model, stream, tables, w, torch.as_tensor(starts, device=device), totals, autocast, progress)
        if cond.trains:
            workers_used = run_ttt_condition(scorer, settings.ttt)
        else:
            with torch.inference_mode():
                batch_tokens = settings.batch_tokens or (65536 if device.type == "cuda" else 8192)
                for rows in length_batches(w.length, batch_tokens):
                    scorer.score_flat(torch.as_tensor(rows))
        totals.all_reduce()
        sync(device)
    finally:
        model.train(was_training)
        for p, g in zip(model.parameters(), grads, strict=True):
            p.requires_grad_(g)
    seconds = time.perf_counter() - t0
    info = _info(settings, cond, chunk, autocast, world, model)
    if cond.trains:
        info["ttt_workers"] = workers_used  # processes the documents were dealt to (float rounding may differ)
    return totals.result(condition, starts, seconds, info)


def _documents(tokens: Any, max_docs: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(stream, document starts, document lengths), cut to the first `max_docs` documents."""
    host = tokens.cpu().numpy() if isinstance(tokens, Tensor) else np.asarray(tokens)
    starts, lengths = doc_spans(host)
    if max_docs is not None and max_docs < starts.size:
        # Keep the next document's BOS: it is the last target of the last document kept.
        host = host[: starts[max_docs] + 1]
        starts, lengths = starts[:max_docs], lengths[:max_docs]
    return host, starts, lengths


def _plan(cond: Condition, host: np.ndarray, starts: np.ndarray, lengths: np.ndarray, seq_len: int, chunk: int,
          rank: int, world: int) -> Windows:
    """This rank's windows: a contiguous share of the flat windows, or of the documents."""
    if not cond.per_document:
        w = flat_windows(host.size, seq_len)
        return w.take(np.arange(len(w))[rank_slice(len(w), rank, world)])
    share = rank_slice(starts.size, rank, world)
    w = chunk_windows(starts[share], lengths[share], chunk, seq_len)
    return replace(w, doc=w.doc + share.start)


def _info(settings: EvalSettings, cond: Condition, chunk: int, autocast: bool, world: int,
          model: GPT) -> dict[str, Any]:
    info = {
        **settings.to_dict(),
        "chunk": chunk,
        "autocast": autocast,
        "world_size": world,
        "device": str(model.tok_emb.weight.device),
        "dtype": str(model_dtype(model)).removeprefix("torch."),
    }
    if not cond.trains:
        info = {k: v for k, v in info.items() if not k.startswith("ttt_")}
    return info
