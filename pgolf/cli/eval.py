"""`python -m pgolf eval`: score an artifact under one ablation condition.

One CPU process, or under torchrun (gloo on CPU, NCCL on CUDA): documents (or
flat windows) are split across ranks and the sums all-reduced; rank 0 writes
FILE.json, FILE.positions.csv and FILE.docs.csv atomically.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch
import torch.distributed as dist

from pgolf.errors import ArtifactError, ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--artifact", required=True, help="int8+zlib .ptz or raw .pt state dict (pgolf's or the reference's)")
    parser.add_argument("--condition", required=True, choices=("flat", "doc", "sliding", "ttt"))
    parser.add_argument("--val", required=True, help="glob of validation shards, e.g. 'data/pgolf_val_*.bin'")
    parser.add_argument("--tokenizer", required=True, help="SentencePiece .model the shards were tokenized with")
    parser.add_argument("--seq-len", type=int, default=1024, help="window length in targets (default 1024)")
    parser.add_argument("--chunk", type=int, default=256, help="chunk length for sliding and ttt (default 256)")
    parser.add_argument("--ttt-rank", type=int, default=8, help="LoRA rank (default 8)")
    parser.add_argument("--ttt-lr", type=float, default=0.01, help="Adam learning rate of the adapters (default 0.01)")
    parser.add_argument("--ttt-batch", type=int, default=64, help="documents trained at once (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the adapters' initial A matrices (default 0)")
    parser.add_argument("--max-docs", type=int, default=None, help="score only the first N documents")
    parser.add_argument("--batch-tokens", type=int, default=None,
                        help="padded tokens per forward pass for flat/doc/sliding (speed only; default 65536 "
                             "on CUDA, 8192 on CPU)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    parser.add_argument("--precision", choices=("reference", "fp32"), default="reference",
                        help="reference: on CUDA as the record (bf16 embedding, bf16 autocast); fp32: float32 "
                             "everywhere. CPU is always float32")
    parser.add_argument("--threads", type=int, default=0,
                        help="CPU threads for torch (0: torch's default; 1 is often fastest on a busy machine)")
    parser.add_argument("--progress", type=float, default=30.0, help="seconds between progress lines (0: none)")
    parser.add_argument("--out", default=None, help="FILE.json; FILE.positions.csv and FILE.docs.csv go beside it")


def _device(name: str, local_rank: int) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(name)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {name}: CUDA is not available here; use --device cpu")
        if dev.index is None:
            dev = torch.device("cuda", local_rank)
        torch.cuda.set_device(dev)
    return dev


def main(args: argparse.Namespace) -> int:
    from pgolf.artifact import load_model
    from pgolf.atomic import sha256_file
    from pgolf.data.shards import list_shards, load_tokens
    from pgolf.evaluate import EvalSettings, run_condition, write_result
    from pgolf.model import cast_like_reference
    from pgolf.provenance import collect
    from pgolf.tokenizer import build_byte_tables, check_vocab, load_tokenizer

    if args.condition in ("sliding", "ttt") and args.chunk > args.seq_len:
        raise ConfigError(f"--chunk {args.chunk} is longer than --seq-len {args.seq_len}; use --chunk <= {args.seq_len}")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = _device(args.device, int(os.environ.get("LOCAL_RANK", "0")))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    try:
        if not Path(args.artifact).is_file():
            raise ArtifactError(f"artifact {args.artifact} not found")
        shards = list_shards(args.val)
        sp = load_tokenizer(args.tokenizer)
        model = load_model(args.artifact, device)
        check_vocab(sp, model.config.vocab_size, where=f"artifact {args.artifact}")
        tables = build_byte_tables(sp, model.config.vocab_size, device)
        tokens = load_tokens(args.val)
        reference_precision = args.precision == "reference" and device.type == "cuda"
        if reference_precision:
            cast_like_reference(model)
        settings = EvalSettings(
            seq_len=args.seq_len, chunk=args.chunk, ttt_rank=args.ttt_rank, ttt_lr=args.ttt_lr,
            ttt_batch=args.ttt_batch, seed=args.seed, max_docs=args.max_docs, batch_tokens=args.batch_tokens,
            autocast=reference_precision, progress_seconds=args.progress,
        )
        result = run_condition(model, tokens, tables, args.condition, settings)
        if rank == 0:
            print(
                f"final_{args.condition} val_loss:{result.val_loss:.8f} val_bpb:{result.val_bpb:.8f} "
                f"tokens:{result.tokens} bytes:{result.bytes} docs:{result.docs} "
                f"eval_time:{1000 * result.seconds:.0f}ms",
                flush=True,
            )
            if args.out:
                extra = {
                    "artifact": str(args.artifact),
                    "artifact_sha256": sha256_file(args.artifact),
                    "val": args.val,
                    "val_shards": {str(p): sha256_file(p) for p in shards},
                    "tokenizer": str(args.tokenizer),
                    "tokenizer_sha256": sha256_file(args.tokenizer),
                    "provenance": collect(device=str(device), arguments=vars(args), world_size=world),
                }
                paths = write_result(result, args.out, **extra)
                print("wrote " + ", ".join(str(p) for p in paths), flush=True)
            else:
                print(json.dumps(result.summary(), indent=2, sort_keys=True))
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()
    return 0
