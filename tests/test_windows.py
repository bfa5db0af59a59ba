"""Window plans: the record's chunk windows, each target scored once, flat cut, batching."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pgolf.errors import ConfigError
from pgolf.evaluate.loops import chunk_window
from pgolf.evaluate.windows import (
    chunk_windows,
    flat_windows,
    length_batches,
    merge_prefix_windows,
    rank_slice,
    target_positions,
)


def _docs(lengths):
    lengths = np.asarray(lengths, dtype=np.int64)
    return np.cumsum(lengths) - lengths, lengths


@pytest.mark.parametrize(("chunk", "seq_len"), [(3, 7), (4, 8), (8, 8), (1, 5)])
def test_chunk_windows_follow_the_record_chunk_window(chunk, seq_len):
    starts, lengths = _docs([2, 3, 9, 17, 30, 8, 25])
    w = chunk_windows(starts, lengths, chunk, seq_len)
    expect = []
    for d, (s, n) in enumerate(zip(starts, lengths, strict=True)):
        pred = n - 1
        nc = (pred + chunk - 1) // chunk
        for ci in range(nc):
            ws, wl, co, cl = chunk_window(ci, pred, nc, chunk, seq_len)
            expect.append((d, ci, s + ws, wl, co, cl, ci == nc - 1))
    got = list(zip(w.doc, w.chunk, w.start, w.length, w.score_offset, w.score_len, w.last, strict=True))
    assert [tuple(int(v) for v in row) for row in got] == [tuple(int(v) for v in row) for row in expect]
    assert (w.length <= seq_len).all()


@pytest.mark.parametrize("merge", [False, True])
def test_every_target_of_every_document_is_scored_exactly_once(merge):
    lengths = [2, 5, 257, 1000, 1025, 1026, 3000, 40]
    starts, lens = _docs(lengths)
    w = chunk_windows(starts, lens, 256, 1024)
    if merge:
        w = merge_prefix_windows(w, starts)
    scored = np.concatenate(
        [np.arange(s + o + 1, s + o + 1 + n) for s, o, n in zip(w.start, w.score_offset, w.score_len, strict=True)]
    )
    # Independently: document d's targets are the stream tokens start+1 .. start+len-1.
    expected = np.concatenate([np.arange(s + 1, s + n) for s, n in zip(starts, lengths, strict=True)])
    assert np.array_equal(np.sort(scored), expected)
    assert scored.size == sum(n - 1 for n in lengths)
    # Every scored target's context stays inside its own document and window.
    assert (w.start >= starts[w.doc]).all() and (w.score_offset + w.score_len <= w.length).all()


def test_merged_prefix_windows_leave_one_window_per_document_at_its_bos():
    starts, lens = _docs([900, 3000, 100])
    w = merge_prefix_windows(chunk_windows(starts, lens, 256, 1024), starts)
    at_bos = w.start == starts[w.doc]
    assert np.bincount(w.doc[at_bos]).tolist() == [1, 1, 1]
    assert w.length[at_bos].tolist() == [899, 1024, 99]


def test_flat_windows_cut_the_stream_to_whole_windows_plus_one_target():
    w = flat_windows(10 * 16 + 5, 16)
    assert len(w) == 10 and w.scored_tokens == 160
    assert w.start.tolist() == list(range(0, 160, 16))
    with pytest.raises(ConfigError, match="too short"):
        flat_windows(16, 16)


def test_chunk_longer_than_seq_len_is_a_config_error():
    starts, lens = _docs([10])
    with pytest.raises(ConfigError, match="--chunk 9 is longer than --seq-len 8"):
        chunk_windows(starts, lens, 9, 8)


def test_target_positions_give_the_next_bos_to_the_previous_document():
    starts = torch.tensor([2, 6])  # tokens 0, 1 precede the first BOS
    t = torch.arange(1, 10)
    doc, pos = target_positions(t, starts)
    assert doc.tolist() == [-1, -1, 0, 0, 0, 0, 1, 1, 1]
    assert pos.tolist() == [0, 1, 0, 1, 2, 3, 0, 1, 2]


def test_length_batches_cover_every_row_once_within_the_token_budget():
    lengths = np.array([5, 100, 7, 100, 64, 3, 99])
    batches = list(length_batches(lengths, max_tokens=200))
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(lengths.size))
    assert all(lengths[b].max() * b.size <= 200 or b.size == 1 for b in batches)


def test_rank_slices_partition_the_items():
    parts = [rank_slice(10, r, 3) for r in range(3)]
    assert [(p.start, p.stop) for p in parts] == [(0, 3), (3, 6), (6, 10)]
