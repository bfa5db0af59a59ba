"""`python -m pgolf eval`: outputs, exactness on a real tokenizer's tables, clear errors, torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from eval_toys import tiny_model

from pgolf.__main__ import main as pgolf_main
from pgolf.artifact import load_model, save_artifact
from pgolf.data.shards import load_tokens, write_shard
from pgolf.evaluate.loops import loops_condition
from pgolf.tokenizer import build_byte_tables, load_tokenizer

REPO = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def artifact(tiny_data, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("eval_artifact") / "final_model.int8.ptz"
    save_artifact(tiny_model(vocab=tiny_data.vocab_size).state_dict(), path)
    return path


def _args(tiny_data, artifact, condition, *extra) -> list[str]:
    return ["eval", "--artifact", str(artifact), "--condition", condition, "--val", tiny_data.val_glob,
            "--tokenizer", tiny_data.tokenizer_path, "--seq-len", "128", "--chunk", "32", "--device", "cpu",
            "--progress", "0", *extra]


@pytest.mark.parametrize("condition", ["flat", "sliding", "ttt"])
def test_eval_writes_json_positions_and_docs_that_agree(tiny_data, artifact, tmp_path, condition):
    out = tmp_path / f"{condition}.json"
    assert pgolf_main(_args(tiny_data, artifact, condition, "--max-docs", "5", "--ttt-rank", "2", "--out", str(out))) == 0
    res = json.loads(out.read_text())
    for key in ("condition", "val_loss", "val_bpb", "tokens", "bytes", "loss_sum_nats", "docs", "seconds",
                "settings", "artifact", "artifact_sha256", "provenance"):
        assert key in res
    assert res["condition"] == condition and res["settings"]["seq_len"] == 128
    pos = pd.read_csv(tmp_path / f"{condition}.positions.csv")
    docs = pd.read_csv(tmp_path / f"{condition}.docs.csv")
    assert list(pos.columns) == ["position", "nats", "bytes", "count"]
    assert list(docs.columns) == ["doc", "start", "tokens", "bytes", "nats"]
    assert pos["count"].sum() == docs["tokens"].sum() == res["tokens"]
    assert pos["bytes"].sum() == docs["bytes"].sum() == res["bytes"]
    assert docs["nats"].sum() == pytest.approx(res["loss_sum_nats"], rel=1e-12)
    if condition != "flat":
        assert res["docs"] == 5 and docs["doc"].tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("condition", ["flat", "doc", "sliding"])
def test_eval_equals_the_readable_loops_on_real_tokens_and_tables(tiny_data, artifact, tmp_path, condition):
    out = tmp_path / "r.json"
    assert pgolf_main(_args(tiny_data, artifact, condition, "--out", str(out))) == 0
    res = json.loads(out.read_text())
    model = load_model(artifact)
    tables = build_byte_tables(load_tokenizer(tiny_data.tokenizer_path), tiny_data.vocab_size)
    tokens = torch.as_tensor(load_tokens(tiny_data.val_glob).astype(np.int64))
    ref = loops_condition(model, tokens, tables, condition, seq_len=128, chunk=32)
    assert (res["tokens"], res["bytes"]) == (ref.tokens, ref.bytes)
    assert res["val_bpb"] == pytest.approx(ref.val_bpb, abs=1e-6)


def _error(capsys, argv) -> str:
    assert pgolf_main(argv) == 2
    return capsys.readouterr().err


def test_eval_errors_are_clear(tiny_data, artifact, tmp_path, capsys):
    small = tmp_path / "vocab256.pt"
    torch.save(tiny_model(vocab=256).state_dict(), small)
    err = _error(capsys, _args(tiny_data, small, "flat"))
    assert "vocab_size=256" in err and f"vocabulary of {tiny_data.vocab_size}" in err

    argv = _args(tiny_data, artifact, "flat")
    argv[argv.index("--val") + 1] = str(tmp_path / "nothing_val_*.bin")
    assert "glob matched nothing" in _error(capsys, argv)

    write_shard(tmp_path / "nobos_val_000000.bin", np.full(4000, 7, dtype=np.uint16))
    argv[argv.index("--val") + 1] = str(tmp_path / "nobos_val_*.bin")
    assert "hold no BOS at all" in _error(capsys, argv)

    err = _error(capsys, _args(tiny_data, artifact, "sliding", "--chunk", "256"))
    assert "--chunk 256 is longer than --seq-len 128" in err

    junk = tmp_path / "notes.txt"
    junk.write_text("not weights")
    assert "neither an int8+zlib artifact" in _error(capsys, _args(tiny_data, junk, "ttt"))


@pytest.mark.slow
def test_two_cpu_ranks_under_torchrun_equal_one_process(tiny_data, artifact, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    for condition in ("flat", "ttt"):
        outs = {}
        for nproc in (1, 2):
            out = tmp_path / f"{condition}{nproc}.json"
            cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
                   "-m", "pgolf", *_args(tiny_data, artifact, condition, "--max-docs", "8", "--ttt-rank", "2",
                                         "--ttt-batch", "3", "--out", str(out))]
            subprocess.run(cmd, check=True, env=env, cwd=tmp_path, capture_output=True, timeout=300)
            outs[nproc] = json.loads(out.read_text())
        one, two = outs[1], outs[2]
        assert two["settings"]["world_size"] == 2
        assert (one["tokens"], one["bytes"], one["docs"]) == (two["tokens"], two["bytes"], two["docs"])
        assert two["val_bpb"] == pytest.approx(one["val_bpb"], abs=1e-7)
        d1 = pd.read_csv(tmp_path / f"{condition}1.docs.csv")
        d2 = pd.read_csv(tmp_path / f"{condition}2.docs.csv")
        np.testing.assert_allclose(d1["nats"], d2["nats"], rtol=1e-6)


def test_precision_auto_is_float32_on_cpu_and_bf16_autocast_runs_on_cpu(tiny_data, artifact, tmp_path):
    runs = {}
    for precision in ("auto", "fp32", "bf16"):
        out = tmp_path / f"{precision}.json"
        assert pgolf_main(_args(tiny_data, artifact, "sliding", "--max-docs", "4", "--precision", precision,
                                "--out", str(out))) == 0
        runs[precision] = json.loads(out.read_text())
    assert runs["auto"]["val_bpb"] == runs["fp32"]["val_bpb"]
    assert runs["auto"]["settings"]["autocast"] is False and runs["bf16"]["settings"]["autocast"] is True
    assert runs["bf16"]["val_bpb"] != runs["fp32"]["val_bpb"]
    assert abs(runs["bf16"]["val_bpb"] - runs["fp32"]["val_bpb"]) < 0.02
