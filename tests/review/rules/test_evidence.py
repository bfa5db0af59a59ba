"""The evidence checks (pgolf.review.rules.evidence) on logs and folders the tests generate: byte accounting, code and
configuration provenance, time accounting."""

from __future__ import annotations

import base64
import json
import lzma
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from pgolf.__main__ import main as pgolf_main
from pgolf.review.read.bytecount import ByteSettings, RatioEntry, implied_bytes, ratio_entries, tokenizer_id
from pgolf.review.read.config import script_defaults
from pgolf.review.read.log import read_log_text
from pgolf.review.read.unwrap import bounded_decompress, unwrap
from pgolf.review.rules import run_scope
from pgolf.review.rules.bytes import implied, ratio
from pgolf.review.rules.evidence import evidence_flags, loose_evidence_flags
from pgolf.review.rules.inputs import AuditInput, RunInput
from pgolf.review.sources.folder import DirFolder
from pgolf.review.verbs import check_record
from tests.data.logs.families import Run, StageSpec, build_log
from tests.data.logs.make_fixtures import CODE_DUMP
from tests.data.records.make_records import STANDARD_BYTES, baseline, block, ratio_for

SPLITS = {"sp1024": 62_021_632, "sp4096": 45_508_608, "sp8192": 40_540_160, "caseops sp8192": 47_851_520}
OLDER = 63_779_840


def parse(run: Run, name: str = "train_seed42.log"):
    return read_log_text(build_log(run), name)


def byte_flags(r, who, settings=None):
    return implied(RunInput(r, who, bytes=settings or ByteSettings()))


def ratio_flags(entries):
    return ratio(AuditInput(entries))


def time_flags(r, who):
    """The time evidence rules (check `time`) of one run."""
    return [f for f in run_scope("scored", RunInput(r, who)) if f.check == "time"]


def checks(flags, check):
    return [f for f in flags if f.check == check]


