"""The review verbs print submission text (folder names, verdicts, file names, errors) inert: an escape sequence
in a folder name cannot retitle or clear the terminal (issue 31, class 2; sanitize.terminal)."""

from __future__ import annotations

from pgolf.__main__ import main as pgolf_main
from tests.data.records import make_records as mr

NAME = "2026-04-01_\x1b]0;pwned\x07\x1b[2J\u202eX"


def _raw(text: str) -> bool:
    return any(c in text for c in ("\x1b", "\x07", "\u202e"))


def test_check_record_audit_and_check_logs_print_escapes_visibly(tmp_path, capsys):
    recs = tmp_path / "recs"
    folder = mr.write_record(recs, "2026-04-01_Prev").rename(recs / NAME)
    (folder / "train_seed9.log").write_text("not a log\n")
    assert pgolf_main(["check-record", str(folder), "--out", str(tmp_path / "one")]) == 0
    assert pgolf_main(["audit", str(recs), "--out", str(tmp_path / "all")]) == 0
    logs = sorted(str(p) for p in folder.glob("*.log"))
    pgolf_main(["check-logs", *logs, "--threshold", "1.2", "--out", str(tmp_path / "logs")])
    out = capsys.readouterr()
    assert not _raw(out.out) and not _raw(out.err)
    assert "2026-04-01_\\x1b]0;pwned\\x07\\x1b[2J\\u202eX" in out.out  # the reader sees what was there
    assert "dropped" in out.err and "\\x1b]0;pwned" in out.err


def test_an_error_naming_a_hostile_path_prints_it_inert(tmp_path, capsys):
    assert pgolf_main(["check-logs", str(tmp_path / NAME / "a.log"), "--threshold", "1.2",
                       "--out", str(tmp_path / "out")]) != 0
    err = capsys.readouterr().err
    assert "error" in err and not _raw(err) and "\\x1b]0;pwned" in err
