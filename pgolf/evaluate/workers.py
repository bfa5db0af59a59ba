"""TTT's documents over forked worker processes, one intra-op thread each.

A TTT step of a small model on a CPU is hundreds of tiny operations that a second intra-op
thread barely speeds up (matrix products of these sizes stay on one thread), while documents
are independent: a document's score depends only on its tokens, the seed and its index
(pgolf.evaluate.ttt). So where torch has N >= 2 threads, the documents are dealt into N shares,
N - 1 forked children and the parent each run one share on one thread, and each child sends back
its windows' scores. A child that fails, or does not answer in time, has its share run again in
the parent: the result never depends on a child. Linux only (fork).
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from collections.abc import Callable

import numpy as np
import torch

# A share's estimated work: STEP_COST x its longest document's chunks (the chain of steps it
# takes) + its chunks (rows): a step's fixed cost is about five rows' (the kernel on one thread).
STEP_COST = 5.0
# A child gets this long, or ten times the parent's own share, to answer.
MIN_WAIT_SECONDS = 60.0


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def deal(doc_order: np.ndarray, chunks: np.ndarray, n: int) -> list[np.ndarray]:
    """`doc_order` (longest first) dealt into n shares, each document to the share whose estimated
    work is least after it; every share keeps the documents' order."""
    longest, total = np.zeros(n), np.zeros(n)
    out: list[list[int]] = [[] for _ in range(n)]
    for doc, c in zip(doc_order.tolist(), chunks.tolist(), strict=True):
        k = int(np.argmin(np.maximum(longest, c) * STEP_COST + total + c))
        out[k].append(doc)
        longest[k], total[k] = max(longest[k], c), total[k] + c
    return [np.asarray(s, dtype=np.int64) for s in out]


def run_shares(run: Callable[[np.ndarray], None], collect: Callable[[np.ndarray], bytes],
               store: Callable[[np.ndarray, bytes], bool], shares: list[np.ndarray],
               min_wait: float = MIN_WAIT_SECONDS) -> None:
    """run(shares[0]) here and run(share) in a forked child for each other share, all on one
    thread; a child's collect(share) reaches store(share, data) here, which says whether the data
    was whole. A share whose child failed, was cut off or timed out is run here instead."""
    threads = torch.get_num_threads()
    children = [(_fork(run, collect, share), share) for share in shares[1:]]
    torch.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        run(shares[0])
        deadline = time.monotonic() + max(min_wait, 10 * (time.perf_counter() - t0))
        for (pid, fd), share in children:
            data = _receive(pid, fd, deadline)
            if data is None or not store(share, data):
                run(share)
    finally:
        torch.set_num_threads(threads)


def _fork(run: Callable[[np.ndarray], None], collect: Callable[[np.ndarray], bytes],
          share: np.ndarray) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one thread (as DataLoader workers), its share, its scores, exit
        code = 1
        try:
            os.close(read_fd)
            torch.set_num_threads(1)
            run(share)
            data = memoryview(collect(share))
            while data:
                data = data[os.write(write_fd, data):]
            code = 0
        finally:
            os._exit(code)  # no atexit handlers, no buffers flushed twice
    os.close(write_fd)
    return pid, read_fd


def _receive(pid: int, fd: int, deadline: float) -> bytes | None:
    """Everything the child wrote, or None if it failed or the deadline passed (it is killed)."""
    parts: list[bytes] = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return None
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            parts.append(chunk)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return b"".join(parts) if os.waitstatus_to_exitcode(status) == 0 else None
