"""Every shape real submissions use, as generated fixtures: claim keys, stage lines, several runs in one log,
claimed runs only, one digits rule, submission.json that is not JSON. Plus property tests of both readers."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgolf.errors import DataError
from pgolf.review.read.claim import matches, read_claim_bytes
from pgolf.review.read.log import read_log_runs, read_log_text
from pgolf.review.verbs import check_record
from tests.data.logs.families import Run, StageSpec, build_log
from tests.data.records.make_records import block

# --------------------------------------------------------------------------- submission.json


@pytest.mark.parametrize("data, key, value", [
    ({"val_bpb_mean": 1.0812}, "val_bpb_mean", "1.0812"),
    ({"val_bpb_3seed_mean": 1.0812, "val_bpb_3seed_std": 0.0004}, "val_bpb_3seed_mean", "1.0812"),
    ({"score": 1.0812, "score_metric": "val_bpb (3-seed mean)"}, "score", "1.0812"),
    ({"bpb": 1.0812, "val_loss": 2.79}, "bpb", "1.0812"),
    ({"results": {"mean_val_bpb": 1.0812, "std_val_bpb": 0.0003}}, "results.mean_val_bpb", "1.0812"),
    ({"validation": {"control_bpb_mean": 1.0900, "variant_bpb_mean": 1.0812}}, "validation.variant_bpb_mean",
     "1.0812"),
])
def test_every_headline_key_is_read(data, key, value):
    c = read_claim_bytes(json.dumps(data).encode(), "submission.json")
    assert (c.headline_key, str(c.val_bpb)) == (key, value)


def test_a_score_of_another_metric_is_no_bpb_claim():
    c = read_claim_bytes(b'{"score": 0.93, "score_metric": "accuracy"}', "submission.json")
    assert c.val_bpb is None and not c.claims_values


@pytest.mark.parametrize("data, seeds", [
    ({"results": {"seeds": {"1337": {"val_bpb": 1.08}, "42": {"val_bpb": 1.07}}}}, {1337: "1.08", 42: "1.07"}),
    ({"results": {"seed_1337": {"sliding_bpb": 1.08}, "mean": 1.08}}, {1337: None}),
    ({"per_seed_results": {"42": {"ppm_mixer_val_bpb": 0.93}}}, {42: "0.93"}),
    ({"val_bpb_per_seed": {"42": 1.07, "7": 1.08}}, {42: "1.07", 7: "1.08"}),
])
def test_per_seed_results_in_every_container(data, seeds):
    c = read_claim_bytes(json.dumps(data).encode(), "submission.json")
    assert {s: (str(v.val_bpb) if v.val_bpb is not None else None) for s, v in c.seeds.items()} == seeds


@pytest.mark.parametrize("raw", [
    b'\xef\xbb\xbf{"val_bpb": 1.0812}',  # a BOM
    b"cat > records/x/submission.json << 'EOF'\n{\"val_bpb\": 1.0812}\nEOF\n",  # a shell heredoc around it
    b'{"val_bpb": 1.0812}\n{"val_bpb": 9.9}\n',  # a second object after it
])
def test_a_submission_json_that_is_not_json_but_holds_one_is_read_with_a_warning(raw):
    c = read_claim_bytes(raw, "x/submission.json")
    assert str(c.val_bpb) == "1.0812"
    assert len(c.warnings) == 1 and c.warnings[0].startswith("x/submission.json: not valid JSON")


@pytest.mark.parametrize("raw, why", [(b"{not json", "not valid JSON"), (b"[1, 2]", "expected a JSON object"),
                                      (b"[" * 100_000, "not valid JSON|nested too deeply")])
def test_no_object_at_all_is_a_named_error(raw, why):
    with pytest.raises(DataError, match=why):
        read_claim_bytes(raw, "x/submission.json")


def test_nan_infinity_and_absurd_numbers_are_no_claim_and_are_named():
    c = read_claim_bytes(b'{"val_bpb": NaN, "val_loss": "Infinity", "bytes_total": 1e999999999}', "s.json")
    assert c.val_bpb is None and c.val_loss is None and c.bytes_total is None
    assert sorted(c.nonfinite) == ["bytes_total", "val_bpb", "val_loss"]


def test_a_seed_listed_twice_is_kept_as_a_finding():
    c = read_claim_bytes(b'{"seeds": [42, 42, 7], "seed_scores": [1.07, 1.08, 1.09]}', "s.json")
    assert c.duplicate_seeds == [42] and sorted(c.seeds) == [7, 42]


# --------------------------------------------------------------------------- stage lines


def stages(text: str) -> dict[str, tuple[float | None, float]]:
    r = read_log_text("seed:1\n" + text + "\n")
    return {s.name: (s.loss, s.bpb) for s in r.ordered_stages()}


@pytest.mark.parametrize("line, name, loss, bpb", [
    ("final_sliding_window+slot24steps_exact val_loss:1.90240000 val_bpb:1.12670000", "final_sliding_window+slot24steps",
     1.9024, 1.1267),
    ("final_eval vl:1.9024 bpb:1.1267 t=477.2s", "final_eval", 1.9024, 1.1267),
    ("ttt_sliding:done val_loss=1.870608 val_bpb=1.107883 elapsed=2071.8s", "ttt_sliding:done", 1.870608, 1.107883),
    ("quantized_sliding_window val_bpb:1.1267", "quantized_sliding_window", None, 1.1267),
    ("[2026-04-01 12:00:00,123] INFO: final_int8_zlib_roundtrip val_loss:1.9024 val_bpb:1.1267",
     "final_int8_zlib_roundtrip", 1.9024, 1.1267),
    ("1712345678.5 final_int8_zlib_roundtrip val_loss:1.9024 val_bpb:1.1267", "final_int8_zlib_roundtrip", 1.9024, 1.1267),
    ("[eval] final_mixed_quant_roundtrip_exact val_loss:2.01 val_bpb:1.19 eval_time:2660ms", "final_mixed_quant_roundtrip",
     2.01, 1.19),
    ("Quantized BPB (sliding, stride 64): 1.1267", "Quantized BPB (sliding, stride 64)", None, 1.1267),
    ("final_sliding_window stride:64 val_loss:1.9024 val_bpb:1.1267", "final_sliding_window", 1.9024, 1.1267),
])
def test_every_stage_line_shape_is_a_stage(line, name, loss, bpb):
    assert stages(line) == {name: (loss, bpb)}


@pytest.mark.parametrize("line", [
    "step:2500/20000 val_loss:2.1063 val_bpb:1.2475 train_time:224004ms",  # training-time validation
    "4000/20000 val_loss: 2.8741 val_bpb: 1.1127",
    "  ttt_chunk [1200/1200] bpb=1.084020 time=300.9s",  # a progress line
    'log0(f"final val_loss:{val_loss:.4f} val_bpb:{val_bpb:.4f}")',  # code
    "val_bpb:enabled tokenizer_kind=sentencepiece",
])
def test_lines_that_are_not_stages(line):
    assert stages(line) == {}


def test_a_seed_in_the_stage_name_makes_one_run_per_seed():
    runs = read_log_runs("final_ttt_s0 val_loss:1.90 val_bpb:1.1201\nfinal_ttt_s1 val_loss:1.91 val_bpb:1.1209\n"
                         "final_ttt_seed2 val_loss:1.89 val_bpb:1.1195\n", "t.log")
    assert [(r.seed, r.name, r.stage("final_ttt").bpb) for r in runs] == [
        (0, "t.log [seed 0]", 1.1201), (1, "t.log [seed 1]", 1.1209), (2, "t.log [seed 2]", 1.1195)]


def test_several_runs_concatenated_in_one_log_are_split_by_their_seeds():
    one = build_log(block(1337, 1.0712))
    two = build_log(block(42, 1.0705))
    runs = read_log_runs(one + two, "train.log")
    assert [(r.seed, r.stage("quantized_ttt_phased").bpb) for r in runs] == [(1337, 1.0712), (42, 1.0705)]
    assert [r.name for r in runs] == ["train.log [seed 1337]", "train.log [seed 42]"]


def test_a_nul_padded_log_does_not_read_its_code_dump():
    text = build_log(Run("block", 1, [StageSpec("quantized_ttt", 1.08, 2.79, 1000)], seed_style="block"))
    padded = "".join(line + "\0" * 7 + "\n" for line in text.splitlines())
    r = read_log_text(padded)
    assert list(r.stages) == ["quantized_ttt"] and r.val_bpb == 1.08  # the dump's 9.9999 stays code


def test_a_nan_stage_is_read_and_flagged_never_skipped(tmp_path):
    folder = tmp_path / "rec"
    folder.mkdir()
    runs = {s: block(s, 1.0712 + i / 1e4) for i, s in enumerate((1, 2, 3))}
    for s, run in runs.items():
        run.extra_lines.append("final_sliding_window val_loss:nan val_bpb:nan")
        (folder / f"train_seed{s}.log").write_text(build_log(run))
    (folder / "submission.json").write_text(json.dumps({"val_bpb": 1.0713}))
    r = check_record(folder)
    assert r["stages"]["train_seed1.log"]["final_sliding_window"]["val_bpb"] != r["stages"]["train_seed1.log"][
        "final_sliding_window"]["val_bpb"]  # nan is kept as nan
    assert any("final_sliding_window" in f["text"] and "nan" in f["text"] for f in r["flags"]
               if f["severity"] == "error")


# --------------------------------------------------------------------------- digits, claimed runs


def test_one_digits_rule():
    assert matches(1.08124, Decimal("1.0812")) and matches(1.08125, Decimal("1.0813"))  # rounded (half up)
    assert matches(1.08129, Decimal("1.0812"))  # cut
    assert not matches(1.0811, Decimal("1.0812")) and not matches(1.0813, Decimal("1.0812"))  # a unit off: never
    assert not matches(1.08131, Decimal("1.0812"))
    assert matches(1.0812, Decimal("1.08123"), value_digits=4)  # the log printed fewer digits
    assert not matches(1.0813, Decimal("1.08123"), value_digits=4)
    assert not matches(float("nan"), Decimal("1.08")) and not matches(1.08, Decimal("NaN"))


def _folder(tmp_path, claim, logs, readme=""):
    folder = tmp_path / "rec"
    folder.mkdir()
    for name, run in logs.items():
        (folder / name).write_text(build_log(run))
    (folder / "submission.json").write_bytes(claim if isinstance(claim, bytes) else json.dumps(claim).encode())
    (folder / "README.md").write_text(readme)
    return folder


def test_logs_outside_the_claimed_runs_are_listed_never_pooled(tmp_path):
    claimed = {1337: 1.0712, 42: 1.0705, 2024: 1.0718}
    logs = {f"train_seed{s}.log": block(s, b) for s, b in claimed.items()}
    logs["ablation_no_gate.log"] = block(7, 1.0790)  # an ablation of another seed
    table = "| Seed | val_bpb |\n|---|---|\n" + "".join(f"| {s} | {b} |\n" for s, b in claimed.items())
    r = check_record(_folder(tmp_path, {"val_bpb": 1.0712}, logs, table))  # the headline: one run's score
    assert r["claim_supported"] is True
    assert r["n"] == 3 and sorted(r["values"]) == sorted(claimed.values())  # the README names three runs
    assert {row["file"]: row["counted"] for row in r["runs"]}["ablation_no_gate.log"] is False


def test_a_bpb_stored_under_val_loss_is_recognised_by_its_value(tmp_path):
    logs = {f"train_seed{s}.log": block(s, b) for s, b in {1: 1.0712, 2: 1.0705, 3: 1.0718}.items()}
    r = check_record(_folder(tmp_path, {"val_loss": 1.0712}, logs))
    assert r["claim_supported"] is True and r["claimed_bpb"] == 1.0712
    assert any("val_loss 1.0712 is a val_bpb" in f["text"] for f in r["flags"] if f["severity"] == "warn")


def test_an_unparseable_submission_json_falls_back_to_the_readme_result(tmp_path):
    logs = {f"train_seed{s}.log": block(s, b) for s, b in {1: 1.0712, 2: 1.0705, 3: 1.0718}.items()}
    r = check_record(_folder(tmp_path, b"{broken", logs, "# Record\n\n**val_bpb: 1.0712** (3-seed mean)\n"))
    assert r["claim_supported"] is True and r["stage_source"] == "README" and r["claimed_bpb"] == 1.0712
    warns = [f["text"] for f in r["flags"] if f["severity"] == "warn"]
    assert any("not valid JSON" in w for w in warns) and any("README's stated result val_bpb 1.0712" in w for w in warns)


# --------------------------------------------------------------------------- properties

_LINE_PARTS = st.sampled_from(["final_int8", "val_loss:", "val_bpb:", "bpb=", "vl:", "seed:", "seed=", "step:",
                               "1.2345", "nan", "inf", "-1e308", "=" * 25, "Hyperparameters:", "  seed: 7", "\0",
                               "[rank0]", "INFO:", " ", "+", "_exact", "_s3", "Quantized BPB (x):", "\r"])


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_LINE_PARTS, max_size=8).map("".join), max_size=40), st.booleans())
def test_the_log_reader_reads_any_lines_or_names_the_problem(lines, newline_at_end):
    text = "\n".join(lines) + ("\n" if newline_at_end else "")
    for r in read_log_runs(text, "prop.log"):
        r = r.chosen(None)
        assert r.ok or r.error  # parsed runs, or a run that says what is missing


@settings(max_examples=200, deadline=2000)
@given(st.text(max_size=2000))
def test_the_log_reader_never_raises_on_arbitrary_text(text):
    assert all(r.file == "prop.log" for r in read_log_runs(text, "prop.log"))


_JSON = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
                     max_leaves=30)


@settings(max_examples=300, deadline=2000)
@given(st.dictionaries(st.sampled_from(["val_bpb", "val_loss", "seeds", "seed_results", "results", "score",
                                        "score_metric", "bytes_total", "date", "name", "per_seed_results",
                                        "validation", "seed_scores", "supports_pr", "base_pr"]) | st.text(max_size=8),
                       _JSON, max_size=8))
def test_the_claim_reader_takes_any_json_object(data):
    raw = json.dumps(data, allow_nan=True).encode()
    c = read_claim_bytes(raw, "prop.json")
    assert c.val_bpb is None or c.val_bpb.is_finite()


@settings(max_examples=200, deadline=2000)
@given(st.binary(max_size=400))
def test_the_claim_reader_takes_any_bytes_or_names_the_file(raw):
    try:
        read_claim_bytes(raw, "prop.json")
    except DataError as exc:
        assert "prop.json" in str(exc)


def test_a_claim_under_another_submission_name_is_read(tmp_path):
    logs = {f"ternary_log_{s}.txt": block(s, b) for s, b in {1: 1.0712, 2: 1.0705, 3: 1.0718}.items()}
    folder = _folder(tmp_path, {"val_bpb": 1.0712}, logs)
    (folder / "submission.json").rename(folder / "submission_ternary.json")
    r = check_record(folder)
    assert r["claim_supported"] is True and r["claimed_bpb"] == 1.0712 and "submission_ternary.json" not in r["sidecars"]
