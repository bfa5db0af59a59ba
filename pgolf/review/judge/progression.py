"""The progression's parts: a submission and its verdict, the evidence checks, and one comparison.

A submission that passes the evidence checks (its claim shown by its logs, under the size cap, no error
flag, the runs the practice asked for at the time) is accepted when it beats the record it is compared
with at p < 0.25: one-sided Welch on per-seed val_bpb, no margin. Where either side has fewer than 2 runs
no Welch test exists; the scores are compared and the verdict says so. The written rule (0.005 nats at
p < 0.01) is computed beside it. Which record it is compared with: judge/order.py (the record standing at
its evidence date) and judge/free.py (the PR-order rebuild).

A reproduction (a compliance rerun naming the PR it reruns) is attached to that PR: its runs are the PR's
evidence (the latest reproduction's with at least as many runs, as the organizers compared "vs PR #N latest
rerun").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import fmean

from pgolf import stats as st
from pgolf.review.model import Flag
from pgolf.review.model import errors as error_flags
from pgolf.review.model import holds as hold_flags
from pgolf.review.read.names import labels
from pgolf.review.read.record import RecordCheck
from pgolf.review.rules import select
from pgolf.review.rules.registry import since as rule_since
from pgolf.review.settings import DEFAULTS, MIN_RUNS, ReviewSettings
from pgolf.review.sources.landed import Version
from pgolf.size import SIZE_CAP_BYTES

# The largest improvement one accepted row made over the row before it in the published table is 0.032 bpb
# (the sliding-window evaluation, 1.2244 -> 1.1925 in the first days); the submissions that claimed more in
# one step (training on validation data, n-gram caches scored after updating, byte-count errors) were all
# excluded by hand. A step over 0.04 bpb is held for a reviewer, not accepted.
MAX_STEP_BPB = 0.04
SP1024_BPB_PER_NAT = 0.5922  # val_bpb / val_loss of the sp1024 split: the margin's unit where a run prints no loss


# Technique rulings that still decide by name. SLOT, n-gram and PPM caches, pre-quantization and multi-epoch TTT
# and training on the validation split are judged from the code and logs (pgolf/review/rules/eval.py); a name
# alone is the warning `eval.named_technique`. A lossy case-folding tokenizer is still matched by name.
RULINGS: tuple[tuple[str, str], ...] = (
    (r"casefold|lowercase|lower_?case", "a lossy case-folding tokenizer: it scores other text than the validation "
                                        "split (the lossless CaseOps transform is allowed)"),
)


TOLERATED: tuple[str, ...] = ()  # every rule decides from its `since` date


@dataclass(frozen=True)
class ProgressionSettings:
    review: ReviewSettings = DEFAULTS  # the practice's and the written rule's levels, the runs asked for
    runs_from: str | None = None  # the date from which min_runs were asked for; None: derived from main
    max_step_bpb: float = MAX_STEP_BPB
    # a table listing made this long after its evidence landed (a rebuild that scanned old PRs in evidence order)
    # stands from the evidence's date; one made sooner stands from the day it was listed
    rebuild_lag_days: float | None = 4.0
    rulings: tuple[tuple[str, str], ...] = RULINGS
    # error flags of these rules (ids, families, checks) do not stop a submission; the flags stay in every
    # report and in the verdict's reasons. None by default: each rule is enforced from its `since` date
    tolerated: tuple[str, ...] = TOLERATED
    baseline: str = "NaiveBaseline"  # the folder name the frontier starts at
    size_cap: int = SIZE_CAP_BYTES


@dataclass(frozen=True)
class Verdict:
    # accepted, not better, held for review, ruled out, duplicate, reproduction, claim not shown, size not shown,
    # over the cap, error flag, fewer than 3 runs
    status: str
    reasons: str
    frontier: str | None = None  # the frontier it was compared with
    frontier_pr: int | None = None
    p_frontier: float | None = None
    p_frontier_margin: float | None = None  # the written rule: with 0.005 nats in bpb
    holds_rule: bool | None = None
    method: str | None = None  # welch, scores

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"


@dataclass
class Submission:
    """One PR x folder: where it was read from, and the record read from it."""

    pr: int | None
    ref: str
    commit: str
    date: str
    folder: str
    record: RecordCheck
    on_main: bool = False
    reproduces: int | None = None  # the PR this one reruns
    timestamp: int = 0  # when its evidence landed (its folder's first version on the branch): orders the judge
    opened: int = 0  # when its PR opened (its branch's first commit); 0: unknown
    reproduced_by: list[Submission] = field(default_factory=list)
    verdict: Verdict | None = None  # set by rebuild() on the judged copy it returns
    earlier: tuple[Version, ...] = ()  # the folder's earlier versions on its branch, newest first
    version: int = 0  # the version judged: 0 the head, k the k-th before it (its commit is `commit`)
    free: Verdict | None = None  # the PR-order rebuild's verdict, beside the dated one
    chrono: tuple[Flag, ...] = ()  # the chronology's flags (rules/chrono.py)

    @property
    def key(self) -> str:
        return f"#{self.pr} {self.record.name}" if self.pr is not None else self.record.name

    @property
    def evidence(self) -> Submission:
        """Whose runs stand for this submission: its latest reproduction's with at least as many runs as its
        own, else its own."""
        with_runs = [s for s in self.reproduced_by if s.record.values
                     and len(s.record.values) >= len(self.record.values)]
        return with_runs[-1] if with_runs else self

    @property
    def smaller_rerun(self) -> Submission | None:
        """The latest reproduction that has runs, but fewer than this submission's own (it does not count)."""
        fewer = [s for s in self.reproduced_by if 0 < len(s.record.values) < len(self.record.values)]
        return fewer[-1] if fewer else None

    @property
    def ident(self) -> tuple[int | None, str, str]:
        """Which submission this is, through its judged copies and versions: PR, ref and folder."""
        return self.pr, self.ref, self.folder

    @property
    def values(self) -> list[float]:
        return self.evidence.record.values


