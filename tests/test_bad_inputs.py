"""Bad inputs a hostile new user makes: each ends in `pgolf VERB: error: ...` naming what and where,
exit status 2, and the files an earlier good run wrote left exactly as they were."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from eval_toys import tiny_model

from pgolf.__main__ import main as pgolf_main
from pgolf.artifact import save_artifact
from pgolf.data.shards import write_shard

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def _fails(argv: list[str], capsys, *needles: str) -> str:
    assert pgolf_main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pgolf {argv[0]}: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@pytest.fixture(scope="module")
def artifact(tiny_data, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bad_eval") / "final_model.int8.ptz"
    save_artifact(tiny_model(vocab=tiny_data.vocab_size).state_dict(), path)
    return path


def _eval(tiny_data, artifact, out, *extra, val=None, tokenizer=None, condition="sliding") -> list[str]:
    return ["eval", "--artifact", str(artifact), "--condition", condition, "--val", str(val or tiny_data.val_glob),
            "--tokenizer", str(tokenizer or tiny_data.tokenizer_path), "--seq-len", "64", "--chunk", "16",
            "--max-docs", "3", "--device", "cpu", "--progress", "0", "--out", str(out), *extra]


@pytest.fixture()
def good_result(tiny_data, artifact, tmp_path) -> Path:
    """An earlier good evaluation: every failed rerun below must leave its three files alone."""
    out = tmp_path / "res" / "sliding.json"
    assert pgolf_main(_eval(tiny_data, artifact, out)) == 0
    assert len(list(out.parent.iterdir())) == 3
    return out


def _other_tokenizer(tiny_data, tmp_path) -> Path:
    """A SentencePiece model of the same vocabulary size, trained on other documents."""
    from pgolf.data import corpus
    from pgolf.tokenizer import train_tokenizer

    docs = corpus.load_source("default")[::-7][:400]
    return train_tokenizer((d.text for d in docs), tmp_path / "other", tiny_data.vocab_size)


def test_same_size_tokenizer_of_other_pieces_is_refused_by_the_manifest(tiny_data, artifact, good_result,
                                                                         tmp_path, capsys):
    other = _other_tokenizer(tiny_data, tmp_path)
    before = _snapshot(good_result.parent)
    _fails(_eval(tiny_data, artifact, good_result, tokenizer=other), capsys,
           str(other), "not the one the shards were made with", "manifest.json", "pass that tokenizer")
    assert _snapshot(good_result.parent) == before


def test_without_a_manifest_the_json_says_the_tokenizer_was_not_checked(tiny_data, artifact, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    for shard in Path(tiny_data.val_glob).parent.glob(Path(tiny_data.val_glob).name):
        shutil.copy(shard, bare / shard.name)
    out = tmp_path / "r.json"
    assert pgolf_main(_eval(tiny_data, artifact, out, val=bare / Path(tiny_data.val_glob).name)) == 0
    check = json.loads(out.read_text())["tokenizer_check"]
    assert check["checked"] is False and "no manifest.json" in check["note"]
    out2 = tmp_path / "r2.json"
    assert pgolf_main(_eval(tiny_data, artifact, out2)) == 0
    assert json.loads(out2.read_text())["tokenizer_check"]["checked"] is True


def test_token_ids_beyond_the_vocabulary_are_a_data_error_not_an_index_error(tiny_data, artifact, tmp_path, capsys):
    shard = tmp_path / "ids" / "pgolf_val_000000.bin"
    write_shard(shard, np.array([1, 5, 6, 7, tiny_data.vocab_size + 3, 8, 1, 9, 10], dtype=np.int64))
    out = tmp_path / "ids.json"
    _fails(_eval(tiny_data, artifact, out, val=shard), capsys,
           f"token id {tiny_data.vocab_size + 3}", f"vocabulary of {tiny_data.vocab_size}", str(shard.parent))
    assert not out.exists() and not list(tmp_path.glob("ids.*"))


@pytest.mark.parametrize(("extra", "needles"), [
    (["--ttt-lr", "nan"], ["--ttt-lr must be a finite number >= 0, got nan"]),
    (["--ttt-lr", "-0.01"], ["--ttt-lr must be a finite number >= 0, got -0.01"]),
    (["--ttt-lr", "inf"], ["--ttt-lr must be a finite number >= 0, got inf"]),
    (["--seq-len", "0"], ["--seq-len must be at least 1, got 0"]),
    (["--chunk", "0"], ["--chunk must be at least 1, got 0"]),
    (["--chunk", "65"], ["--chunk 65 is longer than --seq-len 64", "between 1 and 64"]),
    (["--ttt-batch", "0"], ["--ttt-batch must be a finite number >= 1 and < 65536, got 0"]),
    (["--max-docs", "0"], ["--max-docs must be at least 1"]),
])
def test_eval_settings_out_of_range_fail_before_scoring_and_keep_earlier_results(
        tiny_data, artifact, good_result, capsys, extra, needles):
    before = _snapshot(good_result.parent)
    err = _fails(_eval(tiny_data, artifact, good_result, *extra, condition="ttt"), capsys, *needles)
    assert "--chunk <= 0" not in err
    assert _snapshot(good_result.parent) == before


def test_checkpoint_holding_nan_is_refused_and_writes_nothing(tiny_data, good_result, tmp_path, capsys):
    state = tiny_model(vocab=tiny_data.vocab_size).state_dict()
    state["blocks.0.attn.c_q.weight"][0, 0] = math.nan
    bad = tmp_path / "nan.pt"
    torch.save(state, bad)
    before = _snapshot(good_result.parent)
    _fails(_eval(tiny_data, bad, good_result, condition="ttt"), capsys, str(bad), "NaN or infinite weights",
           "blocks.0.attn.c_q.weight")
    assert _snapshot(good_result.parent) == before


def test_result_files_are_written_as_a_group_or_not_at_all(tmp_path):
    from pgolf.evaluate.totals import EvalResult, result_files

    cols = {"position": np.arange(2), "nats": np.ones(2), "bytes": np.ones(2, dtype=np.int64),
            "count": np.ones(2, dtype=np.int64)}
    good = EvalResult("flat", 2.0, 2, 2, 1, 0.1, {}, cols, {"doc": np.arange(1)})
    paths = result_files(good, tmp_path / "r.json")
    before = _snapshot(tmp_path)
    broken = EvalResult("flat", math.nan, 2, 2, 1, 0.1, {}, cols, {"doc": np.arange(1)})
    with pytest.raises(ValueError):
        result_files(broken, tmp_path / "r.json")  # the JSON cannot hold NaN: nothing may change
    assert _snapshot(tmp_path) == before and len(paths) == 3


# ----------------------------------------------------------------------------------------- train


def test_out_of_range_hyperparameters_fail_at_startup_naming_the_key(tmp_path, capsys):
    for setting, needle in (("iterations=-5", "iterations=-5 is out of range: iterations must be >= 1"),
                            ("iterations=0", "iterations=0 is out of range: iterations must be >= 1"),
                            ("matrix_lr=nan", "matrix_lr=nan is out of range"),
                            ("beta2=1.5", "beta2=1.5 is out of range: beta2 must be >= 0 and <= 1"),
                            ("max_wallclock_seconds=-1", "max_wallclock_seconds=-1.0 is out of range"),
                            ("precision=fp8", "precision='fp8': choose one of auto, bf16, fp32")):
        _fails(["train", "--out", str(tmp_path / "out"), "--set", setting], capsys, needle)
    assert not list(tmp_path.iterdir())


def test_seeds_check_needs_two_distinct_seeds_for_a_claim():
    from pgolf.config import check_seeds
    from pgolf.errors import ConfigError

    check_seeds([1, 2], claim=True)
    check_seeds([1], claim=False)
    with pytest.raises(ConfigError, match=r"config key seeds: \[1\] gives 1 seed.*at least 2"):
        check_seeds([1], claim=True)
    with pytest.raises(ConfigError, match=r"config key seeds: \[3, 3\] repeats 3"):
        check_seeds([3, 3], claim=True)
    with pytest.raises(ConfigError, match="config key seeds"):
        check_seeds([], claim=False)
