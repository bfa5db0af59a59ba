"""`python -m pgolf eval`: score an artifact under one ablation condition.

One CPU process, or under torchrun (gloo on CPU, NCCL on CUDA): documents (or
flat windows) are split across ranks and the sums all-reduced; rank 0 writes
FILE.json, FILE.positions.csv and FILE.docs.csv as one group (pgolf.evaluate.job).
"""

from __future__ import annotations

import argparse

from pgolf.cli.types import integer, number
from pgolf.evalspec import NAMES, PRECISIONS, TTT_ENGINES, EvalSettings

DEFAULTS = EvalSettings()  # the one source of the evaluation defaults


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d, t = DEFAULTS, DEFAULTS.ttt
    parser.add_argument("--artifact", required=True, help="int8+zlib .ptz or raw .pt state dict (pgolf's or the reference's)")
    parser.add_argument("--condition", required=True, choices=NAMES)
    parser.add_argument("--val", required=True, help="glob of validation shards, e.g. 'data/pgolf_val_*.bin'")
    parser.add_argument("--tokenizer", required=True, help="SentencePiece .model the shards were tokenized with "
                        "(checked against manifest.json beside the shards when there is one)")
    parser.add_argument("--seq-len", type=int, default=d.seq_len, help="window length in targets (default %(default)s)")
    parser.add_argument("--chunk", type=int, default=d.chunk, help="chunk length for sliding and ttt (default %(default)s)")
    parser.add_argument("--ttt-rank", type=int, default=t.rank, help="LoRA rank (default %(default)s)")
    parser.add_argument("--ttt-lr", type=float, default=t.lr,
                        help="Adam learning rate of the adapters, finite and >= 0; 0 is a control that scores "
                             "as sliding (default %(default)s)")
    parser.add_argument("--ttt-batch", type=int, default=t.batch, help="documents trained at once (default %(default)s)")
    parser.add_argument("--ttt-seed", type=int, default=t.seed,
                        help="seed of the adapters' initial A matrices, >= 0 (default %(default)s)")
    parser.add_argument("--ttt-engine", choices=TTT_ENGINES, default=t.engine,
                        help="TTT's forward and backward: the hand-written kernel, torch autograd, or auto: the "
                             "faster for the shape (default %(default)s; the numbers agree to float rounding)")
    parser.add_argument("--max-docs", type=int, default=d.max_docs, help="score only the first N documents")
    parser.add_argument("--batch-tokens", type=int, default=d.batch_tokens,
                        help="padded tokens per forward pass for flat/doc/sliding (speed only; default 65536 "
                             "on CUDA, 8192 on CPU)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    parser.add_argument("--precision", choices=PRECISIONS, default=d.precision,
                        help="auto: on CUDA as the record (bf16 embedding, bf16 autocast), float32 on CPU; "
                             "fp32: float32 everywhere; bf16: bf16 autocast on any device (CPU too)")
    parser.add_argument("--threads", type=integer(0), default=0,
                        help="CPU threads for torch (0: torch's default); ttt on a CPU with N >= 2 deals the "
                             "documents to N one-thread processes")
    parser.add_argument("--progress", type=number(0), default=30.0, help="seconds between progress lines (0: none)")
    parser.add_argument("--out", default=None, help="FILE.json; FILE.positions.csv and FILE.docs.csv go beside it")


def main(args: argparse.Namespace) -> int:
    import sys

    from pgolf.evaluate.job import EvalJob, run_job

    settings = EvalSettings.from_dict({**vars(args), "progress_seconds": args.progress})
    job = EvalJob(artifact=args.artifact, condition=args.condition, val=args.val, tokenizer=args.tokenizer,
                  settings=settings, device=args.device, threads=args.threads, out=args.out)
    try:
        run_job(job, echo=lambda msg: print(msg, flush=True))
    except KeyboardInterrupt:
        print("pgolf eval: interrupted; nothing was written, and earlier results are untouched", file=sys.stderr)
        return 130
    return 0