@dataclass(frozen=True)
class LeaderRow:
    rank: int
    pr: int | None
    folder: str
    mean_bpb: float
    n: int
    previous_pr: int | None
    p_previous: float | None
    method: str | None


# --------------------------------------------------------------------------- reproductions

_REPRO_WORDS = re.compile(r"re-?run|reproduc|compliance|support", re.IGNORECASE)
_PR_REF = re.compile(r"(?:PR\s*#?|pull/|#)(\d{1,5})\b")


def reproduces(rec: RecordCheck) -> int | None:
    """The PR a submission reruns: submission.json's `supports_pr`-style key, or a name or README title that
    says it reruns (reproduces, supports) a PR: its `base_pr`, else the first PR the title names."""
    c = rec.claim
    if c is not None and c.reruns_pr is not None:
        return c.reruns_pr
    title = " ".join(t for t in [c.name if c else None, _title(rec.readme)] if t)
    if not _REPRO_WORDS.search(title):
        return None
    if c is not None and (m := re.search(r"\d+", str(c.base_pr or ""))):
        return int(m.group(0))
    m = _PR_REF.search(title)
    return int(m.group(1)) if m else None


def _title(readme: str) -> str | None:
    return next((ln.lstrip("# ").strip() for ln in readme.splitlines() if ln.startswith("#")), None)


def attach_reproductions(subs: Sequence[Submission]) -> None:
    """Each reproduction joins the evidence of the submission it reruns (the newest PR last)."""
    by_pr: dict[int, Submission] = {}
    for s in subs:
        if s.pr is not None and s.reproduces is None:
            by_pr.setdefault(s.pr, s)
    for s in sorted(subs, key=lambda s: (s.pr or 0)):
        target = by_pr.get(s.reproduces) if s.reproduces is not None else None
        if target is not None and target is not s:
            target.reproduced_by.append(s)


# --------------------------------------------------------------------------- the evidence checks


def _sizes(rec: RecordCheck) -> list[int]:
    """Every artifact size the submission shows (logs: model + code) or claims (submission.json)."""
    code = rec.claim.bytes_code if rec.claim else None
    sizes = [t for r in rec.counted if (t := r.artifact_total(code)) is not None]
    if rec.claim is not None:
        sizes += [b for b in [rec.claim.bytes_total, *(s.artifact_bytes for s in rec.claim.seeds.values())]
                  if b is not None]
    return sizes


def ruling(sub: Submission, rulings: Sequence[tuple[str, str]]) -> str | None:
    """The technique ruling a submission falls under, by its folder name, its claim's name or its stage."""
    rec = sub.record
    text = " ".join(t for t in (rec.name, rec.claim.name if rec.claim else None, rec.stage, _title(rec.readme))
                    if t).lower()
    return next((why for pattern, why in rulings if re.search(pattern, text)), None)


def in_force(flag: Flag, date: str, merged: bool = True) -> bool:
    """Whether the practice enforced the flag's rule on a submission: a rule whose `since` is later than the
    submission's evidence `date` did not decide a submission merged before it (its flag stays in the
    reports); a submission never merged was still open when the rule came, and is judged by it."""
    since = rule_since(flag.rule)
    return since is None or not merged or not date or date[:10] >= since


def _claimed_labels(rec: RecordCheck) -> set[str]:
    label = labels(rec.runs)
    return {label[id(r)] for r in rec.counted if id(r) in label}


def bears_on_claimed(flag: Flag, claimed: set[str]) -> bool:
    """Whether a flag bears on the claimed runs: the submission as a whole, or a counted log. The claimed runs
    decide; an extra, unclaimed run's error (a 2-GPU development run beside the 8-GPU ones) is reported only."""
    return not flag.run or any(name.strip() in claimed for name in flag.run.split(","))


