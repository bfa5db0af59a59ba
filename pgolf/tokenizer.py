"""SentencePiece BPE tokenizer: deterministic training, loading, and the bytes-per-token tables.

Training mirrors the reference export's trainer settings (BPE, byte fallback,
split digits, no dummy prefix, pad/bos/eos/unk = 0/1/2/3, character coverage
0.999) with two changes so that text survives exactly: identity normalisation
without whitespace collapsing (decode(encode(doc)) == doc, and the byte tables
then count exactly the document's UTF-8 bytes), and long documents are cut into
chunks for the trainer, because SentencePiece silently drops any training
sentence longer than `max_sentence_length`.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import sentencepiece as spm

from pgolf.atomic import write_bytes, write_text
from pgolf.data.docs import BOS_ID
from pgolf.errors import ConfigError, DataError

if TYPE_CHECKING:  # torch is imported where the tables are built, so `prepare` starts fast
    import torch

# Training chunks are at most this many UTF-8 bytes; the trainer's limit is set
# twice as high, so no chunk can be dropped.
TRAIN_CHUNK_BYTES = 4096
MAX_SENTENCE_LENGTH = 2 * TRAIN_CHUNK_BYTES

TRAINER_OPTIONS: dict[str, Any] = {
    "model_type": "bpe",
    "character_coverage": 0.999,
    "byte_fallback": True,
    "split_digits": True,
    "normalization_rule_name": "identity",
    "remove_extra_whitespaces": False,
    "add_dummy_prefix": False,
    "allow_whitespace_only_pieces": False,  # a "▁▁" piece would count 3 bytes per inner "▁" in the tables
    "pad_id": 0,
    "bos_id": BOS_ID,
    "eos_id": 2,
    "unk_id": 3,
    "max_sentence_length": MAX_SENTENCE_LENGTH,
    "input_sentence_size": 0,  # use every chunk: no sampling
    "shuffle_input_sentence": False,
    "num_threads": 1,  # one thread: the merges, and so the model bytes, are reproducible
}


def _cut_utf8(text: str, max_bytes: int) -> Iterator[str]:
    """Cut text into pieces of at most max_bytes UTF-8 bytes, at spaces where possible."""
    while len(text.encode("utf-8")) > max_bytes:
        # Longest prefix within the byte budget (never splits a character).
        prefix = text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")
        cut = prefix.rfind(" ")
        if cut <= 0:
            cut = len(prefix)
        yield text[:cut]
        text = text[cut:]
    if text:
        yield text


def training_chunks(text: str, max_bytes: int = TRAIN_CHUNK_BYTES) -> Iterator[str]:
    """Whole lines grouped up to max_bytes; a longer line is cut at spaces (or anywhere).

    For tokenizer *training* only: every byte of the document reaches the trainer.
    """
    buf: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        n = len(line.encode("utf-8"))
        if size + n > max_bytes and buf:
            yield "".join(buf)
            buf, size = [], 0
        if n > max_bytes:
            yield from _cut_utf8(line, max_bytes)
            continue
        buf.append(line)
        size += n
    if buf:
        yield "".join(buf)


def train_tokenizer_proto(docs: Iterable[str], vocab_size: int) -> bytes:
    """Train on the documents; return the serialized model (no file paths inside it)."""

    def sentences() -> Iterator[str]:
        for doc in docs:
            yield from training_chunks(doc)

    writer = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=sentences(),
            model_writer=writer,
            vocab_size=vocab_size,
            minloglevel=2,
            **TRAINER_OPTIONS,
        )
    except RuntimeError as exc:
        raise DataError(_trainer_hint(str(exc), vocab_size)) from None
    return writer.getvalue()


def _trainer_hint(message: str, vocab_size: int) -> str:
    """SentencePiece's refusal turned into the --vocab-size that works (its own hint names options
    pgolf does not expose)."""
    head = f"SentencePiece could not train a {vocab_size}-token vocabulary"
    if m := re.search(r"smaller than required_chars\. \d+ vs (\d+)", message):
        return (f"{head}: the corpus's characters and the special pieces need at least {m.group(1)}; "
                f"use --vocab-size {m.group(1)} or more")
    if m := re.search(r"Vocabulary size too high \(\d+\)\. Please set it to a value <= (\d+)", message):
        return f"{head}: the corpus supports at most {m.group(1)} pieces; use --vocab-size {m.group(1)} or less, or add text"
    return f"{head}: {message.splitlines()[0] if message else 'unknown error'}"


def check_token_ids(tokens: Any, vocab_size: int, where: str) -> None:
    """Every token id must index the model's vocabulary; anything else is data of another tokenizer."""
    arr = np.asarray(tokens)
    if arr.size and int(arr.max()) >= vocab_size:
        bad = int(arr.max())
        raise DataError(f"{where} holds token id {bad} (at index {int(np.argmax(arr >= vocab_size))}), beyond the "
                        f"model's vocabulary of {vocab_size}: the shards were made with a larger tokenizer; "
                        "use the tokenizer and model the data was prepared with")


def train_tokenizer(docs: Iterable[str], out_prefix: str | os.PathLike[str], vocab_size: int) -> Path:
    """Train a BPE tokenizer; write `<out_prefix>.model` and `.vocab` atomically; return the .model path."""
    proto = train_tokenizer_proto(docs, vocab_size)
    model_path = Path(f"{out_prefix}.model")
    write_bytes(model_path, proto)
    sp = spm.SentencePieceProcessor(model_proto=proto)
    vocab_lines = [f"{sp.id_to_piece(i)}\t{sp.get_score(i):g}\n" for i in range(sp.vocab_size())]
    write_text(Path(f"{out_prefix}.vocab"), "".join(vocab_lines))
    return model_path


