"""`prepare`: corpus -> tokenizer + shards + manifest, deterministic, nothing lost; FineWeb offline."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from pgolf.__main__ import main as pgolf_main
from pgolf.atomic import sha256_file
from pgolf.data import corpus
from pgolf.data.docs import BOS_ID, doc_spans
from pgolf.data.prepare import FINEWEB_VAL_TOKENS, prepare_dataset, read_manifest, validate_fineweb
from pgolf.data.shards import load_tokens, read_shard_header, write_shard
from pgolf.errors import ConfigError, DataError
from pgolf.tokenizer import build_byte_tables, load_tokenizer, train_tokenizer


def test_default_corpus_is_real_text_in_a_fixed_order():
    docs = corpus.default_corpus()
    assert len(docs) > 500
    names = [d.name for d in docs]
    assert len(set(names)) == len(names)
    assert {"module:json", "builtin:builtins", "topic:assert"} <= set(names)
    assert sum(len(d.text.encode()) for d in docs) > 2_000_000
    assert corpus.corpus_digest(docs) == corpus.corpus_digest(corpus.default_corpus())
    assert all(d.text == d.text.strip() and "\x00" not in d.text for d in docs)


def test_split_is_deterministic_disjoint_and_complete():
    docs = [corpus.Document(f"d{i}", f"text {i}") for i in range(50)]
    train, val = corpus.split_train_val(docs, 5, seed=7)
    assert (train, val) == corpus.split_train_val(docs, 5, seed=7)
    assert len(val) == 5 and len(train) == 45
    assert sorted(d.name for d in train + val) == sorted(d.name for d in docs)
    assert corpus.split_train_val(docs, 5, seed=8)[1] != val
    with pytest.raises(DataError, match="--val-docs must be between 1 and 49"):
        corpus.split_train_val(docs, 50, seed=7)


def test_manifest_lists_every_file_with_its_sha256_and_counts(tiny_data):
    m = tiny_data.manifest
    assert m == read_manifest(tiny_data.root)
    names = sorted(p.name for p in tiny_data.root.iterdir())
    assert names == ["manifest.json", "pgolf_train_000000.bin", "pgolf_val_000000.bin", "tokenizer.model", "tokenizer.vocab"]
    for name, entry in m["files"].items():
        assert entry["sha256"] == sha256_file(tiny_data.root / name)
    assert m["splits"]["train"]["docs"] + m["splits"]["val"]["docs"] == 120 == m["corpus"]["docs"]
    assert m["splits"]["val"]["docs"] == 24 and len(m["splits"]["val"]["doc_names"]) == 24
    assert m["settings"]["vocab_size"] == 512 and m["provenance"]["versions"]["sentencepiece"]


def test_every_document_gets_a_bos_and_decodes_back_exactly(tiny_data):
    sp = load_tokenizer(tiny_data.tokenizer_path)
    by_name = {d.name: d.text for d in corpus.default_corpus()}
    tokens = load_tokens(tiny_data.val_glob)
    starts, lengths = doc_spans(tokens, include_next_bos=False)
    names = tiny_data.manifest["splits"]["val"]["doc_names"]
    assert len(starts) == len(names) and tokens[0] == BOS_ID
    assert int(lengths.sum()) == tokens.size == tiny_data.manifest["splits"]["val"]["tokens"]
    for name, s, n in zip(names, starts, lengths, strict=True):
        assert sp.decode(tokens[s + 1 : s + n].tolist()) == by_name[name]


@pytest.mark.parametrize("split", ["train", "val"])
def test_byte_tables_count_exactly_the_utf8_bytes_of_the_split(tiny_data, split):
    tables = build_byte_tables(load_tokenizer(tiny_data.tokenizer_path), tiny_data.vocab_size)
    stream = torch.from_numpy(load_tokens(tiny_data[f"{split}_glob"]).astype(np.int64))
    counted = int(tables.token_bytes(stream[:-1], stream[1:]).to(torch.int64).sum())
    assert counted == tiny_data.manifest["splits"][split]["bytes"]


def test_prepare_twice_gives_byte_identical_shards_and_tokenizer(tmp_path):
    a = prepare_dataset(tmp_path / "a", vocab_size=400, max_docs=40, val_docs=4, shard_tokens=3_000)
    b = prepare_dataset(tmp_path / "b", vocab_size=400, max_docs=40, val_docs=4, shard_tokens=3_000)
    assert a["splits"]["train"]["files"] > 1  # several shards, each identical
    assert {k: v["sha256"] for k, v in a["files"].items()} == {k: v["sha256"] for k, v in b["files"].items()}
    for name in a["files"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_reprepare_with_fewer_shards_removes_stale_ones(tmp_path):
    prepare_dataset(tmp_path, vocab_size=400, max_docs=40, val_docs=4, shard_tokens=10_000)
    many = len(list(tmp_path.glob("pgolf_train_*.bin")))
    m = prepare_dataset(tmp_path, vocab_size=400, max_docs=40, val_docs=4)
    assert many > 1 and sorted(p.name for p in tmp_path.glob("pgolf_train_*.bin")) == ["pgolf_train_000000.bin"]
    assert load_tokens(m["train_glob"]).size == m["splits"]["train"]["tokens"]


def _topic_texts(n):
    return [d.text for d in corpus.pydoc_topic_documents()[:n]]


def test_text_folder_source_reads_one_document_per_file(tmp_path):
    src = tmp_path / "texts"
    (src / "sub").mkdir(parents=True)
    texts = _topic_texts(12)
    for i, t in enumerate(texts):
        (src / ("sub" if i % 2 else ".") / f"doc{i:02d}.txt").write_text(t + "\n", encoding="utf-8")
    (src / ".hidden").write_text("ignored", encoding="utf-8")
    m = prepare_dataset(tmp_path / "out", source=f"text:{src}", vocab_size=400, val_docs=2)
    assert m["corpus"]["docs"] == 12
    assert m["splits"]["train"]["bytes"] + m["splits"]["val"]["bytes"] == sum(len(t.encode()) for t in texts)


def test_jsonl_source_reads_the_text_field(tmp_path):
    texts = _topic_texts(12)
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"text": t, "id": i}) + "\n" for i, t in enumerate(texts)), encoding="utf-8")
    m = prepare_dataset(tmp_path / "out", source=f"jsonl:{path}", vocab_size=400, val_docs=3)
    assert m["splits"]["val"]["doc_names"] == sorted(m["splits"]["val"]["doc_names"], key=lambda s: int(s[5:]))
    assert m["splits"]["train"]["docs"] == 9


def test_bad_jsonl_line_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok"}\n{"body": "no text"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r'bad\.jsonl:2: needs an object with a string "text" field'):
        corpus.jsonl_documents(path)


def test_cli_reports_an_unknown_source_cleanly(tmp_path, capsys):
    assert pgolf_main(["prepare", "--out", str(tmp_path), "--source", "nonsense"]) == 2
    assert "unknown source 'nonsense'" in capsys.readouterr().err


def test_fineweb_offline_says_what_to_download_and_where(tmp_path, capsys):
    assert pgolf_main(["prepare", "--source", "fineweb", "--out", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    for needle in ("data/cached_challenge_fineweb.py --variant sp1024", "willdepueoai/parameter-golf",
                   str(tmp_path / "data" / "datasets" / "fineweb10B_sp1024"), "fineweb_1024_bpe.model",
                   "fineweb_train_*.bin"):
        assert needle in err


@pytest.fixture()
def fake_fineweb(tmp_path, tiny_data):
    """The record's layout, filled with pgolf shards and a 1024-token tokenizer."""
    root = tmp_path / "data"
    ds = root / "datasets" / "fineweb10B_sp1024"
    ds.mkdir(parents=True)
    (root / "tokenizers").mkdir()
    train_tokenizer((d.text for d in corpus.default_corpus()[::3]), root / "tokenizers" / "fineweb_1024_bpe", 1024)
    shutil.copy(tiny_data.root / "pgolf_val_000000.bin", ds / "fineweb_val_000000.bin")
    shutil.copy(tiny_data.root / "pgolf_train_000000.bin", ds / "fineweb_train_000000.bin")
    shutil.copy(tiny_data.root / "pgolf_train_000000.bin", ds / "fineweb_train_000001.bin")
    return root