def write_folder(root: Path, logs: dict[str, Run], script: str = CODE_DUMP, extra: dict[str, str] | None = None,
                 claim: dict | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, run in logs.items():
        (root / rel).write_text(build_log(run))
    (root / "train_gpt.py").write_text(script)
    for rel, text in (extra or {}).items():
        (root / rel).write_text(text)
    (root / "submission.json").write_text(json.dumps(claim or {"val_bpb": 1.0712}))
    return root


def folder_flags(folder: Path, logs: dict[str, Run] | None = None):
    runs = [read_log_text((folder / rel).read_text(), str(folder / rel)) for rel in (logs or {})]
    return evidence_flags(runs, runs, DirFolder(folder))


# --------------------------------------------------------------------------- byte accounting


@pytest.mark.parametrize("split", SPLITS)
def test_a_correct_run_of_every_tokenizer_implies_the_standard_bytes(split):
    r = parse(block(42, 1.0712, val_tokens=SPLITS[split]))
    assert r.val_tokens == SPLITS[split]
    for s in r.ordered_stages():
        assert implied_bytes(r.val_tokens, s.loss, s.bpb) == pytest.approx(STANDARD_BYTES, rel=1e-6)
    assert byte_flags(r, r.name) == []


def test_the_march_sp1024_family_passes_too():
    r = parse(baseline(42, 1.1929))
    assert r.val_tokens == 62_021_632 and byte_flags(r, r.name) == []


def test_a_leading_space_counted_twice_is_an_error_with_the_stage_bytes_and_percent():
    r = parse(block(42, 1.0712, val_bytes=STANDARD_BYTES * 1.08))
    (flag,) = byte_flags(r, r.name)
    numbers = dict(flag.numbers)
    assert flag.severity == "error" and flag.check == "bytes" and flag.run == "train_seed42.log"
    assert numbers["stage"] == "quantized_ttt_phased" and numbers["diff_pct"] == pytest.approx(8.0, abs=1e-3)
    assert numbers["implied_bytes"] == pytest.approx(STANDARD_BYTES * 1.08, rel=1e-6)
    assert "+8.00% from the standard 151,080,000" in flag.text and "3 other stage(s) off too" in flag.text


def test_a_byte_fallback_miscount_is_an_error_and_the_tolerance_is_a_setting():
    r = parse(block(42, 1.0712, val_tokens=40_540_160, val_bytes=STANDARD_BYTES * 1.0046))
    (flag,) = byte_flags(r, r.name)
    assert flag.severity == "error" and dict(flag.numbers)["diff_pct"] == pytest.approx(0.46, abs=1e-3)
    assert byte_flags(r, r.name, ByteSettings(tolerance=0.005)) == []  # a looser tolerance lets it pass


def test_the_older_split_is_recognised_not_a_byte_error():
    older = ByteSettings().older_split_bytes
    r = parse(replace(baseline(7, 1.2244), val_tokens=OLDER, stages=[
        StageSpec("final_int8_zlib_roundtrip", 1.2244, round(1.2244 / ratio_for(OLDER, older), 8), 1381)]))
    assert r.val_tokens == OLDER and byte_flags(r, r.name) == []
    # the older split's token count with the standard split's bytes: off from the older split's own bytes
    wrong = parse(block(7, 1.0712, val_tokens=OLDER))
    (flag,) = byte_flags(wrong, wrong.name)
    assert "the older split's 155,770,000" in flag.text


def test_a_sliding_stage_may_score_fewer_bytes_but_never_more():
    ok = ratio_for(40_540_160)

    def run(factor):
        stages = [StageSpec("quantized", 1.09, round(1.09 / ok, 8), 9000),
                  StageSpec("quantized_sliding_window", 1.08, round(1.08 / ok * factor, 8), 95000)]
        return parse(replace(block(42, 1.08, val_tokens=40_540_160), stages=stages))
    fewer, more = run(1 / 1.003), run(1.003)
    assert implied_bytes(40_540_160, *_stage(fewer)) < STANDARD_BYTES * 0.998
    assert byte_flags(fewer, fewer.name) == []
    (flag,) = byte_flags(more, more.name)
    assert flag.severity == "error" and "`quantized_sliding_window`" in flag.text


def _stage(r):
    s = r.stage("quantized_sliding_window")
    return s.loss, s.bpb


def test_a_custom_tokenizer_is_held_to_the_same_bytes_byte_fallback_counted_three_times():
    # bytes are a property of the text: a custom tokenizer's own token count must give back 151.08 M too;
    # 27 byte-fallback pieces counted 3 bytes each inflate it by about 4 %
    r = parse(block(42, 1.0712, val_tokens=61_020_160, val_bytes=STANDARD_BYTES * 1.0413))
    (flag,) = byte_flags(r, r.name)
    assert flag.severity == "error" and dict(flag.numbers)["diff_pct"] == pytest.approx(4.13, abs=1e-3)
    assert byte_flags(parse(block(42, 1.0712, val_tokens=61_020_160)), "x") == []  # counted right: no flag


def test_without_val_tokens_the_ratio_is_compared_with_other_submissions_of_the_same_tokenizer():
    sp = ratio_for(40_540_160)
    entries = [RatioEntry(f"rec{i}: a.log", f"rec{i}", "8192:fineweb_8192_bpe.model", sp * (1 + i * 1e-5))
               for i in range(4)]
    entries.append(RatioEntry("odd: a.log", "odd", "8192:fineweb_8192_bpe.model", sp / 1.08))
    entries.append(RatioEntry("alone: a.log", "alone", "1024:fineweb_1024_bpe.model", 0.5))  # nobody to compare
    (flag,) = ratio_flags(entries)
    assert flag.run == "odd: a.log" and flag.check == "bytes" and dict(flag.numbers)["diff_pct"] == pytest.approx(8.0, abs=0.01)
    assert ratio_flags(entries[:2] + entries[4:5]) == []  # two other submissions are no reference


def test_the_tokenizer_id_comes_from_the_log_and_feeds_the_ratio_entries():
    lines = ["val_bpb:enabled tokenizer_kind=sentencepiece tokenizer_path=./data/tokenizers/fineweb_8192_bpe.model",
             "vocab_size:8192"]
    r = parse(replace(block(42, 1.0712), extra_lines=lines))
    assert tokenizer_id(r) == "8192:fineweb_8192_bpe.model"
    r.val_tokens = None  # a log that prints no split size
    (entry,) = ratio_entries("rec", [r], {id(r): r.name})
    assert entry.tokenizer == "8192:fineweb_8192_bpe.model" and entry.ratio == pytest.approx(r.val_bpb / r.val_loss)


# --------------------------------------------------------------------------- code provenance


def test_a_dump_identical_to_the_script_raises_nothing(tmp_path):
    logs = {"train_seed42.log": block(42, 1.0712, code_bytes=len(CODE_DUMP.encode()))}
    assert checks(folder_flags(write_folder(tmp_path / "rec", logs), logs), "code") == []


def test_a_dump_one_line_off_the_script_names_the_count_and_the_hunk(tmp_path):
    script = CODE_DUMP.replace('seed = int(os.environ.get("SEED", 1337))', 'seed = int(os.environ.get("SEED", 7))')
    logs = {f"train_seed{s}.log": block(s, 1.0712, code_bytes=len(script.encode())) for s in (42, 1337)}
    (flag,) = checks(folder_flags(write_folder(tmp_path / "rec", logs, script), logs), "code")
    assert flag.severity == "warn" and flag.run == "train_seed42.log, train_seed1337.log"
    assert dict(flag.numbers) == {"script": "train_gpt.py", "differing_lines": 2}  # one line out, one in
    assert '-seed = int(os.environ.get("SEED", 7))' in flag.text and '+seed = int(os.environ.get("SEED", 1337))' \
        in flag.text


def _wrapper(source: str, module: str = "lzma", encoding: str = "b85") -> str:
    packed = (lzma if module == "lzma" else zlib).compress(source.encode())
    text = (base64.b85encode if encoding == "b85" else base64.b64encode)(packed).decode()
    return f"import {module} as L,base64 as B\nexec(L.decompress(B.{encoding}decode(\"{text}\")))\n"


@pytest.mark.parametrize(("module", "encoding"), [("lzma", "b85"), ("zlib", "b64")])
def test_a_compressed_wrapper_is_unpacked_before_comparing(tmp_path, module, encoding):
    wrapper = _wrapper(CODE_DUMP, module, encoding)
    assert unwrap(wrapper).text == CODE_DUMP and unwrap(wrapper).layers == 1
    logs = {"train_seed42.log": block(42, 1.0712, code_bytes=len(wrapper.encode()))}  # the wrapper's bytes
    assert checks(folder_flags(write_folder(tmp_path / "rec", logs, wrapper), logs), "code") == []
    # a wrapper of another source differs, and the log's size matches neither form
    other = _wrapper(CODE_DUMP.replace("1337", "7"), module, encoding)
    logs = {"train_seed42.log": block(42, 1.0712, code_bytes=123)}
    flags = checks(folder_flags(write_folder(tmp_path / "other", logs, other), logs), "code")
    assert {dict(f.numbers).get("differing_lines") for f in flags} == {2, None} and len(flags) == 2


def test_a_raw_lzma2_wrapper_with_format_and_filters_is_unpacked():
    filters = [{"id": lzma.FILTER_LZMA2}]
    packed = base64.b85encode(lzma.compress(CODE_DUMP.encode(), format=lzma.FORMAT_RAW, filters=filters)).decode()
    text = (f'import lzma as L,base64 as B\nexec(L.decompress(B.b85decode("{packed}"),format=L.FORMAT_RAW,'
            'filters=[{"id":L.FILTER_LZMA2}]))\n')
    assert unwrap(text).text == CODE_DUMP


def test_a_decompression_bomb_is_bounded():
    bomb = lzma.compress(b"\0" * 5_000_000)  # 5 MB from under 1 kB
    with pytest.raises(ValueError, match="more than 100,000 bytes"):
        bounded_decompress("lzma", bomb, limit=100_000)
    zbomb = zlib.compress(b"\0" * 5_000_000)
    with pytest.raises(ValueError, match="more than 100,000 bytes"):
        bounded_decompress("zlib", zbomb, limit=100_000)
    wrapper = f'import lzma as L,base64 as B\nexec(L.decompress(B.b85decode("{base64.b85encode(bomb).decode()}")))\n'
    u = unwrap(wrapper, limit=100_000)
    assert u.layers == 0 and u.text == wrapper and "decompression bomb" in u.problem


def test_a_log_with_no_dump_and_a_brotli_wrapper_are_left_alone(tmp_path):
    logs = {"train_seed42.log": block(42, 1.0712, code_bytes=len(CODE_DUMP.encode()))}
    folder = write_folder(tmp_path / "rec", logs)
    log = folder / "train_seed42.log"
    log.write_text(log.read_text().split("=" * 100, 1)[1])  # the dump cut away
    assert checks(folder_flags(folder, logs), "code") == []
    text = 'import brotli as B,base64 as A\nexec(B.decompress(A.b85decode("VPa!s")))\n'
    assert "not unpacked" in unwrap(text).problem


# --------------------------------------------------------------------------- configuration


def test_a_seed_with_another_learning_rate_is_an_error_naming_key_and_values(tmp_path):
    logs = {"train_seed42.log": block(42, 1.0712, extra_lines=["matrix_lr:0.04 scalar_lr:0.02 logfile:a.txt"]),
            "train_seed1337.log": block(1337, 1.0715, extra_lines=["matrix_lr:0.03 scalar_lr:0.02 logfile:b.txt"])}
    (flag,) = checks(folder_flags(write_folder(tmp_path / "rec", logs), logs), "config")
    assert flag.severity == "error" and dict(flag.numbers) == {"matrix_lr": "0.04 | 0.03"}
    assert "matrix_lr (train_seed42.log: 0.04, train_seed1337.log: 0.03)" in flag.text  # seed, logfile left out


def test_the_same_settings_printed_two_ways_are_no_difference():
    a = parse(block(42, 1.0712, extra_lines=["qat:1 lr:2e-2"]))
    b = parse(block(1337, 1.0712, extra_lines=["qat:True lr:0.02"]))
    assert loose_evidence_flags([a, b]) == []


def test_script_defaults_are_read_statically_and_compared_with_the_printed_block(tmp_path):
    script = ("import os\nfrom dataclasses import dataclass\nopen('RAN', 'w').write('x')\n"
              "ITER = int(os.environ.get('ITERATIONS', 9000))\nseed = int(os.environ.get('SEED', 1))\n"
              "@dataclass\nclass H:\n    adam_eps: float = 1e-08\n    rank: int = 3\n")
    assert script_defaults(script) == {"iterations": "9000", "seed": "1", "adam_eps": "1e-08", "rank": "3"}
    logs = {"train_seed42.log": block(42, 1.0712)}
    folder = write_folder(tmp_path / "rec", logs, script)
    (flag,) = checks(folder_flags(folder, logs), "config")
    assert flag.severity == "warn" and "iterations: log 20000, default 9000" in flag.text
    assert "adam_eps" not in flag.text and "seed" not in dict(flag.numbers)  # equal, and a per-run key
    assert not (folder / "RAN").exists() and not Path("RAN").exists()  # parsed, never run


# --------------------------------------------------------------------------- time


def test_gptq_calibration_past_the_cap_is_counted_and_a_reserved_one_is_not():
    # the accounting alone is a warning; calibration on training data with no reserve is the error
    # (time.gptq_train_data_after_cap, tests/review/rules/test_time_dated.py)
    gptq = ["GPTQ:collecting Hessians from calibration data...", "GPTQ:collected 66 Hessians in 12.5s"]
    late = parse(block(42, 1.0712, train_ms=599_700, extra_lines=gptq))
    (flag,) = time_flags(late, late.name)
    assert flag.severity == "warn" and dict(flag.numbers)["calibration_s"] == 12.5 and "612.2 s" in flag.text
    reserved = parse(block(42, 1.0712, train_ms=587_000, extra_lines=["gptq:reserving 13s, effective=587000ms", *gptq]))
    assert time_flags(reserved, reserved.name) == []


def test_self_generated_calibration_counts_its_total_and_serialization_is_a_warning():
    ar = ["gptq:generated 64 sequences in 240.8s", "gptq:collected hessians for 70 layers (AR self-gen)",
          "gptq:done in 241.8s"]
    r = parse(block(42, 1.0712, train_ms=590_000, extra_lines=ar))
    assert dict(time_flags(r, r.name)[0].numbers)["calibration_s"] == 241.8
    ser = parse(block(42, 1.0712, train_ms=590_000, extra_lines=["GPTQ:collected 61 Hessians in 3.3s",
                                                                  "GPTQ:quantized in 9.2s", "serialize_wallclock: 74.3s"]))
    (flag,) = time_flags(ser, ser.name)
    assert flag.severity == "warn" and dict(flag.numbers)["serialize_s"] == 74.3


def test_eval_stages_over_600_s_in_sum_are_an_error():
    stages = [StageSpec("final_int8_zlib_roundtrip", 1.2, round(1.2 / 0.5922, 8), 250_000),
              StageSpec("final_sliding_window", 1.19, round(1.19 / 0.5922, 8), 380_000)]
    r = parse(replace(baseline(42, 1.19), stages=stages))
    (flag,) = time_flags(r, r.name)
    assert flag.severity == "error" and "630.0 s in sum" in flag.text
    under = parse(replace(baseline(42, 1.19), stages=stages[:1]))
    assert time_flags(under, under.name) == []


def test_a_stop_past_the_cap_at_the_step_limit_is_an_error_not_a_rounding_warning(tmp_path):
    run = block(42, 1.0712, stop_style="bare", train_ms=600_400)
    folder = write_folder(tmp_path / "rec", {"train_seed42.log": run}, claim={"val_bpb": 1.0712})
    result = check_record(folder)
    time = [f for f in result["flags"] if "600,400" in f["text"]]
    assert [(f["severity"], f["check"]) for f in time] == [("error", "time")]


# --------------------------------------------------------------------------- through the CLI


def test_check_record_writes_the_byte_flag_with_its_numbers(tmp_path):
    logs = {f"train_seed{s}.log": block(s, b, val_bytes=STANDARD_BYTES * 1.08)
            for s, b in ((42, 1.0712), (1337, 1.0715), (2024, 1.0709))}
    folder = write_folder(tmp_path / "rec", logs, claim={"val_bpb": 1.0712})
    assert pgolf_main(["check-record", str(folder), "--out", str(tmp_path / "out")]) == 0
    flags = [f for f in json.loads((tmp_path / "out" / "record.json").read_text())["flags"] if f["check"] == "bytes"]
    assert len(flags) == 3 and {f["severity"] for f in flags} == {"error"}
    assert {round(f["numbers"]["diff_pct"], 2) for f in flags} == {8.0}
    assert "byte accounting" in (tmp_path / "out" / "report.md").read_text()


def test_check_logs_and_audit_raise_the_same_checks(tmp_path):
    logs = {"train_seed42.log": block(42, 1.0712, val_bytes=STANDARD_BYTES * 1.08,
                                      extra_lines=["GPTQ:collected 66 Hessians in 30.0s"])}
    folder = write_folder(tmp_path / "records" / "2026-05-01_Rec", logs)
    pgolf_main(["check-logs", str(folder / "train_seed42.log"), "--threshold", "1.2", "--out", str(tmp_path / "cl")])
    claim = json.loads((tmp_path / "cl" / "claim.json").read_text())
    assert {f["check"] for f in claim["flags"] if f["severity"] == "error"} >= {"bytes"}
    assert {f["check"] for f in claim["flags"]} >= {"bytes", "time"}  # the calibration accounting: a warning
    pgolf_main(["audit", str(tmp_path / "records"), "--out", str(tmp_path / "au")])
    records = json.loads((tmp_path / "au" / "records.json").read_text())["records"]
    assert {f["check"] for f in records[0]["flags"] if f["severity"] == "error"} >= {"bytes"}
    assert {f["check"] for f in records[0]["flags"]} >= {"bytes", "time"}


def test_hostile_wrappers_come_back_unpacked_or_with_a_reason():
    nested = "exec(L.decompress(" + "(" * 100_000 + ")" * 100_000 + "))"
    assert unwrap(nested).layers == 0
    corrupt = 'import zlib as L,base64 as B\nexec(L.decompress(B.b64decode("AAAA")))\n'
    assert "not unpacked" in unwrap(corrupt).problem
    cut = base64.b85encode(lzma.compress(CODE_DUMP.encode())[:-20]).decode()
    assert "cut off" in unwrap(f'import lzma as L,base64 as B\nexec(L.decompress(B.b85decode("{cut}")))\n').problem