def load_tokenizer(path: str | os.PathLike[str]) -> spm.SentencePieceProcessor:
    """Load a SentencePiece .model; DataError if it is missing or not a SentencePiece model."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"tokenizer {path} not found; build one with `python -m pgolf prepare` or fix tokenizer_path")
    try:
        return spm.SentencePieceProcessor(model_file=str(path))
    except (RuntimeError, OSError) as exc:
        raise DataError(f"tokenizer {path} is not a readable SentencePiece model: {exc}") from None


def check_vocab(sp: spm.SentencePieceProcessor, vocab_size: int, where: str) -> None:
    """The model's vocabulary must equal the tokenizer's: anything else mis-scores every byte."""
    actual = int(sp.vocab_size())
    if actual != int(vocab_size):
        raise ConfigError(
            f"vocab_size={vocab_size} ({where}) does not match the tokenizer's vocabulary of {actual}: "
            f"set vocab_size={actual}, or use the tokenizer the data was prepared with"
        )


def encode_documents(sp: spm.SentencePieceProcessor, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each text (no BOS)."""
    if not texts:
        return []
    return sp.encode(list(texts), out_type=int, num_threads=max(1, min(4, os.cpu_count() or 1)))


def with_bos(encoded: Sequence[Sequence[int]]) -> np.ndarray:
    """One stream: BOS, doc 0, BOS, doc 1, ... as int64 (shard writing checks the range)."""
    total = sum(len(e) + 1 for e in encoded)
    out = np.empty(total, dtype=np.int64)
    pos = 0
    for e in encoded:
        out[pos] = BOS_ID
        out[pos + 1 : pos + 1 + len(e)] = e
        pos += len(e) + 1
    return out


@dataclass(frozen=True)
class ByteTables:
    """Per-token byte counts, as the reference's build_sentencepiece_luts defines them."""

    base_bytes: torch.Tensor  # int16: UTF-8 bytes of the piece without its leading "▁"; byte pieces 1
    has_leading_space: torch.Tensor  # bool: the piece starts with "▁"
    is_boundary: torch.Tensor  # bool: control, unknown, unused (and ids past the tokenizer's vocab)

    def token_bytes(self, prev_ids: torch.Tensor, tgt_ids: torch.Tensor) -> torch.Tensor:
        """Bytes of each target: base + 1 for its leading space unless the previous token is a boundary.

        int16 like the reference; sum it in int64 or float64.
        """
        import torch

        out = self.base_bytes[tgt_ids].to(torch.int16)
        out += (self.has_leading_space[tgt_ids] & ~self.is_boundary[prev_ids]).to(torch.int16)
        return out


def build_byte_tables(sp: spm.SentencePieceProcessor, vocab_size: int, device: Any = "cpu") -> ByteTables:
    """The reference's tables, sized max(tokenizer vocab, vocab_size)."""
    import torch

    n_sp = int(sp.vocab_size())
    size = max(n_sp, int(vocab_size))
    base = np.zeros(size, dtype=np.int16)
    space = np.zeros(size, dtype=np.bool_)
    boundary = np.ones(size, dtype=np.bool_)
    for i in range(n_sp):
        if sp.is_control(i) or sp.is_unknown(i) or sp.is_unused(i):
            continue
        boundary[i] = False
        if sp.is_byte(i):
            base[i] = 1
            continue
        piece = sp.id_to_piece(i)
        if piece.startswith("\u2581"):
            space[i] = True
            piece = piece[1:]
        base[i] = len(piece.encode("utf-8"))
    return ByteTables(
        torch.tensor(base, dtype=torch.int16, device=device),
        torch.tensor(space, dtype=torch.bool, device=device),
        torch.tensor(boundary, dtype=torch.bool, device=device),
    )


def check_against_manifest(tokenizer_path: str | os.PathLike[str], shard: str | os.PathLike[str]) -> dict[str, Any]:
    """The tokenizer must be the one the shards were made with, by sha256, when a manifest.json beside
    the shards says which; a tokenizer of the same size but other pieces would silently mis-count bytes.

    Returns what was checked (for the result JSON): {"manifest": path or None, "checked": bool, ...}.
    """
    from pgolf.atomic import sha256_file

    manifest = Path(shard).parent / "manifest.json"
    if not manifest.is_file():
        return {"manifest": None, "checked": False,
                "note": f"no manifest.json beside {Path(shard).parent}: the tokenizer could not be checked"}
    from pgolf.inputs import read_json

    loaded = read_json(manifest, "manifest")  # names the file: not UTF-8, nested too deeply, NaN
    try:
        files = loaded.get("files", {})
        recorded = {name: entry["sha256"] for name, entry in files.items() if name.endswith(".model")}
    except (ValueError, AttributeError, KeyError, TypeError) as exc:
        raise DataError(f"manifest {manifest} is unreadable ({exc}); rebuild it with `python -m pgolf prepare`") from None
    if not recorded:
        return {"manifest": str(manifest), "checked": False, "note": f"{manifest} names no tokenizer"}
    actual = sha256_file(tokenizer_path)
    if actual not in recorded.values():
        name, want = next(iter(recorded.items()))
        raise DataError(f"tokenizer {tokenizer_path} (sha256 {actual[:12]}...) is not the one the shards were made "
                        f"with: {manifest} records {name} with sha256 {want[:12]}...; pass that tokenizer")
    return {"manifest": str(manifest), "checked": True, "tokenizer_sha256": actual}
