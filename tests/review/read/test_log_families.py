"""pgolf.review.read.log on record-#77-shaped logs (fixtures: tests/data/logs, see make_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgolf.errors import DataError
from pgolf.review.read.log import canonical_stage, read_log, read_log_text

LOGS = Path(__file__).resolve().parents[2] / "data" / "logs"



def parse_log(path, metric=None):
    run = read_log(path)
    if metric:
        run = run.chosen(metric)
    return run


def parse_log_text(text, metric=None):
    run = read_log_text(text)
    if metric:
        run = run.chosen(metric)
    return run


def test_published_layout_gives_every_field():
    r = parse_log(LOGS / "r77_v2.txt")
    assert r.ok and not r.truncated
    assert (r.seed, r.world_size, r.grad_accum_steps, r.gpus_listed) == (1337, 8, 1, 8)
    assert (r.steps, r.iterations, r.max_wallclock_seconds) == (13782, 20000, 600.0)
    assert r.stopped_early and r.stop_reason == "wallclock_cap" and r.train_time_ms == 600047
    # the int8+zlib sizes, not the raw torch.save ones printed just before them
    assert (r.model_bytes, r.total_bytes, r.size_format) == (15807986, 15866451, "int8+zlib")
    assert r.model_params == 17059912
    assert (r.metric, r.val_loss, r.val_bpb, r.eval_time_ms) == ("final_int8_ttt_lora", 2.0128, 1.1921, 59874)
    assert not r.exact  # the TTT line has no _exact twin
    flat = r.stage("final_int8_zlib_roundtrip")
    assert (flat.exact_val_loss, flat.exact_val_bpb, flat.val_bpb, flat.digits) == (2.07160602, 1.22692177, 1.2269, 4)
    assert flat.bpb == 1.22692177 and flat.bpb_digits == 8


def test_code_dump_lines_are_never_read_as_results():
    text = (LOGS / "r77_v2.txt").read_text()
    assert "final_int8_ttt_lora val_loss:9.9999" in text.split("=" * 100)[0]
    r = parse_log_text(text)
    assert r.val_bpb == 1.1921
    # the same trap without a separator (no recognisable code dump) still loses: the last line wins
    body = text.split("=" * 100)[-1]
    trap = "final_int8_ttt_lora val_loss:9.9999 val_bpb:9.9999 eval_time:1ms\n"
    assert parse_log_text(trap + body).val_bpb == 1.1921


def test_both_spellings_of_the_ttt_tag_name_one_stage():
    v0, v2 = parse_log(LOGS / "r77_v0.txt"), parse_log(LOGS / "r77_v2.txt")
    assert (v0.metric, v2.metric) == ("final_ttt_lora", "final_int8_ttt_lora")
    assert canonical_stage(v0.metric) == canonical_stage(v2.metric) == "final_int8_ttt_lora"
    named = parse_log(LOGS / "r77_v0.txt", metric="final_int8_ttt_lora")
    assert (named.metric, named.val_bpb, named.eval_time_ms) == ("final_ttt_lora", 1.1935, 72361)


def test_named_metric_picks_that_stage_with_exact_digits():
    r = parse_log(LOGS / "r77_v1.txt", metric="final_int8_zlib_roundtrip")
    assert r.ok and r.exact
    assert (r.val_loss, r.val_bpb, r.eval_time_ms) == (2.07234577, 1.22735990, 1381)
    assert parse_log(LOGS / "r77_v1.txt", metric="final_int8_zlib_roundtrip_exact").val_bpb == 1.22735990


def test_named_metric_missing_is_an_error_for_that_run():
    r = parse_log(LOGS / "prev_seed42.txt", metric="final_int8_ttt_lora")
    assert not r.ok
    assert "final_int8_ttt_lora" in r.error and "final_int8_zlib_roundtrip" in r.error


def test_world_size_two_run_with_long_cap():
    r = parse_log(LOGS / "r77_v1.txt")
    assert (r.world_size, r.grad_accum_steps, r.gpus_listed) == (2, 4, 2)
    assert (r.max_wallclock_seconds, r.train_time_ms, r.steps) == (2400.0, 2400107, 14171)


def test_later_record_tags_pick_the_last_stage():
    r = parse_log(LOGS / "later_record.txt")
    assert r.metric == "final_int6_sliding_window"
    assert (r.val_loss, r.val_bpb, r.exact, r.eval_time_ms) == (1.90463555, 1.12803544, True, 83482)
    assert (r.total_bytes, r.size_format) == (15940456, "int6+zstd")
    assert r.stage("final_int6_roundtrip_exact").bpb == 1.15178357
    assert set(r.stages) == {"DIAGNOSTIC post_swa", "final_int6_roundtrip", "final_int6_sliding_window"}


NEWER = """world_size: 8 grad_accum_steps: 1
seed: 42
step: 7395/20000 val_loss:2.8110 val_bpb:1.0879 train_time: 600151ms step_avg: 81.16ms
stopping_early: wallclock_cap train_time: 600151ms step: 7395/20000
Serialized model quantized+brotli: 15901234 bytes
Total submission size quantized+brotli: 15950853 bytes
diagnostic quantized val_loss:2.84108000 val_bpb:1.09987000 eval_time:10342ms
quantized_sliding_window val_loss:2.79763   val_bpb:1.08305
quantized_ttt val_loss:2.79290              val_bpb:1.08122 eval_time:401234ms
"""


def test_newer_log_shape_defaults_to_its_last_non_diagnostic_stage():
    r = parse_log_text(NEWER)
    assert (r.world_size, r.seed, r.steps, r.train_time_ms, r.total_bytes) == (8, 42, 7395, 600151, 15950853)
    assert r.ok and r.metric == "quantized_ttt" and (r.val_loss, r.val_bpb) == (2.79290, 1.08122)
    named = parse_log_text(NEWER, metric="quantized_ttt")
    assert (named.val_loss, named.val_bpb, named.eval_time_ms) == (2.79290, 1.08122, 401234)
    assert parse_log_text(NEWER, metric="diagnostic quantized").val_bpb == 1.09987


def test_truncated_log_is_an_error_for_that_run_with_what_it_saw():
    r = parse_log(LOGS / "truncated.txt")
    assert not r.ok and r.truncated
    assert "no stage line" in r.error and "8800/20000" in r.error
    assert (r.seed, r.world_size, r.steps, r.stopped_early) == (1337, 8, 8800, False)
    assert r.total_bytes is None


def test_log_without_final_line_keeps_training_facts():
    r = parse_log(LOGS / "no_final.txt")
    assert not r.ok and not r.truncated
    assert "no stage line" in r.error
    assert (r.steps, r.total_bytes, r.stopped_early) == (13703, 15868567, True)


def test_final_line_cut_mid_number_is_not_read():
    r = parse_log(LOGS / "cut_final.txt")
    assert not r.ok and r.truncated
    assert "cut off" in r.error and r.val_bpb is None  # never 1.19


def test_empty_and_missing_files(tmp_path):
    assert "no stage line" in parse_log_text("").error
    with pytest.raises(DataError, match="no such file"):
        parse_log(tmp_path / "nope.txt")


def test_windows_line_endings_parse_like_unix_ones(tmp_path):
    """Published logs are stored with CRLF line endings; the fields must not change."""
    text = (LOGS / "r77_v2.txt").read_text()
    crlf = tmp_path / "r77_v2_crlf.txt"
    crlf.write_bytes(text.replace("\n", "\r\n").encode())
    a, b = parse_log(LOGS / "r77_v2.txt"), parse_log(crlf)
    fields = ("seed", "world_size", "steps", "train_time_ms", "total_bytes", "metric", "val_loss", "val_bpb",
              "eval_time_ms")
    assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
