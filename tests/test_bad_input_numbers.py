"""Issue 21, class 2: inputs that would give a wrong number with no warning are refused instead.

Each case runs the real CLI over an earlier good output and asserts exit status 2, one clear
error line naming the file or option, no traceback, and that output's sha256 unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from bad_input_checks import assert_clean_failure, pgolf, sha256s

from pgolf.artifact import save_artifact
from pgolf.data.shards import read_shard, write_shard

TINY_TRAIN = dict(num_layers=2, model_dim=32, num_heads=2, num_kv_heads=1, train_seq_len=64,
                  train_batch_tokens=512, grad_accum_base=1, iterations=2, warmup_steps=0, warmdown_iters=1,
                  max_wallclock_seconds=0, val_loss_every=0, train_log_every=1, val_batch_size=4096,
                  val_max_tokens=1024, device="cpu")


def _train(data, out: Path, **extra) -> list[str]:
    settings = {"train_files": data.train_glob, "val_files": data.val_glob, "tokenizer_path": data.tokenizer_path,
                "vocab_size": data.vocab_size, **TINY_TRAIN, **extra}
    argv = ["train", "--out", str(out)]
    for key, value in settings.items():
        argv += ["--set", f"{key}={value}"]
    return argv


@pytest.fixture(scope="module")
def other_tokenizer(tiny_data, tmp_path_factory) -> Path:
    """A SentencePiece model of the same vocabulary size, trained on other documents."""
    from pgolf.data import corpus
    from pgolf.tokenizer import train_tokenizer

    docs = corpus.load_source("default")[::-7][:400]
    return train_tokenizer((d.text for d in docs), tmp_path_factory.mktemp("other") / "other", tiny_data.vocab_size)


@pytest.fixture(scope="module")
def no_bos_val(tiny_data, tmp_path_factory) -> str:
    """The val split without its leading BOS: its first document has no start."""
    folder = Path(shutil.copytree(tiny_data.root, tmp_path_factory.mktemp("nobos") / "data"))
    shard = folder / Path(tiny_data.val_glob).name.replace("*", "000000")
    write_shard(shard, read_shard(shard)[1:])
    return str(folder / Path(tiny_data.val_glob).name)


@pytest.fixture(scope="module")
def good_train(tiny_data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("train") / "seed1"
    proc = pgolf(*_train(tiny_data, out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def _train_case(tiny_data, other_tokenizer, no_bos_val, case):
    """(extra --set values, needles of the error line)."""
    train_glob = tiny_data.train_glob
    return {
        "same_size_tokenizer": ({"tokenizer_path": other_tokenizer},
                                [str(other_tokenizer), "not the one the shards were made with", "manifest.json"]),
        "val_glob_matches_train": ({"val_files": train_glob.replace("_train_", "_*_")},
                                   ["matches 1 training shard(s)", Path(train_glob).name.replace("*", "000000")]),
        "val_is_the_train_split": ({"val_files": train_glob}, ["training shard(s)", "train split"]),
        "val_without_leading_bos": ({"val_files": no_bos_val}, [no_bos_val, "not BOS (id 1)"]),
    }[case]


@pytest.mark.parametrize("case", ["same_size_tokenizer", "val_glob_matches_train", "val_is_the_train_split",
                                  "val_without_leading_bos"])
def test_train_refuses_inputs_that_would_give_a_wrong_val_bpb(tiny_data, other_tokenizer, no_bos_val,
                                                              good_train, case):
    extra, needles = _train_case(tiny_data, other_tokenizer, no_bos_val, case)
    before = sha256s(good_train)
    assert_clean_failure(pgolf(*_train(tiny_data, good_train, **extra)), *needles)
    assert sha256s(good_train) == before


@pytest.fixture(scope="module")
def artifact(tiny_data, tmp_path_factory) -> Path:
    from eval_toys import tiny_model

    path = tmp_path_factory.mktemp("art") / "final_model.int8.ptz"
    save_artifact(tiny_model(vocab=tiny_data.vocab_size).state_dict(), path)
    return path


@pytest.fixture(scope="module")
def good_eval(tiny_data, artifact, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eval") / "doc.json"
    assert pgolf(*_eval(tiny_data, artifact, out, tiny_data.val_glob, tiny_data.tokenizer_path)).returncode == 0
    return out


def _eval(tiny_data, artifact, out, val, tokenizer) -> list[str]:
    return ["eval", "--artifact", artifact, "--condition", "doc", "--val", val, "--tokenizer", tokenizer,
            "--seq-len", "64", "--chunk", "16", "--max-docs", "3", "--device", "cpu", "--progress", "0", "--out", out]


@pytest.mark.parametrize("case", ["same_size_tokenizer", "val_glob_matches_train", "val_is_the_train_split",
                                  "val_without_leading_bos"])
def test_eval_refuses_the_same_inputs_through_the_same_checks(tiny_data, artifact, other_tokenizer, no_bos_val,
                                                              good_eval, case):
    extra, needles = _train_case(tiny_data, other_tokenizer, no_bos_val, case)
    val = extra.get("val_files", tiny_data.val_glob)
    tokenizer = extra.get("tokenizer_path", tiny_data.tokenizer_path)
    before = sha256s(good_eval.parent)
    assert_clean_failure(pgolf(*_eval(tiny_data, artifact, good_eval, val, tokenizer)), *needles)
    assert sha256s(good_eval.parent) == before


def test_real_splits_start_with_bos(tiny_data):
    # The check is an error, not a warning: prepare's shards (and the record's FineWeb export, which
    # prepare --source fineweb checks the same way) always start the split with BOS.
    assert int(read_shard(tiny_data.val_glob.replace("*", "000000"))[0]) == 1
    assert np.count_nonzero(read_shard(tiny_data.val_glob.replace("*", "000000")) == 1) == 24


@pytest.mark.parametrize(("flag", "value", "needles"), [
    ("--ttt-draws", "-1", ["--ttt-draws", "'-1'", ">= 1"]),
    ("--ttt-draws", "0", ["--ttt-draws", ">= 1"]),
    ("--eval-pattern", "{tmp}/seeds/1/eval/{{name}}.json", ["--eval-pattern", "lacks {seed}"]),
    ("--eval-pattern", "{tmp}/seeds/{{seed}}/eval/flat.json", ["--eval-pattern", "lacks {name}"]),
    ("--eval-pattern", "{tmp}/seeds/{{sed}}/{{seed}}/{{name}}.json", ["names {sed}"]),
    ("--artifact-pattern", "{tmp}/seeds/1/train/final_model.int8.ptz", ["--artifact-pattern", "lacks {seed}"]),
    ("--train-metrics-pattern", "{tmp}/metrics.json", ["--train-metrics-pattern", "lacks {seed}"]),
    ("--confidence", "nan", ["--confidence"]),
])
def test_aggregate_refuses_options_that_would_drop_or_repeat_rows(tmp_path, flag, value, needles):
    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "runs.csv").write_text("seed,condition,draw,val_bpb\n1,ttt,0,2.3\n")  # an earlier table
    before = sha256s(tables)
    argv = {"--seeds": ["1", "2"], "--conditions": ["flat", "ttt"], "--ttt-draws": ["2"],
            "--eval-pattern": [f"{tmp_path}/seeds/{{seed}}/eval/{{name}}.json"], "--out-dir": [str(tables)]}
    argv[flag] = [value.format(tmp=tmp_path)]
    proc = pgolf("aggregate", *[x for key, values in argv.items() for x in (key, *values)])
    assert_clean_failure(proc, *needles)
    assert sha256s(tables) == before
