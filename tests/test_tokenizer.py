"""SentencePiece training (deterministic, no text lost) and the reference's bytes-per-token tables."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sentencepiece as spm
import torch

from pgolf.errors import ConfigError, DataError, PgolfError
from pgolf.tokenizer import (
    MAX_SENTENCE_LENGTH,
    build_byte_tables,
    check_vocab,
    encode_documents,
    load_tokenizer,
    train_tokenizer,
    train_tokenizer_proto,
    training_chunks,
    with_bos,
)

TEXT = [
    "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away.",
    "Python's standard library is very extensive, offering a wide range of facilities.",
    "Numbers like 1234 and 56.78 are split into digits.\nA new line, then  two spaces.",
    "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e: na\u00efve r\u00e9sum\u00e9 \u00e0 la carte.",
    "def function(argument):\n    return argument + 1  # indentation survives",
] * 20
BYTE_PIECE = re.compile(r"^<0x[0-9A-F]{2}>$")


@pytest.fixture(scope="module")
def small_sp(tmp_path_factory):
    path = train_tokenizer(TEXT, tmp_path_factory.mktemp("tok") / "small", 400)
    return load_tokenizer(path)


def test_trained_model_has_the_reference_special_ids_and_byte_pieces(small_sp):
    sp = small_sp
    assert sp.vocab_size() == 400
    assert (sp.pad_id(), sp.bos_id(), sp.eos_id(), sp.unk_id()) == (0, 1, 2, 3)
    assert sum(sp.is_byte(i) for i in range(sp.vocab_size())) == 256


def test_byte_tables_match_counts_by_hand_from_the_pieces_utf8(small_sp):
    sp = small_sp
    tables = build_byte_tables(sp, 410)  # a larger model vocab pads the tables with boundaries
    assert tables.base_bytes.dtype == torch.int16 and tables.base_bytes.numel() == 410
    for i in range(410):
        piece = sp.id_to_piece(i) if i < sp.vocab_size() else None
        base, space, boundary = int(tables.base_bytes[i]), bool(tables.has_leading_space[i]), bool(tables.is_boundary[i])
        if piece is None or piece in ("<pad>", "<s>", "</s>", "<unk>"):
            assert (base, space, boundary) == (0, False, True), (i, piece)
        elif BYTE_PIECE.match(piece):
            assert (base, space, boundary) == (1, False, False), piece
        elif piece.startswith("\u2581"):
            assert (base, space, boundary) == (len(piece[1:].encode("utf-8")), True, False), piece
        else:
            assert (base, space, boundary) == (len(piece.encode("utf-8")), False, False), piece
    # A few pieces spelled out: "▁the" is 3 bytes plus a space, "é" is 2 UTF-8 bytes.
    the = sp.piece_to_id("\u2581the")
    assert int(tables.base_bytes[the]) == 3 and bool(tables.has_leading_space[the])
    e_acute = sp.piece_to_id("\u00e9")
    assert e_acute != sp.unk_id() and int(tables.base_bytes[e_acute]) == 2


def test_token_bytes_after_bos_add_up_to_the_documents_utf8_bytes(small_sp):
    sp = small_sp
    tables = build_byte_tables(sp, sp.vocab_size())
    docs = ["The fox jumps over the dog.", "Unseen: \u20ac\u4e2d\U0001f600 ZZZ  qq\nend", "caf\u00e9  au lait"]
    stream = torch.from_numpy(with_bos(encode_documents(sp, docs)))
    per_token = tables.token_bytes(stream[:-1], stream[1:])
    assert per_token.dtype == torch.int16
    assert int(per_token.sum()) == sum(len(d.encode("utf-8")) for d in docs)
    # The euro sign is not in the vocabulary: byte fallback gives 3 one-byte pieces.
    ids = sp.encode("\u20ac")
    assert [sp.id_to_piece(i) for i in ids] == ["<0xE2>", "<0x82>", "<0xAC>"]


def test_no_piece_has_an_inner_space_so_the_reference_tables_count_exactly(small_sp):
    # The reference tables count a piece's text after one leading "▁" as UTF-8: an inner "▁"
    # would count 3 bytes for a 1-byte space. Runs of spaces become single "▁" pieces instead.
    pieces = [small_sp.id_to_piece(i) for i in range(small_sp.vocab_size())]
    assert not [p for p in pieces if "\u2581" in p[1:]]
    assert [small_sp.id_to_piece(i) for i in small_sp.encode("a    b")].count("\u2581") >= 3


def test_leading_space_after_a_boundary_token_is_not_counted(small_sp):
    sp = small_sp
    tables = build_byte_tables(sp, sp.vocab_size())
    the = sp.piece_to_id("\u2581the")
    word = sp.piece_to_id("t")
    prev = torch.tensor([sp.bos_id(), word])
    tgt = torch.tensor([the, the])
    assert tables.token_bytes(prev, tgt).tolist() == [3, 4]


def test_decode_encode_round_trips_text_exactly(small_sp):
    for doc in TEXT[:5] + ["  leading spaces,\ttabs,\n\n\nblank lines and \u00fcnic\u00f6de \U0001f600"]:
        assert small_sp.decode(small_sp.encode(doc)) == doc


def test_training_chunks_cover_the_text_and_respect_the_limit():
    text = ("short line\n" * 3) + ("w\u00f6rd " * 3000) + "\n" + ("x" * 9000) + "\ntail"
    chunks = list(training_chunks(text, 1000))
    assert "".join(chunks) == text
    assert max(len(c.encode("utf-8")) for c in chunks) <= 1000
    assert len(chunks) > 20


def test_a_very_long_line_is_not_lost_to_max_sentence_length(tmp_path):
    # One document whose single line is far longer than SentencePiece's sentence limit.
    # Its rare word must still shape the vocabulary (a dropped line would teach nothing).
    long_line = " ".join(["zyxwvut qrsp"] * 4000)
    assert len(long_line.encode()) > 4 * MAX_SENTENCE_LENGTH
    docs = [long_line] + ["the cat sat on the mat"] * 10
    sp = load_tokenizer(train_tokenizer(docs, tmp_path / "long", 300))
    assert sp.piece_to_id("\u2581zyxwvut") != sp.unk_id()
    assert sp.decode(sp.encode(long_line)) == long_line
    assert len(sp.encode(long_line)) <= 3 * 4000  # learned pieces, not byte fallback


def test_sentencepiece_alone_drops_the_long_line(tmp_path):
    # The hazard being guarded: fed as one sentence, the long line is silently skipped.
    long_line = " ".join(["zyxwvut qrsp"] * 4000)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([long_line] + ["the cat sat on the mat"] * 10), model_prefix=str(tmp_path / "raw"),
        vocab_size=300, model_type="bpe", byte_fallback=True, minloglevel=3, num_threads=1, hard_vocab_limit=False,
    )
    sp = spm.SentencePieceProcessor(model_file=str(tmp_path / "raw.model"))
    assert sp.piece_to_id("\u2581zyxwvut") == sp.unk_id()


def test_training_twice_gives_identical_model_bytes():
    assert train_tokenizer_proto(TEXT, 400) == train_tokenizer_proto(TEXT, 400)


def test_vocab_mismatch_is_a_clear_error(small_sp):
    check_vocab(small_sp, 400, "config")
    with pytest.raises(ConfigError, match=r"vocab_size=1024 \(config.yaml\) does not match the tokenizer's vocabulary of 400"):
        check_vocab(small_sp, 1024, "config.yaml")
    assert issubclass(ConfigError, PgolfError)


def test_missing_or_corrupt_tokenizer_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_tokenizer(tmp_path / "none.model")
    (tmp_path / "bad.model").write_bytes(b"not a model")
    with pytest.raises(DataError, match="not a readable SentencePiece model"):
        load_tokenizer(tmp_path / "bad.model")


def test_too_small_corpus_for_the_vocabulary_names_a_vocab_size_that_works():
    import re

    with pytest.raises(DataError, match=r"use --vocab-size \d+ or less") as info:
        train_tokenizer_proto(["tiny text"], 2000)
    most = int(re.search(r"--vocab-size (\d+)", str(info.value)).group(1))
    assert train_tokenizer_proto(["tiny text"], most)  # the hint is true


def test_too_small_vocabulary_says_the_least_that_works_not_lower():
    import re

    docs = ["".join(chr(c) for c in range(0x3b1, 0x3c9)) + " plain ascii text " * 20] * 10
    with pytest.raises(DataError, match=r"need at least \d+; use --vocab-size \d+ or more") as info:
        train_tokenizer_proto(docs, 256)
    assert "lower" not in str(info.value) and "character_coverage" not in str(info.value)
    least = int(re.search(r"--vocab-size (\d+)", str(info.value)).group(1))
    assert train_tokenizer_proto(docs, least)  # the hint is true


def test_with_bos_puts_bos_before_every_document():
    out = with_bos([[5, 6], [], [7]])
    assert out.tolist() == [1, 5, 6, 1, 1, 7]
    assert out.dtype == np.int64
