"""The GPU check's data (bench/gpu_check.sh), from a folder `pgolf prepare` wrote.

    python bench/gpu_data.py --src .gpu/data --out WORK [--val-docs 100] [--val-min-tokens 0] [--ttt-docs 512] [--seed 0]

Writes, in the reference shard format:
  WORK/fw/fineweb_train_000000.bin   the prepared train shard(s), under the names the record's script globs
  WORK/fw/fineweb_val_000000.bin     the first --val-docs validation documents (more until --val-min-tokens):
                                     the end-of-run evaluations of the training runs take seconds, not minutes
  WORK/ttt/fineweb_val_000000.bin    --ttt-docs synthetic documents for the TTT comparison: FineWeb's
                                     length profile (bench/eval_throughput.doc_lengths: log-normal, mean
                                     about 1,240 tokens), each a BOS then a run of real validation text
                                     (the validation stream without its BOS tokens, read cyclically)
The tokenizer stays where it is (SRC/tokenizer.model); no manifest is written beside the new shards.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_throughput import doc_lengths  # noqa: E402  (bench/eval_throughput.py)

from pgolf.data.docs import BOS_ID  # noqa: E402
from pgolf.data.shards import list_shards, load_tokens, write_shard  # noqa: E402


def first_docs(tokens: np.ndarray, n: int) -> np.ndarray:
    """The stream cut before the (n+1)-th BOS: its first n documents."""
    starts = np.flatnonzero(tokens == BOS_ID)
    return tokens if n >= len(starts) else tokens[: starts[n]]


def synthetic_docs(text: np.ndarray, n: int, seed: int) -> np.ndarray:
    """n documents of FineWeb's lengths, each BOS + the next run of `text` (cyclic)."""
    rng = np.random.default_rng(seed)
    lengths = doc_lengths(n, rng)
    parts, at = [], 0
    for k in lengths:
        idx = (at + np.arange(int(k) - 1)) % len(text)
        parts.append(np.concatenate([[BOS_ID], text[idx]]))
        at = int(idx[-1]) + 1 if len(idx) else at
    return np.concatenate(parts).astype(np.uint16)


def build(src: Path, out: Path, val_docs: int, ttt_docs: int, seed: int, min_tokens: int = 0) -> dict[str, int]:
    (out / "fw").mkdir(parents=True, exist_ok=True)
    (out / "ttt").mkdir(parents=True, exist_ok=True)
    for i, shard in enumerate(list_shards(str(src / "*_train_*.bin"))):
        shutil.copyfile(shard, out / "fw" / f"fineweb_train_{i:06d}.bin")
    val = load_tokens(str(src / "*_val_*.bin"))
    small = first_docs(val, val_docs)
    while len(small) < min_tokens and len(small) < len(val):  # at least a few windows to score
        val_docs += 1
        small = first_docs(val, val_docs)
    write_shard(out / "fw" / "fineweb_val_000000.bin", small)
    synth = synthetic_docs(val[val != BOS_ID], ttt_docs, seed)
    write_shard(out / "ttt" / "fineweb_val_000000.bin", synth)
    return {"val_docs": val_docs, "val_tokens": len(small), "ttt_docs": ttt_docs, "ttt_tokens": len(synth)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", required=True, help="a folder `pgolf prepare` wrote")
    parser.add_argument("--out", required=True)
    parser.add_argument("--val-docs", type=int, default=100)
    parser.add_argument("--val-min-tokens", type=int, default=0, help="more documents until the shard holds this many")
    parser.add_argument("--ttt-docs", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    counts = build(Path(args.src), Path(args.out), args.val_docs, args.ttt_docs, args.seed, args.val_min_tokens)
    print("gpu data: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
