"""check-record on made-up record folders (tests/data/records/make_records.py), one planted problem each."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from dataclasses import replace
from decimal import Decimal

import pytest
from scipy import stats

from pgolf.__main__ import main as pgolf_main
from pgolf.errors import DataError
from pgolf.review.read.claim import matches, read_claim
from pgolf.review.verbs import check_record
from pgolf.stats import progression_test, welch_one_sided
from tests.data.records.make_records import RECORDS, write_record


@pytest.fixture
def folder(tmp_path):
    return lambda name: write_record(tmp_path / "records", name)


def texts(result, severity=None):
    return [f"{f['run']}: {f['text']}" if f["run"] else f["text"] for f in result["flags"]
            if severity is None or f["severity"] == severity]


def test_welch_matches_an_independent_computation():
    new, old = [1.0712, 1.0705, 1.0718], [1.0731, 1.0729, 1.0740]
    assert welch_one_sided(new, old).p_value == pytest.approx(0.00654, abs=5e-6)
    scipy_p = stats.ttest_ind(new, old, equal_var=False, alternative="less").pvalue
    assert progression_test(new, old).p_value == pytest.approx(scipy_p, rel=1e-12)
    # one previous run: a one-sample test against its value
    one = progression_test(new, [1.0731])
    assert one.method == "one-sample"
    assert one.p_value == pytest.approx(stats.ttest_1samp(new, 1.0731, alternative="less").pvalue, rel=1e-12)


@pytest.mark.parametrize("name, key, headline, seeds", [
    ("2026-03-17_Baseline", "val_bpb", "1.2244", {}),
    ("2026-03-19_SlidingInt6", "mean_val_bpb", "1.1633", {1337: "1.1632", 42: "1.1625", 7: "1.1641"}),
    ("2026-04-01_Prev", "val_bpb", "1.07333", {1337: "1.0731", 42: "1.0729", 2024: "1.074"}),
    ("2026-04-05_HParamBlock", "val_bpb", "1.07116667", {1337: "1.0712", 42: "1.0705", 2024: "1.0718"}),
])
def test_every_submission_shape_is_read(folder, name, key, headline, seeds):
    c = read_claim(folder(name) / "submission.json")
    assert (c.headline_key, str(c.val_bpb)) == (key, headline)
    assert {s: str(v.val_bpb) for s, v in c.seeds.items()} == seeds
    assert c.date == name[:10]


def test_optional_submission_fields(folder):
    c = read_claim(folder("2026-04-05_HParamBlock") / "submission.json")
    assert (c.val_bpb_std, c.p_value, c.base_pr, c.comparison_baseline_pr) == (
        Decimal("0.00065"), Decimal("0.0065"), 1855, 1855)
    assert c.seeds[42].steps == 4703 and c.seeds[42].artifact_bytes == 15_821_000
    b = read_claim(folder("2026-03-17_Baseline") / "submission.json")
    assert (b.bytes_total, b.bytes_code, str(b.val_loss)) == (15_850_000, 50_000, "2.06754475")


def test_matching_at_printed_digits():
    assert matches(1.07116667, Decimal("1.0712")) and not matches(1.0713, Decimal("1.0712"))
    assert matches(1.0712, Decimal("1.07116667"), value_digits=4)  # the log printed fewer digits
    assert not matches(None, Decimal("1.07"))


def test_clean_record_is_supported_on_the_matching_stage_not_the_last_line(folder):
    r = check_record(folder("2026-03-19_SlidingInt6"))
    assert r["claim_supported"] is True and r["stage"] == "final_int6_sliding_window"
    assert r["n"] == 3 and r["mean"] == pytest.approx((1.1632 + 1.1625 + 1.1641) / 3)
    assert texts(r, "error") == []
    assert {row["file"] for row in r["runs"]} == {"train_seed1337.log", "train_seed42.log", "train_seed7.log"}


def test_stale_claim_no_log_shows_is_a_finding(folder):
    r = check_record(folder("2026-03-25_StaleClaim"))
    assert r["claim_supported"] is False
    assert any("claimed val_bpb 1.119: no stage of the logs shows it" in t for t in texts(r, "error"))
    assert r["n"] == 3 and "NOT shown" in r["verdict"]
    assert [row["file"] for row in r["runs"]] == ["logs/run1.txt", "logs/run2.txt", "logs/run3.txt"]


def test_seed_mismatch_is_a_warning_and_the_run_still_matched_by_its_file_name(folder):
    r = check_record(folder("2026-04-06_SeedMismatch"))
    assert texts(r, "error") == []
    errors = texts(r, "warn")
    assert "train_seed0.log: the log's seed 1337 disagrees with the file name's seed 0" in errors
    assert "train_seed0.log: seed mismatch: the log prints seed 1337, its file name and submission.json say 0" in errors
    assert r["claim_supported"] is True and r["n"] == 3


def test_over_cap_artifact_once_code_is_counted(folder):
    r = check_record(folder("2026-04-07_OverCap"))
    errors = texts(r, "error")
    assert "train_seed42.log: total artifact 16,025,000 bytes (model 15,980,000 + code) is over 16,000,000 by 25,000" \
        in errors
    assert any("bytes_total 15,980,000 is below the logs' total 16,025,000 with code counted (it is the model alone"
               in t for t in errors)
    assert all(row["total_bytes"] == 16_025_000 for row in r["runs"])


def test_artifact_production_past_the_cap_overrun_eval_and_split(folder):
    r = check_record(folder("2026-04-08_LateGPTQ"))
    errors, warns = texts(r, "error"), texts(r, "warn")
    assert any(t.startswith("train_seed1337.log: artifact production ends at 825.4 s, past the 600 s cap")
               for t in warns)  # a warning: the line also counts compression after the cap
    assert "train_seed42.log: train time 600,061 ms is over 600,000 ms by 61 ms" in warns  # a warning, not an error
    assert "train_seed2024.log: total eval time 612.3 s is over 600 s" in errors
    assert "train_seed2024.log: train_shards 40, not the standard 80" in warns


def test_world_size_cap_and_repeated_seed(folder):
    r = check_record(folder("2026-03-20_R77Style"))
    errors = texts(r, "error")
    assert "train_v1.txt: world size 2 (grad_accum_steps 4), not 8: not the 8xH100 setting" in errors
    assert "train_v1.txt: wall-clock cap 2400 s is over the 600 s limit" in errors
    assert any("seed 1337 is used by all 4 runs" in t for t in texts(r, "warn"))
    assert r["claim_supported"] is True and r["stage"] == "final_int8_ttt_lora"


def test_more_logs_than_claimed_runs(folder):
    r = check_record(folder("2026-04-10_Selection"))
    assert r["n"] == 3 and r["claim_supported"] is True
    warns = texts(r, "warn")
    assert sum("more logs than claimed runs (selection?)" in t for t in warns) == 2
    rerun = check_record(folder("2026-04-05_HParamBlock"))
    assert "train_seed42_rerun_1.log: a second log of seed 42, not counted: more logs than claimed runs" \
        in texts(rerun, "warn")
    assert [row["counted"] for row in rerun["runs"]].count(True) == 3
    assert len(rerun["sidecars"]) == 4 and not rerun["ignored"]  # JSON sidecars, requirements.txt never read as logs


def test_one_run_and_a_folder_without_submission(folder):
    one = check_record(folder("2026-03-17_Baseline"))
    assert any("only 1 run(s)" in t for t in texts(one, "warn")) and one["std"] is None
    bare = check_record(folder("2026-04-09_NoSubmission"))
    assert bare["claim_supported"] is None and bare["date"] == "2026-04-09" and bare["n"] == 3
    assert any(t.startswith("train_v3.txt: no stage line") for t in texts(bare, "error"))


def test_previous_threshold_and_runs_needed(folder):
    r = check_record(folder("2026-04-05_HParamBlock"), previous=folder("2026-04-01_Prev"), threshold=1.072)
    new, old = [1.0712, 1.0705, 1.0718], [1.0731, 1.0729, 1.0740]
    assert r["p_previous"] == pytest.approx(0.00654, abs=5e-6) and r["holds_practice"] is True
    from tests.data.records.make_records import SP8192

    margin = 0.005 * SP8192  # the runs' own bpb/val_loss ratio: the generator's sp8192 ratio
    assert r["margin_bpb"] == pytest.approx(margin, rel=1e-6)
    expect = stats.ttest_ind([v + margin for v in new], old, equal_var=False, alternative="less").pvalue
    assert r["p_previous_margin"] == pytest.approx(expect, rel=1e-6) and r["holds_rule"] is False
    assert r["p_threshold"] == pytest.approx(stats.ttest_1samp(new, 1.072, alternative="less").pvalue, rel=1e-9)
    assert r["runs_needed"] is not None and r["runs_needed"] > 3
    assert r["readme_p_values"] == ["0.0065"] and r["claimed_p_value"] == 0.0065  # what the record quotes
    assert f"{r['p_previous']:.4f}" == "0.0065"  # reproduced at its printed digits


def test_logs_keyword_checks_other_logs_against_the_folder_claim(folder, tmp_path):
    claim_folder = folder("2026-04-01_Prev")
    other = folder("2026-04-05_HParamBlock")
    rerun = [other / f"phased_log_{s}.txt" for s in (1337, 42, 2024)]
    r = check_record(claim_folder, logs=rerun)
    assert r["claim_supported"] is False and r["n"] == 3  # same seeds, other numbers: the claim is not reproduced
    same = check_record(claim_folder, logs=sorted(claim_folder.glob("train_seed*.log")))
    assert same["claim_supported"] is True


def test_check_record_verb_writes_its_files(folder, tmp_path, capsys):
    out = tmp_path / "out"
    rc = pgolf_main(["check-record", str(folder("2026-04-05_HParamBlock")), "--previous",
                     str(folder("2026-04-01_Prev")), "--out", str(out)])
    assert rc == 0 and "p = 0.0065 without margin (holds at 0.25)" in capsys.readouterr().out
    record = json.loads((out / "record.json").read_text())
    for key in ("n", "mean", "std", "claimed_bpb", "claim_supported", "stage", "flags", "previous", "p_previous",
                "p_previous_margin", "holds_rule", "holds_practice", "verdict", "provenance"):
        assert key in record
    assert record["stages"]["phased_log_42.txt"]["diagnostic quantized"]["eval_time_ms"] == 10342  # every stage
    rows = list(csv.DictReader((out / "runs.csv").open()))
    assert [r["file"] for r in rows][:3] == ["phased_log_1337.txt", "phased_log_2024.txt", "phased_log_42.txt"]
    assert "| phased_log_42.txt | 42 | 8 | 4703 |" in (out / "report.md").read_text()


def test_metric_overrides_the_matched_stage(folder):
    r = check_record(folder("2026-04-05_HParamBlock"), metric="diagnostic quantized")
    assert r["stage"] == "diagnostic quantized" and r["stage_source"] == "--metric"
    assert r["claim_supported"] is False and r["mean"] == pytest.approx(1.07116667 + 0.014)


def test_bad_folders_are_clear_errors(tmp_path, folder):
    with pytest.raises(DataError, match="no such folder"):
        check_record(tmp_path / "missing")
    with pytest.raises(DataError, match="--previous .*: no such record folder"):
        check_record(folder("2026-04-01_Prev"), previous=tmp_path / "nope")
    broken = folder("2026-04-01_Prev")
    (broken / "submission.json").write_text("{not json")
    r = check_record(broken)  # a finding of the record (an audit goes on), not a crash
    assert any("submission.json: not valid JSON (Expecting property name" in t for t in texts(r, "warn"))
    # the README's stated result stands in for the claim, and says so (this README's is a decoy no log shows)
    assert any("the README's stated result val_bpb 9.9999 is the claim" in t for t in texts(r, "warn"))
    assert r["n"] == 3 and r["claim_supported"] is False and r["stage_source"] == "README"
    shutil.rmtree(broken)
    assert set(RECORDS) >= {"2026-04-01_Prev"}


def _folder(tmp_path, submission, logs):
    from tests.data.logs.families import build_log

    folder = tmp_path / "2026-05-01_Adhoc"
    for rel, run in logs.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(build_log(run))
    (folder / "submission.json").write_text(json.dumps(submission))
    return folder


def test_best_k_of_n_logs_is_found_and_flagged_as_a_selection(tmp_path):
    from tests.data.records.make_records import block

    values = {1: 1.0701, 2: 1.0690, 3: 1.0712, 4: 1.0695, 5: 1.0720}
    best3 = round((1.0690 + 1.0695 + 1.0701) / 3, 5)
    r = check_record(_folder(tmp_path, {"val_bpb": best3}, {f"train_seed{s}.log": block(s, b)
                                                            for s, b in values.items()}))
    assert r["claim_supported"] is True and r["n"] == 3
    assert "the headline is the mean of the best 3 of 5 logs: runs picked after the fact?" in texts(r, "warn")


def test_a_separate_eval_log_per_seed_is_a_companion_not_an_error(tmp_path):
    from tests.data.logs.families import Run, StageSpec
    from tests.data.records.make_records import block

    train = {f"train_seed{s}.log": replace(block(s, 1.07 + s / 1e4), stages=block(s, 1.07).stages[:2])
             for s in (1, 2, 3)}
    evals = {f"eval_seed{s}.log": Run("block", s, [StageSpec("quantized_ttt_phased", 1.07 + s / 1e4, 2.77, 500_000)],
                                      seed_style="block", total_eval_s=500.0) for s in (1, 2, 3)}
    r = check_record(_folder(tmp_path, {"val_bpb": 1.0702, "seeds": [1, 2, 3],
                                        "seed_scores": [1.0701, 1.0702, 1.0703]}, {**train, **evals}))
    assert r["claim_supported"] is True and r["n"] == 3 and r["stage"] == "quantized_ttt_phased"
    assert sum("a companion log of seed" in t for t in texts(r, "warn")) == 3
    assert not any("left out of the test" in t for t in texts(r, "error"))


def test_cut_digits_seed_keys_and_stride_before_the_scores(tmp_path):
    from pgolf.review.read.log import read_log_text

    assert matches(1.07119, Decimal("1.0711"))  # the claim dropped digits instead of rounding
    assert not matches(1.07119, Decimal("1.0710"))
    sub = tmp_path / "submission.json"
    sub.write_text('{"val_bpb": "1.0711", "seed_results": {"seed_42": {"post_ttt_val_bpb": 1.0711}}}')
    assert str(read_claim(sub).seeds[42].val_bpb) == "1.0711"
    r = read_log_text("final_sliding_window_exact stride:64 val_loss:1.90463555 val_bpb:1.12803544\n")
    assert r.stage("final_sliding_window").bpb == 1.12803544


def test_a_claim_of_val_loss_only_is_matched_on_val_loss(tmp_path):
    from tests.data.records.make_records import SP1024, int6

    runs = {f"train_seed{s}.log": int6(s, b) for s, b in {1: 1.1234, 2: 1.1240}.items()}
    loss = round((round(1.1234 / SP1024, 8) + round(1.1240 / SP1024, 8)) / 2, 5)
    r = check_record(_folder(tmp_path, {"val_loss": loss, "artifact_size_bytes": 15_850_000, "std_val_bpb": 0.0004},
                             runs))
    assert r["claim_supported"] is True and r["stage"] == "final_int6_sliding_window" and r["n"] == 2
    assert read_claim(tmp_path / "2026-05-01_Adhoc" / "submission.json").bytes_total == 15_850_000


def test_check_record_files_for_a_rerun_name_the_logs(folder, tmp_path):
    from pgolf.review.verbs import check_record_to

    rerun = sorted(folder("2026-04-05_HParamBlock").glob("phased_log_*.txt"))
    result = check_record_to(tmp_path / "out", folder("2026-04-01_Prev"), logs=rerun)
    saved = json.loads((tmp_path / "out" / "record.json").read_text())
    assert saved["provenance"]["logs"] == [str(p) for p in rerun] and result["claim_supported"] is False
    assert [f["sha256"] for f in saved["provenance"]["files"]] == [hashlib.sha256(p.read_bytes()).hexdigest()
                                                                   for p in rerun]


def test_a_trailing_line_repeating_the_sliding_score_is_not_taken_for_the_claimed_stage(tmp_path):
    from tests.data.logs.families import StageSpec
    from tests.data.records.make_records import SP1024, int6

    def repeated(seed, bpb):  # `final_int8_zlib_roundtrip_exact` printing the sliding-window number again
        run = int6(seed, bpb)
        return replace(run, stages=run.stages + [StageSpec("final_int8_zlib_roundtrip", bpb, round(bpb / SP1024, 8))])

    values = {1337: 1.1131, 42: 1.1140, 2025: 1.1134}
    r = check_record(_folder(tmp_path, {"val_bpb": 1.1135},
                             {f"train_seed{s}.log": repeated(s, b) for s, b in values.items()}))
    assert r["claim_supported"] is True and r["stage"] == "final_int6_sliding_window" and r["n"] == 3


def test_a_headline_that_is_one_runs_score_is_supported_flagged_and_every_run_tested(tmp_path):
    from tests.data.records.make_records import baseline

    values = [1.2035, 1.2027, 1.2021, 1.2029]  # the claim is the last run's score, not the mean 1.2028
    folder = _folder(tmp_path, {"val_bpb": 1.2029}, {f"train_v{i}.txt": baseline(1337, b) for i, b in enumerate(values)})
    (folder / "README.md").write_text("bpb: [1.2035, 1.2027, 1.2021, 1.2029]\np-value < 1.205: 0.0021\n")
    r = check_record(folder)
    assert r["claim_supported"] is True and r["n"] == 4 and r["mean"] == pytest.approx(1.2028)
    assert "the headline is one run's score (train_v3.txt), not the mean of the 4 logs; all 4 are tested" in texts(r)
    # the README's own test (mean < 1.205, one-sided) is computed beside its quote, against scipy
    assert (r["threshold"], r["threshold_source"], r["readme_p_values"]) == (1.205, "README", ["0.0021"])
    assert r["p_threshold"] == pytest.approx(stats.ttest_1samp(values, 1.205, alternative="less").pvalue)


def test_a_log_printing_another_seed_than_its_name_is_one_warning_when_it_shows_its_names_claim(tmp_path):
    from tests.data.records.make_records import block

    logs = {"train_seed42.log": block(1337, 1.0751), "train_seed1337.log": block(1337, 1.0759),
            "train_seed2024.log": block(2024, 1.0754)}
    sub = {"val_bpb": 1.07547, "seed_results": {"42": {"val_bpb": 1.0751}, "1337": {"val_bpb": 1.0759},
                                                "2024": {"val_bpb": 1.0754}}}
    r = check_record(_folder(tmp_path, sub, logs))
    assert r["claim_supported"] is True and r["n"] == 3
    assert texts(r, "error") == []
    assert "train_seed42.log: the log's seed 1337 disagrees with the file name's seed 42" in texts(r, "warn")


@pytest.mark.parametrize("tokens", [40_540_160, 45_508_608, 47_851_520])  # sp8192, sp4096, sp8192 CaseOps
def test_the_validation_splits_of_the_other_tokenizers_are_standard(tmp_path, tokens):
    from tests.data.records.make_records import block

    r = check_record(_folder(tmp_path, {"val_bpb": 1.0831}, {"train_seed42.log": block(42, 1.0831,
                                                                                        val_tokens=tokens)}))
    assert not any("val_tokens" in t for t in texts(r))
    odd = check_record(_folder(tmp_path, {"val_bpb": 1.0831}, {"train_seed42.log": block(42, 1.0831,
                                                                                          val_tokens=tokens - 8)}))
    assert any("val_tokens" in t for t in texts(odd, "warn"))


def test_a_summary_block_repeating_the_total_as_artifact_bytes_is_no_model_size(tmp_path):
    from tests.data.records.make_records import int6

    runs = {f"train_seed{s}.log": replace(int6(s, b), extra_lines=[]) for s, b in {1337: 1.1241, 42: 1.1249}.items()}
    folder = _folder(tmp_path, {"val_bpb": 1.1241, "bytes_total": 15_850_000}, runs)
    for s in (1337, 42):  # `---` then `key:   value` lines after the last stage, as some March logs end
        log = folder / f"train_seed{s}.log"
        log.write_text(log.read_text() + "---\nval_bpb:          1.1241\nartifact_bytes:   15850000\nvalid: true\n")
    r = check_record(folder)
    assert [row["model_bytes"] for row in r["runs"]] == [15_800_000, 15_800_000]
    assert not any("bytes_total" in t for t in texts(r))


def test_a_headline_that_is_the_mean_of_the_rounded_per_seed_values_is_supported(tmp_path):
    from tests.data.records.make_records import block

    values = {1: 1.07151600, 2: 1.07262700, 3: 1.07061600, 4: 1.07153600, 5: 1.07182600}
    rounded = {s: round(b, 5) for s, b in values.items()}
    headline = round(sum(rounded.values()) / 5, 5)  # 1.07163, while the logs' own mean is 1.0716242
    assert headline == 1.07163 and round(sum(values.values()) / 5, 5) == 1.07162
    sub = {"val_bpb": headline, "seed_results": {str(s): {"val_bpb": b} for s, b in rounded.items()}}
    r = check_record(_folder(tmp_path, sub, {f"train_seed{s}.log": block(s, b) for s, b in values.items()}))
    assert r["claim_supported"] is True and r["n"] == 5 and not texts(r, "error")


def test_readme_per_seed_tables_are_checked_against_the_seeds_logs(tmp_path):
    from tests.data.records.make_records import SP8192, block

    values = {1: 1.0712, 2: 1.0705}
    folder = _folder(tmp_path, {"val_bpb": 1.07085}, {f"train_seed{s}.log": block(s, b) for s, b in values.items()})
    (folder / "README.md").write_text(
        "| Seed | Steps | Sliding BPB | TTT BPB | val_loss | Artifact |\n|---|---|---|---|---|---|\n"
        f"| 1 | 4,703 | 1.0732 | **1.0712** | {1.0712 / SP8192:.4f} | 15,821,000 |\n"
        "| **2** | 4,703 | 1.0799 | 1.0705 | - | 15,821,000 |\n| **Mean** | | | 1.07085 | | |\n")
    r = check_record(folder)  # seed 2's sliding number 1.0799 is in no stage of its log (1.0725 is)
    assert r["readme_seed_numbers"] == {"shown": 4, "total": 5, "missing": ["seed 2 1.0799"]}
    assert "README per-seed numbers no stage of the seed's log shows: seed 2 1.0799" in texts(r, "warn")


def test_check_record_exits_1_when_the_verdict_does_not_hold(folder, tmp_path):
    from pgolf.__main__ import main as pgolf_main

    # a stale claim (not shown by its logs): "does not hold"; a shown claim with no test asked: 0
    assert pgolf_main(["check-record", str(folder("2026-03-25_StaleClaim")), "--out", str(tmp_path / "a")]) == 1
    assert pgolf_main(["check-record", str(folder("2026-04-01_Prev")), "--out", str(tmp_path / "b")]) == 0
    # beaten by its previous record at p < 0.25: holds; against a better record: does not hold
    assert pgolf_main(["check-record", str(folder("2026-04-05_HParamBlock")), "--previous",
                       str(folder("2026-04-01_Prev")), "--out", str(tmp_path / "c")]) == 0
    assert pgolf_main(["check-record", str(folder("2026-04-01_Prev")), "--previous",
                       str(folder("2026-04-05_HParamBlock")), "--out", str(tmp_path / "d")]) == 1


def test_a_train_log_copied_from_a_seed_log_is_not_a_second_run(tmp_path):
    from tests.data.records.make_records import block

    seed42 = block(42, 1.0751)
    logs = {"train_seed42.log": seed42, "train_seed1337.log": block(1337, 1.0759),
            "train_seed2024.log": block(2024, 1.0754), "train.log": seed42}  # byte-identical copy
    r = check_record(_folder(tmp_path, {"val_bpb": 1.07547}, logs))
    assert r["n"] == 3 and sorted(r["values"]) == [1.0751, 1.0754, 1.0759]
    counted = {row["file"] for row in r["runs"] if row["counted"]}
    assert "train.log" not in counted and "train_seed42.log" in counted
