"""One record folder read and matched: its claim, every log, the claimed stage, the counted runs.

API: `RecordCheck` (what the rules and the statistics read), `find_logs`, `as_files`, `run_seed`,
`runs_of_seed`, `shows`, `headline`, `headline_seed`, `match(rec, metric)` (the stage under test, whether
the claim is shown, the runs counted), `readme_numbers(rec)`, `companion(rec, run)`. The flags are
added by `record.load_record`, which applies the rules (`pgolf.review.rules`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path, PurePosixPath
from statistics import fmean

from pgolf.errors import DataError
from pgolf.review.model import Flag, ReadmeSeeds
from pgolf.review.read.claim import (
    Claim,
    SeedClaim,
    matches,
    read_claim_bytes,
    readme_result,
    readme_seed_numbers,
)
from pgolf.review.read.log import ParsedRun, canonical_stage, decimals, read_log_runs, with_hash
from pgolf.review.read.names import seed_from_name
from pgolf.review.sources.folder import DirFolder, FolderFiles

LOG_SUFFIXES = (".log", ".txt")
_NOT_LOGS = re.compile(r"^(requirements.*|readme.*|license.*|notes?\b.*)$", re.IGNORECASE)


@dataclass
class RecordCheck:
    """One record read and matched: its claim, every log, the claimed stage, the counted runs, the flags."""

    folder: str
    name: str
    claim: Claim | None
    runs: list[ParsedRun]
    date: str | None = None
    stage: str | None = None
    stage_source: str = "default"  # "submission.json", "--metric" or "default"
    claim_supported: bool | None = None  # None: nothing claimed to match
    closest: str | None = None  # what the logs show when the claim is unsupported
    counted: list[ParsedRun] = field(default_factory=list)
    headline_runs: list[ParsedRun] = field(default_factory=list)  # the runs the headline is the mean of
    flags: list[Flag] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # files read that are no train log
    sidecars: list[str] = field(default_factory=list)  # JSON result files beside the logs
    problems: list[str] = field(default_factory=list)  # an unreadable submission.json
    readme_seeds: ReadmeSeeds = ReadmeSeeds()  # readme_numbers(), computed once
    files: FolderFiles | None = field(default=None, repr=False)
    readme: str = field(default="", repr=False)  # the folder's README.md

    @property
    def values(self) -> list[float]:
        return [r.val_bpb for r in self.counted if r.val_bpb is not None]

    @property
    def mean(self) -> float | None:
        return fmean(self.values) if self.values else None

    @property
    def score(self) -> float | None:
        """What the progression orders by: the logs' mean, else the claimed headline."""
        if self.mean is not None:
            return self.mean
        return float(self.claim.val_bpb) if self.claim and self.claim.val_bpb is not None else None


def find_logs(files: FolderFiles) -> tuple[list[str], list[str]]:
    """Train-log candidates (*.log, *.txt, recursively, not requirements/README) and JSON sidecars."""
    logs, sidecars = [], []
    for rel in files.paths():
        name = PurePosixPath(rel).name
        suffix = PurePosixPath(rel).suffix.lower()
        if suffix in LOG_SUFFIXES and not _NOT_LOGS.match(name):
            logs.append(rel)
        elif suffix == ".json" and rel != claim_file(files):
            sidecars.append(rel)
    return logs, sidecars


def as_files(folder: str | Path | FolderFiles) -> FolderFiles:
    return DirFolder(Path(folder)) if isinstance(folder, str | Path) else folder


def read_runs(files: FolderFiles, rel: str) -> list[ParsedRun]:
    """The runs of one log of the folder; a log that cannot be read is a run with its error, not the end of
    a review."""
    where = files.file_label(rel)
    try:
        data = files.read(rel)
    except DataError as exc:
        return [ParsedRun(file=where, error=str(exc), unreadable=str(exc))]
    return with_hash(read_log_runs(data.decode("utf-8", errors="replace"), file=where), data)


def is_train_log(r: ParsedRun) -> bool:
    """A log with something of a train run, or one that could not be read (named with its reason, not dropped)."""
    return bool(r.unreadable or r.stages or r.steps is not None or r.world_size is not None or r.hyperparameters)


def run_seed(r: ParsedRun) -> int | None:
    return r.seed if r.seed is not None else seed_from_name(r.file)


def runs_of_seed(runs: Sequence[ParsedRun], seed: int) -> list[ParsedRun]:
    """The logs of a claimed seed: by the seed they print, else by the seed their file name states."""
    return [r for r in runs if run_seed(r) == seed] or [r for r in runs if seed_from_name(r.file) == seed]


# --------------------------------------------------------------------------- which stage is the claim


