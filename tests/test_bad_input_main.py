"""The last-resort handler of `python -m pgolf` names the file (issue 31, class 6), and every CSV table is read
through pgolf.inputs, which names it: Latin-1 bytes, a FIFO, a file that is no table."""

from __future__ import annotations

import json
import os
import re

import pytest

from pgolf.__main__ import file_of
from pgolf.__main__ import main as pgolf_main
from pgolf.errors import DataError
from pgolf.inputs import read_csv

LATIN1 = "seed,val_bpb\n1,café\n".encode("latin-1")


def _raised(read) -> BaseException:
    try:
        read()
    except (UnicodeDecodeError, RecursionError) as exc:
        return exc
    raise AssertionError("no error")


def test_a_decode_error_from_a_reader_outside_pgolf_inputs_is_named_by_its_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(LATIN1)
    assert file_of(_raised(lambda: path.read_text(encoding="utf-8"))) == str(path)

    def by_handle():
        with open(path, encoding="utf-8") as fh:
            return fh.read()

    assert file_of(_raised(by_handle)) == str(path)


def test_a_recursion_error_from_a_parser_is_named_by_its_file(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)

    def parse():
        with open(path) as fh:
            return json.loads(fh.read())

    assert file_of(_raised(parse)) == str(path)


def test_an_error_with_no_file_in_reach_says_so():
    assert file_of(_raised(lambda: b"\xe9".decode("utf-8"))) == "an input file (its reader did not say which)"


@pytest.mark.parametrize("write, needle", [
    (lambda p: p.write_bytes(LATIN1), "not UTF-8 text (invalid continuation byte at byte 18)"),
    (lambda p: os.mkfifo(p), "not a regular file"),
    (lambda p: p.write_text('a,b\n1,"2\n'), "not a CSV table"),
])
def test_a_csv_table_is_read_through_the_input_boundary_and_named(tmp_path, write, needle):
    path = tmp_path / "runs.csv"
    write(path)
    with pytest.raises(DataError, match=re.escape(f"runs table {path}: {needle}")):
        read_csv(path, "runs table")


def test_stats_on_a_latin1_runs_table_names_it(tmp_path, capsys):
    runs = tmp_path / "runs.csv"
    runs.write_bytes(LATIN1)
    assert pgolf_main(["stats", "--runs", str(runs), "--threshold", "1.2", "--conditions", "ttt", "--out-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"runs table {runs}: not UTF-8 text" in err and "rerun `python -m pgolf aggregate`" in err
