"""`python -m pgolf check-logs` end to end on rebuilt record-#77 logs and broken variants."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pgolf.__main__ import main as pgolf_main
from pgolf.review.read.log import read_log
from pgolf.review.read.names import labels
from pgolf.review.rules.apply import run_flags, set_flags

LOGS = Path(__file__).resolve().parents[2] / "data" / "logs"
R77 = [str(LOGS / f"r77_v{i}.txt") for i in range(4)]
PREVIOUS = [str(LOGS / f"prev_seed{s}.txt") for s in (1337, 42, 7)]
VERDICT = "mean 1.1928 < 1.195, one-sided t-test p = 0.0023, n = 4: holds at alpha = 0.01"


def run(out: Path, *argv: str) -> tuple[int, dict]:
    rc = pgolf_main(["check-logs", *argv, "--out", str(out)])
    claim = json.loads((out / "claim.json").read_text())
    claim["flags"] = [f"{f['run']}: {f['text']}" if f["run"] else f["text"] for f in claim["flags"]]
    return rc, claim


def rule_flags(runs):
    label = labels(runs)
    return [str(f) for r in runs for f in run_flags(r, label[id(r)])] + [str(f) for f in set_flags(runs)]


def test_record_77_claim_holds_and_its_flags_appear(tmp_path, capsys):
    rc, claim = run(tmp_path, *R77, "--threshold", "1.195", "--claimed-std", "0.0005",
                    "--claimed-p", "0.00234486")
    assert rc == 0
    assert capsys.readouterr().out.strip() == VERDICT
    assert claim["holds"] is True and claim["verdict"] == VERDICT
    assert (claim["n"], claim["df"], claim["alternative"], claim["threshold"]) == (4, 3, "less", 1.195)
    assert abs(claim["p_value"] - 0.00234486) < 1e-8 and round(claim["t"], 2) == -7.62
    assert claim["metric"] == "final_int8_ttt_lora"  # both spellings, one stage
    assert claim["std_convention"]["matches"] == "n" and claim["claimed_p"]["matches"] is True
    assert claim["power"]["n_for_p"] == 4
    flags = claim["flags"]
    assert any(f.startswith("r77_v1.txt: world size 2") for f in flags)
    assert any(f.startswith("r77_v1.txt: wall-clock cap 2400") for f in flags)
    assert any("seed 1337 is used by all 4 runs" in f for f in flags)
    # the 8-GPU runs overshoot 600 s by one step only: a warning naming the overrun, never an error
    assert "r77_v0.txt: train time 600,061 ms is over 600,000 ms by 61 ms" in flags
    severity = {f["text"]: f["severity"] for f in json.loads((tmp_path / "claim.json").read_text())["flags"]}
    assert severity["train time 600,061 ms is over 600,000 ms by 61 ms"] == "warn"
    assert not any(f.startswith(("r77_v0.txt: ", "r77_v2.txt: ", "r77_v3.txt: ")) and "over 600,000" not in f
               for f in flags)
    assert claim["provenance"]["logs"][0]["sha256"]

    rows = list(csv.DictReader((tmp_path / "runs.csv").open()))
    assert [Path(r["file"]).name for r in rows] == [Path(p).name for p in R77]
    assert [r["val_bpb"] for r in rows] == ["1.1935", "1.1927", "1.1921", "1.1929"]
    assert rows[1]["world_size"] == "2" and rows[0]["metric"] == "final_ttt_lora"

    report = (tmp_path / "report.md").read_text()
    assert VERDICT in report and "| r77_v1.txt | 1337 | 2 | 4 | 14171/20000 |" in report
    assert "world size 2" in report and "0.005 nats is" in report and "divides by n" in report
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave nothing behind


def test_runs_without_final_metric_are_left_out_and_named(tmp_path, capsys):
    logs = [*R77, str(LOGS / "truncated.txt"), str(LOGS / "no_final.txt"), str(LOGS / "cut_final.txt")]
    rc, claim = run(tmp_path, *logs, "--threshold", "1.195")
    assert rc == 0 and claim["n"] == 4 and abs(claim["p_value"] - 0.00234486) < 1e-8
    err = capsys.readouterr().err
    for log in logs[4:]:
        assert f"dropped {log}: " in err  # the console names each dropped log and why
    assert set(claim["errors"]) == set(logs[4:])
    for name in ("truncated.txt", "no_final.txt", "cut_final.txt"):
        assert any(f.startswith(f"{name}: ") and "left out of the test" in f for f in claim["flags"])
    assert any("seed 1337 is used by all 4 runs" in f for f in claim["flags"])  # the runs that count


def test_fewer_than_three_runs_is_flagged_and_one_run_cannot_be_tested(tmp_path, capsys):
    _, two = run(tmp_path / "two", *R77[2:], "--threshold", "1.195")
    assert any("only 2 run(s)" in f and "fewer than 3" in f for f in two["flags"])
    assert two["p_value"] is not None
    rc, one = run(tmp_path / "one", R77[2], str(LOGS / "truncated.txt"), "--threshold", "1.195")
    assert rc == 1 and one["holds"] is False  # a claim that cannot be tested exits non-zero and one["t"] is None and one["n"] == 1
    assert "at least 2" in one["verdict"] and "cannot test" in capsys.readouterr().out
    assert "cannot test" in (tmp_path / "one" / "report.md").read_text()


def test_previous_record_welch_with_margin_in_nats_and_bpb(tmp_path):
    rc, claim = run(tmp_path, *R77, "--threshold", "1.195", "--previous", *PREVIOUS, "--margin-nats", "0.005")
    assert rc == 0
    w, m = claim["welch"], claim["margin"]
    assert m["margin_bpb"] == pytest.approx(0.005 * m["bpb_per_nat"]) and 0.59 < m["bpb_per_nat"] < 0.595
    assert w["bpb_no_margin"]["margin"] == 0.0 and w["bpb_margin"]["margin"] == pytest.approx(m["margin_bpb"])
    assert w["nats_margin"]["margin"] == 0.005
    assert all(w[k]["holds"] for k in ("bpb_no_margin", "bpb_margin", "nats_margin"))
    assert w["bpb_margin"]["p_value"] > w["bpb_no_margin"]["p_value"]
    report = (tmp_path / "report.md").read_text()
    assert "Welch" in report and "prev_seed42.txt" in report
    # a margin larger than the gap does not hold
    _, big = run(tmp_path / "big", *R77, "--threshold", "1.195", "--previous", *PREVIOUS, "--margin-nats", "0.1")
    assert big["welch"]["nats_margin"]["holds"] is False and big["welch"]["bpb_no_margin"]["holds"] is True


def test_size_eval_time_and_mixed_metric_flags(tmp_path):
    text = (LOGS / "r77_v2.txt").read_text()
    big = tmp_path / "big.txt"
    big.write_text(text.replace("Total submission size int8+zlib: 15866451", "Total submission size int8+zlib: 16000001")
                   .replace("eval_time:59874ms", "eval_time:600001ms"))
    flags = rule_flags([read_log(p) for p in [*R77[2:], big, LOGS / "later_record.txt"]])
    assert "big.txt: total artifact 16,000,001 bytes is over 16,000,000 by 1" in flags
    assert any(f.startswith("big.txt: eval time of final_int8_ttt_lora 600.0 s is over 600") for f in flags)
    assert any(f.startswith("runs report different stages") and "later_record.txt" in f for f in flags)
    assert not any(f.startswith("later_record.txt") and "train time" not in f for f in flags)


def test_named_metric_tests_that_stage(tmp_path):
    rc, claim = run(tmp_path, *R77, "--threshold", "1.2285", "--metric", "final_int8_zlib_roundtrip")
    assert rc == 0 and claim["metric"] == "final_int8_zlib_roundtrip"
    assert claim["values"] == [1.22837129, 1.2273599, 1.22692177, 1.22739739]
    assert claim["holds"] is False  # 4 flat-stream values below 1.2285, but not at p < 0.01 (p ~ 0.024)


def test_the_same_log_twice_is_flagged(tmp_path):
    copy = tmp_path / "copy_of_v2.txt"
    copy.write_text((LOGS / "r77_v2.txt").read_text())
    _, claim = run(tmp_path / "out", *R77, str(copy), "--threshold", "1.195")
    assert any(f.startswith("r77_v2.txt, copy_of_v2.txt: the same log content 2 times") for f in claim["flags"])


def test_bad_arguments_are_refused_by_the_parser(tmp_path):
    with pytest.raises(SystemExit):
        pgolf_main(["check-logs", *R77, "--threshold", "1.195", "--alpha", "5", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        pgolf_main(["check-logs", *R77, "--threshold", "1.195", "--claimed-std", "x", "--out", str(tmp_path)])
    assert pgolf_main(["check-logs", str(tmp_path / "missing.txt"), "--threshold", "1.195",
                       "--out", str(tmp_path)]) == 2  # a clean PgolfError, not a traceback


def test_metric_never_drops_the_previous_runs(tmp_path):
    """--metric names a stage the previous record never printed: its runs still count, on their own stage."""
    rc, claim = run(tmp_path, *R77, "--threshold", "1.195", "--previous", *PREVIOUS, "--metric", "final_int8_ttt_lora")
    assert rc == 0
    assert len(claim["welch"]["previous_values"]) == 3
    assert claim["welch"]["previous_values"] == [1.2276, 1.22825142, 1.22712624]
    assert sum("no `final_int8_ttt_lora` stage; its own `final_int8_zlib_roundtrip` is used" in f
               for f in claim["flags"]) == 3
