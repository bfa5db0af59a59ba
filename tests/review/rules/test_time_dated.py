"""GPTQ calibration on training data after the cap, and the dates from which the practice enforced the time
rules: generated logs and scripts, numbers by hand."""

from __future__ import annotations

from pgolf.review.judge.progression import in_force
from pgolf.review.model import Flag
from pgolf.review.rules.examples import folder_input, one
from pgolf.review.rules.time import gptq_train_data_after_cap, train_overrun

STOP_AT_CAP = "stopping_early: wallclock_cap train_time:600078ms step:7195/9000"
STAGE = "final_int6_roundtrip val_loss:1.9 val_bpb:1.12"
TRAIN_CALIB_SCRIPT = ("def collect_hessians(hessian_model, train_loader, args, device, grad_accum_steps):\n"
                      "    x, y = train_loader.next_batch(args.train_batch_tokens, args.train_seq_len, 1)\n")


def test_training_data_after_a_stop_at_the_cap_with_no_reserve_is_an_error():
    (flag,) = gptq_train_data_after_cap(folder_input(STOP_AT_CAP, "gptq:calibrating with training data...", STAGE))
    assert flag.severity == "error" and dict(flag.numbers)["train_time_ms"] == 600_078


def test_the_script_tells_the_data_when_the_log_does_not():
    lines = (STOP_AT_CAP, "gptq:calibrating with 256 batches...", "gptq:collected hessians for 68 layers", STAGE)
    (flag,) = gptq_train_data_after_cap(folder_input(*lines, script=TRAIN_CALIB_SCRIPT))
    assert "the script's Hessians read the training files" in flag.text
    assert gptq_train_data_after_cap(folder_input(*lines)) == []  # no script, no data named: no finding


def test_a_reserve_or_self_generated_data_is_no_error():
    reserve = ("gptq:reserving 0s, effective=599500ms", "stopping_early: wallclock_cap train_time:599556ms "
               "step:4957/20000", "GPTQ:collecting Hessians from calibration data...", STAGE)
    assert gptq_train_data_after_cap(folder_input(*reserve, script=TRAIN_CALIB_SCRIPT)) == []
    generated = (STOP_AT_CAP, "gptq:generating autoregressive calibration data (64 seqs x 2048 tokens)...", STAGE)
    assert gptq_train_data_after_cap(folder_input(*generated, script=TRAIN_CALIB_SCRIPT)) == []
    early = ("stopping_early: wallclock_cap train_time:586128ms step:6674/20000",
             "gptq:calibrating with 64 training batches...", STAGE)  # stopped 14 s early: a reserve
    assert gptq_train_data_after_cap(folder_input(*early)) == []


def test_the_gptq_ruling_decides_from_its_date_only():
    (flag,) = gptq_train_data_after_cap(folder_input(STOP_AT_CAP, "gptq:calibrating with training data...", STAGE))
    assert not in_force(flag, "2026-03-23") and in_force(flag, "2026-03-24") and in_force(flag, "2026-04-01")
    assert in_force(flag, "2026-03-23", merged=False)  # still open when the ruling came: judged by it


def test_an_overrun_of_more_than_one_step_is_an_error_from_its_date():
    # step_avg 95 ms: a 150 ms overrun is the cap's own stop (within 1 s); 1,153 ms is past one step and 1 s
    (small,) = train_overrun(one("step:100/20000 train_loss:2.0 train_time:9500ms step_avg:95.00ms",
                                 "stopping_early: wallclock_cap train_time:600150ms step:6000/20000", STAGE))
    (big,) = train_overrun(one("stopping_early: wallclock_cap train_time:601153ms step:6000/20000", STAGE))
    assert small.severity == "warn" and big.severity == "error"
    assert in_force(big, "2026-03-18")  # the README's cap, from launch
    slow = one("step:100/20000 train_loss:2.0 train_time:150000ms step_avg:1500.00ms",
               "stopping_early: wallclock_cap train_time:601200ms step:400/20000", STAGE)
    assert [f.severity for f in train_overrun(slow)] == ["warn"]  # within one 1.5 s step


def test_a_flag_of_an_unregistered_or_undated_rule_is_always_in_force():
    assert in_force(Flag("time.eval_over", "error", "", "x"), "2026-03-01")