def fake_val_tokens(root) -> int:
    """The fake's validation split size, in place of the published 62,021,632."""
    return sum(read_shard_header(p) for p in (root / "datasets" / "fineweb10B_sp1024").glob("fineweb_val_*.bin"))


def test_fineweb_files_present_are_validated_and_get_a_manifest(fake_fineweb):
    m = validate_fineweb(fake_fineweb, fake_val_tokens(fake_fineweb))
    ds = fake_fineweb / "datasets" / "fineweb10B_sp1024"
    assert json.loads((ds / "manifest.json").read_text()) == m
    assert m["splits"]["train"]["files"] == 2 and m["splits"]["val"]["files"] == 1
    assert m["files"]["fineweb_val_000000.bin"]["sha256"] == sha256_file(ds / "fineweb_val_000000.bin")
    assert m["tokenizer_path"].endswith("tokenizers/fineweb_1024_bpe.model")


def test_fineweb_with_a_corrupt_shard_names_it(fake_fineweb):
    shard = fake_fineweb / "datasets" / "fineweb10B_sp1024" / "fineweb_train_000001.bin"
    shard.write_bytes(shard.read_bytes()[:-10])
    with pytest.raises(DataError, match=r"fineweb_train_000001\.bin: short file"):
        validate_fineweb(fake_fineweb, fake_val_tokens(fake_fineweb))