def _candidates(runs: Sequence[ParsedRun]) -> list[str]:
    """Every stage any run printed, latest-printed first."""
    last: dict[str, int] = {}
    for r in runs:
        for key, s in r.stages.items():
            last[key] = max(last.get(key, 0), s.line)
    return sorted(last, key=lambda k: -last[k])


def _value(r: ParsedRun, stage: str, unit: str) -> float | None:
    st = r.stage(stage)
    return st.bpb if unit == "bpb" else st.loss


def shows(r: ParsedRun, stage: str, bpb: Decimal | None, loss: Decimal | None) -> bool:
    """Does the run's stage show a claimed value (val_bpb, else val_loss) at the printed digits?"""
    st = r.stage(stage)
    if bpb is not None:
        return matches(st.bpb, bpb, st.bpb_digits)
    return loss is not None and matches(st.loss, loss, st.bpb_digits)


def headline(claim: Claim | None) -> tuple[Decimal | None, str]:
    """The claimed headline and its unit: val_bpb, else val_loss (some early claims print only that)."""
    if claim is None:
        return None, "bpb"
    return (claim.val_bpb, "bpb") if claim.val_bpb is not None else (claim.val_loss, "loss")


def _pick_runs(runs: Sequence[ParsedRun], claim: Claim | None, stage: str) -> list[ParsedRun]:
    """The runs the claim counts: one per claimed seed (the one matching it); without per-seed claims every
    run with the stage, or, when only the best k of them give the headline, those k (a selection, flagged)."""
    have = [r for r in runs if r.stage(stage) is not None and r.stage(stage).bpb is not None]
    if not claim or not claim.seeds:
        return _best_matching(have, claim, stage)
    picked = []
    for seed, sc in sorted(claim.seeds.items()):
        same = runs_of_seed(have, seed)
        good = [r for r in same if shows(r, stage, sc.val_bpb, sc.val_loss)]
        if good or same:
            picked.append((good or same)[0])
    if not claim.seed_values and not _headline_matches(picked, claim, stage):
        # seeds named without scores (a list, a README table): the headline may be one named run's score
        named = [r for r in have if run_seed(r) in claim.seeds] or have  # logs that print no seed
        best = _best_matching(named, claim, stage)
        if best and _headline_matches(best, claim, stage):
            return best
    return picked


def _headline_matches(runs: Sequence[ParsedRun], claim: Claim, stage: str) -> bool:
    value, unit = headline(claim)
    values = [_value(r, stage, unit) for r in runs]
    if not runs or None in values:
        return False
    return matches(fmean(values), value, min(r.stage(stage).bpb_digits for r in runs))


def _mean_of_claimed(claim: Claim) -> bool:
    """The headline is the mean of the per-seed values as submission.json rounds them (each shown by its log):
    1.08563 from five 5-digit values whose unrounded mean is 1.0856248."""
    value, unit = headline(claim)
    per = [sc.val_bpb if unit == "bpb" else sc.val_loss for sc in claim.seeds.values()]
    if value is None or not per or None in per:
        return False
    return matches(float(sum(per) / len(per)), value, max(decimals(str(v)) for v in per))


def headline_seed(claim: Claim) -> int | None:
    """The seed whose claimed val_bpb the headline repeats, when the headline is one run's score and the
    claim lists several (the best seed reported as the result)."""
    if claim.val_bpb is None or len(claim.seeds) < 2 or _mean_of_claimed(claim):
        return None
    return next((s for s, sc in sorted(claim.seeds.items())
                 if sc.val_bpb is not None and matches(float(sc.val_bpb), claim.val_bpb)), None)


def _best_matching(have: list[ParsedRun], claim: Claim | None, stage: str) -> list[ParsedRun]:
    if headline(claim)[0] is None or _headline_matches(have, claim, stage):
        return have
    ranked = sorted(have, key=lambda r: r.stage(stage).bpb)
    for k in range(len(ranked) - 1, 0, -1):
        if _headline_matches(ranked[:k], claim, stage):
            return ranked[:k]
    # early records claim one run's score (not the best) and add other runs as evidence
    single = [r for r in have if _headline_matches([r], claim, stage)]
    return single[:1] or have


def _stage_score(runs: Sequence[ParsedRun], claim: Claim, stage: str) -> tuple[int, int, float | None]:
    """(values matched, values claimed, mean val_bpb of the counted runs) for one candidate stage."""
    picked = _pick_runs(runs, claim, stage)
    hit = total = 0
    for seed, sc in claim.seeds.items():
        if sc.val_bpb is None and sc.val_loss is None:
            continue
        total += 1
        hit += any(shows(r, stage, sc.val_bpb, sc.val_loss) for r in runs_of_seed(picked, seed))
    if headline(claim)[0] is not None:
        total += 1
        hit += _headline_matches(picked, claim, stage) or (hit == total - 1 and (
            _mean_of_claimed(claim) or headline_seed(claim) is not None))
    return hit, total, fmean(r.stage(stage).bpb for r in picked) if picked else None


