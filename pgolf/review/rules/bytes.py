"""Byte accounting: the validation text has a fixed byte count, so a run's val_bpb / val_loss must give it
back (see bytecount.py for the arithmetic and its tolerances)."""

from __future__ import annotations

from collections import defaultdict
from statistics import median

from pgolf.review.model import Finding
from pgolf.review.read.bytecount import MIN_REFERENCE, PARTIAL, RatioEntry, stage_bytes
from pgolf.review.rules.inputs import AuditInput, RunInput
from pgolf.review.rules.registry import rule

# the byte-fallback and leading-space miscounts that closed submissions (issue #897, PR #1271's audit)
SOURCE = "https://github.com/openai/parameter-golf/issues/897"


@rule("bytes.implied", severity="error", scope="scored", check="bytes", source=SOURCE)
def implied(x: RunInput) -> list[Finding]:
    """A run whose stages imply other validation bytes than its split holds.

    An error when the run's val_tokens marks a full pass of a known split and a stage that scores
    the whole split is off; a warning when only stages that may score part of it are off, or the
    split is not a known one.

    62,021,632 tokens x 2.0 / (ln 2 x 1.0) = 178,956,602 bytes, 18.45 % over the standard 151,080,000:

    >>> from pgolf.review.rules.examples import one, texts
    >>> texts(implied(one("val_tokens:62021632", "final_int8_zlib_roundtrip val_loss:2.0 val_bpb:1.0")))[0][:96]
    'error: byte accounting: `final_int8_zlib_roundtrip` implies 178,956,602 validation bytes from 62'
    """
    r, settings = x.run, x.bytes
    off = [b for b in stage_bytes(r, settings) if abs(b.diff) > settings.tolerance]
    if not off:
        return []
    full = r.val_tokens in settings.full_pass_tokens | settings.older_split_tokens
    whole = [b for b in off if not PARTIAL.search(b.stage)]
    # the stage under test when it is off, else the stage furthest off
    worst = next((b for b in off if b.stage == r.metric), None) or max(whole or off, key=lambda b: abs(b.diff))
    others = f"; {len(off) - 1} other stage(s) off too" if len(off) > 1 else ""
    split = "the older split's" if worst.split == "older" else "the standard"
    text = (f"byte accounting: `{worst.stage}` implies {worst.implied:,.0f} validation bytes from "
            f"{r.val_tokens:,} tokens, {worst.diff:+.2%} from {split} {worst.expected:,.0f} (tolerance "
            f"{settings.tolerance:.1%}): the tokenizer's byte table may miscount{others}")
    return [Finding(text, x.who, "error" if full and whole else "warn",
                    (("stage", worst.stage), ("implied_bytes", round(worst.implied)),
                     ("expected_bytes", round(worst.expected)), ("diff_pct", round(100 * worst.diff, 4))))]


@rule("bytes.ratio", severity="warn", scope="audit", check="bytes", source=SOURCE)
def ratio(x: AuditInput) -> list[Finding]:
    """Runs whose val_bpb/val_loss is off the median of other submissions with the same tokenizer by more than
    the tolerance (a byte miscount moves the ratio by the same factor as the implied bytes).

    >>> from pgolf.review.read.bytecount import RatioEntry
    >>> from pgolf.review.rules.inputs import AuditInput
    >>> entries = [RatioEntry(f"s{i}: a.log", f"s{i}", "1024:sp.model", 0.59) for i in range(4)]
    >>> [f.run for f in ratio(AuditInput([*entries, RatioEntry("odd: a.log", "odd", "1024:sp.model", 0.55)]))]
    ['odd: a.log']
    """
    by_tok: dict[str, list[RatioEntry]] = defaultdict(list)
    for e in x.entries:
        by_tok[e.tokenizer].append(e)
    out = []
    for tok, group in sorted(by_tok.items()):
        for e in group:
            others = [o.ratio for o in group if o.submission != e.submission]
            if len({o.submission for o in group if o.submission != e.submission}) < MIN_REFERENCE:
                continue  # too few to tell which one is off
            ref = median(others)
            diff = ref / e.ratio - 1.0  # as implied bytes: a ratio too low means too many bytes
            if abs(diff) > x.bytes.tolerance:
                out.append(Finding(f"byte accounting: val_bpb/val_loss {e.ratio:.6f} is {diff:+.2%} in implied bytes "
                                   f"from the median {ref:.6f} of {len(others)} runs of other submissions with "
                                   f"tokenizer {tok} (tolerance {x.bytes.tolerance:.1%})", e.key,
                                   numbers=(("ratio", e.ratio), ("reference", ref), ("diff_pct", round(100 * diff, 4)))))
    return out
