"""Check one record folder: do its logs show what submission.json claims, and does it beat the one before it?

API (stable; the rerun side builds on it):

    check_record(folder, *, previous=None, threshold=None, metric=None, margin_nats=0.005,
                 alpha=0.01, progression_alpha=0.25, logs=None) -> dict

returns the content of record.json. `folder` is the claim folder (its submission.json and,
unless `logs` is given, every train log under it, recursively); `logs=[...]` checks those log
files against the folder's claim instead (a rerun's logs against the submission). `previous`
is another record folder (or a `RecordCheck`). Keys of the dict: record, folder, date, n, mean,
std, claimed_bpb, claimed_val_loss, claim_supported, stage, stage_source, runs (one dict per
log: file, seed, world_size, steps, train_time_ms, eval_time_ms, total_eval_time_ms,
total_bytes, stage, val_loss, val_bpb, counted, error), flags ({severity, run, text}),
previous, p_previous (one-sided Welch, no margin), p_previous_margin (0.005 nats in bpb),
margin_bpb, holds_practice (p_previous < progression_alpha), holds_rule (p_previous_margin <
alpha), threshold, p_threshold, holds_threshold, runs_needed, stages (each log's every stage: val_loss,
val_bpb, eval_time_ms), verdict.

Lower level: `load_record(folder, logs=None, metric=None) -> RecordCheck` reads and matches
once; `compare(record, previous, ...)` adds the statistics (the audit uses both).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from decimal import Decimal
from pathlib import Path, PurePosixPath
from statistics import fmean, stdev
from typing import Any

from pgolf import stats as st
from pgolf.errors import DataError
from pgolf.review import flags as fl
from pgolf.review.bytecount import stage_bytes
from pgolf.review.claim import (
    Claim,
    SeedClaim,
    folder_date,
    matches,
    read_claim_bytes,
    readme_p_values,
    readme_result,
    readme_seed_numbers,
    readme_threshold,
)
from pgolf.review.evidence import evidence_flags
from pgolf.review.flags import Flag
from pgolf.review.reader import (
    ParsedRun,
    canonical_stage,
    decimals,
    read_log_file_runs,
    read_log_runs,
    with_hash,
)
from pgolf.review.source import DirFolder, FolderFiles, read_text

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
    readme_seeds: dict[str, Any] = field(default_factory=dict)  # readme_numbers(), computed once
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


def _read_runs(files: FolderFiles, rel: str) -> list[ParsedRun]:
    """The runs of one log of the folder; a log that cannot be read is a run with its error, not the end of
    a review."""
    where = str(files.root / rel) if isinstance(files, DirFolder) else rel
    try:
        data = files.read(rel)
    except DataError as exc:
        return [ParsedRun(file=where, error=str(exc))]
    return with_hash(read_log_runs(data.decode("utf-8", errors="replace"), file=where), data)


def _is_train_log(r: ParsedRun) -> bool:
    return bool(r.stages or r.steps is not None or r.world_size is not None or r.hyperparameters)


def run_seed(r: ParsedRun) -> int | None:
    return r.seed if r.seed is not None else fl.seed_from_name(r.file)


def runs_of_seed(runs: Sequence[ParsedRun], seed: int) -> list[ParsedRun]:
    """The logs of a claimed seed: by the seed they print, else by the seed their file name states."""
    return [r for r in runs if run_seed(r) == seed] or [r for r in runs if fl.seed_from_name(r.file) == seed]


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


def _shows(r: ParsedRun, stage: str, bpb: Decimal | None, loss: Decimal | None) -> bool:
    """Does the run's stage show a claimed value (val_bpb, else val_loss) at the printed digits?"""
    st = r.stage(stage)
    if bpb is not None:
        return matches(st.bpb, bpb, st.bpb_digits)
    return loss is not None and matches(st.loss, loss, st.bpb_digits)