def match_stage(runs: Sequence[ParsedRun], claim: Claim) -> tuple[str | None, bool, str | None]:
    """The stage whose per-run values match the claim at its printed digits: (stage, supported, closest).

    Unsupported: the stage matching the most claimed values, else none; `closest` says which stage's
    mean val_bpb comes nearest the claimed headline."""
    best: tuple[int, str] | None = None
    near: tuple[float, str, float] | None = None
    for stage in _candidates(runs):
        hit, total, mean = _stage_score(runs, claim, stage)
        if total and hit == total:
            return _original(runs, claim, stage), True, None
        if hit and (best is None or hit > best[0]):
            best = (hit, stage)
        if mean is not None and claim.val_bpb is not None and (near is None or abs(mean - float(claim.val_bpb)) < near[0]):
            near = (abs(mean - float(claim.val_bpb)), stage, mean)
    closest = f"`{near[1]}` mean {near[2]:.6f}" if near else None
    if best is not None:
        return best[1], False, f"`{best[1]}` matches {best[0]} claimed value(s)" + (f"; {closest}" if closest else "")
    return None, False, closest


def _first_line(runs: Sequence[ParsedRun], stage: str) -> int:
    return min(r.stage(stage).line for r in runs if r.stage(stage) is not None)


def _original(runs: Sequence[ParsedRun], claim: Claim, stage: str) -> str:
    """Of the stages printing the same per-run scores as `stage`, the first printed: a trailing `final_*`
    line that repeats another condition's score (review-practice.md) is a copy, not the condition."""
    picked = _pick_runs(runs, claim, stage)
    same = [s for s in _candidates(runs) if _pick_runs(runs, claim, s) == picked
            and all(r.stage(s) is not None and r.stage(s).bpb == r.stage(stage).bpb
                    and r.stage(s).loss == r.stage(stage).loss for r in picked)]
    return min(same, key=lambda s: _first_line(picked, s)) if picked else stage


def _default_stage(runs: Sequence[ParsedRun]) -> str | None:
    picks = [canonical_stage(s.name) for r in runs if (s := r.default_stage()) is not None]
    # the most common; a tie goes to the first in the logs' order (a set's order changed with the hash seed)
    return max(dict.fromkeys(picks), key=picks.count) if picks else None


# --------------------------------------------------------------------------- loading


def claim_file(files: FolderFiles) -> str | None:
    """The folder's claim: submission.json, else the one `submission*.json` at its top (`submission_ternary.json`)."""
    top = [p for p in files.paths() if "/" not in p and p.startswith("submission") and p.endswith(".json")]
    if "submission.json" in top:
        return "submission.json"
    return top[0] if len(top) == 1 else None


def read_claim(files: FolderFiles, readme: str) -> tuple[Claim | None, list[str]]:
    """submission.json's claim, or the README's stated result when the file cannot be parsed or claims no
    number; the second item says what went wrong, for the record's flags."""
    claim, problems = None, []
    name = claim_file(files)
    if name is not None:
        try:
            claim = read_claim_bytes(files.read(name), f"{files.label}/{name}")
        except DataError as exc:  # a finding of this record, not the end of an audit
            problems.append(str(exc))
    unusable = problems or (claim is not None and not claim.claims_values)
    if unusable and (stated := readme_result(readme)) is not None:
        why = "cannot be parsed" if problems else "claims no score"
        claim = replace(claim or Claim(), val_bpb=stated, headline_key="README")
        claim.warnings.append(f"submission.json {why}: the README's stated result val_bpb {stated} is the claim")
    return claim, problems


def named_runs(claim: Claim | None, readme: str, runs: Sequence[ParsedRun]) -> Claim | None:
    """A claim without per-seed results takes the seeds its README's results table names, when logs have them:
    only those runs are read (the rest are listed, never pooled)."""
    if claim is None or claim.seeds:
        return claim
    named = set(readme_seed_numbers(readme)) & {run_seed(r) for r in runs}
    if not named:
        return claim
    return replace(claim, seeds={s: SeedClaim(seed=s) for s in sorted(named)}, seeds_from="README")


