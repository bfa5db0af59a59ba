"""The training loader: one shared stream, a disjoint span per rank, wrapping over shards."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pgolf.data.loader import DistributedTokenLoader, TokenStream
from pgolf.data.shards import write_shard
from pgolf.errors import ConfigError


@pytest.fixture()
def three_shards(tmp_path):
    # 0..9, 10..14, 15..40: uneven sizes so spans cross shard ends.
    write_shard(tmp_path / "t_000000.bin", np.arange(0, 10))
    write_shard(tmp_path / "t_000001.bin", np.arange(10, 15))
    write_shard(tmp_path / "t_000002.bin", np.arange(15, 41))
    return str(tmp_path / "t_*.bin")


def test_stream_crosses_shard_ends_and_wraps(three_shards):
    stream = TokenStream(three_shards)
    assert stream.take(7).tolist() == list(range(7))
    assert stream.take(10).tolist() == list(range(7, 17))
    assert stream.take(30).tolist() == list(range(17, 41)) + list(range(0, 6))
    assert stream.take(0).tolist() == []


def test_batch_is_shifted_pairs_of_int64(three_shards):
    x, y = DistributedTokenLoader(three_shards, 0, 1, "cpu").next_batch(8, 4, 1)
    assert x.dtype == torch.int64 and y.dtype == torch.int64
    assert x.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert y.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]


def _span(x, y):
    """The local+1 tokens a rank got: its inputs plus the last target."""
    return torch.cat([x.reshape(-1), y.reshape(-1)[-1:]]).tolist()


@pytest.mark.parametrize("world_size", [2, 4])
def test_rank_spans_are_disjoint_and_tile_the_shared_stream(three_shards, world_size):
    global_tokens, seq_len, accum = 4 * world_size, 2, 1
    loaders = [DistributedTokenLoader(three_shards, r, world_size, "cpu") for r in range(world_size)]
    reference = TokenStream(three_shards)
    for _ in range(6):  # several calls, so the stream crosses shard ends and wraps
        spans = [_span(*ld.next_batch(global_tokens, seq_len, accum)) for ld in loaders]
        assert all(len(s) == 4 + 1 for s in spans)
        assert sum(spans, []) == reference.take(world_size * 5).tolist()


def test_ranks_see_what_one_process_sees_with_more_accumulation(three_shards):
    # world 2 x accum 2 and world 1 x accum 4 keep the global batch: micro-step k of the single
    # process is rank k % 2's micro-step k // 2.
    global_tokens, seq_len = 16, 2
    single = DistributedTokenLoader(three_shards, 0, 1, "cpu")
    ranks = [DistributedTokenLoader(three_shards, r, 2, "cpu") for r in range(2)]
    for _step in range(3):
        for _micro in range(2):
            for r in range(2):
                xs, ys = single.next_batch(global_tokens, seq_len, 4)
                xr, yr = ranks[r].next_batch(global_tokens, seq_len, 2)
                assert torch.equal(xs, xr) and torch.equal(ys, yr)


def test_a_batch_that_does_not_divide_into_sequences_is_a_config_error(three_shards):
    loader = DistributedTokenLoader(three_shards, 0, 2, "cpu")
    with pytest.raises(ConfigError, match="train_batch_tokens=12 .* not a positive multiple of train_seq_len=4"):
        loader.next_batch(12, 4, 1)


def test_rank_outside_the_world_is_a_config_error(three_shards):
    with pytest.raises(ConfigError, match="rank 2 is not in a world of size 2"):
        DistributedTokenLoader(three_shards, 2, 2, "cpu")


def test_loader_reads_a_prepared_dataset(tiny_data):
    x, y = DistributedTokenLoader(tiny_data.train_glob, 0, 1, "cpu").next_batch(4 * 64, 64, 1)
    assert x.shape == (4, 64) and int(x[0, 0]) == 1  # the stream starts with a BOS
    assert int(x.max()) < tiny_data.vocab_size
