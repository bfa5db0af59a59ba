"""`check-logs`: a claim "mean val_bpb < threshold" tested from loose train logs (no submission.json).

Same reader, flags and statistics as `check-record`: a one-sided one-sample t-test against
the threshold, optionally one-sided Welch tests against a previous record's logs (with and
without the margin, given in nats and converted to bpb), the runs needed, and the rule
flags. `metric` names the stage; the previous runs that lack it are tested on their own
default stage, and a flag says so (they are never dropped silently).

API: `check_logs(logs, options) -> LooseResult`; `output.rows.claim_dict` is claim.json,
`pgolf.review.verbs.check_logs_to` writes the files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Generic, TypeVar

from pgolf import stats as st
from pgolf.review.model import Flag
from pgolf.review.read.log import ParsedRun, canonical_stage, read_log_file_runs
from pgolf.review.read.names import labels
from pgolf.review.rules.apply import run_flags, set_flags
from pgolf.review.rules.evidence import loose_evidence_flags
from pgolf.review.rules.inputs import PreviousInput
from pgolf.review.rules.runs import previous_stage
from pgolf.review.settings import MARGIN_NATS, RULE_ALPHA

R = TypeVar("R")


@dataclass(frozen=True)
class LooseOptions:
    threshold: float
    previous: Sequence[str] | None = None
    metric: str | None = None
    margin_nats: float = MARGIN_NATS
    alpha: float = RULE_ALPHA
    target_power: float = 0.8
    claimed_std: str | None = None  # as printed
    claimed_p: str | None = None  # as printed


@dataclass(frozen=True)
class Tried(Generic[R]):
    """A test's result, or why it could not run (too few runs, no spread)."""

    result: R | None
    error: str | None


@dataclass(frozen=True)
class WelchTest:
    """One-sided Welch of the new runs against the previous ones, and whether it holds at alpha."""

    result: st.WelchResult | None
    holds: bool
    error: str | None


@dataclass(frozen=True)
class AgainstPrevious:
    previous_runs: tuple[str, ...]
    previous_values: tuple[float | None, ...]
    margin_nats: float
    bpb_no_margin: WelchTest
    bpb_margin: WelchTest  # the margin in bpb, through these runs' own val_bpb / val_loss
    nats_margin: WelchTest


@dataclass(frozen=True)
class ClaimedP:
    printed: float
    computed: float
    matches: bool  # at the printed digits


@dataclass(frozen=True)
class LooseResult:
    """check-logs' whole result: the runs read, their flags and every test."""

    options: LooseOptions
    metric: str | None  # the stage tested (None: it differs between runs)
    runs: tuple[ParsedRun, ...]
    previous: tuple[ParsedRun, ...]
    flags: tuple[Flag, ...]
    test: Tried[st.OneSampleT]
    power: Tried[st.PowerEstimate]
    margin: Tried[st.MarginConversion]
    welch: AgainstPrevious | None
    std_convention: Tried[st.StdConvention] | None
    claimed_p: ClaimedP | None

    @property
    def good(self) -> list[ParsedRun]:
        return [r for r in self.runs if r.ok]

    @property
    def values(self) -> list[float]:
        return [r.val_bpb for r in self.good if r.val_bpb is not None]

    @property
    def holds(self) -> bool:
        return self.test.result is not None and bool(self.test.result.holds(self.options.alpha))

    @property
    def verdict(self) -> str:
        if self.test.result is None:
            return f"cannot test the claim mean < {self.options.threshold:g}: {self.test.error}"
        return st.one_sample_sentence(self.test.result, self.options.alpha)


def read_runs(paths: Sequence[str], metric: str | None) -> list[ParsedRun]:
    return [r.chosen(metric) for p in paths for r in read_log_file_runs(p)]


def read_previous(paths: Sequence[str], metric: str | None) -> tuple[list[ParsedRun], list[Flag]]:
    """Previous runs on `metric`; a run without it falls back to its own default stage, with a flag."""
    runs, notes = [], []
    for r in read_runs(paths, metric):
        if metric and not r.ok and r.stages:
            r = r.chosen(None)
            if r.ok:
                notes += previous_stage(PreviousInput(r, metric))
        runs.append(r)
    return runs, notes


def _flags(runs: Sequence[ParsedRun], previous: Sequence[ParsedRun]) -> list[Flag]:
    label = labels(runs)
    out = [f for r in runs for f in run_flags(r, label[id(r)])] + set_flags(runs) + loose_evidence_flags(runs)
    plabel = labels(previous)
    out += [replace(f, run=f"previous {f.run}" if f.run else "previous")
            for r in previous for f in run_flags(r, plabel[id(r)])]
    return out


def _welch(good: Sequence[ParsedRun], prev: Sequence[ParsedRun], conv: st.MarginConversion | None,
           o: LooseOptions) -> AgainstPrevious:
    prev_good = [r for r in prev if r.ok]
    tests = []
    for unit, margin in (("bpb", 0.0), ("bpb", conv.margin_bpb if conv else None), ("nats", o.margin_nats)):
        if margin is None:
            tests.append(WelchTest(None, False, "no margin in bpb (no run with the stage)"))
            continue
        new = [r.val_bpb if unit == "bpb" else r.val_loss for r in good]
        old = [r.val_bpb if unit == "bpb" else r.val_loss for r in prev_good]
        res, why = st.attempt(st.welch_one_sided, new, old, margin)
        tests.append(WelchTest(res, bool(res.holds(o.alpha)) if res else False, why))
    return AgainstPrevious(tuple(r.file for r in prev_good), tuple(r.val_bpb for r in prev_good), o.margin_nats,
                           *tests)


def _std_convention(bpb: list[float], o: LooseOptions) -> Tried[st.StdConvention] | None:
    if o.claimed_std is None or len(bpb) < 2:
        return None
    return Tried(*st.attempt(st.std_convention, bpb, o.claimed_std))


def _claimed_p(test: st.OneSampleT | None, o: LooseOptions) -> ClaimedP | None:
    """The printed p-value against the computed one, at the printed digits."""
    if o.claimed_p is None or test is None:
        return None
    digits = max(0, -int(Decimal(o.claimed_p).as_tuple().exponent))
    tol = 0.5 * 10.0 ** (-digits) * (1 + 1e-9)
    return ClaimedP(float(o.claimed_p), test.p_value, abs(test.p_value - float(o.claimed_p)) <= tol)


def check_logs(logs: Sequence[str], o: LooseOptions) -> LooseResult:
    """The whole check."""
    runs = read_runs(logs, o.metric)
    previous, notes = read_previous(o.previous or [], o.metric)
    good = [r for r in runs if r.ok]
    bpb, loss = [r.val_bpb for r in good], [r.val_loss for r in good]
    stages = {canonical_stage(r.metric) for r in good if r.metric}
    test = Tried(*st.attempt(st.one_sample_t, bpb, o.threshold, "less"))
    conv = Tried(*st.attempt(st.nats_margin_to_bpb, o.margin_nats, loss, bpb))
    return LooseResult(
        o, canonical_stage(o.metric) if o.metric else (stages.pop() if len(stages) == 1 else None), tuple(runs),
        tuple(previous), tuple(_flags(runs, previous) + notes), test,
        Tried(*st.attempt(st.power_one_sample, bpb, o.threshold, o.alpha, o.target_power, "less")), conv,
        _welch(good, previous, conv.result, o) if o.previous else None, _std_convention(bpb, o),
        _claimed_p(test.result, o))
