"""The registry: --tolerate's words, stamped flags, one order."""

from __future__ import annotations

import pytest

from pgolf.errors import ConfigError
from pgolf.review.rules import CHECKS, rules, select
from pgolf.review.rules.examples import one
from pgolf.review.rules.time import train_overrun


def test_tolerate_time_names_the_time_evidence_rules():
    assert select(["time"]) == {"time.calibration_after_cap", "time.post_training", "time.eval_sum",
                                "time.stop_not_cap", "time.gptq_train_data_after_cap"}


def test_a_family_word_takes_every_rule_of_the_family_and_an_id_takes_one():
    family = select(["time.*"])
    assert select(["time"]) < family and "time.train_overrun" in family
    assert select(["time.eval_sum", " ", ""]) == {"time.eval_sum"}
    assert select([]) == frozenset()


def test_an_unknown_word_is_an_error_naming_it_and_what_is_known():
    with pytest.raises(ConfigError, match=r"'time.eval_summ' names no rule.*runs\.\*.*bytes, code, config, time"):
        select(["time.eval_summ"])


def test_every_evidence_check_has_rules_and_only_evidence_rules_name_one():
    assert {r.check for r in rules()} == {"", *CHECKS}


def test_a_finding_becomes_a_flag_with_the_rules_id_and_its_own_milder_severity():
    (flag,) = train_overrun(one("stopping_early: wallclock_cap train_time:600400ms step:9/20",
                                "final val_loss:2.0 val_bpb:1.2"))
    assert (flag.rule, flag.severity, flag.check, flag.run) == ("time.train_overrun", "warn", "", "train_seed1.log")
    (flag,) = train_overrun(one("stopping_early: wallclock_cap train_time:602000ms step:9/20",
                                "final val_loss:2.0 val_bpb:1.2"))
    assert flag.severity == "error"  # 2,000 ms over: past the 1 s a cap step may take


def test_rules_of_a_scope_apply_in_family_order():
    order = [r.id for r in rules("run")]
    assert order.index("runs.world_size") < order.index("time.wallclock_cap") < order.index("size.total_over") \
        < order.index("log.truncated")
