"""The claimed runs decide: an extra evaluation in one seed, a development run beside the claimed runs and a
seed named wrong in a file name are warnings (generated logs)."""

from __future__ import annotations

from pgolf.review.judge.progression import bears_on_claimed
from pgolf.review.model import Flag
from pgolf.review.read.names import labels
from pgolf.review.rules.config import runs_differ
from pgolf.review.rules.examples import log
from pgolf.review.rules.inputs import FolderInput, RunInput
from pgolf.review.rules.runs import world_size


def _runs(*settings: tuple[str, str]):
    runs = [log("Hyperparameters:", f"  seed: {i}", *(f"  {k}: {v}" for k, v in kv),
                "final_int6_sliding_window val_loss:1.9 val_bpb:1.12", file=f"train_seed{i}.log")
            for i, kv in enumerate(settings)]
    return FolderInput(runs, runs, None, (), labels(runs))


def test_an_extra_evaluation_in_one_seed_is_a_warning():
    x = _runs((("ttt_enabled", "True"),), (("ttt_enabled", "False"),), (("ttt_enabled", "False"),))
    (flag,) = runs_differ(x)
    assert flag.severity == "warn" and "extra evaluation" in flag.text


def test_a_training_setting_that_differs_is_still_an_error():
    x = _runs((("ttt_enabled", "True"), ("matrix_lr", "0.02")), (("ttt_enabled", "False"), ("matrix_lr", "0.04")))
    assert [f.severity for f in runs_differ(x)] == ["error"]


def test_an_extra_two_gpu_run_beside_the_claimed_runs_does_not_decide():
    dev = log("world_size:2 grad_accum_steps:4", "final_int8_ttt_lora val_loss:2.0 val_bpb:1.19", file="train_v1.txt")
    (flag,) = world_size(RunInput(dev, "train_v1.txt"))
    claimed = {"train_v0.txt", "train_v2.txt", "train_v3.txt"}
    assert flag.severity == "error" and not bears_on_claimed(flag, claimed)
    assert bears_on_claimed(Flag("runs.world_size", "error", "train_v2.txt", "x"), claimed)
    assert bears_on_claimed(Flag("size.claimed_over", "error", "", "x"), claimed)  # the submission as a whole
