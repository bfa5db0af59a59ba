"""Directory mode never follows a link out of a record folder: the file is left out, named as a finding, and the
rest of the folder is judged (issue 31, class 1)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pgolf.__main__ import main as pgolf_main
from pgolf.review.sources.folder import DirFolder
from tests.data.records import make_records as mr

SECRET = "/etc/passwd"


def _linked_record(root):
    folder = mr.write_record(root, "2026-04-01_Prev")
    (folder / "train_gpt.py").unlink()
    os.symlink(SECRET, folder / "train_gpt.py")
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "notes.txt").write_text("outside text\n")
    os.symlink(outside, folder / "extra")  # a folder link out
    os.symlink("README.md", folder / "README_link.md")  # a link inside the folder is followed
    return folder


def test_a_link_out_of_the_folder_is_left_out_and_named(tmp_path):
    folder = _linked_record(tmp_path / "recs")
    files = DirFolder(folder)
    assert "train_gpt.py" not in files.paths() and not any(p.startswith("extra") for p in files.paths())
    assert "README_link.md" in files.paths() and files.read("README_link.md") == (folder / "README.md").read_bytes()
    why = files.left_out()
    assert [w.split(", outside")[0] for w in why] == [f"{folder}/extra is a link to {tmp_path / 'outside'}",
                                                      f"{folder}/train_gpt.py is a link to {SECRET}"]


def test_check_record_and_audit_never_copy_the_target_into_a_report(tmp_path):
    folder = _linked_record(tmp_path / "recs")
    secret = [line for line in Path(SECRET).read_text().splitlines() if line.strip()]
    assert pgolf_main(["check-record", str(folder), "--out", str(tmp_path / "one")]) == 0
    assert pgolf_main(["audit", str(folder.parent), "--out", str(tmp_path / "all")]) == 0
    record = json.loads((tmp_path / "one" / "record.json").read_text())
    left = [f for f in record["flags"] if f["text"].startswith(f"{folder}/train_gpt.py is a link to {SECRET}")]
    assert len(left) == 1 and left[0]["severity"] == "error"
    assert record["n"] == 3  # the logs are judged as before
    for out in (tmp_path / "one", tmp_path / "all"):
        for f in out.iterdir():
            if f.suffix in (".md", ".html", ".json", ".csv"):
                text = f.read_text()
                assert not any(line in text for line in secret), f
                assert "outside text" not in text, f
