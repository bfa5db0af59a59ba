"""The typed results as the rows and dicts of record.json, records.json and the CSVs: the one place where
typed values become dicts (the JSON/CSV edge)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pgolf.review.judge.progression import Submission, Verdict
from pgolf.review.judge.record import Comparison
from pgolf.review.judge.stream import StreamAudit
from pgolf.review.model import ParsedRun, canonical_stage, errors
from pgolf.review.output.columns import RECORD_COLUMNS
from pgolf.review.output.markdown import verdict_sentence
from pgolf.review.read.bytecount import stage_bytes
from pgolf.review.read.claim import readme_p_values
from pgolf.review.read.names import labels, seed_from_name
from pgolf.review.read.record import RecordCheck


def run_rows(rec: RecordCheck) -> list[dict[str, Any]]:
    """One dict per log (runs.csv and record.json)."""
    counted = {id(r) for r in rec.counted}
    code = rec.claim.bytes_code if rec.claim else None
    label = labels(rec.runs)
    return [{"record": rec.name, "part": r.part, "implied_val_bytes": _implied(r), "bytes_per_token": _bpt(r),
             "stage_bytes": stage_bytes_text(r),
             "flags": "; ".join(f"{f.severity}: {f.text}" for f in rec.flags if f.run == label[id(r)]), "file": str(Path(r.file).relative_to(rec.folder)) if _inside(r.file, rec.folder)
             else r.file, "seed": r.seed, "seed_in_name": seed_from_name(r.file), "world_size": r.world_size,
             "steps": r.steps, "train_time_ms": r.train_time_ms, "stage": r.metric, "val_loss": r.val_loss,
             "val_bpb": r.val_bpb, "eval_time_ms": r.eval_time_ms, "total_eval_time_ms": r.total_eval_time_ms,
             "total_bytes": r.artifact_total(code), "model_bytes": r.model_bytes, "code_bytes": r.code_bytes,
             "artifact_production_s": r.artifact_production_s, "train_shards": r.train_shards,
             "val_tokens": r.val_tokens, "counted": id(r) in counted, "error": r.error} for r in rec.runs]


def _implied(r: ParsedRun) -> float | None:
    """The validation bytes the run's stage under test implies (byte accounting), when it prints val_tokens."""
    return next((b.implied for b in stage_bytes(r) if canonical_stage(b.stage) == canonical_stage(r.metric or "")),
                None)


def _bpt(r: ParsedRun) -> float | None:
    """Bytes per token of the stage under test: val_loss / (ln 2 * val_bpb)."""
    return next((round(b.bpt, 5) for b in stage_bytes(r) if canonical_stage(b.stage) == canonical_stage(r.metric or "")),
                None)


def stage_bytes_text(r: ParsedRun) -> str:
    """Every scored stage's implied bytes (with val_tokens) or bytes per token: `stage 151,080,123 B 3.7266 B/tok`."""
    return "; ".join(f"{b.stage} " + (f"{b.implied:,.0f} B " if b.implied is not None else "") + f"{b.bpt:.4f} B/tok"
                     for b in stage_bytes(r))


def _inside(file: str, folder: str) -> bool:
    try:
        Path(file).relative_to(folder)
        return True
    except ValueError:
        return False


def record_dict(rec: RecordCheck, comparison: Comparison) -> dict[str, Any]:
    c = rec.claim
    out: dict[str, Any] = {
        "record": rec.name, "folder": rec.folder, "date": rec.date,
        "claimed_bpb": float(c.val_bpb) if c and c.val_bpb is not None else None,
        "claimed_bpb_text": str(c.val_bpb) if c and c.val_bpb is not None else None,
        "claim_text": (str(c.val_bpb) if c.val_bpb is not None else f"val_loss {c.val_loss}"
                       if c.val_loss is not None else None) if c else None,
        "claimed_val_loss": float(c.val_loss) if c and c.val_loss is not None else None,
        "claimed_seeds": c.claimed_seeds if c else [], "claimed_p_value": float(c.p_value) if c and c.p_value else None,
        "claim_supported": rec.claim_supported, "stage": rec.stage, "stage_source": rec.stage_source,
        "closest": rec.closest, **comparison.flat(), "values": rec.values,
        "runs": run_rows(rec), "flags": [f.to_dict() for f in rec.flags],
        "stages": {r.name: {st.name: {"val_loss": st.loss, "val_bpb": st.bpb, "eval_time_ms": st.eval_time_ms}
                            for st in r.ordered_stages()} for r in rec.runs},
        "n_errors": len(errors(rec.flags)), "ignored": rec.ignored, "sidecars": rec.sidecars,
        "readme_p_values": readme_p_values(rec.readme), "readme_seed_numbers": rec.readme_seeds,
        "sha256s": [r.sha256 for r in rec.runs],
    }
    out["verdict"] = verdict_sentence(out)
    return out


def record_row(d: dict[str, Any]) -> dict[str, Any]:
    row = {k: d.get(k) for k in RECORD_COLUMNS}
    row["mean_bpb"] = d["mean"]
    quoted = ([f"{d['claimed_p_value']:g}"] if d.get("claimed_p_value") is not None else []) + d["readme_p_values"]
    row["quoted_p"] = " ".join(dict.fromkeys(quoted))  # what the record itself quotes, to compare with p_previous
    row["flags"] = "; ".join(f"{f['severity']}: {f['run'] + ': ' if f['run'] else ''}{f['text']}" for f in d["flags"])
    return row


def submission_row(sub: Submission, v: Verdict) -> dict[str, object]:
    rec, c = sub.record, sub.record.claim
    values = sub.values
    return {"pr": sub.pr, "ref": sub.ref, "commit": sub.commit, "date": sub.date, "folder": sub.folder,
            "on_main": sub.on_main, "n": len(values), "mean_bpb": sum(values) / len(values) if values else None,
            "claimed_bpb": float(c.val_bpb) if c and c.val_bpb is not None else None,
            "claim_supported": rec.claim_supported, "stage": rec.stage, "verdict": v.status, "reasons": v.reasons,
            "flags": "; ".join(f"{f.severity}: {f}" for f in [*rec.flags, *sub.chrono]), "frontier_pr": v.frontier_pr,
            "p_frontier": v.p_frontier, "p_frontier_margin": v.p_frontier_margin, "holds_rule": v.holds_rule,
            "reproduces": sub.reproduces, "evidence_from": sub.evidence.pr if sub.evidence is not sub else None,
            "version": sub.version, "version_commit": sub.commit if sub.version else None,
            "free_verdict": sub.free.status if sub.free else None, "free_reasons": sub.free.reasons if sub.free else None}


def submission_rows(a: StreamAudit) -> list[dict[str, object]]:
    return [submission_row(s, a.verdict(s)) for s in a.submissions]
