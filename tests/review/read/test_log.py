"""pgolf.review.read.log on every log family and variation of review-practice.md (logs written by tests/data/logs/families.py)."""

from __future__ import annotations

import pytest

from pgolf.review.read.log import read_log, read_log_text
from tests.data.logs.families import Run, StageSpec, build_log
from tests.data.records.make_records import SP1024, SP8192, baseline, block, int6


def read(run: Run, tmp_path, name: str = "train.log"):
    path = tmp_path / name
    path.write_bytes(build_log(run).encode())
    return read_log(path)


def test_baseline_family_reads_seed_world_size_sizes_and_both_stages(tmp_path):
    r = read(baseline(1337, 1.2244, ttt_name="final_ttt_lora", stop_style="bare", train_ms=588_136), tmp_path)
    assert r.ok and (r.seed, r.world_size, r.grad_accum_steps, r.gpus_listed) == (1337, 8, 1, 8)
    assert (r.steps, r.iterations, r.train_time_ms, r.stopped_early) == (13700, 20000, 588_136, False)
    assert (r.model_bytes, r.total_bytes, r.size_format, r.code_bytes) == (15_800_000, 15_850_000, "int8+zlib", 50_000)
    assert (r.train_shards, r.val_tokens, r.max_wallclock_seconds) == (80, 62_021_632, 600.0)
    flat = r.stage("final_int8_zlib_roundtrip")
    assert (flat.val_bpb, flat.exact_val_bpb, flat.eval_time_ms) == (1.2594, 1.2594, 1381)
    # the last final_* stage, under either spelling
    assert (r.metric, r.val_bpb, r.eval_time_ms) == ("final_ttt_lora", 1.2244, 60213)
    assert r.stage("final_int8_ttt_lora") is r.stage("final_ttt_lora")


def test_int6_family_with_timestamps_lzma_and_artifact_bytes_lines(tmp_path):
    lzma = read(int6(7, 1.1641, timestamps=True, size_format="int6+lzma"), tmp_path, "a.log")
    assert (lzma.seed, lzma.world_size, lzma.size_format, lzma.total_bytes) == (7, 8, "int6+lzma", 15_850_000)
    assert lzma.stopped_early and lzma.stop_reason == "wallclock_cap" and lzma.train_time_ms == 599_900
    sliding = lzma.stage("final_int6_sliding_window_exact")
    assert (sliding.val_bpb, sliding.bpb, sliding.eval_time_ms) == (1.1641, 1.1641, 83482)
    assert sliding.loss == round(1.1641 / SP1024, 8)
    bare = read(int6(42, 1.1625, artifact_bytes_line=True, total_line=False), tmp_path, "b.log")
    assert (bare.model_bytes, bare.total_bytes, bare.code_bytes) == (15_800_000, None, 50_000)
    assert bare.artifact_total() == 15_850_000  # model + code, counted when no total line is printed


def test_a_trailing_final_line_with_another_score_is_the_default_but_every_stage_is_kept(tmp_path):
    r = read(int6(1337, 1.1632, relabeled=True), tmp_path)
    assert r.metric == "final_int8_zlib_roundtrip" and r.val_bpb == pytest.approx(1.1872)
    assert set(r.stages) == {"final_int6_roundtrip", "final_int6_sliding_window", "final_int8_zlib_roundtrip"}
    assert r.stage("final_int6_sliding_window").bpb == 1.1632


def test_hyperparameter_block_family(tmp_path):
    run = block(42, 1.0705, code_compressed=21_000, world_size=8, artifact_production_s=825.352)
    r = read(run, tmp_path)
    assert (r.seed, r.world_size, r.max_wallclock_seconds, r.iterations) == (42, 8, 600.0, 20000)
    assert (r.train_shards, r.val_tokens) == (80, 40_540_160)
    assert r.hyperparameters["adam_eps"] == "1e-08" and r.hyperparameters["ttt_enabled"] == "True"
    assert (r.steps, r.train_time_ms, r.stopped_early) == (4703, 596_137, True)
    assert (r.size_format, r.model_bytes, r.code_bytes, r.code_bytes_compressed) == ("quantized+brotli", 15_800_000,
                                                                                       50_000, 21_000)
    assert r.total_bytes == 15_821_000 and r.total_eval_time_ms == 525_000
    assert (r.artifact_production_s, r.artifact_production_limit_s) == (825.352, 600.0)
    names = [s.name for s in r.ordered_stages()]
    assert names == ["diagnostic pre-quantization post-ema", "diagnostic quantized", "quantized_sliding_window",
                     "quantized_ttt_phased"]
    phased = r.stage("quantized_ttt_phased")
    assert (phased.val_bpb, phased.digits, phased.val_loss, phased.eval_time_ms) == (
        1.0705, 8, round(1.0705 / SP8192, 8), 401234)
    assert r.metric == "quantized_ttt_phased"  # the last stage that is no diagnostic


def test_one_line_argument_dump_and_artifact_megabytes(tmp_path):
    r = read(int6(3, 1.1229, seed_style="dump", artifact_mb=True, world_size=2), tmp_path)
    assert (r.seed, r.world_size, r.max_wallclock_seconds, r.iterations) == (3, 2, 600.0, 20000)
    assert r.artifact_mb == 15.85 and r.hyperparameters["tie_embeddings"] == "True"


def test_windows_line_endings_and_a_world_size_from_the_block(tmp_path):
    r = read(block(5, 1.07, world_size=2, crlf=True), tmp_path)
    assert (r.seed, r.world_size, r.val_bpb, r.total_eval_time_ms) == (5, 2, 1.07, 525_000)


