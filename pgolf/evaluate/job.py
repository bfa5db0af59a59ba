"""One evaluation job from files: artifact + shards + tokenizer -> one condition's result files.

What `python -m pgolf eval` runs. Every input is checked before any scoring (the
tokenizer against the shards' manifest, token ids against the model's vocabulary,
the weights for NaN, each setting against its range), and the three result files
are written as one group (pgolf.atomic.write_group), so a failure never leaves a
`.positions.csv` without its `.json` nor touches an earlier result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pgolf.atomic import check_targets, json_text
from pgolf.errors import ArtifactError
from pgolf.evalspec import EvalSettings, reference_cast
from pgolf.evaluate.conditions import run_condition
from pgolf.evaluate.totals import EvalResult, output_paths, result_files


@dataclass(frozen=True)
class EvalJob:
    artifact: str
    condition: str
    val: str
    tokenizer: str
    settings: EvalSettings
    device: str = "auto"
    threads: int = 0
    out: str | None = None


def run_job(job: EvalJob, echo=print) -> EvalResult:
    """Check every input, score the condition (collectively under torchrun), and (rank 0) write or print it."""
    from pgolf.runtime import process_group

    job.settings.validate(job.condition)
    if job.out:
        check_targets(output_paths(job.out))  # a folder in the way fails now, not after scoring
    if job.threads > 0:
        torch.set_num_threads(job.threads)
    with process_group(job.device, flag="--device") as rt:
        model, tokens, tables, checked = _load_inputs(job, rt.device)
        if reference_cast(job.settings.precision, rt.device.type):
            from pgolf.model import cast_like_reference

            cast_like_reference(model)
        result = run_condition(model, tokens, tables, job.condition, job.settings)
        if rt.master:
            echo(f"final_{job.condition} val_loss:{result.val_loss:.8f} val_bpb:{result.val_bpb:.8f} "
                 f"tokens:{result.tokens} bytes:{result.bytes} docs:{result.docs} "
                 f"eval_time:{1000 * result.seconds:.0f}ms")
            extra = _extra(job, rt, checked)
            if job.out:
                result_files(result, job.out, **extra)
                echo("wrote " + ", ".join(str(p) for p in output_paths(job.out)))
            else:
                echo(json_text({**result.summary(), **extra}).rstrip("\n"))
    return result


def _load_inputs(job: EvalJob, device: torch.device) -> tuple[Any, Any, Any, dict[str, Any]]:
    from pgolf.artifact import load_model
    from pgolf.data.shards import load_tokens
    from pgolf.data.validation import check_starts_with_bos, check_validation_files
    from pgolf.tokenizer import build_byte_tables, check_token_ids, check_vocab, load_tokenizer

    if not Path(job.artifact).is_file():
        raise ArtifactError(f"artifact {job.artifact} not found; check --artifact")
    checked = check_validation_files(job.val, job.tokenizer)
    sp = load_tokenizer(job.tokenizer)
    model = load_model(job.artifact, device)
    bad = [name for name, t in model.state_dict().items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:
        raise ArtifactError(f"artifact {job.artifact} holds NaN or infinite weights ({', '.join(bad[:3])}); "
                            "it cannot be scored: retrain, or pass another --artifact")
    check_vocab(sp, model.config.vocab_size, where=f"artifact {job.artifact}")
    tokens = load_tokens(job.val)
    check_token_ids(tokens, model.config.vocab_size, f"validation shards {job.val}")
    check_starts_with_bos(tokens, job.val)
    tables = build_byte_tables(sp, model.config.vocab_size, device)
    return model, tokens, tables, checked


def _extra(job: EvalJob, rt: Any, checked: dict[str, Any]) -> dict[str, Any]:
    from pgolf.atomic import sha256_file
    from pgolf.provenance import collect

    return {
        "artifact": str(job.artifact),
        "artifact_sha256": sha256_file(job.artifact),
        "val": job.val,
        "val_shards": {p: sha256_file(p) for p in checked.pop("val_shards")},
        "tokenizer": str(job.tokenizer),
        "tokenizer_sha256": sha256_file(job.tokenizer),
        "tokenizer_check": checked,
        "provenance": collect(device=str(rt.device), world_size=rt.world_size, precision=job.settings.precision,
                              arguments={"condition": job.condition, "threads": job.threads, "device": job.device,
                                         **job.settings.to_dict()}),
    }