def evidence_problem(sub: Submission, settings: ProgressionSettings, runs_from: str | None) -> Verdict | None:
    """Why a submission cannot enter the progression, or None when its evidence holds."""
    rec, ev = sub.record, sub.evidence.record
    if (why := ruling(sub, settings.rulings)) is not None:
        return Verdict("ruled out", f"ruled out: {why}")
    if rec.claim_supported is not True and ev is rec:
        why = "its logs show no claim to match" if rec.claim_supported is None else "no stage of its logs shows it"
        return Verdict("claim not shown", f"claim not shown: {why}")
    sizes = _sizes(rec)
    if sizes and max(sizes) > settings.size_cap:
        return Verdict("over the cap", f"over the cap: {max(sizes):,} bytes > {settings.size_cap:,}")
    if not sizes:
        return Verdict("size not shown", "size not shown: no log prints the artifact's total and submission.json "
                                         "claims no byte count")
    tolerated = select(settings.tolerated)
    flags = [*rec.flags, *(ev.flags if ev is not rec else ())]
    claimed = _claimed_labels(rec) | (_claimed_labels(ev) if ev is not rec else set())
    errors = [f for f in error_flags(flags) if f.rule not in tolerated and in_force(f, sub.date, sub.on_main)
              and bears_on_claimed(f, claimed)]
    if errors:
        return Verdict("error flag", f"error flag: {errors[0]}" + (f" (+{len(errors) - 1} more)" if len(errors) > 1
                                                                  else ""))
    if held := [f for f in hold_flags(flags) if f.rule not in tolerated]:
        return Verdict("held for review", f"held for review: {held[0]}")
    n = len(sub.values)
    if n == 0:
        return Verdict("claim not shown", "claim not shown: no run with the claimed stage")
    if runs_from is not None and sub.date >= runs_from and n < settings.review.min_runs:
        return Verdict("fewer than 3 runs", f"fewer than {settings.review.min_runs} runs: {n} (required from {runs_from})")
    return None


# --------------------------------------------------------------------------- the progression


def compare_to(sub: Submission, front: Submission, settings: ProgressionSettings,
               known: Submission | None = None) -> Verdict:
    """`sub` against the frontier `front`; the one-step bound is measured from `known` where given (the best
    evidence already pushed, which the table may not list yet), else from `front`."""
    new, old = sub.values, front.values
    base = known if known is not None and fmean(known.values) < fmean(old) else front
    step = fmean(base.values) - fmean(new)
    if step > settings.max_step_bpb:
        return Verdict("held for review", f"held for review: {fmean(new):.5f} improves on {base.key} "
                                          f"({fmean(base.values):.5f}) by {step:.4f} bpb in one step, over "
                                          f"{settings.max_step_bpb:g} (leakage, a byte-count error or an illegal "
                                          "cache explained every such step in the challenge)", front.key, front.pr)
    plain, no_test = st.attempt(st.progression_test, new, old, 0.0) if min(len(new), len(old)) >= 2 \
        else (None, f"{min(len(new), len(old))} run(s) on one side")
    if plain is None:
        margin = _margin_bpb(sub, settings)
        better = fmean(new) < fmean(old) - margin
        why = (f"{'beats' if better else 'not better than'} {front.key}: {fmean(new):.5f} vs {fmean(old):.5f} "
               f"(no Welch test: {no_test}; the scores are compared, with the written margin {margin:.4f} bpb, "
               "as single-run tiny margins were excluded)")
        return Verdict("accepted" if better else "not better", why, front.key, front.pr, method="scores")
    margin, _ = st.attempt(st.progression_test, new, old, _margin_bpb(sub, settings))
    ok = plain.holds(settings.review.practice_alpha)
    why = (f"{'beats' if ok else 'not better than'} {front.key} (p = {plain.p_value:.3g}, one-sided Welch, "
           f"n = {len(new)} vs {len(old)})")
    return Verdict("accepted" if ok else "not better", why, front.key, front.pr, plain.p_value,
                   margin.p_value if margin else None, margin.holds(settings.review.rule_alpha) if margin else None,
                   "welch")


def _margin_bpb(sub: Submission, settings: ProgressionSettings) -> float:
    """The written margin (0.005 nats) in bpb through the runs' own val_bpb/val_loss; sp1024's ratio when the
    runs print no val_loss."""
    runs = [r for r in sub.evidence.record.counted if r.val_loss and r.val_bpb]
    conv, _ = st.attempt(st.nats_margin_to_bpb, settings.review.margin_nats, [r.val_loss for r in runs],
                         [r.val_bpb for r in runs]) if runs else (None, None)
    return conv.margin_bpb if conv else settings.review.margin_nats * SP1024_BPB_PER_NAT


def derive_runs_date(subs: Sequence[Submission], min_runs: int = MIN_RUNS) -> str | None:
    """The first date from which every merged record (on main) counts at least `min_runs` runs."""
    merged = sorted((s.date, len(s.values)) for s in subs if s.on_main and s.values)
    for date in sorted({d for d, _ in merged}):  # a whole day: two records of one day both count
        if all(n >= min_runs for d, n in merged if d >= date):
            return date
    return None


def baseline_of(subs: Sequence[Submission], name: str) -> Submission | None:
    found = [s for s in subs if name and name.lower() in s.record.name.lower() and s.values]
    return next((s for s in found if s.on_main), found[0] if found else None)
