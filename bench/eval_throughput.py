"""Evaluation throughput: pgolf's engine against the record's own code and pgolf's readable loops.

    python bench/eval_throughput.py [--configs tiny,medium,small3] [--conditions flat,doc,sliding,ttt]
                                    [--docs 48] [--device cpu|cuda] [--threads N] [--rounds 3]
                                    [--engine auto|kernel|autograd] [--no-loops]
    python bench/eval_throughput.py --configs small3 --conditions ttt --threads 2 --rounds 3 --no-loops
    python bench/eval_throughput.py --artifact results/seeds/1/train/final_model.int8.ptz \
        --val 'results/data/pgolf_val_*.bin' --tokenizer results/data/tokenizer.model \
        --seq-len 32 --chunk 8 --ttt-batch 64 --conditions ttt --threads 2

Every column runs in the same process on the same model and documents: pgolf's engine
(pgolf.evaluate.run_condition); for ttt, the record's own eval_val_ttt_lora, imported from
../shared/reference/record77_train_gpt.py beside the repository with pgolf's weights loaded into
its GPT (bench/record_code.py; the column is skipped, with a note, where the script is absent);
and the record's algorithm as pgolf.evaluate.loops writes it (Python loops over documents for
every chunk). Documents are random tokens with log-normal lengths (mean about 1,240 tokens,
FineWeb's validation mean); speed does not depend on the tokens. The record's windows: seq_len
1024, chunk 256, LoRA rank 8, batch 64. With --artifact, --val and --tokenizer, every column scores
a real artifact on real data instead (the embedded default's artifact and windows in the third
example). The columns alternate round by round, so a busy machine slows all alike; each ratio is
of one round's runs. On CUDA pgolf and the loops use the record's precision (bf16 embedding,
bf16 autocast).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import record_code  # noqa: E402  (bench/record_code.py)

from pgolf import evalspec  # noqa: E402
from pgolf.evalspec import TTT_ENGINES  # noqa: E402
from pgolf.evaluate import EvalSettings, TTTSettings, run_condition  # noqa: E402
from pgolf.evaluate.loops import loops_condition  # noqa: E402
from pgolf.model import GPT, ModelConfig, cast_like_reference, count_parameters  # noqa: E402
from pgolf.provenance import device_description  # noqa: E402
from pgolf.tokenizer import ByteTables  # noqa: E402

CONFIGS = {
    "tiny": ModelConfig(vocab_size=1024, num_layers=2, model_dim=64, num_heads=4, num_kv_heads=2),
    "medium": ModelConfig(vocab_size=1024, num_layers=4, model_dim=256, num_heads=4, num_kv_heads=2),
    # issue 23's shape for TTT at the record's windows: 3 blocks, 64 wide, vocab 1024
    "small3": ModelConfig(vocab_size=1024, num_layers=3, model_dim=64, num_heads=4, num_kv_heads=2),
    "record": ModelConfig(),
}


def doc_lengths(n: int, rng: np.random.Generator) -> np.ndarray:
    """n document lengths in tokens, BOS included: log-normal, long-tailed, mean about 1,240 (FineWeb's
    validation mean; the median about 830; mu 6.72 was 6.6 before, a mean of about 1,100)."""
    return np.clip(rng.lognormal(mean=6.72, sigma=0.9, size=n), 20, 12000).astype(np.int64)


def documents(n: int, vocab: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parts = [np.concatenate([[1], rng.integers(2, vocab, size=int(k) - 1)]) for k in doc_lengths(n, rng)]
    return np.concatenate(parts).astype(np.uint16)


def tables(vocab: int, device: torch.device) -> ByteTables:
    rng = np.random.default_rng(1)
    return ByteTables(
        torch.tensor(rng.integers(1, 5, size=vocab), dtype=torch.int16, device=device),
        torch.tensor(rng.random(vocab) < 0.3, device=device),
        torch.zeros(vocab, dtype=torch.bool, device=device),
    )


def timed(fn, device: torch.device) -> tuple[float, object]:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def contenders(model: GPT, tokens: np.ndarray, tab: ByteTables, condition: str, cuda: bool, args: argparse.Namespace,
               record) -> dict[str, object]:
    """name -> a call scoring the condition: pgolf's engine, the readable loops (the record's algorithm as
    pgolf writes it) and, for ttt, the record's own eval_val_ttt_lora (its code, imported)."""
    settings = EvalSettings(seq_len=args.seq_len, chunk=args.chunk,  # precision auto: as the record
                            ttt=TTTSettings(rank=8, batch=args.ttt_batch, engine=args.engine))
    stream = torch.as_tensor(tokens.astype(np.int64))
    cond = evalspec.condition(condition)
    extra = {"batch_size": args.ttt_batch} if cond.per_document else {}
    out = {"pgolf": lambda: run_condition(model, tokens, tab, condition, settings)}
    if not args.no_loops:
        out["loops"] = lambda: loops_condition(model, stream, tab, condition, seq_len=args.seq_len, chunk=args.chunk,
                                               autocast=cuda, **extra)
    if record is not None and cond.trains:  # the record's code for TTT: its eval_val_ttt_lora
        out["record"] = record_code.TTTEval(record, model, tokens, tab, args.seq_len, args.chunk, args.ttt_batch)
    return out


