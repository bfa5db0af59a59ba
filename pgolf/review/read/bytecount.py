"""The byte-accounting fingerprint: how many validation bytes a run's own val_bpb and val_loss imply.

val_loss is nats per scored token and val_bpb bits per scored byte, so over a full pass of the
validation split

    implied validation bytes = val_tokens / (ln 2 * val_bpb / val_loss)

does not depend on the tokenizer when the bytes are counted right. A byte table that counts the
leading space twice, miscounts byte-fallback pieces or hides sentinel characters moves it by
percents; the spread of the accepted records is a hundredth of a percent.

How the defaults were derived (`python -m pgolf audit` over every folder of
records/track_10min_16mb on the challenge's main branch, 2026-12; every stage of every log that
prints val_tokens): sp1024 (62,021,632 tokens) 151.0716-151.0898 million bytes, sp4096
(45,508,608) 151.0741, sp8192 (40,540,160) 151.0765-151.0782, CaseOps sp8192 (47,851,520)
151.0745; all within 151.08 million +-0.01%. The first baseline's older split (63,779,840 sp1024
tokens) implies 155.77 million: another document set, recognised as such.

Without val_tokens the ratio val_bpb/val_loss is compared across submissions that use the same
tokenizer (the rule `bytes.ratio`); the audit applies it to every submission's ratio.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pgolf.review.read.log import ParsedRun, Stage

MIN_REFERENCE = 3  # other submissions with the tokenizer: a median of three outvotes one miscount
# a stage that may score less than the whole split: a sliding window's tail, a subset
PARTIAL = re.compile(r"sliding|subset|partial|sample|quick|short|tail", re.IGNORECASE)


# Bytes per token of the known tokenizers on the standard split, from the published records' own logs
# (val_loss / (ln 2 * val_bpb)); sp1024 also on the older split (155.77 M / 63,779,840 tokens).
KNOWN_BPT: tuple[tuple[str, tuple[float, ...]], ...] = (
    ("sp1024", (2.4359, 2.4423)), ("sp2048", (2.8846,)), ("sp4096", (3.3197,)), ("sp8192", (3.7266,)),
    ("caseops", (3.1572,)))


@dataclass(frozen=True)
class ByteSettings:
    """The validation split's byte count and how far a run may be from it (see the module docstring)."""

    standard_bytes: float = 151_080_000.0  # FineWeb validation split, 50,000 documents (151,084,796 printed once)
    tolerance: float = 0.001  # relative: 0.1 %, ten times the accepted records' spread
    # val_tokens that mark a full pass of the standard split: sp1024, sp4096, sp8192, CaseOps sp8192
    full_pass_tokens: frozenset[int] = frozenset({62_021_632, 45_508_608, 40_540_160, 47_851_520})
    older_split_tokens: frozenset[int] = frozenset({63_779_840})  # the first baseline's split (sp1024)
    older_split_bytes: float = 155_770_000.0
    # implied bytes under this share of the split: a subset was scored (coverage), not a miscount
    partial_share: float = 0.9
    known_bpt: tuple[tuple[str, tuple[float, ...]], ...] = KNOWN_BPT


@dataclass(frozen=True)
class StageBytes:
    """One stage's implied bytes (from the log's val_tokens) against its split, or, without
    val_tokens, its bytes per token against the nearest value of the tokenizer the run names."""

    stage: str
    bpt: float  # bytes per token: val_loss / (ln 2 * val_bpb)
    implied: float | None  # val_tokens * bpt; None without val_tokens
    expected: float | None  # the split's bytes (or the tokenizer's bytes per token); None: nothing to compare
    split: str  # "standard", "older", a tokenizer name (per token) or "" (unknown)

    @property
    def diff(self) -> float:
        """Relative difference from the expected value (0.08: +8 %); 0 when nothing is known to compare."""
        if self.expected is None:
            return 0.0
        return (self.implied if self.implied is not None else self.bpt) / self.expected - 1.0


def implied_bytes(val_tokens: int, val_loss: float, val_bpb: float) -> float:
    """Validation bytes implied by a full pass: val_tokens / (ln 2 * val_bpb / val_loss)."""
    return val_tokens * val_loss / (math.log(2) * val_bpb)


def bytes_per_token(val_loss: float, val_bpb: float) -> float:
    return val_loss / (math.log(2) * val_bpb)


def _scored(s: Stage) -> bool:
    return s.loss is not None and s.bpb is not None and s.loss > 0 and s.bpb > 0 \
        and math.isfinite(s.loss) and math.isfinite(s.bpb)


def _nearest(value: float, refs: Sequence[tuple[str, float]]) -> tuple[str, float]:
    return min(refs, key=lambda r: abs(value / r[1] - 1.0))