def bpb_under_val_loss(runs: Sequence[ParsedRun], claim: Claim) -> Claim:
    """A claim of val_loss alone whose value is a stage's val_bpb (not its val_loss) claims that val_bpb."""
    if claim.val_bpb is not None or claim.val_loss is None or match_stage(runs, claim)[1]:
        return claim
    as_bpb = replace(claim, val_bpb=claim.val_loss, val_loss=None, headline_key="val_loss",
                     warnings=[*claim.warnings])
    if not match_stage(runs, as_bpb)[1]:
        return claim
    as_bpb.warnings.append(f"submission.json's val_loss {claim.val_loss} is a val_bpb (a stage prints it as "
                           "val_bpb, not as val_loss): read as the claimed val_bpb")
    return as_bpb


# logs that say by name they are not the submission's runs: never pooled into a one-run headline's evidence
_NOT_A_RUN = re.compile(r"ablat|sweep|baseline|debug|prelim|explor|control|_old\b|old_", re.IGNORECASE)


def runs_once(runs: list[ParsedRun]) -> list[ParsedRun]:
    """Each log's content once: a `train.log` that is a byte-identical copy of a seed's log is no second run.
    Of the copies, the one whose file name states its seed stays (then the first)."""
    keep: dict[str, ParsedRun] = {}
    for r in sorted(runs, key=lambda r: seed_from_name(r.file) is None):
        keep.setdefault(r.sha256 or f"#{id(r)}", r)
    kept = {id(r) for r in keep.values()}
    return [r for r in runs if id(r) in kept]


def other_setting(r: ParsedRun, claimed: Sequence[ParsedRun]) -> str | None:
    """How a log's setting differs from the claimed run's (GPUs, wall-clock cap): a development run beside
    the claimed one (2 GPUs for 2400 s beside 8 GPUs for 600 s), never pooled with it; None when the same."""
    for c in claimed[:1]:
        for what, mine, theirs in (("world size", r.world_size, c.world_size),
                                   ("wall-clock cap", r.max_wallclock_seconds, c.max_wallclock_seconds)):
            if mine is not None and theirs is not None and mine != theirs:
                return f"{what} {mine:g}, the claimed run's {theirs:g}"
    return None


def match(rec: RecordCheck, metric: str | None) -> None:
    """The stage under test, whether the claim is shown, and the runs counted."""
    claim = rec.claim
    claims_values = claim is not None and claim.claims_values
    if metric:
        rec.stage, rec.stage_source = canonical_stage(metric), "--metric"
    elif claims_values:
        rec.stage, rec.claim_supported, rec.closest = match_stage(rec.runs, claim)
        rec.stage_source = "submission.json" if claim.headline_key != "README" else "README"
        rec.stage = rec.stage or _default_stage(rec.runs)
    else:
        rec.stage = _default_stage(rec.runs)
    runs = rec.runs = [r.chosen(rec.stage or None) for r in rec.runs]
    once = runs_once(runs)
    rec.counted = [r for r in _pick_runs(once, claim, rec.stage) if r.ok] if rec.stage else []
    rec.headline_runs = list(rec.counted)
    every = [r for r in once if r.ok and (r in rec.counted or not _NOT_A_RUN.search(r.file) and
                                         not other_setting(r, rec.counted))
             and (not claim or not claim.seeds or run_seed(r) in claim.seeds)]
    if claim and not claim.seed_values and len(rec.counted) == 1 and len(every) > 1:
        rec.counted = every  # a one-run headline (early records): every run is the evidence, as their READMEs test
    if metric and claims_values:
        hit, total, _ = _stage_score(runs, claim, rec.stage)
        rec.claim_supported = bool(total) and hit == total



def readme_numbers(rec: RecordCheck) -> ReadmeSeeds:
    """The README's per-seed scores against the logs: each shown by some stage (val_bpb or val_loss, at the
    README's digits) of a log of that seed? Seeds without a log are left to the seed flags."""
    shown, missing = 0, []
    for seed, nums in sorted(readme_seed_numbers(rec.readme).items()):
        logs = runs_of_seed(rec.runs, seed)
        for n in nums if logs else []:
            stages = [st for r in logs for st in r.stages.values()]
            if any(matches(st.bpb, n, st.bpb_digits) or matches(st.loss, n, st.bpb_digits) for st in stages):
                shown += 1
            else:
                missing.append(f"seed {seed} {n}")
    return ReadmeSeeds(shown, shown + len(missing), tuple(missing))


def companion(rec: RecordCheck, r: ParsedRun) -> bool:
    """A log without the claimed stage beside a counted log of its seed (a separate train or eval log)."""
    return not r.ok and bool(r.stages) and any(run_seed(c) == run_seed(r) for c in rec.counted)


def not_claimed_file(rec: RecordCheck, r: ParsedRun) -> bool:
    """A file beside the claimed runs that holds no run (a summary, a crashed attempt)."""
    return bool(r.error and rec.claim_supported and r not in rec.counted and not companion(rec, r))