def _headline(claim: Claim | None) -> tuple[Decimal | None, str]:
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
        good = [r for r in same if _shows(r, stage, sc.val_bpb, sc.val_loss)]
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
    value, unit = _headline(claim)
    values = [_value(r, stage, unit) for r in runs]
    if not runs or None in values:
        return False
    return matches(fmean(values), value, min(r.stage(stage).bpb_digits for r in runs))


def _mean_of_claimed(claim: Claim) -> bool:
    """The headline is the mean of the per-seed values as submission.json rounds them (each shown by its log):
    1.08563 from five 5-digit values whose unrounded mean is 1.0856248."""
    value, unit = _headline(claim)
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
    if _headline(claim)[0] is None or _headline_matches(have, claim, stage):
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
        hit += any(_shows(r, stage, sc.val_bpb, sc.val_loss) for r in runs_of_seed(picked, seed))
    if _headline(claim)[0] is not None:
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
    return max(set(picks), key=picks.count) if picks else None


# --------------------------------------------------------------------------- loading


def claim_file(files: FolderFiles) -> str | None:
    """The folder's claim: submission.json, else the one `submission*.json` at its top (`submission_ternary.json`)."""
    top = [p for p in files.paths() if "/" not in p and p.startswith("submission") and p.endswith(".json")]
    if "submission.json" in top:
        return "submission.json"
    return top[0] if len(top) == 1 else None


def _read_claim(files: FolderFiles, readme: str) -> tuple[Claim | None, list[str]]:
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


def _named_runs(claim: Claim | None, readme: str, runs: Sequence[ParsedRun]) -> Claim | None:
    """A claim without per-seed results takes the seeds its README's results table names, when logs have them:
    only those runs are read (the rest are listed, never pooled)."""
    if claim is None or claim.seeds:
        return claim
    named = set(readme_seed_numbers(readme)) & {run_seed(r) for r in runs}
    if not named:
        return claim
    return replace(claim, seeds={s: SeedClaim(seed=s) for s in sorted(named)}, seeds_from="README")


def _bpb_under_val_loss(runs: Sequence[ParsedRun], claim: Claim) -> Claim:
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


def load_record(folder: str | Path | FolderFiles, logs: Sequence[str | Path] | None = None,
                metric: str | None = None) -> RecordCheck:
    """Read a record folder (a path or FolderFiles; or `logs` against its claim) and find the claimed stage."""
    files = as_files(folder)
    readme = read_text(files, "README.md") or ""
    claim, problems = _read_claim(files, readme)
    found, sidecars = find_logs(files)
    read = [r for p in logs for r in read_log_file_runs(p)] if logs is not None else \
        [r for rel in found for r in _read_runs(files, rel)]
    runs = [r for r in read if _is_train_log(r)]
    claim = _named_runs(claim, readme, runs)
    if claim is not None and claim.claims_values:
        claim = _bpb_under_val_loss(runs, claim)
    rec = RecordCheck(folder=files.label, name=files.name, claim=claim, runs=runs,
                      date=(claim.date if claim and claim.date else None) or folder_date(files.name),
                      ignored=[r.file for r in read if not _is_train_log(r)], sidecars=sidecars,
                      problems=problems, files=files, readme=readme)
    _match(rec, metric)
    rec.readme_seeds = readme_numbers(rec)
    rec.flags = record_flags(rec)
    return rec


