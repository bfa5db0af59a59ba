"""Documents found by BOS positions, with the record's _find_docs semantics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pgolf.data.docs import BOS_ID, doc_spans
from pgolf.errors import DataError


def _find_docs_by_hand(tokens, include_next_bos):
    """The reference's loop, written out plainly, as the oracle."""
    bos = [i for i, t in enumerate(tokens) if t == BOS_ID]
    docs = []
    for i, start in enumerate(bos):
        end = bos[i + 1] if i + 1 < len(bos) else len(tokens)
        if include_next_bos and i + 1 < len(bos):
            end += 1
        docs.append((start, end - start))
    return docs


def test_bos_id_is_one():
    assert BOS_ID == 1


def test_docs_include_the_next_bos_as_last_target():
    tokens = np.array([1, 5, 6, 1, 7, 1, 8, 9, 10])
    starts, lengths = doc_spans(tokens)
    assert starts.tolist() == [0, 3, 5]
    assert lengths.tolist() == [4, 3, 4]  # [1 5 6 1], [1 7 1], and the last doc runs to the end
    assert starts.dtype == np.int64 and lengths.dtype == np.int64


def test_without_next_bos_docs_stop_before_it():
    starts, lengths = doc_spans(np.array([1, 5, 6, 1, 7, 1, 8, 9, 10]), include_next_bos=False)
    assert starts.tolist() == [0, 3, 5]
    assert lengths.tolist() == [3, 2, 4]


def test_targets_of_all_docs_equal_the_flat_stream_from_the_first_bos():
    # With the next BOS included, doc targets (length - 1 each) add up to the stream's targets.
    tokens = np.array([1, 4, 4, 1, 9, 1, 2, 3, 1, 7])
    _, lengths = doc_spans(tokens)
    assert int((lengths - 1).sum()) == len(tokens) - 1


def test_tokens_before_the_first_bos_belong_to_no_document():
    starts, lengths = doc_spans(np.array([9, 9, 1, 5, 6]))
    assert starts.tolist() == [2] and lengths.tolist() == [3]


def test_single_document_runs_to_the_end():
    starts, lengths = doc_spans(np.array([1, 2, 3, 4]))
    assert starts.tolist() == [0] and lengths.tolist() == [4]


def test_no_bos_is_an_error():
    with pytest.raises(DataError, match="no BOS token"):
        doc_spans(np.array([2, 3, 4]))


def test_a_one_token_document_is_an_error():
    with pytest.raises(DataError, match=r"document 1 \(BOS at token 3\) has 1 token"):
        doc_spans(np.array([1, 5, 6, 1]))  # a BOS as the very last token
    with pytest.raises(DataError, match="document 0"):
        doc_spans(np.array([1, 1, 5]), include_next_bos=False)


def test_torch_tensors_are_accepted():
    starts, lengths = doc_spans(torch.tensor([1, 5, 1, 6], dtype=torch.int64))
    assert starts.tolist() == [0, 2] and lengths.tolist() == [3, 2]


@pytest.mark.parametrize("include_next_bos", [True, False])
def test_matches_the_reference_loop_on_random_streams(include_next_bos):
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(2, 300))
        tokens = rng.integers(2, 50, size=n)
        tokens[rng.random(n) < 0.05] = BOS_ID
        tokens[int(rng.integers(0, 3))] = BOS_ID
        expected = _find_docs_by_hand(tokens.tolist(), include_next_bos)
        if any(length < 2 for _, length in expected):  # where the reference asserts, pgolf raises
            with pytest.raises(DataError):
                doc_spans(tokens, include_next_bos)
            continue
        starts, lengths = doc_spans(tokens, include_next_bos)
        assert list(zip(starts.tolist(), lengths.tolist(), strict=True)) == expected


def test_prepared_val_shard_documents_match_the_manifest(tiny_data):
    from pgolf.data.shards import load_tokens

    tokens = load_tokens(tiny_data.val_glob)
    starts, _ = doc_spans(tokens)
    assert tokens[0] == BOS_ID
    assert len(starts) == tiny_data.manifest["splits"]["val"]["docs"]
