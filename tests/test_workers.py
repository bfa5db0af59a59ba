"""TTT documents over forked worker processes: the deal, real forks, a child's failure or silence."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import torch
from eval_toys import doc_stream, random_lengths, tiny_model, toy_tables

from pgolf.evaluate import EvalSettings, TTTSettings, run_condition, workers

pytestmark = pytest.mark.skipif(not workers.can_fork(), reason="worker processes need fork (Linux)")


def test_deal_gives_each_document_to_the_share_of_least_estimated_work():
    # By hand, STEP_COST 5: 10 -> share 0 (60 vs 60, the first); 6 -> 1 (66 vs 36); 3 -> 1 (63 vs 39);
    # 2 -> 1 (62 vs 41); 1 -> 1 (61 vs 42): the longest document's chain outweighs the rest.
    parts = workers.deal(np.array([7, 3, 9, 1, 4]), np.array([10, 6, 3, 2, 1]), 2)
    assert [p.tolist() for p in parts] == [[7], [3, 9, 1, 4]]
    even = workers.deal(np.arange(6), np.array([4, 4, 4, 4, 4, 4]), 3)
    assert [p.tolist() for p in even] == [[0, 3], [1, 4], [2, 5]]


class _Squares:
    """A share's work: the squares of its numbers, kept where run() ran (a child keeps its own)."""

    def __init__(self, fail_in_child: str = "") -> None:
        self.parent, self.fail, self.done, self.ran_here = os.getpid(), fail_in_child, {}, []

    def run(self, share: np.ndarray) -> None:
        if os.getpid() != self.parent:
            if self.fail == "raise":
                raise RuntimeError("child fails")
            if self.fail == "hang":
                time.sleep(60)
        else:
            self.ran_here.append(share.tolist())
        self.done.update({int(v): int(v) ** 2 for v in share})

    def collect(self, share: np.ndarray) -> bytes:
        data = np.array([self.done[int(v)] for v in share], dtype=np.int64).tobytes()
        return data[:-1] if self.fail == "short" else data

    def store(self, share: np.ndarray, data: bytes) -> bool:
        if len(data) != 8 * share.size:
            return False
        self.done.update(zip(share.tolist(), np.frombuffer(data, dtype=np.int64).tolist(), strict=True))
        return True


def _shares() -> list[np.ndarray]:
    return [np.array([1, 2]), np.array([3, 4, 5]), np.array([6])]


def test_children_run_their_shares_and_send_them_back():
    sq = _Squares()
    workers.run_shares(sq.run, sq.collect, sq.store, _shares())
    assert sq.done == {v: v * v for v in range(1, 7)}
    assert sq.ran_here == [[1, 2]]  # the parent ran its own share only


@pytest.mark.parametrize("fail", ["raise", "short", "hang"])
def test_a_share_whose_child_fails_is_run_in_the_parent(fail):
    sq = _Squares(fail_in_child=fail)
    t0 = time.monotonic()
    workers.run_shares(sq.run, sq.collect, sq.store, _shares(), min_wait=1.0)
    assert sq.done == {v: v * v for v in range(1, 7)}
    assert sq.ran_here == [[1, 2], [3, 4, 5], [6]]
    assert time.monotonic() - t0 < 20  # a silent child is killed at the deadline, not waited for


def test_ttt_on_two_threads_deals_documents_to_two_processes_with_the_same_scores():
    model, tables = tiny_model(torch.float64), toy_tables()
    tokens = doc_stream(random_lengths(10, high=120, seed=8), seed=8)
    settings = EvalSettings(seq_len=48, chunk=16, ttt=TTTSettings(rank=2, batch=3, seed=2))
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = run_condition(model, tokens, tables, "ttt", settings)
        torch.set_num_threads(2)
        two = run_condition(model, tokens, tables, "ttt", settings)
    finally:
        torch.set_num_threads(threads)
    assert (one.settings["ttt_workers"], two.settings["ttt_workers"]) == (1, 2)
    assert (one.tokens, one.bytes) == (two.tokens, two.bytes)
    np.testing.assert_allclose(two.per_doc["nats"], one.per_doc["nats"], rtol=1e-10)
    assert two.val_bpb == pytest.approx(one.val_bpb, rel=1e-11)
