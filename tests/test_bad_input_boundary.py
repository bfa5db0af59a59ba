"""The CLI's one boundary: operating-system errors, undecodable text, deep nesting and special files end in one
line naming the path, exit 2, no traceback; one bad record folder never stops an audit."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data.records.make_records import RECORDS, write_leaderboard


def pgolf(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pgolf", *args], capture_output=True, text=True, timeout=timeout)


def one_error_line(done: subprocess.CompletedProcess, verb: str, *needles: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"pgolf {verb}: error: "), done.stderr
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def sha(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    return write_leaderboard(tmp_path_factory.mktemp("lb") / "records", sorted(RECORDS)[:2])


def test_an_output_path_under_a_file(board, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    one_error_line(pgolf("audit", str(board), "--out", str(blocker / "out")), "audit", str(blocker))
    assert blocker.read_text() == "not a folder"


def test_a_log_that_is_a_directory_a_fifo_or_a_device(tmp_path):
    one_error_line(pgolf("check-logs", str(tmp_path), "--threshold", "1.2", "--out", str(tmp_path / "o")),
                   "check-logs", "not a regular file")
    fifo = tmp_path / "fifo.log"
    os.mkfifo(fifo)
    one_error_line(pgolf("check-logs", str(fifo), "--threshold", "1.2", "--out", str(tmp_path / "o"), timeout=30),
                   "check-logs", "not a regular file")
    one_error_line(pgolf("check-logs", "/dev/zero", "--threshold", "1.2", "--out", str(tmp_path / "o"), timeout=30),
                   "check-logs", "not a regular file")
    assert not (tmp_path / "o").exists()


def test_a_pairs_file_that_is_not_utf8_keeps_earlier_outputs(board, tmp_path):
    out = tmp_path / "out"
    assert pgolf("audit", str(board), "--out", str(out)).returncode == 0
    before = sha(out)
    pairs = tmp_path / "pairs.csv"
    pairs.write_bytes(b"record,previous\n\xff\xfe\x00bad\n")
    one_error_line(pgolf("audit", str(board), "--pairs", str(pairs), "--out", str(out)), "audit", "not UTF-8")
    assert sha(out) == before


@pytest.mark.parametrize("content", [
    '{"val_bpb": "NaN", "val_loss": "Infinity", "bytes_total": 1e999999999}',
    "[" * 50_000 + "]" * 50_000,
    '{"a":' * 5_000 + "1" + "}" * 5_000,
    "\ufeff{\"val_bpb\": 1.1}\n{\"second\": 2}",
])
def test_one_hostile_submission_json_never_stops_an_audit(board, tmp_path, content):
    records = tmp_path / "records"
    records.mkdir()
    for src in board.iterdir():
        os.symlink(src, records / src.name)
    bad = records / "2026-05-01_Hostile"
    bad.mkdir()
    (bad / "submission.json").write_text(content)
    (bad / "train.log").write_text("seed:1\nfinal val_loss:1.9 val_bpb:1.1\n")
    done = pgolf("audit", str(records), "--out", str(tmp_path / "out"), timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "out" / "records.json").read_text())
    assert {d["record"] for d in data["records"]} >= {"2026-05-01_Hostile"} | {p.name for p in board.iterdir()}


@pytest.mark.parametrize("make, needle", [
    (lambda t: {"tok_emb.weight": t.zeros(1, 1).expand(1_000_000, 1_000_000)}, "stride 0"),
    (lambda t: {"tok_emb.weight": t.zeros(0, 64)}, "an embedding is a vocab x width matrix"),
    (lambda t: {"tok_emb.weight": t.zeros(64)}, "an embedding is a vocab x width matrix"),
])
def test_a_tiny_checkpoint_that_claims_a_huge_or_empty_model_is_refused_before_allocating(tmp_path, make, needle):
    import torch

    from pgolf.artifact import load_model
    from pgolf.errors import ArtifactError

    path = tmp_path / "hostile.pt"
    torch.save(make(torch), path)
    assert path.stat().st_size < 10_000
    with pytest.raises(ArtifactError, match=needle):
        load_model(path)


def test_results_must_be_a_folder_of_its_own(tmp_path):
    from pgolf.config import check_results_folder
    from pgolf.errors import ConfigError

    with pytest.raises(ConfigError, match="config key results: '/' is /"):
        check_results_folder("/")
    with pytest.raises(ConfigError, match="is an existing file"):
        (tmp_path / "f").write_text("x")
        check_results_folder(str(tmp_path / "f"))
    check_results_folder(str(tmp_path / "results"))  # a new folder is fine
    done = subprocess.run([sys.executable, "-m", "snakemake", "-n", "results/report.md", "--config", "results=/"],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert done.returncode != 0 and "config key results: '/' is /" in done.stdout + done.stderr


@pytest.mark.parametrize("setting", ["model_dim=1000000", "num_layers=10000000"])
def test_a_model_larger_than_any_artifact_under_the_cap_is_refused_at_once(tmp_path, setting):
    done = pgolf("train", "--set", setting, "--out", str(tmp_path / "out"))
    one_error_line(done, "train", "parameters", "more than any artifact under the 16 MB cap")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("write, needle", [
    (lambda p: p.write_bytes(b"iterations: 10\n\xff\xfe\n"), "not UTF-8 text (invalid start byte at byte 15)"),
    (lambda p: p.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n"), "nested too deeply"),
    (lambda p: p.write_text("iterations: [1\n"), "not valid YAML at line 2"),
    (lambda p: os.mkfifo(p), "not a regular file"),
])
def test_a_config_file_that_cannot_be_read_names_itself(tmp_path, write, needle):
    cfg = tmp_path / "bad.yaml"
    write(cfg)
    done = pgolf("train", "--config", str(cfg), "--out", str(tmp_path / "out"), timeout=60)
    one_error_line(done, "train", str(cfg), needle)


def test_json_inputs_take_finite_numbers_only(tmp_path):
    from pgolf.errors import DataError
    from pgolf.inputs import read_json

    (tmp_path / "a.json").write_text('{"val_bpb": NaN}')
    with pytest.raises(DataError, match="NaN is not a number JSON allows"):
        read_json(tmp_path / "a.json", "eval result")
    (tmp_path / "b.json").write_text("[" * 200 + "]" * 200)
    with pytest.raises(DataError, match="nested too deeply"):
        read_json(tmp_path / "b.json", "eval result")
    with pytest.raises(DataError, match="not a regular file"):
        read_json("/dev/zero", "eval result")
