"""Documents -> tokenizer + train/val shards + manifest; and the check of the record's FineWeb files.

Sources: `default` (the embedded stdlib corpus), `text:FOLDER` (one document per
file), `jsonl:FILE` (one document per line, field "text"); FineWeb's published
shards must already be on disk and are validated and given a manifest. Every
document gets BOS (id 1) before it. Every output is written atomically, and the
same inputs and settings give byte-identical shards and tokenizer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pgolf.atomic import move_files, sha256_file, staging_dir, write_json
from pgolf.data import corpus
from pgolf.data.docs import BOS_ID
from pgolf.data.shards import list_shards, read_shard, read_shard_header, write_shard
from pgolf.errors import DataError
from pgolf.inputs import read_json
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
FINEWEB_VAL_TOKENS = 62_021_632  # the published validation split, every shard together

Log = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


def _write_split(out: Path, split: str, tokens: np.ndarray, shard_tokens: int) -> list[str]:
    names = []
    for i, start in enumerate(range(0, max(1, tokens.size), shard_tokens)):
        name = f"{PREFIX}_{split}_{i:06d}.bin"
        write_shard(out / name, tokens[start : start + shard_tokens])
        names.append(name)
    return names


def _swap_in(stage: Path, out: Path, names: Sequence[str]) -> None:
    """Move a finished dataset from its staging folder into `out`, the manifest last.

    The old manifest goes first, so a crash during the renames leaves a folder that no
    manifest vouches for (train and eval then say to rebuild it), never old shards under
    a new tokenizer; shards of an earlier, larger build are removed so no glob sees them."""
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    move_files(stage, out, tuple(names))
    for stale in out.glob(f"{PREFIX}_*_*.bin"):
        if stale.name not in names:
            stale.unlink()
    move_files(stage, out, (MANIFEST,))


def _file_entry(path: Path, tokens: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    if tokens is not None:
        entry["tokens"] = tokens
    return entry


def _encode_split(sp: Any, out: Path, split: str, docs: Sequence[corpus.Document], shard_tokens: int,
                  files: dict[str, Any], log: Log) -> dict[str, Any]:
    """One split's shards (their entries go into `files`) and its counts."""
    encoded = encode_documents(sp, [d.text for d in docs])
    # Identity normalisation makes decode(encode(doc)) == doc; a literal "\u2581" in the text
    # would come back as a space. Say which documents, rather than lose text silently.
    decoded = sp.decode(encoded) if encoded else []
    inexact = [d.name for d, back in zip(docs, decoded, strict=True) if back != d.text]
    if inexact:
        log(f"warning: {len(inexact)} {split} document(s) do not decode back exactly, e.g. {inexact[:3]}")
    tokens = with_bos(encoded)
    names = _write_split(out, split, tokens, shard_tokens)
    for name in names:
        files[name] = _file_entry(out / name, read_shard_header(out / name))
    return {
        "docs": len(docs),
        "tokens": int(tokens.size),
        "bytes": sum(len(d.text.encode("utf-8")) for d in docs),
        "files": len(names),
        "digest": corpus.corpus_digest(docs),
        "inexact_round_trip": inexact,
    }


def _train_tokenizer(out: Path, train: Sequence[corpus.Document], vocab_size: int) -> Any:
    # The tokenizer sees the training documents only: validation stays unseen text.
    model_path = train_tokenizer((d.text for d in train), out / "tokenizer", vocab_size)
    sp = load_tokenizer(model_path)
    check_vocab(sp, vocab_size, "--vocab-size")
    return sp


