"""`python -m pgolf prepare`: documents -> tokenizer + train/val shards + manifest, or the check
of the record's FineWeb files (pgolf.data.prepare)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pgolf.cli.types import integer
from pgolf.data.prepare import DEFAULT_SHARD_TOKENS, DEFAULT_VOCAB, prepare


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=None,
                        help="output folder (default: data/default; for fineweb, the data root holding "
                             "datasets/ and tokenizers/, default: data)")
    parser.add_argument("--source", default="default",
                        help="default | text:FOLDER | jsonl:FILE | fineweb (default: %(default)s)")
    parser.add_argument("--vocab-size", type=int, default=DEFAULT_VOCAB, help="tokenizer vocabulary (default: %(default)s)")
    parser.add_argument("--val-docs", type=int, default=None,
                        help="validation documents (default: 10%% of the documents)")
    parser.add_argument("--seed", type=int, default=1337, help="seed of the train/val split and train order")
    parser.add_argument("--max-docs", type=int, default=None,
                        help="use only this many documents, evenly spaced through the corpus (quick tests)")
    parser.add_argument("--shard-tokens", type=integer(1), default=DEFAULT_SHARD_TOKENS,
                        help="tokens per shard file (default: %(default)s)")


def main(args: argparse.Namespace) -> int:
    prepare(args.out and Path(args.out), args.source, vocab_size=args.vocab_size, val_docs=args.val_docs,
            seed=args.seed, max_docs=args.max_docs, shard_tokens=args.shard_tokens, log=print)
    return 0
