"""`python -m pgolf prepare`: documents -> tokenizer + train/val shards + manifest.

Sources: `default` (the embedded stdlib corpus), `text:FOLDER` (one document per
file), `jsonl:FILE` (one document per line, field "text"), `fineweb` (the
record's published shards, which must already be on disk: they are validated
and given a manifest). Every document gets BOS (id 1) before it. Every output is
written atomically, and the same inputs and settings give byte-identical shards
and tokenizer.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from pgolf.atomic import sha256_file, write_json
from pgolf.data import corpus
from pgolf.data.docs import BOS_ID
from pgolf.data.shards import list_shards, read_shard, read_shard_header, write_shard
from pgolf.errors import DataError
from pgolf.provenance import collect
from pgolf.tokenizer import (
    TRAINER_OPTIONS,
    check_vocab,
    encode_documents,
    load_tokenizer,
    train_tokenizer,
    with_bos,
)

PREFIX = "pgolf"
MANIFEST = "manifest.json"
FORMAT = "pgolf-dataset-v1"
DEFAULT_VOCAB = 1024
DEFAULT_SHARD_TOKENS = 100_000_000  # the reference's train shard size
FINEWEB_DATASET = "fineweb10B_sp1024"
FINEWEB_TOKENIZER = "fineweb_1024_bpe.model"
FINEWEB_VOCAB = 1024


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
    parser.add_argument("--shard-tokens", type=int, default=DEFAULT_SHARD_TOKENS,
                        help="tokens per shard file (default: %(default)s)")


def main(args: argparse.Namespace) -> int:
    if args.source == "fineweb":
        manifest = validate_fineweb(Path(args.out or "data"))
        ds = manifest["splits"]
        print(f"fineweb ok: {ds['train']['files']} train shards ({ds['train']['tokens']:,} tokens), "
              f"{ds['val']['files']} val shards ({ds['val']['tokens']:,} tokens); manifest {manifest['path']}")
        return 0
    manifest = prepare_dataset(
        Path(args.out or "data/default"),
        source=args.source,
        vocab_size=args.vocab_size,
        val_docs=args.val_docs,
        seed=args.seed,
        max_docs=args.max_docs,
        shard_tokens=args.shard_tokens,
        log=print,
    )
    for split in ("train", "val"):
        s = manifest["splits"][split]
        print(f"{split}: {s['docs']} docs, {s['tokens']:,} tokens, {s['bytes']:,} bytes, {s['files']} shard(s)")
    print(f"wrote {manifest['train_glob']}, {manifest['val_glob']}, {manifest['tokenizer_path']}, {MANIFEST}")
    return 0


def _write_split(out: Path, split: str, tokens: np.ndarray, shard_tokens: int) -> list[str]:
    if shard_tokens <= 0:
        raise DataError(f"--shard-tokens must be positive, got {shard_tokens}")
    names = []
    for i, start in enumerate(range(0, max(1, tokens.size), shard_tokens)):
        name = f"{PREFIX}_{split}_{i:06d}.bin"
        write_shard(out / name, tokens[start : start + shard_tokens])
        names.append(name)
    # A previous run with more shards must not leave extra files in the glob.
    for stale in out.glob(f"{PREFIX}_{split}_*.bin"):
        if stale.name not in names:
            stale.unlink()
    return names


def prepare_dataset(
    out: Path,
    *,
    source: str = "default",
    vocab_size: int = DEFAULT_VOCAB,
    val_docs: int | None = None,
    seed: int = 1337,
    max_docs: int | None = None,
    shard_tokens: int = DEFAULT_SHARD_TOKENS,
    log: Any = None,
) -> dict[str, Any]:
    """Build a dataset folder; return its manifest (also written to out/manifest.json)."""
    log = log or (lambda _msg: None)
    t0 = time.perf_counter()
    docs = corpus.spread_subset(corpus.load_source(source), max_docs)
    if val_docs is None:
        val_docs = max(1, len(docs) // 10)
    train, val = corpus.split_train_val(docs, val_docs, seed)
    log(f"{source}: {len(docs)} documents ({len(train)} train, {len(val)} val) in {time.perf_counter() - t0:.1f}s")

    out.mkdir(parents=True, exist_ok=True)
    # The tokenizer sees the training documents only: validation stays unseen text.
    model_path = train_tokenizer((d.text for d in train), out / "tokenizer", vocab_size)
    sp = load_tokenizer(model_path)
    check_vocab(sp, vocab_size, "--vocab-size")
    log(f"tokenizer: {vocab_size} pieces in {time.perf_counter() - t0:.1f}s")

    splits: dict[str, Any] = {}
    files: dict[str, Any] = {}
    for split, split_docs in (("train", train), ("val", val)):
        encoded = encode_documents(sp, [d.text for d in split_docs])
        # Identity normalisation makes decode(encode(doc)) == doc; a literal "\u2581" in the text
        # would come back as a space. Say which documents, rather than lose text silently.
        decoded = sp.decode(encoded) if encoded else []
        inexact = [d.name for d, back in zip(split_docs, decoded, strict=True) if back != d.text]
        if inexact:
            log(f"warning: {len(inexact)} {split} document(s) do not decode back exactly, e.g. {inexact[:3]}")
        tokens = with_bos(encoded)
        names = _write_split(out, split, tokens, shard_tokens)
        for name in names:
            files[name] = {"sha256": sha256_file(out / name), "bytes": (out / name).stat().st_size,
                           "tokens": read_shard_header(out / name)}
        splits[split] = {
            "docs": len(split_docs),
            "tokens": int(tokens.size),
            "bytes": sum(len(d.text.encode("utf-8")) for d in split_docs),
            "files": len(names),
            "digest": corpus.corpus_digest(split_docs),
            "inexact_round_trip": inexact,
        }
    splits["val"]["doc_names"] = [d.name for d in val]
    for name in ("tokenizer.model", "tokenizer.vocab"):
        files[name] = {"sha256": sha256_file(out / name), "bytes": (out / name).stat().st_size}

    manifest = {
        "format": FORMAT,
        "source": source,
        "train_glob": str(out / f"{PREFIX}_train_*.bin"),
        "val_glob": str(out / f"{PREFIX}_val_*.bin"),
        "tokenizer_path": str(out / "tokenizer.model"),
        "vocab_size": vocab_size,
        "bos_id": BOS_ID,
        "settings": {"vocab_size": vocab_size, "val_docs": val_docs, "seed": seed, "max_docs": max_docs,
                     "shard_tokens": shard_tokens, "tokenizer_trainer": TRAINER_OPTIONS},
        "corpus": {"docs": len(docs), "digest": corpus.corpus_digest(docs),
                   "python": corpus.python_identity() if source == "default" else None},
        "splits": splits,
        "files": files,
        "seconds": round(time.perf_counter() - t0, 2),
        "provenance": collect(verb="prepare", source=source, seed=seed),
    }
    write_json(out / MANIFEST, manifest)
    return manifest


def fineweb_instructions(root: Path, problem: str) -> str:
    dataset = root / "datasets" / FINEWEB_DATASET
    return (
        f"{problem}\n"
        "pgolf does not download FineWeb itself. On a machine with internet access, fetch the published "
        "sp1024 export (Hugging Face dataset willdepueoai/parameter-golf) with the parameter-golf repository's "
        "own downloader:\n"
        "    git clone https://github.com/openai/parameter-golf && cd parameter-golf\n"
        "    pip install huggingface-hub\n"
        "    python3 data/cached_challenge_fineweb.py --variant sp1024 --train-shards 80\n"
        "(80 train shards of 100M tokens, about 16 GB, plus the 62M-token validation split; the record's "
        "600 s run reads about 7.2B tokens, so fewer shards make the stream wrap sooner)\n"
        "then copy (or point --out at that repository's data/ folder):\n"
        f"    data/datasets/{FINEWEB_DATASET}/fineweb_train_*.bin and fineweb_val_*.bin -> {dataset}/\n"
        f"    data/tokenizers/{FINEWEB_TOKENIZER} -> {root / 'tokenizers'}/\n"
        f"and run `python -m pgolf prepare --source fineweb --out {root}` again to validate them."
    )


def validate_fineweb(root: Path) -> dict[str, Any]:
    """Check the record's FineWeb layout under `root`; write datasets/fineweb10B_sp1024/manifest.json."""
    dataset = root / "datasets" / FINEWEB_DATASET
    tok_path = root / "tokenizers" / FINEWEB_TOKENIZER
    missing = []
    if not tok_path.is_file():
        missing.append(str(tok_path))
    found: dict[str, list[Path]] = {}
    for split in ("train", "val"):
        pattern = dataset / f"fineweb_{split}_*.bin"
        try:
            found[split] = list_shards(pattern)
        except DataError:
            missing.append(str(pattern))
    if missing:
        raise DataError(fineweb_instructions(root, "FineWeb sp1024 files are missing: " + ", ".join(missing)))

    sp = load_tokenizer(tok_path)
    check_vocab(sp, FINEWEB_VOCAB, f"the record's tokenizer {tok_path}")
    files: dict[str, Any] = {}
    splits: dict[str, Any] = {}
    for split, paths in found.items():
        total = 0
        for p in paths:
            count = read_shard_header(p)  # every shard's header and size, without loading it
            files[p.name] = {"sha256": sha256_file(p), "bytes": p.stat().st_size, "tokens": count}
            total += count
        splits[split] = {"files": len(paths), "tokens": total}
    first_val = read_shard(found["val"][0])
    if first_val.size == 0 or int(first_val[0]) != BOS_ID:
        raise DataError(f"{found['val'][0]}: does not start with BOS (id {BOS_ID}): not the record's export")
    if int(first_val.max()) >= FINEWEB_VOCAB:
        raise DataError(f"{found['val'][0]}: token {int(first_val.max())} is outside the {FINEWEB_VOCAB}-token vocabulary")
    files[tok_path.name] = {"sha256": sha256_file(tok_path), "bytes": tok_path.stat().st_size}
    manifest_path = dataset / MANIFEST
    manifest = {
        "format": FORMAT,
        "source": "fineweb",
        "train_glob": str(dataset / "fineweb_train_*.bin"),
        "val_glob": str(dataset / "fineweb_val_*.bin"),
        "tokenizer_path": str(tok_path),
        "vocab_size": FINEWEB_VOCAB,
        "bos_id": BOS_ID,
        "splits": splits,
        "files": files,
        "provenance": collect(verb="prepare", source="fineweb"),
        "path": str(manifest_path),
    }
    write_json(manifest_path, manifest)
    return manifest


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """A dataset folder's manifest (DataError if missing or unreadable)."""
    path = Path(folder) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path} not found: build the dataset with `python -m pgolf prepare --out {folder}`") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg})") from None