def _match(rec: RecordCheck, metric: str | None) -> None:
    """The stage under test, whether the claim is shown, and the runs counted."""
    claim, runs = rec.claim, rec.runs
    claims_values = claim is not None and claim.claims_values
    if metric:
        rec.stage, rec.stage_source = canonical_stage(metric), "--metric"
    elif claims_values:
        rec.stage, rec.claim_supported, rec.closest = match_stage(runs, claim)
        rec.stage_source = "submission.json" if claim.headline_key != "README" else "README"
        rec.stage = rec.stage or _default_stage(runs)
    else:
        rec.stage = _default_stage(runs)
    for r in runs:
        r.choose(rec.stage) if rec.stage else r.choose(None)
    rec.counted = [r for r in _pick_runs(runs, claim, rec.stage) if r.ok] if rec.stage else []
    rec.headline_runs = list(rec.counted)
    every = [r for r in runs if r.ok and (r in rec.counted or not _NOT_A_RUN.search(r.file))
             and (not claim or not claim.seeds or run_seed(r) in claim.seeds)]
    if claim and not claim.seed_values and len(rec.counted) == 1 and len(every) > 1:
        rec.counted = every  # a one-run headline (early records): every run is the evidence, as their READMEs test
    if metric and claims_values:
        hit, total, _ = _stage_score(runs, claim, rec.stage)
        rec.claim_supported = bool(total) and hit == total


# --------------------------------------------------------------------------- the claim's cross-checks


def _json_flags(rec: RecordCheck) -> list[Flag]:
    """What reading submission.json found: a parse failure, a caveat, non-numbers, a seed listed twice."""
    c = rec.claim
    out = [Flag("warn" if c is not None else "error", "", p + ("" if c is not None else
           "; the logs' default stage is tested")) for p in rec.problems]
    if c is None:
        return out
    out += [Flag("warn", "", w) for w in c.warnings]
    out += [Flag("error", "", f"submission.json's {k} is not a finite number: not a claim; fix it") for k in c.nonfinite]
    out += [Flag("error", "", f"seed {s} is listed more than once in submission.json's per-seed results")
            for s in c.duplicate_seeds]
    return out


def _claim_flags(rec: RecordCheck) -> list[Flag]:
    c, out = rec.claim, _json_flags(rec)
    if c is None and rec.problems:
        return out
    if c is None:
        return [Flag("warn", "", "no submission.json: nothing claimed to check; the logs' default stage is tested")]
    if rec.claim_supported is False:
        value, unit = _headline(c)
        shown = (f"{c.headline_key} {value}" if unit == "bpb" else f"val_loss {value}") if value is not None \
            else "per-seed values"
        out.append(Flag("error", "", f"claimed {shown}: no stage of the logs shows it at its printed digits"
                                     + (f" (closest: {rec.closest})" if rec.closest else "") + "; claim unsupported"))
    logged = {run_seed(r) for r in rec.runs} | {fl.seed_from_name(r.file) for r in rec.runs}
    for seed in (s for s in c.seeds if s not in logged):
        out.append(Flag("error", "", f"seed {seed} is claimed in {c.seeds_from} but no log has that seed"))
    if c.seeds:
        out += [f for r in rec.runs for f in _seed_flags(rec, r)]
    return out + _bytes_flags(rec)


def _seed_flags(rec: RecordCheck, r: ParsedRun) -> list[Flag]:
    """One log against the claim's seeds: mismatch, selection, a second log of a seed, a per-seed value."""
    c, seed, named = rec.claim, run_seed(r), fl.seed_from_name(r.file)
    claimed = ", ".join(map(str, sorted(c.seeds)))
    if seed not in c.seeds:
        if named in c.seeds and named != seed:
            return [Flag("error", r.name, f"seed mismatch: the log prints seed {seed}, its file name and "
                                          f"submission.json say {named}")]
        return [Flag("warn", r.name, f"the log's seed {seed} is not among submission.json's seeds ({claimed}): "
                                     "more logs than claimed runs (selection?)")]
    if r not in rec.counted:
        return [Flag("warn", r.name, f"a second log of seed {seed}, not counted: more logs than claimed runs")] \
            if r.ok else []
    st, sc = r.stage(rec.stage) if rec.stage else None, c.seeds[seed]
    if named in c.seeds and named != seed and st is not None and _shows(r, rec.stage, c.seeds[named].val_bpb,
                                                                           c.seeds[named].val_loss):
        return []  # counted as its file name's seed, whose claim it shows: the mismatch is flagged once
    if sc.val_bpb is not None and st is not None and not matches(st.bpb, sc.val_bpb, st.bpb_digits):
        return [Flag("error", r.name, f"seed {seed}: submission.json claims val_bpb {sc.val_bpb}, "
                                      f"the log's `{st.name}` shows {st.bpb}")]
    return []