def race(calls: dict[str, object], device: torch.device, rounds: int) -> tuple[dict[str, list[float]], dict]:
    """Seconds of every call in every round, the calls alternating round by round (a busy machine
    slows all alike), and each call's last result."""
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    results = {}
    for _ in range(rounds):
        for name, call in calls.items():
            s, results[name] = timed(call, device)
            seconds[name].append(s)
    return seconds, results


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
    parser.add_argument("--configs", default="tiny,medium", help=f"comma list of {', '.join(CONFIGS)}")
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
    parser.add_argument("--engine", default="auto", choices=TTT_ENGINES, help="pgolf's TTT engine")
    parser.add_argument("--no-loops", action="store_true", help="skip the readable loops' column")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    record = record_code.load()
    print(f"machine: {device_description(device)}, {record_code.cpu_name()} ({os.cpu_count()} CPUs, "
          f"{torch.get_num_threads()} torch threads), torch {torch.__version__}")
    if record is None:
        print(f"note: {record_code.MISSING_NOTE}")
    print("seconds: best of the rounds; x: the other's seconds over pgolf's, per round (the same round's runs)")
    for name, model, tokens, tab in inputs(args, device, cuda):
        for condition in args.conditions.split(","):
            calls = contenders(model, tokens, tab, condition, cuda, args, record)
            seconds, results = race(calls, device, args.rounds)
            fast = results["pgolf"]
            cells = [f"{name} {count_parameters(model):,} params", condition, f"{fast.tokens} tokens",
                     f"pgolf {min(seconds['pgolf']):.2f}s ({fast.tokens / min(seconds['pgolf']):,.0f} tok/s)"]
            for other in [c for c in calls if c != "pgolf"]:
                ratios = [o / p for o, p in zip(seconds[other], seconds["pgolf"], strict=True)]
                cells.append(f"{other} {min(seconds[other]):.2f}s x{'/'.join(f'{r:.2f}' for r in ratios)}")
                if other == "loops":  # flat/doc/sliding agree to 1e-6; ttt's adapters differ by draw
                    assert results[other].tokens == fast.tokens, (condition, results[other].tokens, fast.tokens)
                    cells.append(f"|d bpb| {abs(fast.val_bpb - results[other].val_bpb):.1e}")
                else:
                    cells.append(f"record bpb {results[other][1]:.5f} vs {fast.val_bpb:.5f}")
            if evalspec.condition(condition).trains:
                cells.append(f"workers {fast.settings['ttt_workers']}")
            print(" | ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
