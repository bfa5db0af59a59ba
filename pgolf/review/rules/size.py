"""Size: code bytes plus compressed model bytes at most 16,000,000 (decimal), from the logs and as claimed."""

from __future__ import annotations

from pgolf.review.model import Finding
from pgolf.review.rules.inputs import RecordInput, RunInput
from pgolf.review.rules.registry import rule
from pgolf.review.settings import ARTIFACT_LIMIT_BYTES

README = "https://github.com/openai/parameter-golf/blob/main/README.md"


@rule("size.total_missing", severity="warn", scope="run", source=README)
def total_missing(x: RunInput) -> list[Finding]:
    """A log without a total size line (model + code): the artifact size is unchecked.

    >>> from pgolf.review.rules.examples import one, texts
    >>> texts(total_missing(one("final val_loss:2.0 val_bpb:1.2")))
    ['warn: no total size line (model + code); artifact size unchecked']
    """
    return [Finding("no total size line (model + code); artifact size unchecked", x.who)] \
        if x.run.artifact_total(x.code_bytes) is None else []


@rule("size.total_over", severity="error", scope="run", source=README)
def total_over(x: RunInput) -> list[Finding]:
    """The artifact (model + code) over 16,000,000 bytes.

    >>> from pgolf.review.rules.examples import one, texts
    >>> texts(total_over(one("Total submission size int8+zlib: 16000100 bytes", "final val_loss:2.0 val_bpb:1.2")))
    ['error: total artifact 16,000,100 bytes is over 16,000,000 by 100']
    """
    r, total = x.run, x.run.artifact_total(x.code_bytes)
    if total is None or total <= ARTIFACT_LIMIT_BYTES:
        return []
    how = "" if r.total_bytes is not None else f" (model {r.model_bytes:,} + code)"
    return [Finding(f"total artifact {total:,} bytes{how} is over {ARTIFACT_LIMIT_BYTES:,} "
                    f"by {total - ARTIFACT_LIMIT_BYTES:,}", x.who)]


@rule("size.claimed_over", severity="error", scope="claimed-size", source=README)
def claimed_over(x: RecordInput) -> list[Finding]:
    r"""submission.json's bytes_total over the cap.

    >>> from pgolf.review.rules.examples import record, texts
    >>> texts(claimed_over(record(submission_json='{"val_bpb": 1.2, "bytes_total": 16000001}',
    ...                           train_seed1_log="seed:1\nfinal val_loss:2.0 val_bpb:1.2")))
    ['error: submission.json bytes_total 16,000,001 is over 16,000,000']
    """
    c = x.rec.claim
    if c is None or c.bytes_total is None or c.bytes_total <= ARTIFACT_LIMIT_BYTES:
        return []
    return [Finding(f"submission.json bytes_total {c.bytes_total:,} is over {ARTIFACT_LIMIT_BYTES:,}")]


@rule("size.claimed_below_logs", severity="error", scope="claimed-size", source=README)
def claimed_below_logs(x: RecordInput) -> list[Finding]:
    r"""submission.json's bytes_total below the logs' total with code counted: an error when the logs' total
    is over the cap, else a warning (it is often the model alone).

    >>> from pgolf.review.rules.examples import record, texts
    >>> texts(claimed_below_logs(record(submission_json='{"val_bpb": 1.2, "bytes_total": 15000000}',
    ...     train_seed1_log="Total submission size int8+zlib: 15500000 bytes\nfinal val_loss:2.0 val_bpb:1.2")))
    ["warn: submission.json bytes_total 15,000,000 is below the logs' total 15,500,000 with code counted"]
    """
    rec, c = x.rec, x.rec.claim
    if c is None:
        return []
    totals = [t for r in rec.counted if (t := r.artifact_total(c.bytes_code)) is not None]
    if c.bytes_total is None or not totals or c.bytes_total >= max(totals):
        return []
    models = {r.model_bytes for r in rec.counted}
    why = " (it is the model alone: the code is left out)" if c.bytes_total in models else ""
    return [Finding(f"submission.json bytes_total {c.bytes_total:,} is below the logs' total {max(totals):,} with "
                    f"code counted{why}", severity="error" if max(totals) > ARTIFACT_LIMIT_BYTES else "warn")]


@rule("size.claimed_seed_over", severity="error", scope="claimed-size", source=README)
def claimed_seed_over(x: RecordInput) -> list[Finding]:
    """A per-seed artifact_bytes in submission.json over the cap."""
    c = x.rec.claim
    if c is None:
        return []
    return [Finding(f"seed {seed}: claimed artifact_bytes {sc.artifact_bytes:,} is over the cap")
            for seed, sc in c.seeds.items() if sc.artifact_bytes is not None and sc.artifact_bytes > ARTIFACT_LIMIT_BYTES]