def _bytes_flags(rec: RecordCheck) -> list[Flag]:
    c, out = rec.claim, []
    totals = [t for r in rec.counted if (t := r.artifact_total(c.bytes_code)) is not None]
    if c.bytes_total is not None and c.bytes_total > fl.ARTIFACT_LIMIT_BYTES:
        out.append(Flag("error", "", f"submission.json bytes_total {c.bytes_total:,} is over {fl.ARTIFACT_LIMIT_BYTES:,}"))
    if c.bytes_total is not None and totals and c.bytes_total < max(totals):
        models = {r.model_bytes for r in rec.counted}
        why = " (it is the model alone: the code is left out)" if c.bytes_total in models else ""
        over = max(totals) > fl.ARTIFACT_LIMIT_BYTES
        out.append(Flag("error" if over else "warn", "", f"submission.json bytes_total {c.bytes_total:,} is below "
                        f"the logs' total {max(totals):,} with code counted{why}"))
    for seed, sc in c.seeds.items():
        if sc.artifact_bytes is not None and sc.artifact_bytes > fl.ARTIFACT_LIMIT_BYTES:
            out.append(Flag("error", "", f"seed {seed}: claimed artifact_bytes {sc.artifact_bytes:,} is over the cap"))
    return out


def readme_numbers(rec: RecordCheck) -> dict[str, Any]:
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
    return {"shown": shown, "total": shown + len(missing), "missing": missing}


def _readme_flags(rec: RecordCheck) -> list[Flag]:
    missing = rec.readme_seeds["missing"]
    return [Flag("warn", "", f"README per-seed numbers no stage of the seed's log shows: {', '.join(missing)}")] \
        if missing else []


def _companion(rec: RecordCheck, r: ParsedRun) -> bool:
    """A log without the claimed stage beside a counted log of its seed (a separate train or eval log)."""
    return not r.ok and bool(r.stages) and any(run_seed(c) == run_seed(r) for c in rec.counted)


def record_flags(rec: RecordCheck) -> list[Flag]:
    label = fl.labels(rec.runs)
    code = rec.claim.bytes_code if rec.claim else None
    out: list[Flag] = []
    for r in rec.runs:
        if r.error and rec.claim_supported and r not in rec.counted and not _companion(rec, r):
            # a file beside the claimed runs that holds no run (a summary, a crashed attempt): noted, no error
            out.append(Flag("warn", label[id(r)], f"{r.error}; not a claimed run"))
        elif _companion(rec, r):
            out.append(Flag("warn", label[id(r)], f"no `{rec.stage}` line: a companion log of seed {run_seed(r)}, "
                                                   "checked for the rules, not counted"))
            out += fl.run_flags(replace(r, error=None), label[id(r)], code)
        else:
            out += fl.run_flags(r, label[id(r)], code)
    out += fl.set_flags(rec.counted)
    ranked = [r for r in rec.runs if r.ok]
    head = rec.headline_runs
    if rec.claim and not rec.claim.seeds and rec.claim_supported and 0 < len(head) < len(ranked):
        if len(head) > 1:
            out.append(Flag("warn", "", f"the headline is the mean of the best {len(head)} of {len(ranked)} "
                                        "logs: runs picked after the fact?"))
        else:
            which = "the best" if head[0].val_bpb == min(r.val_bpb for r in ranked) else "one"
            out.append(Flag("warn", "", f"the headline is {which} run's score ({head[0].name}), not the mean of "
                                        f"the {len(ranked)} logs; all {len(rec.counted)} are tested"))
    seed = headline_seed(rec.claim) if rec.claim and rec.claim_supported else None
    if seed is not None and rec.mean is not None:
        out.append(Flag("warn", "", f"the headline {rec.claim.val_bpb} is seed {seed}'s score, not the mean of "
                                    f"the {len(rec.counted)} claimed runs ({rec.mean:.6f}); the mean is tested"))
    if rec.files is not None:
        out += evidence_flags(rec.runs, rec.counted, rec.files)
    return out + _claim_flags(rec) + _readme_flags(rec)


