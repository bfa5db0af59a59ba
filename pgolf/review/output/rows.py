"""The typed results as the rows and dicts of record.json, records.json and the CSVs: the one place where
typed values become dicts (the JSON/CSV edge)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from typing import Any, TypeVar

from pgolf.review.judge.loose import LooseResult, Tried, WelchTest
from pgolf.review.judge.record import Comparison, RecordResult
from pgolf.review.model import Flag, ParsedRun
from pgolf.review.output.columns import Column
from pgolf.review.output.markdown import verdict_sentence
from pgolf.review.output.views import claim_text, claimed_bpb, claimed_p_value, n_errors, run_lines, unread
from pgolf.review.read.claim import readme_p_values
from pgolf.review.read.record import RecordCheck

T = TypeVar("T")


def run_row(r: ParsedRun) -> dict[str, Any]:
    """One run as check-logs' runs.csv writes it: every field the reader read, stages and settings left out."""
    d = asdict(r)
    for key in ("stages", "hyperparameters", "seed_stages", "printed_config"):
        d.pop(key)
    return d


def run_rows(rec: RecordCheck) -> list[dict[str, Any]]:
    """One dict per log (runs.csv and record.json)."""
    return [asdict(line) for line in run_lines(rec)]


def flag_dict(f: Flag) -> dict[str, Any]:
    return {"severity": f.severity, "run": f.run, "text": f.text, "check": f.check, "numbers": dict(f.numbers)}


def comparison_dict(c: Comparison) -> dict[str, Any]:
    """The statistics with one level of keys, as record.json and records.csv have them."""
    out = {f.name: getattr(c, f.name) for f in fields(c) if f.name not in ("against", "vs_threshold", "settings")}
    levels = {"margin_nats": c.settings.margin_nats, "alpha": c.settings.rule_alpha,
              "progression_alpha": c.settings.practice_alpha}
    return {**out, **levels, **asdict(c.against), **asdict(c.vs_threshold)}


def record_dict(result: RecordResult) -> dict[str, Any]:
    """record.json's content (and one entry of records.json)."""
    rec, c = result.record, result.record.claim
    return {
        "record": rec.name, "folder": rec.folder, "date": rec.date, "claimed_bpb": claimed_bpb(rec),
        "claimed_bpb_text": str(c.val_bpb) if c and c.val_bpb is not None else None, "claim_text": claim_text(rec),
        "claimed_val_loss": float(c.val_loss) if c and c.val_loss is not None else None,
        "claimed_seeds": c.claimed_seeds if c else [], "claimed_p_value": claimed_p_value(rec),
        "claim_supported": rec.claim_supported, "stage": rec.stage, "stage_source": rec.stage_source,
        "closest": rec.closest, **comparison_dict(result.stats), "values": rec.values,
        "runs": run_rows(rec), "flags": [flag_dict(f) for f in rec.flags],
        "stages": {r.name: {st.name: {"val_loss": st.loss, "val_bpb": st.bpb, "eval_time_ms": st.eval_time_ms}
                            for st in r.ordered_stages()} for r in rec.runs},
        "n_errors": n_errors(rec), "unread": unread(rec), "ignored": rec.ignored, "sidecars": rec.sidecars,
        "readme_p_values": readme_p_values(rec.readme), "readme_seed_numbers": {**asdict(rec.readme_seeds), "missing": list(rec.readme_seeds.missing)},
        "sha256s": [r.sha256 for r in rec.runs], "verdict": verdict_sentence(result),
    }


def table_rows(columns: Sequence[Column[T]], items: Iterable[T]) -> list[dict[str, Any]]:
    """One CSV row per item: each column's value under its name."""
    return [{c.name: c.get(x) for c in columns} for x in items]


# --------------------------------------------------------------------------- check-logs' claim.json


def _tried(t: Tried) -> dict[str, Any]:
    return t.result.to_dict() if t.result is not None else {"error": t.error}


def _welch_dict(w: WelchTest) -> dict[str, Any]:
    return {**w.result.to_dict(), "holds": w.holds} if w.result is not None else {"error": w.error}


def claim_dict(result: LooseResult) -> dict[str, Any]:
    """claim.json's content."""
    o, test = result.options, result.test.result
    if test is None:
        values = result.values
        tested = {"n": len(values), "mean": (sum(values) / len(values)) if values else None, "std": None, "t": None,
                  "df": None, "p_value": None}
    else:
        tested = {k: v for k, v in test.to_dict().items() if k not in ("threshold", "alternative")}
    sc, w = result.std_convention, result.welch
    return {
        "threshold": o.threshold, "alternative": "less", "alpha": o.alpha, "metric": result.metric,
        "runs": [r.file for r in result.good], "values": [r.val_bpb for r in result.good],
        "flags": [flag_dict(f) for f in result.flags], "errors": {r.file: r.error for r in result.runs if r.error},
        **tested, "holds": result.holds, "test_error": result.test.error, "verdict": result.verdict,
        "power": _tried(result.power), "margin": _tried(result.margin),
        "welch": None if w is None else {
            "previous_runs": list(w.previous_runs), "previous_values": list(w.previous_values),
            "margin_nats": w.margin_nats, "bpb_no_margin": _welch_dict(w.bpb_no_margin),
            "bpb_margin": _welch_dict(w.bpb_margin), "nats_margin": _welch_dict(w.nats_margin)},
        "std_convention": None if sc is None else {**sc.result.to_dict(), "note": sc.result.note}
        if sc.result is not None else {"error": sc.error},
        "claimed_p": None if result.claimed_p is None else asdict(result.claimed_p),
    }