def prepare_dataset(
    out: Path,
    *,
    source: str = "default",
    vocab_size: int = DEFAULT_VOCAB,
    val_docs: int | None = None,
    seed: int = 1337,
    max_docs: int | None = None,
    shard_tokens: int = DEFAULT_SHARD_TOKENS,
    log: Log | None = None,
) -> dict[str, Any]:
    """Build a dataset folder; return its manifest (also written to out/manifest.json).

    Everything is built in `<out>.partial/` and moved in at the end: a bad setting, a full
    disk or an interrupt leaves an earlier dataset in `out` (shards, tokenizer, manifest) as it was."""
    if shard_tokens <= 0:
        raise DataError(f"--shard-tokens must be positive, got {shard_tokens}")
    log = log or _quiet
    t0 = time.perf_counter()
    docs = corpus.spread_subset(corpus.load_source(source, log), max_docs)
    val_docs = max(1, len(docs) // 10) if val_docs is None else val_docs
    train, val = corpus.split_train_val(docs, val_docs, seed)
    log(f"{source}: {len(docs)} documents ({len(train)} train, {len(val)} val) in {time.perf_counter() - t0:.1f}s")
    with staging_dir(out) as stage:
        sp = _train_tokenizer(stage, train, vocab_size)
        log(f"tokenizer: {vocab_size} pieces in {time.perf_counter() - t0:.1f}s")
        files: dict[str, Any] = {}
        splits = {split: _encode_split(sp, stage, split, split_docs, shard_tokens, files, log)
                  for split, split_docs in (("train", train), ("val", val))}
        splits["val"]["doc_names"] = [d.name for d in val]
        for name in ("tokenizer.model", "tokenizer.vocab"):
            files[name] = _file_entry(stage / name)
        manifest = _manifest(out, source, vocab_size, val_docs, seed, max_docs, shard_tokens, docs, splits, files)
        manifest["seconds"] = round(time.perf_counter() - t0, 2)
        write_json(stage / MANIFEST, manifest)
        _swap_in(stage, out, list(files))
    return manifest


def _manifest(out: Path, source: str, vocab_size: int, val_docs: int, seed: int, max_docs: int | None,
              shard_tokens: int, docs: Sequence[corpus.Document], splits: dict[str, Any],
              files: dict[str, Any]) -> dict[str, Any]:
    """manifest.json's content; its paths name the final folder `out`, not the staging one."""
    return {
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
        "provenance": collect(verb="prepare", source=source, seed=seed),
    }


# --------------------------------------------------------------------- FineWeb


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


def _find_fineweb(root: Path) -> tuple[Path, dict[str, list[Path]]]:
    """The tokenizer and each split's shards, or the download instructions naming what is missing."""
    dataset = root / "datasets" / FINEWEB_DATASET
    tok_path = root / "tokenizers" / FINEWEB_TOKENIZER
    missing = [] if tok_path.is_file() else [str(tok_path)]
    found: dict[str, list[Path]] = {}
    for split in ("train", "val"):
        pattern = dataset / f"fineweb_{split}_*.bin"
        try:
            found[split] = list_shards(pattern)
        except DataError:
            missing.append(str(pattern))
    if missing:
        raise DataError(fineweb_instructions(root, "FineWeb sp1024 files are missing: " + ", ".join(missing)))
    return tok_path, found


def _check_val_shards(paths: Sequence[Path], expected_tokens: int) -> None:
    """Every validation shard holds the record's tokens: the split starts with BOS, every id is
    inside the vocabulary, and together they hold exactly the published split's tokens."""
    total = 0
    for i, path in enumerate(paths):
        tokens = read_shard(path)
        if i == 0 and (tokens.size == 0 or int(tokens[0]) != BOS_ID):
            raise DataError(f"{path}: does not start with BOS (id {BOS_ID}): not the record's export")
        if tokens.size and int(tokens.max()) >= FINEWEB_VOCAB:
            raise DataError(f"{path}: token {int(tokens.max())} is outside the {FINEWEB_VOCAB}-token vocabulary")
        total += int(tokens.size)
    if total != expected_tokens:
        raise DataError(
            f"{paths[0].parent}: the validation shards hold {total:,} tokens, the published split "
            f"{expected_tokens:,}: a partial or different export; download fineweb_val_*.bin again"
        )


def validate_fineweb(root: Path, val_tokens: int = FINEWEB_VAL_TOKENS) -> dict[str, Any]:
    """Check the record's FineWeb layout under `root`; write datasets/fineweb10B_sp1024/manifest.json.
    `val_tokens` is the validation split's published size (tests give their small fake's)."""
    tok_path, found = _find_fineweb(root)
    check_vocab(load_tokenizer(tok_path), FINEWEB_VOCAB, f"the record's tokenizer {tok_path}")
    files: dict[str, Any] = {}
    splits: dict[str, Any] = {}
    for split, paths in found.items():
        counts = [read_shard_header(p) for p in paths]  # every shard's header and size, without loading it
        for p, count in zip(paths, counts, strict=True):
            files[p.name] = _file_entry(p, count)
        splits[split] = {"files": len(paths), "tokens": sum(counts)}
    _check_val_shards(found["val"], val_tokens)
    files[tok_path.name] = _file_entry(tok_path)
    dataset = root / "datasets" / FINEWEB_DATASET
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
        "path": str(dataset / MANIFEST),
    }
    write_json(dataset / MANIFEST, manifest)
    return manifest


def prepare(out: Path | None, source: str = "default", log: Log = print, **settings: Any) -> dict[str, Any]:
    """What `python -m pgolf prepare` does: check FineWeb (out = the data root, default data/),
    or build a dataset (default data/default/) with `settings` (prepare_dataset's); say what came out."""
    if source == "fineweb":
        manifest = validate_fineweb(out or Path("data"))
        ds = manifest["splits"]
        log(f"fineweb ok: {ds['train']['files']} train shards ({ds['train']['tokens']:,} tokens), "
            f"{ds['val']['files']} val shards ({ds['val']['tokens']:,} tokens); manifest {manifest['path']}")
        return manifest
    manifest = prepare_dataset(out or Path("data/default"), source=source, log=log, **settings)
    for split in ("train", "val"):
        s = manifest["splits"][split]
        log(f"{split}: {s['docs']} docs, {s['tokens']:,} tokens, {s['bytes']:,} bytes, {s['files']} shard(s)")
    log(f"wrote {manifest['train_glob']}, {manifest['val_glob']}, {manifest['tokenizer_path']}, {MANIFEST}")
    return manifest


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """A dataset folder's manifest (DataError if missing or unreadable)."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise DataError(f"{path} not found: build the dataset with `python -m pgolf prepare --out {folder}`")
    return read_json(path, "dataset manifest")