# --------------------------------------------------------------------------- statistics and the dict


@dataclass(frozen=True)
class PreviousTest:
    """A record against the previous one: without margin (the practice) and with it (the written rule)."""

    previous: str | None = None
    previous_n: int | None = None
    previous_mean: float | None = None
    p_previous: float | None = None
    p_previous_margin: float | None = None
    previous_method: str | None = None  # welch, or one-sample against a one-run previous record
    holds_practice: bool | None = None
    holds_rule: bool | None = None
    previous_error: str | None = None  # why a test could not run


@dataclass(frozen=True)
class ThresholdTest:
    threshold: float | None = None
    threshold_source: str | None = None  # --threshold, README
    p_threshold: float | None = None
    holds_threshold: bool | None = None
    threshold_error: str | None = None


@dataclass(frozen=True)
class Comparison:
    """The statistics of one record (record.json's numbers)."""

    n: int
    mean: float | None
    std: float | None
    margin_nats: float
    alpha: float
    progression_alpha: float
    margin_bpb: float | None
    bpb_per_nat: float | None
    against: PreviousTest
    vs_threshold: ThresholdTest
    runs_needed: int | None
    runs_needed_bound: float | None

    def flat(self) -> dict[str, Any]:
        """One level of keys, as record.json and records.csv have them."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("against", "vs_threshold")}
        return {**out, **asdict(self.against), **asdict(self.vs_threshold)}


def _against(bpb: list[float], previous: RecordCheck, margin_bpb: float | None, why_no_margin: str | None,
             alpha: float, progression_alpha: float) -> PreviousTest:
    plain, why_p = st.attempt(st.progression_test, bpb, previous.values, 0.0)
    margin, why_m = (st.attempt(st.progression_test, bpb, previous.values, margin_bpb) if margin_bpb is not None
                     else (None, f"no margin in bpb ({why_no_margin})"))
    return PreviousTest(previous.name, len(previous.values), previous.mean, plain.p_value if plain else None,
                        margin.p_value if margin else None, plain.method if plain else None,
                        bool(plain.holds(progression_alpha)) if plain else False,
                        bool(margin.holds(alpha)) if margin else False, why_p or why_m)


def _vs_threshold(bpb: list[float], threshold: float | None, source: str | None, alpha: float) -> ThresholdTest:
    if threshold is None:
        return ThresholdTest()
    one, why = st.attempt(st.one_sample_t, bpb, threshold, "less")
    return ThresholdTest(threshold, source, one.p_value if one else None, bool(one.holds(alpha)) if one else False,
                         why)


def compare(rec: RecordCheck, previous: RecordCheck | None = None, *, threshold: float | None = None,
            threshold_source: str | None = None, margin_nats: float = 0.005, alpha: float = 0.01,
            progression_alpha: float = 0.25) -> Comparison:
    """The statistics of one record: against `previous` (no margin and with the margin in bpb), the threshold,
    and the runs needed for 80% power against the bound it must beat."""
    bpb = rec.values
    loss = [r.val_loss for r in rec.counted if r.val_loss is not None and r.val_bpb is not None]
    conv, why = st.attempt(st.nats_margin_to_bpb, margin_nats, loss, bpb) if len(loss) == len(bpb) else (None, "no val_loss")
    margin_bpb = conv.margin_bpb if conv else None
    against = _against(bpb, previous, margin_bpb, why, alpha, progression_alpha) if previous else PreviousTest()
    bound = threshold if threshold is not None else (
        previous.mean - (margin_bpb or 0.0) if previous is not None and previous.mean else None)
    power, _ = st.attempt(st.power_one_sample, bpb, bound, alpha) if bound is not None else (None, None)
    return Comparison(len(bpb), rec.mean, stdev(bpb) if len(bpb) >= 2 else None, margin_nats, alpha,
                      progression_alpha, margin_bpb, conv.bpb_per_nat if conv else None, against,
                      _vs_threshold(bpb, threshold, threshold_source, alpha), power.n_for_power if power else None,
                      bound)


def run_rows(rec: RecordCheck) -> list[dict[str, Any]]:
    """One dict per log (runs.csv and record.json)."""
    counted = {id(r) for r in rec.counted}
    code = rec.claim.bytes_code if rec.claim else None
    label = fl.labels(rec.runs)
    return [{"record": rec.name, "part": r.part, "implied_val_bytes": _implied(r),
             "flags": "; ".join(f"{f.severity}: {f.text}" for f in rec.flags if f.run == label[id(r)]), "file": str(Path(r.file).relative_to(rec.folder)) if _inside(r.file, rec.folder)
             else r.file, "seed": r.seed, "seed_in_name": fl.seed_from_name(r.file), "world_size": r.world_size,
             "steps": r.steps, "train_time_ms": r.train_time_ms, "stage": r.metric, "val_loss": r.val_loss,
             "val_bpb": r.val_bpb, "eval_time_ms": r.eval_time_ms, "total_eval_time_ms": r.total_eval_time_ms,
             "total_bytes": r.artifact_total(code), "model_bytes": r.model_bytes, "code_bytes": r.code_bytes,
             "artifact_production_s": r.artifact_production_s, "train_shards": r.train_shards,
             "val_tokens": r.val_tokens, "counted": id(r) in counted, "error": r.error} for r in rec.runs]


def _implied(r: ParsedRun) -> float | None:
    """The validation bytes the run's stage under test implies (byte accounting), when it prints val_tokens."""
    return next((b.implied for b in stage_bytes(r) if canonical_stage(b.stage) == canonical_stage(r.metric or "")),
                None)