def test_fineweb_with_a_tokenizer_of_the_wrong_vocabulary_is_an_error(fake_fineweb, tiny_data):
    shutil.copy(tiny_data.tokenizer_path, fake_fineweb / "tokenizers" / "fineweb_1024_bpe.model")
    with pytest.raises(ConfigError, match="vocab_size=1024 .* does not match the tokenizer's vocabulary of 512"):
        validate_fineweb(fake_fineweb, fake_val_tokens(fake_fineweb))


def test_fineweb_val_without_bos_is_rejected(fake_fineweb):
    write_shard(fake_fineweb / "datasets" / "fineweb10B_sp1024" / "fineweb_val_000000.bin", [5, 6, 7])
    with pytest.raises(DataError, match="does not start with BOS"):
        validate_fineweb(fake_fineweb, fake_val_tokens(fake_fineweb))


def test_fineweb_val_split_of_another_size_than_published_is_rejected(fake_fineweb):
    total = fake_val_tokens(fake_fineweb)
    with pytest.raises(DataError, match=f"hold {total:,} tokens, the published split {FINEWEB_VAL_TOKENS:,}"):
        validate_fineweb(fake_fineweb)
    assert FINEWEB_VAL_TOKENS == 62_021_632


def test_every_fineweb_val_shard_is_checked_not_only_the_first(fake_fineweb):
    ds = fake_fineweb / "datasets" / "fineweb10B_sp1024"
    write_shard(ds / "fineweb_val_000001.bin", [1, 5, 2000])
    with pytest.raises(DataError, match=r"fineweb_val_000001\.bin: token 2000 is outside the 1024-token"):
        validate_fineweb(fake_fineweb, fake_val_tokens(fake_fineweb))


@pytest.mark.slow
def test_a_separate_process_with_another_hash_seed_builds_the_same_bytes(tmp_path):
    import os
    import subprocess
    import sys

    prepare_dataset(tmp_path / "here", vocab_size=400, max_docs=30, val_docs=3)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run(
        [sys.executable, "-m", "pgolf", "prepare", "--out", str(tmp_path / "there"), "--vocab-size", "400",
         "--max-docs", "30", "--val-docs", "3"],
        check=True, env=env, capture_output=True,
    )
    for name in ("pgolf_train_000000.bin", "pgolf_val_000000.bin", "tokenizer.model", "tokenizer.vocab"):
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "there" / name).read_bytes(), name


def test_a_document_that_cannot_decode_back_exactly_is_named_in_the_manifest(tmp_path):
    texts = _topic_texts(12)
    texts[5] = texts[5] + " with a literal \u2581 lower block"
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    m = prepare_dataset(tmp_path / "out", source=f"jsonl:{path}", vocab_size=400, val_docs=1, seed=0)
    inexact = m["splits"]["train"]["inexact_round_trip"] + m["splits"]["val"]["inexact_round_trip"]
    assert inexact == ["line:6"]


def test_default_corpus_slice_decodes_back_exactly(tiny_data):
    assert tiny_data.manifest["splits"]["train"]["inexact_round_trip"] == []
    assert tiny_data.manifest["splits"]["val"]["inexact_round_trip"] == []


def test_files_a_text_source_passes_over_are_logged_with_their_reason(tmp_path):
    (tmp_path / "a.txt").write_text("A document.\n")
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / ".hidden").write_text("Not read.\n")
    lines = []
    docs = corpus.load_source(f"text:{tmp_path}", lines.append)
    assert [d.name for d in docs] == ["file:a.txt"]
    assert f"skipped {tmp_path / 'empty.txt'}: empty (only whitespace)" in lines
    assert f"skipped {tmp_path / '.hidden'}: hidden (a name starting with '.')" in lines


def test_a_stdlib_file_that_does_not_parse_is_recorded_not_lost_silently(tmp_path):
    (tmp_path / "good.py").write_text('"""Good module."""\n')
    (tmp_path / "broken.py").write_text('"""Broken."""\ndef (:\n')
    skipped = []
    docs = corpus.stdlib_documents(tmp_path, skipped)
    assert [d.name for d in docs] == ["module:good"]
    assert skipped and skipped[0][0] == str(tmp_path / "broken.py") and "does not parse" in skipped[0][1]
