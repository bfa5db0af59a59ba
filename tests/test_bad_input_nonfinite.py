"""Non-finite and huge numbers (nan, inf, -inf, 1e999, 1e308) in a log stage or a claim never stop a review verb:
they become an error flag of that run or claim, and the rest is judged (issue 31, class 3)."""

from __future__ import annotations

import csv
import json
import math
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgolf.__main__ import main as pgolf_main
from pgolf.review.read.claim import read_claim_bytes
from pgolf.review.read.log import read_log_text
from pgolf.review.rules.inputs import RunInput
from pgolf.review.rules.runs import nonfinite
from tests.data import gitstream as gs
from tests.data.logs.families import build_log
from tests.data.records.make_records import block

BAD = ("nan", "inf", "-inf", "1e999", "1e308", "-1e308")
DIAG = re.compile(r"(diagnostic quantized val_loss:)\S+ val_bpb:\S+")
CLAIMED = re.compile(r"(quantized_ttt_phased val_loss:)\S+ val_bpb:\S+")


def _put(text: str, line: re.Pattern, bad: str) -> str:
    return line.sub(rf"\g<1>{bad} val_bpb:{bad}", text)


def _folder(root, bad: str, line: re.Pattern = DIAG, seed_scores: str | None = None):
    """A record of three runs whose `line` stage prints `bad` in every log."""
    folder = root / "2026-04-01_X"
    folder.mkdir(parents=True)
    for seed, bpb in zip((1, 2, 3), (1.07, 1.071, 1.072), strict=True):
        (folder / f"train_seed{seed}.log").write_text(_put(build_log(block(seed, bpb)), line, bad))
    claim = '{"name": "X", "val_bpb": 1.071, "date": "2026-04-01"' + (
        f', "seed_scores": [{seed_scores}, 1.07]' if seed_scores else "") + "}"
    (folder / "submission.json").write_text(claim)
    (folder / "README.md").write_text("# X\n")
    (folder / "train_gpt.py").write_text("x = 1\n")
    return folder


def _nonfinite_flags(flags) -> list:
    return [f for f in flags if "not a finite score" in f["text"] or "not a score" in f["text"]]


@pytest.mark.parametrize("bad", BAD)
def test_check_record_flags_a_nonfinite_diagnostic_stage_and_judges_the_rest(tmp_path, bad):
    folder = _folder(tmp_path / "recs", bad)
    assert pgolf_main(["check-record", str(folder), "--out", str(tmp_path / "out")]) == 0
    record = json.loads((tmp_path / "out" / "record.json").read_text())
    assert [f["run"] for f in _nonfinite_flags(record["flags"]) if f["severity"] == "error"] == \
        ["train_seed1.log", "train_seed2.log", "train_seed3.log"]
    assert record["n"] == 3 and record["mean"] == pytest.approx(1.071)  # the claimed stage is still judged


@pytest.mark.parametrize("bad", BAD)
def test_check_logs_drops_a_nonfinite_claimed_stage_by_name(tmp_path, bad, capsys):
    folder = _folder(tmp_path / "recs", "1.5")
    logs = sorted(folder.glob("*.log"))
    logs[1].write_text(_put(logs[1].read_text(), CLAIMED, bad))
    assert pgolf_main(["check-logs", *map(str, logs), "--threshold", "1.2", "--out", str(tmp_path / "out")]) == 0
    claim = json.loads((tmp_path / "out" / "claim.json").read_text())
    assert claim["n"] == 2 and claim["mean"] == pytest.approx((1.07 + 1.072) / 2)
    assert f"dropped {logs[1]}: `quantized_ttt_phased` printed val_bpb" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "1e999", "1e308"])
def test_a_nonfinite_seed_score_is_flagged(tmp_path, bad):
    folder = _folder(tmp_path / "recs", "1.5", seed_scores=bad)
    assert pgolf_main(["check-record", str(folder), "--out", str(tmp_path / "out")]) == 0
    texts = [f["text"] for f in json.loads((tmp_path / "out" / "record.json").read_text())["flags"]]
    assert "submission.json's seed_scores[0] is not a finite number: not a claim; fix it" in texts