def _inside(file: str, folder: str) -> bool:
    try:
        Path(file).relative_to(folder)
        return True
    except ValueError:
        return False


def record_dict(rec: RecordCheck, comparison: Comparison) -> dict[str, Any]:
    from pgolf.review.render import verdict_sentence  # rendering imports record, not the other way round

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
        "n_errors": len(fl.errors(rec.flags)), "ignored": rec.ignored, "sidecars": rec.sidecars,
        "readme_p_values": readme_p_values(rec.readme), "readme_seed_numbers": rec.readme_seeds,
        "sha256s": [r.sha256 for r in rec.runs],
    }
    out["verdict"] = verdict_sentence(out)
    return out


def check_record(folder: str | Path, *, previous: str | Path | RecordCheck | None = None,
                 threshold: float | None = None, metric: str | None = None, margin_nats: float = 0.005,
                 alpha: float = 0.01, progression_alpha: float = 0.25,
                 logs: Sequence[str | Path] | None = None) -> dict[str, Any]:
    """Check one record folder (see the module docstring); returns the record.json content."""
    root = Path(folder)
    if not root.is_dir() and logs is None:
        raise DataError(f"record folder {root}: no such folder; give a folder holding submission.json and train logs")
    if isinstance(previous, str | Path) and not Path(previous).is_dir():
        raise DataError(f"--previous {previous}: no such record folder; give a folder holding train logs")
    rec = load_record(root, logs=logs, metric=metric)
    prev = previous if isinstance(previous, RecordCheck) or previous is None else load_record(previous)
    from_readme = readme_threshold(rec.readme) if threshold is None else None
    stats = compare(rec, prev, threshold=threshold if threshold is not None else from_readme,
                    threshold_source="--threshold" if threshold is not None else "README" if from_readme else None,
                    margin_nats=margin_nats, alpha=alpha, progression_alpha=progression_alpha)
    return record_dict(rec, stats)