def stage_bytes(r: ParsedRun, settings: ByteSettings = ByteSettings(), tokenizer: str | None = None
                ) -> list[StageBytes]:
    """Every scored stage's bytes per token, and its implied bytes against its split when the log prints
    val_tokens (the older split's bytes for its token count); without val_tokens its bytes per token against `tokenizer` (else the one the log
    names), when known."""
    out = []
    tok = tokenizer or tokenizer_name(r)
    refs = [(tok, v) for name, values in settings.known_bpt if name == tok for v in values]
    for s in r.ordered_stages():
        if not _scored(s):
            continue
        bpt = bytes_per_token(s.loss, s.bpb)
        if r.val_tokens:
            older = r.val_tokens in settings.older_split_tokens
            out.append(StageBytes(s.name, bpt, r.val_tokens * bpt,
                                  settings.older_split_bytes if older else settings.standard_bytes,
                                  "older" if older else "standard"))
        elif refs:
            split, expected = _nearest(bpt, refs)
            out.append(StageBytes(s.name, bpt, None, expected, split))
        else:
            out.append(StageBytes(s.name, bpt, None, None, ""))
    return out


_SP_FILE = re.compile(r"fineweb_(\d+)_bpe\.model$")
_SP_DATA = re.compile(r"fineweb10B_sp(\d+)\b")
_SCRIPT_FILE = re.compile(r"fineweb_\d+_bpe(?:_lossless_caps_caseops_v1_reserved)?\.model|\b[\w-]+\.vocab\b")
_VOCAB = re.compile(r"""\bVOCAB_SIZE["']\s*,\s*["']?(\d+)""")


def tokenizer_name(r: ParsedRun, script_text: str = "") -> str | None:
    """The known tokenizer a run uses (`sp1024` ... `sp8192`, `caseops`), from the tokenizer file the log
    names, else its data path or vocab size, else the script's defaults; None when none is a known one (a
    custom tokenizer file, or nothing named)."""
    file = r.tokenizer_file or _base(_setting(r, "tokenizer_path"))
    if file:
        return _from_file(file)
    data = _setting(r, "data_path") or ""
    if m := _SP_DATA.search(data):
        return _known(f"sp{m.group(1)}")
    if vocab := _setting(r, "vocab_size"):
        return _known(f"sp{vocab.strip()}")
    return _from_script(script_text) if script_text else None


def _from_script(text: str) -> str | None:
    """A script's default tokenizer: its `fineweb_N_bpe.model` path, else its data path, else VOCAB_SIZE."""
    files = set(_SCRIPT_FILE.findall(text))
    if len(files) == 1:
        return _from_file(files.pop())
    names = {f"sp{n}" for n in _SP_DATA.findall(text)} | {f"sp{n}" for n in _VOCAB.findall(text)}
    return _known(names.pop()) if len(names) == 1 else None


def _from_file(file: str) -> str | None:
    if "caseops" in file.lower():
        return "caseops"
    m = _SP_FILE.search(file)
    return _known(f"sp{m.group(1)}") if m else None


def _known(name: str) -> str | None:
    return name if any(name == k for k, _ in KNOWN_BPT) else None


def _setting(r: ParsedRun, key: str) -> str | None:
    return r.hyperparameters.get(key) or r.printed_config.get(key)


def _base(path: str | None) -> str | None:
    return path.replace("\\", "/").rstrip("'\",").rsplit("/", 1)[-1] if path else None


# --------------------------------------------------------------------------- without val_tokens


def tokenizer_id(r: ParsedRun) -> str | None:
    """Vocab size and tokenizer file name (`8192:fineweb_8192_bpe.model`) from what the log prints; None
    when it prints neither."""
    settings = {**r.printed_config, **r.hyperparameters}
    vocab = settings.get("vocab_size")
    file = r.tokenizer_file or (settings.get("tokenizer_path", "").replace("\\", "/").rsplit("/", 1)[-1] or None)
    if vocab is None and file is None:
        return None
    return f"{vocab or '?'}:{file or '?'}"


def bpb_per_nat(r: ParsedRun) -> float | None:
    """val_bpb / val_loss of the run's stage under test: fixed by the tokenizer and the split."""
    if r.val_bpb is None or not r.val_loss:
        return None
    return r.val_bpb / r.val_loss


@dataclass(frozen=True)
class RatioEntry:
    """One submission's run for the audit-wide comparison."""

    key: str  # the submission (and run) it belongs to, as the flag names it
    submission: str  # runs of one submission are not compared with each other
    tokenizer: str
    ratio: float


def ratio_entries(submission: str, runs: Sequence[ParsedRun], label: dict[int, str]) -> list[RatioEntry]:
    """The entries of one submission's counted runs that print no val_tokens (with val_tokens, byte_flags
    already checks them) and name their tokenizer."""
    out = []
    for r in runs:
        tok, ratio = tokenizer_id(r), bpb_per_nat(r)
        if r.val_tokens is None and tok is not None and ratio is not None:
            out.append(RatioEntry(f"{submission}: {label.get(id(r), r.name)}", submission, tok, ratio))
    return out
