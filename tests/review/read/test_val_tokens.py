"""Every shape in which real logs print the validation split's token count, and the free-text lines of the
GatedDeltaNet family (seed, world size, artifact bytes); fixtures written here, numbers by hand."""

from __future__ import annotations

import pytest

from pgolf.review.read.bytecount import stage_bytes, tokenizer_name
from pgolf.review.read.log import read_log_text
from pgolf.review.rules.bytes import implied, per_token
from pgolf.review.rules.examples import folder_input
from pgolf.review.rules.inputs import RunInput

STAGE = "final_int8_zlib_roundtrip val_loss:2.0 val_bpb:1.2"
SHAPES = [
    ("val_loader:shards pattern=./data/fineweb_val_*.bin tokens:62021632", 62_021_632),
    ("val_loader:shards pattern=c:/data\\fineweb_val_*.bin tokens:62021632", 62_021_632),
    ("val_tokens: 40540160", 40_540_160),
    ("1776142361.425 val_tokens: 40540160", 40_540_160),
    ("[default0]:val_tokens: 40540160", 40_540_160),
    ("train_loader:dataset:fineweb10B_sp1024 train_shards:80 val_tokens:62021632", 62_021_632),
    ("Validation tokens: 40,540,160", 40_540_160),
    ("val_tokens:62021632", 62_021_632),
    ("val_loader:tokens:62021632", 62_021_632),
    ("data: fineweb10B_sp1024 train_shards:80 val_tokens:62021632", 62_021_632),
    ("val:./data/fineweb_val_000000.bin tokens:62021632", 62_021_632),
    ("val_tokens:62021632 val_sequences:60568", 62_021_632),
    ("Val tokens: 44,528,743", 44_528_743),
    ("[ValEval] Loaded 62,021,846 tokens from fineweb_val_000000.bin", 62_021_846),
    ("caseops_assertions token_shards:1 byte_shards:1 val_tokens_len:47851521 val_bytes_len:151080000", 47_851_521),
]


@pytest.mark.parametrize(("line", "count"), SHAPES)
def test_each_val_token_line_shape_is_read(line, count):
    assert read_log_text(f"{line}\n{STAGE}\n").val_tokens == count


def test_source_lines_and_batch_sizes_are_not_the_split():
    text = ('val_batch_tokens = int(os.environ.get("VAL_BATCH_TOKENS", 524288))\n'
            "val_batch_tokens: 524288\n" + STAGE + "\n")
    assert read_log_text(text).val_tokens is None


def test_the_free_text_lines_give_seed_world_size_and_artifact_bytes():
    r = read_log_text("Seed: 1337, Steps: 7000, Warmdown: 2100\nWorld size: 8, Grad accum: 1\n"
                      "Artifact:      /tmp/model.int6.ptz\nArtifact: 15,595,190 bytes (14.87 MB)\n" + STAGE + "\n")
    assert (r.seed, r.world_size, r.grad_accum_steps, r.total_bytes) == (1337, 8, 1, 15_595_190)
    assert read_log_text("Seed: 300 | GPUs: 8\n" + STAGE + "\n").world_size == 8
    assert read_log_text("Artifact: 15103390 bytes, code: 61581 bytes, total: 15164971 bytes\n"
                         + STAGE + "\n").total_bytes == 15_164_971


def test_a_leading_space_added_twice_is_caught_from_the_comma_grouped_count():
    # sp8192: 3.7266 bytes per token; the space byte added in the LUT and again in the eval loop gives 4.3864.
    # val_bpb = val_loss / (ln 2 * 4.3864) = 2.5 / 3.04043 = 0.82225
    log = "Validation tokens: 40,540,160\nfinal_quant val_loss:2.5000 val_bpb:0.82225\n"
    r = read_log_text(log, "train_seed1.log")
    (flag,) = implied(RunInput(r, r.name))
    assert flag.severity == "error" and dict(flag.numbers)["diff_pct"] == pytest.approx(17.70, abs=0.02)
    assert dict(flag.numbers)["implied_bytes"] == pytest.approx(40_540_160 * 4.3864, rel=2e-5)


def test_without_a_count_bytes_per_token_against_the_named_tokenizer():
    ok = 2.5 / (0.693147 * 3.7266)  # val_bpb for 3.7266 bytes per token
    assert per_token(folder_input("tokenizer_path=./data/tokenizers/fineweb_8192_bpe.model",
                                  f"final val_loss:2.5 val_bpb:{ok:.6f}")) == []
    (flag,) = per_token(folder_input(f"final val_loss:2.5 val_bpb:{ok / 1.177:.6f}",
                                     script='VOCAB_SIZE = int(os.environ.get("VOCAB_SIZE", 8192))'))
    assert flag.severity == "error" and "sp8192" in flag.text


def test_the_tokenizer_is_named_by_file_data_path_or_vocab_size():
    assert tokenizer_name(read_log_text("tokenizer_path=./x/fineweb_1024_bpe.model\n" + STAGE + "\n")) == "sp1024"
    caseops = "tokenizer_path=./fineweb_8192_bpe_lossless_caps_caseops_v1_reserved.model\n"
    assert tokenizer_name(read_log_text(caseops + STAGE + "\n")) == "caseops"
    assert tokenizer_name(read_log_text("tokenizer_path=./candidate.vocab\n" + STAGE + "\n")) is None
    assert tokenizer_name(read_log_text("vocab_size:4096\n" + STAGE + "\n")) == "sp4096"
    r = read_log_text("val_tokens: 62021632\n" + STAGE + "\n")
    (b,) = stage_bytes(r)
    assert b.implied == pytest.approx(62_021_632 * 2.0 / (0.6931471805599453 * 1.2))
