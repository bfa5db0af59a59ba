"""Time that was not counted: work after the training cap, evaluation stages past 600 s in sum, a forced stop.

- GPTQ calibration after training still reads training data (or runs the model to make its
  own): training plus calibration past the cap is an error (a warning within the 1 s a
  wall-clock stop itself may overrun). A script that reserves the time
  (`gptq:reserving 10s, effective=590000ms`) stops training early and stays inside.
- Serialization (compression) reads no training data: training plus all post-training work past
  the cap is a warning.
- The evaluation stages' own `eval_time` summed (diagnostics left out), when the log prints no
  `total_eval_time` (flags.py checks that one), past 600 s is an error.
- A training stop past the cap that is not the wall-clock cap's own stop (a step limit reached
  late, a forced stop) is an error, whatever the overrun: the cap did not stop it.
"""

from __future__ import annotations

from pgolf.review.flags import EVAL_LIMIT_S, OVERRUN_WARN_MS, TRAIN_LIMIT_MS, Flag
from pgolf.review.reader import ParsedRun


def calibration_seconds(r: ParsedRun) -> float | None:
    """GPTQ / calibration time: the printed total, or the steps summed when they add up to more."""
    found = [t for t in (r.calibration_s, r.calibration_total_s) if t is not None]
    return max(found) if found else None


def serialize_seconds(r: ParsedRun) -> float | None:
    found = [t for t in (r.serialize_s, r.serialize_wallclock_s) if t is not None]
    return max(found) if found else None


def post_training_flags(r: ParsedRun, who: str) -> list[Flag]:
    if r.train_time_ms is None:
        return []
    train_s, cap_s = r.train_time_ms / 1000, TRAIN_LIMIT_MS / 1000
    calib, ser = calibration_seconds(r) or 0.0, serialize_seconds(r) or 0.0
    nums = (("train_s", round(train_s, 3)), ("calibration_s", calib), ("serialize_s", ser))
    if calib and train_s + calib > cap_s:
        # within the cap step's own overrun a warning, as flags.py weighs training alone
        sev = "warn" if train_s + calib - cap_s <= OVERRUN_WARN_MS / 1000 else "error"
        return [Flag(sev, who, f"time: training {train_s:,.1f} s + GPTQ/calibration {calib:,.1f} s = "
                                   f"{train_s + calib:,.1f} s, past the {cap_s:g} s cap: calibration after the cap "
                                   "uses training time the cap does not count", check="time", numbers=nums)]
    if ser and train_s + calib + ser > cap_s:
        return [Flag("warn", who, f"time: training {train_s:,.1f} s + post-training work {calib + ser:,.1f} s "
                                  f"(serialization {ser:,.1f} s) = {train_s + calib + ser:,.1f} s, past the {cap_s:g} s "
                                  "cap: check that nothing after the cap reads training data", check="time",
                     numbers=nums)]
    return []


def eval_sum_flags(r: ParsedRun, who: str) -> list[Flag]:
    if r.total_eval_time_ms is not None:
        return []  # the log's own total is checked by flags.py
    timed = [s for s in r.ordered_stages() if s.eval_time_ms is not None and not s.diagnostic]
    total_s = sum(s.eval_time_ms for s in timed) / 1000
    if len(timed) < 2 or total_s <= EVAL_LIMIT_S:
        return []
    parts = ", ".join(f"{s.name} {s.eval_time_ms / 1000:,.1f} s" for s in timed)
    return [Flag("error", who, f"time: the evaluation stages take {total_s:,.1f} s in sum ({parts}), over "
                               f"{EVAL_LIMIT_S:g} s", check="time",
                 numbers=(("eval_sum_s", round(total_s, 3)), ("stages", len(timed))))]


def stop_flags(r: ParsedRun, who: str) -> list[Flag]:
    if r.train_time_ms is None or r.train_time_ms <= TRAIN_LIMIT_MS or r.stop_reason is None:
        return []
    if "wallclock" in r.stop_reason:
        return []  # the cap stopped it: flags.py weighs the overrun of the step that crossed it
    return [Flag("error", who, f"time: training stopped at {r.train_time_ms:,.0f} ms by `{r.stop_reason}`, not by the "
                               f"wall-clock cap: {r.train_time_ms - TRAIN_LIMIT_MS:,.0f} ms past 600,000 ms",
                 check="time", numbers=(("train_time_ms", r.train_time_ms), ("stop", r.stop_reason)))]


def time_flags(r: ParsedRun, who: str) -> list[Flag]:
    return post_training_flags(r, who) + eval_sum_flags(r, who) + stop_flags(r, who)
