"""Bad input, round two (issue 31, class 6): each of these ended in a traceback; now one line naming the file,
the row or key, and what to do. Fixtures are written by hand here (hand-made tables, not pgolf's output)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from workflow_copy import MICRO, copy_workflow, snakemake

from pgolf.__main__ import main
from pgolf.errors import DataError
from pgolf.report.tables import eval_row

HEADER = "seed,condition,draw,eval_seed,val_loss,val_bpb,tokens,bytes,seconds\n"
CONDITIONS = ("flat", "doc", "sliding", "ttt")


def _runs(tmp_path: Path, change=None, extra: str = "") -> Path:
    rows = [[seed, c, 0, "", 2.0 - 0.01 * i - 0.001 * seed, 1.5 - 0.01 * i - 0.001 * seed, 1000, 1800, 1.0]
            for seed in (1, 2, 3) for i, c in enumerate(CONDITIONS)]
    if change:
        change(rows)
    path = tmp_path / "runs.csv"
    path.write_text(HEADER + "".join(",".join(map(str, r)) + "\n" for r in rows) + extra)
    return path


def _stats(runs: Path, tmp_path: Path, capsys) -> tuple[int, str]:
    code = main(["stats", "--headline", "ttt", "--threshold", "2", "--alpha", "0.01", "--confidence", "0.95",
                 "--conditions", *CONDITIONS, "--runs", str(runs), "--out-dir", str(tmp_path / "stats")])
    return code, capsys.readouterr().err


def test_stats_on_a_clean_table_runs(tmp_path, capsys):
    code, err = _stats(_runs(tmp_path), tmp_path, capsys)
    assert code == 0, err


@pytest.mark.parametrize(("change", "extra", "message"), [
    (lambda rows: rows[3].__setitem__(5, "nan"), "", "row 5 (seed 1, condition ttt) has val_bpb = nan, not a finite number"),
    (lambda rows: rows[0].__setitem__(4, "inf"), "", "row 2 (seed 1, condition flat) has val_loss = inf"),
    (lambda rows: rows[1].__setitem__(5, "[1.5]"), "", "has val_bpb = '[1.5]', not a finite number"),
    (lambda rows: rows[2].__setitem__(6, "many"), "", "has tokens = 'many', not a finite number"),
    (None, "1,flat,0,,2.0,1.5,1000,1800,1.0\n", "seed 1, condition flat, draw 0 is listed more than once (row 14)"),
])
def test_stats_on_a_broken_runs_table_names_the_file_and_the_row(tmp_path, capsys, change, extra, message):
    runs = _runs(tmp_path, change, extra)
    code, err = _stats(runs, tmp_path, capsys)
    assert code == 2 and "Traceback" not in err
    assert f"pgolf stats: error: {runs}: " in err and message in err and "rerun `python -m pgolf aggregate`" in err
    assert not (tmp_path / "stats").exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("val_bpb", [1.2], "field val_bpb is [1.2] (list), not a finite number"),
    ("val_loss", "2.0", "field val_loss is '2.0' (str), not a finite number"),
    ("tokens", 10.5, "field tokens is 10.5 (float), not a whole number"),
    ("bytes", True, "field bytes is True (bool)"),
])
def test_an_eval_json_with_a_list_or_string_value_names_the_file_and_field(field, value, message):
    result = {"condition": "flat", "val_loss": 2.0, "val_bpb": 1.2, "tokens": 10, "bytes": 18, field: value}
    with pytest.raises(DataError) as caught:
        eval_row(1, "flat", 0, result, "seeds/1/eval/flat.json")
    assert str(caught.value).startswith(f"seeds/1/eval/flat.json: {message}")
    assert str(caught.value).endswith("delete the file and rerun its eval job")


@pytest.mark.parametrize(("config_json", "message"), [
    ("{}", "--config-json: key 'seeds' is missing or not a list"),
    ("[]", "--config-json must be a JSON object"),
    ('{"seeds": [1, 2], "data": {}, "train": {}, "eval": {}, "claim": {}, "report": {}}',
     "--config-json: key data.source is missing"),
    ("[" * 5000 + "]" * 5000, "--config-json: nested too deeply"),
    ('{"seeds": NaN}', "--config-json: NaN is not a number JSON allows"),
])
def test_report_with_a_config_json_it_cannot_use_says_which_key(tmp_path, capsys, config_json, message):
    code = main(["report", "--config-json", config_json, "--template", str(tmp_path / "t.md"), "--tables-dir",
                 str(tmp_path), "--stats-dir", str(tmp_path), "--plots-dir", str(tmp_path), "--out", str(tmp_path / "r.md")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "r.md").exists()


@pytest.mark.parametrize(("line", "message"), [
    (b'{"text": "caf\xe9"}\n', ":2: not UTF-8 text"),
    (b'{"text": ' + b"[" * 3000 + b"]" * 3000 + b"}\n", ":2: nested too deeply"),
])
def test_a_jsonl_corpus_line_that_is_not_utf8_or_too_deep_names_the_file_and_line(tmp_path, line, message):
    from pgolf.data.corpus import jsonl_documents

    path = tmp_path / "docs.jsonl"
    path.write_bytes(b'{"text": "fine"}\n' + line)
    with pytest.raises(DataError, match=f"^{path}{message}"):
        jsonl_documents(path)


def test_a_manifest_nested_too_deeply_is_named(tmp_path):
    from pgolf.tokenizer import check_against_manifest

    (tmp_path / "manifest.json").write_text("[" * 5000 + "]" * 5000)
    with pytest.raises(DataError, match=f"manifest {tmp_path / 'manifest.json'}: nested too deeply"):
        check_against_manifest(tmp_path / "tokenizer.model", tmp_path / "pgolf_val_000000.bin")


@pytest.mark.slow
def test_a_latin1_default_config_file_is_named_at_startup(tmp_path):
    where = copy_workflow(tmp_path / "wf")
    config = where / "config" / "config.yaml"
    config.write_bytes(config.read_bytes() + "# café\n".encode("latin-1"))
    out = snakemake(where, "--dry-run", configfiles=(MICRO,), timeout=120)
    assert out.returncode != 0
    said = out.stdout + out.stderr
    assert "config file config/config.yaml: not UTF-8 text" in said and "save it as UTF-8" in said
    assert "UnicodeDecodeError" not in said


def test_written_json_of_a_diverged_run_is_strict_json(tmp_path):
    from pgolf import atomic

    atomic.write_json(tmp_path / "claim.json", {"mean": float("nan"), "n": 2})
    loaded = json.loads((tmp_path / "claim.json").read_text())
    assert loaded == {"mean": None, "n": 2, "non_finite": ["mean"]}


def test_a_claim_whose_t_statistic_is_not_finite_still_gives_a_report_line():
    # What `stats` writes for a threshold of 1.7e308: t overflows to -inf, written as null.
    from pgolf.report.markdown import claim_section

    claim = {"headline": "ttt", "threshold": 1.7e308, "tested": True, "sentence": "mean 4.47 < 1.7e+308",
             "seeds": [1, 2], "values": [4.5, 4.4],
             "result": {"confidence": 0.95, "mean": 4.45, "std": 0.07, "t": None, "df": 1, "p_value": 0.0,
                        "threshold": 1.7e308, "ci": [3.8, 5.1], "bound": 4.8},
             "power": {"n_for_power": None}}
    text = claim_section(claim)
    assert "t = not finite, df = 1" in text and "mean 4.4500" in text
