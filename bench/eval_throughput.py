"""Evaluation throughput: scored tokens/s per condition, pgolf's engine against its readable loops.

    python bench/eval_throughput.py [--configs tiny,medium] [--conditions flat,doc,sliding,ttt]
                                    [--docs 48] [--device cpu|cuda] [--threads N] [--rounds 1]
    python bench/eval_throughput.py --artifact results/seeds/1/train/final_model.int8.ptz \
        --val 'results/data/pgolf_val_*.bin' --tokenizer results/data/tokenizer.model \
        --seq-len 32 --chunk 8 --ttt-batch 64 --conditions ttt --threads 2

Both rows of a pair run in the same process on the same model and documents: the fast
engine (pgolf.evaluate.run_condition) and the record's algorithm as pgolf.evaluate.loops
writes it (Python loops over documents for every chunk, batches of 64 sorted by chunk
count, windows padded to the batch's context). Documents are random tokens with
log-normal lengths (mean about 1,240 tokens, FineWeb's validation mean); speed does not
depend on the tokens. The record's windows: seq_len 1024, chunk 256, LoRA rank 8, batch 64. With --artifact, --val
and --tokenizer, both rows score a real artifact on real data instead (the embedded default's
artifact and windows in the second example).
Each timing is the best of --rounds, the two rows alternating round by round. On CUDA both rows use the record's precision
(bf16 embedding, bf16 autocast).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pgolf.evaluate import EvalSettings, TTTSettings, run_condition  # noqa: E402
from pgolf.evaluate.loops import loops_condition  # noqa: E402
from pgolf.model import GPT, ModelConfig, cast_like_reference, count_parameters  # noqa: E402
from pgolf.provenance import device_description  # noqa: E402
from pgolf.tokenizer import ByteTables  # noqa: E402

CONFIGS = {
    "tiny": ModelConfig(vocab_size=1024, num_layers=2, model_dim=64, num_heads=4, num_kv_heads=2),
    "medium": ModelConfig(vocab_size=1024, num_layers=4, model_dim=256, num_heads=4, num_kv_heads=2),
    "record": ModelConfig(),
}


def documents(n: int, vocab: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(mean=6.6, sigma=0.9, size=n), 20, 12000).astype(np.int64)
    parts = [np.concatenate([[1], rng.integers(2, vocab, size=int(k) - 1)]) for k in lengths]
    return np.concatenate(parts).astype(np.uint16)


def tables(vocab: int, device: torch.device) -> ByteTables:
    rng = np.random.default_rng(1)
    return ByteTables(
        torch.tensor(rng.integers(1, 5, size=vocab), dtype=torch.int16, device=device),
        torch.tensor(rng.random(vocab) < 0.3, device=device),
        torch.zeros(vocab, dtype=torch.bool, device=device),
    )


def timed(fn, device: torch.device, rounds: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(rounds):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best, out


def pair(model: GPT, tokens: np.ndarray, tab: ByteTables, condition: str, cuda: bool, device: torch.device,
         rounds: int, seq_len: int = 1024, chunk: int = 256, batch: int = 64) -> tuple[float, object, float, object]:
    """(seconds, result) of pgolf's engine, then of the readable loops (the record's algorithm), on the same inputs."""
    settings = EvalSettings(seq_len=seq_len, chunk=chunk, ttt=TTTSettings(rank=8, batch=batch))  # auto: as the record
    stream = torch.as_tensor(tokens.astype(np.int64))
    extra = {"batch_size": batch} if condition != "flat" else {}
    fast_s = ref_s = float("inf")
    for _ in range(rounds):  # alternate the two, so that a busy machine slows both alike
        s, fast = timed(lambda: run_condition(model, tokens, tab, condition, settings), device, 1)
        fast_s = min(fast_s, s)
        s, ref = timed(lambda: loops_condition(model, stream, tab, condition, seq_len=seq_len, chunk=chunk,
                                                   autocast=cuda, **extra), device, 1)
        ref_s = min(ref_s, s)
    return fast_s, fast, ref_s, ref


def inputs(args: argparse.Namespace, device: torch.device, cuda: bool):
    """(name, model, tokens, byte tables): the artifact and data given, or each synthetic config."""
    if args.artifact:
        from pgolf.artifact import load_model
        from pgolf.data.shards import load_tokens
        from pgolf.tokenizer import build_byte_tables, load_tokenizer

        model = load_model(args.artifact, device)
        if cuda:
            cast_like_reference(model)
        tab = build_byte_tables(load_tokenizer(args.tokenizer), model.config.vocab_size, device)
        yield "artifact", model, load_tokens(args.val), tab
        return
    for name in args.configs.split(","):
        cfg = CONFIGS[name]
        torch.manual_seed(0)
        model = GPT(cfg)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.02)
        model = model.to(device).eval()
        if cuda:
            cast_like_reference(model)
        yield name, model, documents(args.docs, cfg.vocab_size), tables(cfg.vocab_size, device)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="tiny,medium")
    parser.add_argument("--conditions", default="flat,doc,sliding,ttt")
    parser.add_argument("--docs", type=int, default=48)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--artifact", default=None, help="score this artifact (with --val, --tokenizer) instead")
    parser.add_argument("--val", default=None)
    parser.add_argument("--tokenizer", default=None)
    parser.add_argument("--seq-len", type=int, default=1024)
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument("--ttt-batch", type=int, default=64)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    print(f"machine: {device_description(device)} ({platform.machine()}, {torch.get_num_threads()} threads), "
          f"torch {torch.__version__}")
    header = (f"{'config':<8} {'params':>10} {'condition':<9} {'tokens':>8} {'pgolf tok/s':>12} "
              f"{'loops tok/s':>16} {'ratio':>6} {'|d bpb|':>9}")
    print(header)
    print("-" * len(header))
    for name, model, tokens, tab in inputs(args, device, cuda):
        for condition in args.conditions.split(","):
            fast_s, fast, ref_s, ref = pair(model, tokens, tab, condition, cuda, device, args.rounds,
                                            args.seq_len, args.chunk, args.ttt_batch)
            assert fast.tokens == ref.tokens, (condition, fast.tokens, ref.tokens)
            # ttt: the reference draws its adapters from the global RNG, so only flat/doc/sliding
            # are expected to agree to 1e-6.
            print(f"{name:<8} {count_parameters(model):>10,} {condition:<9} {fast.tokens:>8} "
                  f"{fast.tokens / fast_s:>12,.0f} {ref.tokens / ref_s:>16,.0f} {ref_s / fast_s:>5.2f}x "
                  f"{abs(fast.val_bpb - ref.val_bpb):>9.1e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