def test_a_log_without_stage_is_an_error_for_that_run_only(tmp_path):
    r = read(block(7, 1.07, cut_before_stages=True), tmp_path)
    assert not r.ok and "no stage line" in r.error and "4703/20000" in r.error
    assert (r.seed, r.total_bytes) == (7, 15_850_000)  # what it did print is still read


def test_stage_lines_in_the_code_dump_and_unknown_lines_are_ignored():
    text = build_log(Run("block", 1, [StageSpec("quantized_ttt", 1.08, 2.79, 1000)], seed_style="block",
                         extra_lines=["ttt_phased: total_docs:50000 prefix_docs:2400"]))
    r = read_log_text(text)
    assert list(r.stages) == ["quantized_ttt"] and r.val_bpb == 1.08  # not the dump's 9.9999


def test_a_stage_printed_with_val_bpb_only_is_a_stage():
    text = build_log(Run("block", 1, [StageSpec("quantized_ttt", 1.08, 2.79, 1000)], seed_style="block",
                         extra_lines=["weird line val_bpb:0.1"]))
    r = read_log_text(text)
    assert r.stage("weird line").bpb == 0.1 and r.stage("weird line").loss is None
    assert r.stage("quantized_ttt").bpb == 1.08


def test_every_stage_name_of_the_families_is_kept_under_its_own_name(tmp_path):
    names = ["pre-quantization post-ema", "quantized", "legal_ttt", "quantized_ttt_lora", "quantized_ttt",
             "final_sliding_window", "final_int6_sliding_window", "final_int8_ttt_lora"]
    stages = [StageSpec(n, 1.10 - i / 100, 1.9 - i / 100, 1000 + i, extra=" stride:64" if "sliding" in n else "")
              for i, n in enumerate(names)]
    r = read(Run("int6", 9, stages), tmp_path)
    assert [s.name for s in r.ordered_stages()] == names
    for i, n in enumerate(names):
        s = r.stage(n + "_exact")
        assert (s.val_bpb, s.exact_val_bpb, s.bpb_digits, s.eval_time_ms) == (round(1.10 - i / 100, 4),
                                                                              round(1.10 - i / 100, 8), 8, 1000 + i)
    assert r.stage("pre-quantization post-ema").diagnostic and not r.stage("quantized").diagnostic
    only_exact = read_log_text("legal_ttt_exact val_loss:1.90000000 val_bpb:1.12500000\n")
    assert only_exact.stage("legal_ttt").bpb == 1.125 and only_exact.metric == "legal_ttt"


def test_torchrun_warnings_instead_of_a_code_dump_and_equals_signs_in_the_stop_line():
    text = ("W0320 12:38:27.016000 296322 torch/distributed/run.py:803] *****\n"
            "logs/868a73ac.txt\nseed:42\nworld_size:8 grad_accum_steps:1\n"
            "stopping_early: wallclock_cap train_time=592124ms step=4844/20000\n"
            "final_int6_sliding_window val_loss:1.9505 val_bpb:1.1552 stride:64 eval_time:62326ms\n")
    r = read_log_text(text)
    assert (r.seed, r.train_time_ms, r.steps, r.stopped_early, r.val_bpb) == (42, 592124, 4844, True, 1.1552)


@pytest.mark.parametrize("path, seed", [
    ("train_seed42.log", 42), ("train_s7.log", 7), ("run_log_1337.txt", 1337), ("train_seed42_rerun_3.log", 42),
    ("runs/seed_1338/wd_0/train.log", 1338), ("2026-03-19_Seed2025_Top2K/train.log", None), ("train_v0.txt", None),
])
def test_the_seed_a_file_name_states(path, seed):
    from pgolf.review.read.names import seed_from_name

    assert seed_from_name(path) == seed


def test_april_bare_step_lines_an_exact_only_stage_with_its_time_and_the_uncompressed_code_size(tmp_path):
    # shapes of the April records checked on the public leaderboard: `N/M val_loss: X` step lines,
    # `legal_ttt_exact ... eval_time:Nms` alone, `ttt_sliding:done val_loss=...` and indented chunk lines
    stages = [StageSpec("quantized_sliding_window", 1.0861, 2.8044, 91234),
              StageSpec("legal_ttt", 1.0842, 2.7995, 301234, exact_only=True)]
    run = Run("block", 42, stages, seed_style="block", step_style="bare", steps=5011, train_ms=588_321,
              code_label=" (uncompressed)", code_compressed=24_680, val_tokens=40_540_160,
              extra_lines=["ttt_sliding:done val_loss=2.799512 val_bpb=1.084213 elapsed=301.1s",
                           "  ttt_chunk [1200/1200] bpb=1.084020 time=300.9s"])
    r = read(run, tmp_path)
    assert (r.seed, r.world_size, r.steps, r.train_time_ms, r.val_tokens) == (42, 8, 5011, 588_321, 40_540_160)
    assert (r.code_bytes, r.code_bytes_compressed, r.total_bytes) == (50_000, 24_680, 15_824_680)
    # the `key=value` line is a stage of its own; the indented progress line is not
    assert sorted(s.name for s in r.ordered_stages()) == ["legal_ttt", "quantized_sliding_window", "ttt_sliding:done"]
    assert r.stage("ttt_sliding:done").bpb == 1.084213
    r = r.chosen("legal_ttt")
    ttt = r.stage("legal_ttt")
    assert (ttt.bpb, ttt.val_bpb, ttt.eval_time_ms, r.metric) == (1.0842, None, 301234, "legal_ttt")