def test_audit_goes_on_past_a_nonfinite_folder(tmp_path):
    recs = tmp_path / "recs"
    _folder(recs / "a", "1e308", CLAIMED)
    (recs / "a" / "2026-04-01_X").rename(recs / "2026-04-01_X")
    good = _folder(recs / "b", "1.5")
    good.rename(recs / "2026-04-02_Y")
    assert pgolf_main(["audit", str(recs), "--out", str(tmp_path / "out")]) == 0
    rows = {r["record"]: r for r in csv.DictReader((tmp_path / "out" / "records.csv").open())}
    assert rows["2026-04-01_X"]["n"] == "0" and int(rows["2026-04-01_X"]["n_errors"]) >= 1
    assert rows["2026-04-02_Y"]["n"] == "3" and float(rows["2026-04-02_Y"]["mean_bpb"]) == pytest.approx(1.071)


def test_audit_git_goes_on_past_a_nonfinite_pr(tmp_path):
    repo = gs.start_repo(tmp_path)

    def broken(r):
        gs._record(r, "2026-03-20_Broken", (1.21, 1.2101, 1.2102))
        for log in (r / gs.TRACK / "2026-03-20_Broken").glob("*.log"):
            log.write_text(_put(log.read_text(), CLAIMED, "1e308"))

    gs._pr(repo, 1, "main", "2026-03-20T10:00:00Z", broken)
    gs._pr(repo, 2, "main", "2026-03-21T10:00:00Z",
           lambda r: gs._record(r, "2026-03-21_Fine", (1.2098, 1.2101, 1.2102)))
    assert pgolf_main(["audit", "--git", str(repo), "--out", str(tmp_path / "out")]) == 0
    rows = {r["folder"].rsplit("/", 1)[-1]: r for r in csv.DictReader((tmp_path / "out" / "submissions.csv").open())}
    assert set(rows) == {"2026-03-20_Broken", "2026-03-21_Fine"}
    assert rows["2026-03-21_Fine"]["n"] == "3"
    json.loads((tmp_path / "out" / "records.json").read_text())  # strict JSON: no NaN written


_NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.sampled_from(["nan", "-nan", "inf", "-inf", "Infinity", "1e999", "-1e999", "1e308", "1e30",
                                      "9.99e29", "1e-400", "0"]),
                     st.integers(-400, 400).map(lambda e: f"1.5e{e}"))


@settings(max_examples=200, deadline=None)
@given(loss=_NUMBERS, bpb=_NUMBERS)
def test_log_reader_reads_any_number_and_flags_what_is_not_a_score(loss, bpb):
    run = read_log_text(f"final_int8_zlib_roundtrip val_loss:{loss} val_bpb:{bpb}\n", "a.log")
    stage = run.stage("final_int8_zlib_roundtrip")
    assert stage is not None
    run = run.chosen(None)
    flagged = nonfinite(RunInput(run, "a.log"))
    score_ok = all(math.isfinite(float(t)) and abs(float(t)) < 1e30 for t in (loss, bpb))
    assert bool(flagged) == (not score_ok)
    assert (run.error is None) == (math.isfinite(float(bpb)) and abs(float(bpb)) < 1e30)
    for v in (stage.val_loss, stage.val_bpb):  # every value downstream is finite and small, or not finite at all
        assert not math.isfinite(v) or abs(v) < 1e30


_JSON_NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(json.dumps),
                          st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e308", "1e-400", "0"]),
                          st.integers(-400, 400).map(lambda e: f"1.5e{e}"))


@settings(max_examples=200, deadline=None)
@given(headline=_JSON_NUMBERS, seed=_JSON_NUMBERS, std=_JSON_NUMBERS)
def test_claim_reader_reads_any_number_and_names_what_is_not_one(headline, seed, std):
    text = f'{{"val_bpb": {headline}, "seed_scores": [1.07, {seed}], "seed_results": {{"1": {{"val_bpb": {seed}}}}},' \
           f' "val_bpb_std": {std}}}'
    claim = read_claim_bytes(text.encode(), "submission.json")

    def bad(t: str) -> bool:  # not finite, or an exponent past 30 either way (1e999, 1e308, 1e-400)
        d = Decimal(t.replace("Infinity", "inf"))
        return not d.is_finite() or (d != 0 and abs(d.adjusted()) > 30)

    expected = [k for k, t in (("val_bpb", headline), ("seed_scores[1]", seed), ("seed_results.1.val_bpb", seed),
                               ("val_bpb_std", std)) if bad(t)]
    assert claim.nonfinite == expected
    assert claim.val_bpb is None or claim.val_bpb.is_finite()
