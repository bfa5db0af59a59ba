"""`check-logs`: a claim "mean val_bpb < threshold" tested from loose train logs (no submission.json).

Same reader, flags and statistics as `check-record`: a one-sided one-sample t-test against
the threshold, optionally one-sided Welch tests against a previous record's logs (with and
without the margin, given in nats and converted to bpb), the runs needed, and the rule
flags. `metric` names the stage; the previous runs that lack it are tested on their own
default stage, and a flag says so (they are never dropped silently).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from pgolf import atomic, provenance, runlock
from pgolf import stats as st
from pgolf.review.model import Flag
from pgolf.review.output.markdown import loose_report
from pgolf.review.output.page import loose_page
from pgolf.review.read.log import ParsedRun, canonical_stage, read_log_file_runs
from pgolf.review.read.names import labels
from pgolf.review.rules.apply import run_flags, set_flags
from pgolf.review.rules.evidence import loose_evidence_flags
from pgolf.review.rules.inputs import PreviousInput
from pgolf.review.rules.runs import previous_stage
from pgolf.review.settings import MARGIN_NATS, RULE_ALPHA
from pgolf.review.verbs import csv_text


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


def read_runs(paths: Sequence[str], metric: str | None) -> list[ParsedRun]:
    runs = [r for p in paths for r in read_log_file_runs(p)]
    for r in runs:
        r.choose(metric)
    return runs


def read_previous(paths: Sequence[str], metric: str | None) -> tuple[list[ParsedRun], list[Flag]]:
    """Previous runs on `metric`; a run without it falls back to its own default stage, with a flag."""
    runs, notes = read_runs(paths, metric), []
    for r in runs:
        if metric and not r.ok and r.stages:
            r.choose(None)
            if r.ok:
                notes += previous_stage(PreviousInput(r, metric))
    return runs, notes


def _flags(runs: Sequence[ParsedRun], previous: Sequence[ParsedRun]) -> list[Flag]:
    label = labels(runs)
    out = [f for r in runs for f in run_flags(r, label[id(r)])] + set_flags(runs) + loose_evidence_flags(runs)
    plabel = labels(previous)
    out += [replace(f, run=f"previous {f.run}" if f.run else "previous")
            for r in previous for f in run_flags(r, plabel[id(r)])]
    return out


def _claim_test(bpb: list[float], o: LooseOptions) -> dict[str, Any]:
    test, why = st.attempt(st.one_sample_t, bpb, o.threshold, "less")
    if test is None:
        return {"n": len(bpb), "mean": (sum(bpb) / len(bpb)) if bpb else None, "std": None, "t": None, "df": None,
                "p_value": None, "holds": False, "test_error": why,
                "verdict": f"cannot test the claim mean < {o.threshold:g}: {why}"}
    d = {k: v for k, v in test.to_dict().items() if k not in ("threshold", "alternative")}
    return {**d, "holds": bool(test.holds(o.alpha)), "test_error": None,
            "verdict": st.one_sample_sentence(test, o.alpha)}


def _welch(good: Sequence[ParsedRun], prev: Sequence[ParsedRun], conv, o: LooseOptions) -> dict[str, Any]:
    prev_good = [r for r in prev if r.ok]
    out: dict[str, Any] = {"previous_runs": [r.file for r in prev_good],
                           "previous_values": [r.val_bpb for r in prev_good], "margin_nats": o.margin_nats}
    for key, unit, margin in (("bpb_no_margin", "bpb", 0.0), ("bpb_margin", "bpb", conv.margin_bpb if conv else None),
                              ("nats_margin", "nats", o.margin_nats)):
        if margin is None:
            out[key] = {"error": "no margin in bpb (no run with the stage)"}
            continue
        new = [r.val_bpb if unit == "bpb" else r.val_loss for r in good]
        old = [r.val_bpb if unit == "bpb" else r.val_loss for r in prev_good]
        res, why = st.attempt(st.welch_one_sided, new, old, margin)
        out[key] = {**res.to_dict(), "holds": bool(res.holds(o.alpha))} if res else {"error": why}
    return out


def _printed_checks(bpb: list[float], claim: dict[str, Any], o: LooseOptions) -> dict[str, Any]:
    out: dict[str, Any] = {"std_convention": None, "claimed_p": None}
    if o.claimed_std is not None and len(bpb) >= 2:
        sc, why = st.attempt(st.std_convention, bpb, o.claimed_std)
        out["std_convention"] = {**sc.to_dict(), "note": sc.note} if sc else {"error": why}
    if o.claimed_p is not None and claim.get("p_value") is not None:
        digits = max(0, -int(Decimal(o.claimed_p).as_tuple().exponent))
        tol = 0.5 * 10.0 ** (-digits) * (1 + 1e-9)
        out["claimed_p"] = {"printed": float(o.claimed_p), "computed": claim["p_value"],
                            "matches": abs(claim["p_value"] - float(o.claimed_p)) <= tol}
    return out


def check_logs(logs: Sequence[str], o: LooseOptions) -> dict[str, Any]:
    """The whole check; returns {"claim": claim.json content, "runs": [...], "previous": [...]}."""
    runs = read_runs(logs, o.metric)
    previous, notes = read_previous(o.previous or [], o.metric)
    good = [r for r in runs if r.ok]
    bpb, loss = [r.val_bpb for r in good], [r.val_loss for r in good]
    stages = {canonical_stage(r.metric) for r in good if r.metric}
    claim: dict[str, Any] = {
        "threshold": o.threshold, "alternative": "less", "alpha": o.alpha,
        "metric": canonical_stage(o.metric) if o.metric else (stages.pop() if len(stages) == 1 else None),
        "runs": [r.file for r in good], "values": bpb,
        "flags": [f.to_dict() for f in _flags(runs, previous) + notes],
        "errors": {r.file: r.error for r in runs if r.error},
    }
    claim.update(_claim_test(bpb, o))
    power, why_p = st.attempt(st.power_one_sample, bpb, o.threshold, o.alpha, o.target_power, "less")
    claim["power"] = power.to_dict() if power else {"error": why_p}
    conv, why_c = st.attempt(st.nats_margin_to_bpb, o.margin_nats, loss, bpb)
    claim["margin"] = conv.to_dict() if conv else {"error": why_c}
    claim["welch"] = _welch(good, previous, conv, o) if o.previous else None
    claim.update(_printed_checks(bpb, claim, o))
    return {"claim": claim, "runs": runs, "previous": previous}


@runlock.holds_out
def check_logs_to(out: str | Path, logs: Sequence[str], o: LooseOptions) -> dict[str, Any]:
    """check_logs, then DIR/runs.csv, claim.json, report.md and report.html."""
    result = check_logs(logs, o)
    out = Path(out)
    rows = [{"role": "claim", **r.row()} for r in result["runs"]]
    rows += [{"role": "previous", **r.row()} for r in result["previous"]]
    files = [{"file": r.file, "sha256": r.sha256} for r in result["runs"] + result["previous"]]
    result["claim"]["provenance"] = provenance.collect(command="check-logs", logs=files, metric_arg=o.metric,
                                                       margin_nats=o.margin_nats)
    atomic.write_group({out / "runs.csv": csv_text(rows), out / "claim.json": atomic.json_text(result["claim"]),
                        out / "report.md": loose_report(result), out / "report.html": loose_page(result)})
    return result

