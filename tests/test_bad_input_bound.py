"""One bounded reader for every file and git blob (issue 31, classes 4 and 5): a file over the bound is named with
its size and the bound and never read; the bound is read at call time, so these tests lower it instead of writing
hundreds of megabytes. A sparse 2 GiB log is tested at the real bound (it takes no disk)."""

from __future__ import annotations

import json

import pytest

from pgolf import inputs
from pgolf.__main__ import main as pgolf_main
from tests.data import gitstream as gs
from tests.data.records import make_records as mr

BOUND = 1024 * 1024
GOOD = "2026-03-21_Fine"


@pytest.fixture
def small_bound(monkeypatch):
    monkeypatch.setattr(inputs, "MAX_FILE_BYTES", BOUND)


def _errors(record: dict) -> list[str]:
    return [r["error"] for r in record["runs"] if r["error"]]


def test_a_one_line_blob_over_the_bound_is_named_in_git(small_bound, tmp_path):
    repo = gs.start_repo(tmp_path)
    gs._record(repo, GOOD, (1.2098, 1.2101, 1.2102))
    (repo / gs.TRACK / GOOD / "train_seed7.log").write_bytes(b"x" * (2 * BOUND))  # one line, no newline
    gs._commit_all(repo, "Fine", "2026-03-21T10:00:00Z")
    assert pgolf_main(["audit", "--git", str(repo), "--out", str(tmp_path / "out")]) == 0
    (record,) = json.loads((tmp_path / "out" / "records.json").read_text())["records"]
    assert _errors(record) == [f"main {gs.TRACK}/{GOOD}/train_seed7.log: 2,097,152 bytes, over the 1,048,576-byte "
                               "bound for one file; it is not read (is it the right file?)"]
    assert record["n"] == 3  # the claimed runs judged


def test_a_one_line_file_over_the_bound_is_named_on_disk_and_by_check_logs(small_bound, tmp_path, capsys):
    folder = mr.write_record(tmp_path / "recs", "2026-04-01_Prev")
    big = folder / "train_seed7.log"
    big.write_bytes(b"y" * (BOUND + 1))
    assert pgolf_main(["check-record", str(folder), "--out", str(tmp_path / "one")]) in (0, 1)
    record = json.loads((tmp_path / "one" / "record.json").read_text())
    assert _errors(record) == [f"file {big}: 1,048,577 bytes, over the 1,048,576-byte bound for one file; it is not "
                               "read (is it the right file?)"]
    assert pgolf_main(["check-logs", str(big), "--threshold", "1.3", "--out", str(tmp_path / "logs")]) == 2
    assert f"log {big}: 1,048,577 bytes, over the 1,048,576-byte bound" in capsys.readouterr().err
    big.write_bytes(b"y" * BOUND)  # at the bound: read (a line of no stage, so no train log)
    assert pgolf_main(["check-record", str(folder), "--out", str(tmp_path / "two")]) in (0, 1)
    assert _errors(json.loads((tmp_path / "two" / "record.json").read_text())) == []


def test_a_sparse_2_gib_log_is_named_at_the_real_bound(tmp_path):
    folder = mr.write_record(tmp_path / "recs", "2026-04-01_Prev")
    big = folder / "train_seed9.log"
    with open(big, "wb") as fh:
        fh.truncate(2 * 1024**3)
    assert pgolf_main(["audit", str(folder.parent), "--out", str(tmp_path / "out")]) == 0
    (record,) = json.loads((tmp_path / "out" / "records.json").read_text())["records"]
    assert _errors(record) == [f"file {big}: 2,147,483,648 bytes, over the 67,108,864-byte bound for one file; it "
                               "is not read (is it the right file?)"]
    assert record["n"] == 3
