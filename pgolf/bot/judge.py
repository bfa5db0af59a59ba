"""The bot's one door into pgolf.review: a PR's record folders judged as `audit --git` judges them.

Everything the bot knows of the reviewer side's internals is in this module; the rest of pgolf.bot
sees only the typed values of `pgolf.bot.model`. The calls into pgolf.review, in order:

- `sources.git.stream(repo, refs="refs/pull/N/head", track=..., main=BASE)`: the stream `audit --git`
  reads, narrowed to one ref: the folders the PR's head adds or changes against its merge base with
  BASE, and BASE's own record folders (each with the PR that merged it). One `git log` of the two
  tips and a `git cat-file --batch-command` for the objects; no other ref is read, unless `others`
  (review-pr --refs) names more: then the stream is audit --git's.
- `judge.stream.judge_stream(src, ProgressionSettings(), track, load)`: audit --git's own judgment: each
  folder read and matched (`judge.record.load_record` over git objects, or main's from `pgolf.bot.cache`),
  the progression rebuilt over BASE's record folders and the PR's (judged copies with `.verdict`; the
  PR's frontier is the record standing on BASE), and the README table at BASE.
- `judge.record.compare`, `judge.record.RecordResult`, `output.rows.run_rows`, `output.page.record_page`:
  the full report; `read.record.claim_file`, `read.names.labels`, `read.names.seed_from_name`.
- `judge.progression._sizes(rec)`: the artifact sizes the size verdict reads.
- Flags: `Flag.rule` (the registered rule's id), `.severity`, `.run`, `.text`, `.check`.
- For the hook: `judge.record.load_record(folder)`, `judge.progression.evidence_problem(sub, settings,
  runs_from="")`.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

from pgolf.bot.cache import RecordCache
from pgolf.bot.fixes import fix_for
from pgolf.bot.model import Finding, FolderReview, PrReview, SeedRow, Standing
from pgolf.errors import DataError
from pgolf.review.judge.progression import (
    ProgressionSettings,
    Submission,
    Verdict,
    _sizes,
    evidence_problem,
)
from pgolf.review.judge.record import RecordResult, compare, load_record
from pgolf.review.judge.stream import judge_stream
from pgolf.review.output.page import record_page
from pgolf.review.output.rows import run_rows
from pgolf.review.read.names import labels, seed_from_name
from pgolf.review.read.record import RecordCheck, claim_file
from pgolf.review.sources.git import DEFAULT_TRACK, stream
from pgolf.review.sources.gitobjects import GitObjects

_JSON_KEY = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:')


@dataclass(frozen=True)
class Judged:
    """A review, the full report page of each folder (file name -> HTML) and what the cache had to say."""

    review: PrReview
    pages: dict[str, str]
    warnings: tuple[str, ...] = ()


def judge_pr(repo: str | os.PathLike[str], pr: int, *, base: str = "main", track: str = DEFAULT_TRACK,
             cache: str | os.PathLike[str] | None = None, others: str | None = None) -> Judged:
    """The record folders PR `pr` adds or changes (refs/pull/N/head), each judged against BASE's standing;
    main's records at BASE read from (and kept in) the cache folder `cache` when given. `others`: a ref
    pattern (refs/pull/*/head) read beside the PR, as audit --git reads the stream: copies and reruns of
    other PRs are found, and the one-step bound counts their evidence; their folders are cached too."""
    start = time.perf_counter()
    ref = f"refs/pull/{pr}/head"
    kept = RecordCache(cache, _commit(repo, base), track) if cache is not None else None
    with stream(repo, refs=(ref, others) if others else ref, track=track, main=base,
                listed=kept.listed if kept else None) as src:
        if src.refs == 0:
            raise DataError(f"--pr {pr}: {repo} has no ref {ref}; fetch it first: "
                            f"git fetch origin +pull/{pr}/head:{ref}")
        head = src.objects.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
        j = judge_stream(src, ProgressionSettings(), track, kept.loader(src, ref) if kept else None)
        base_sha, deleted = src.main, tuple(path for who, path in src.deleted if who == pr)
        notes, judged_head = tuple(src.warnings), ref not in src.unjudged
    if kept is not None:
        kept.save()
    judged = [(s, s.verdict) for s in j.submissions]
    best = min(j.table, key=lambda r: r.score, default=None)
    by_key = {s.key: s for s, _v in judged}
    folders, pages = [], {}
    for i, (sub, v) in enumerate((s, v) for s, v in judged if s.ref == ref):
        front = by_key.get(v.frontier) if v.frontier else None
        page = f"report-{i + 1}.html"
        pages[page] = record_page(RecordResult(sub.record, compare(sub.record, front.record if front else None)))
        folders.append(_folder_review(sub, v, front, page))
    # a tree the clone lacks (sources.git names the PR and the object) is said, never read as no folder
    review = PrReview(str(repo), pr, head, base_sha, f"{best.key} {best.score}" if best else None, tuple(folders),
                      deleted, time.perf_counter() - start, notes, judged_head)
    return Judged(review, pages, (*notes, *(kept.warnings if kept else ())))


def _commit(repo: str | os.PathLike[str], rev: str) -> str:
    """`rev`'s commit id (DataError naming the repository when git cannot read it): the cache's key."""
    with GitObjects(repo) as objects:
        return objects.git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()


def judge_folder(folder: str | Path, repo_path: str) -> FolderReview:
    """One record folder on disk checked as check-record reads it, with the evidence checks of the judgment
    (the hook: no standing record to beat, three runs required)."""
    rec = load_record(Path(folder))
    sub = Submission(None, "staged", "", rec.date or "", repo_path, rec)
    problem = evidence_problem(sub, ProgressionSettings(), runs_from="")
    verdict = problem or Verdict("accepted", "the evidence checks pass (no standing record compared here)")
    return _folder_review(sub, verdict, None, None)


# --------------------------------------------------------------------------- conversion to the bot's types


def _folder_review(sub: Submission, v: Verdict, front: Submission | None, page: str | None) -> FolderReview:
    rec = sub.record
    seeds = _seed_rows(rec, sub.folder)
    claimed = rec.claim.val_bpb if rec.claim else None
    sizes = _sizes(rec)  # what the size verdict reads: logged totals and claimed byte counts
    standing = Standing(front.key, front.pr, fmean(front.values), len(front.values)) if front and front.values \
        else None
    return FolderReview(sub.folder, v.status, v.reasons, str(claimed) if claimed is not None else None, rec.stage,
                        rec.mean, len(sub.values), ProgressionSettings().size_cap, max(sizes) if sizes else None,
                        tuple(seeds), standing, v.p_frontier, v.p_frontier_margin, v.method,
                        tuple(_findings(rec, sub.folder)), page)


def _rel(rec: RecordCheck, file: str) -> str:
    """A log's path inside its record folder (a folder on disk names it by its full path)."""
    try:
        return str(Path(file).relative_to(rec.folder))
    except ValueError:
        return file


def _seed_rows(rec: RecordCheck, folder: str) -> list[SeedRow]:
    rows, shown = [], set()
    claimed = rec.claim.seeds if rec.claim else {}
    for r, row in zip(rec.runs, run_rows(rec), strict=True):
        if not row["counted"]:
            continue
        seed = r.seed if r.seed is not None else seed_from_name(r.file)
        shown.add(seed)
        sc = claimed.get(seed)
        rows.append(SeedRow(str(seed) if seed is not None else "?", str(sc.val_bpb) if sc and sc.val_bpb is not None
                            else None, row["val_bpb"], row["total_bytes"], row["implied_val_bytes"],
                            row["train_time_ms"], row["total_eval_time_ms"] or row["eval_time_ms"],
                            f"{folder}/{_rel(rec, r.file)}"))
    for seed, sc in sorted(claimed.items()):
        if seed not in shown:  # claimed, no log counted for it
            rows.append(SeedRow(str(seed), str(sc.val_bpb) if sc.val_bpb is not None else None, None,
                                sc.artifact_bytes, None, None, None, None))
    return rows


def _findings(rec: RecordCheck, folder: str) -> list[Finding]:
    names = labels(rec.runs)
    by_label = {names[id(r)]: r for r in rec.runs}
    claim_name = claim_file(rec.files) if rec.files is not None else None
    claim_text = _text(rec, claim_name)
    out = []
    for f in sorted(rec.flags, key=lambda f: (f.severity != "error", f.run)):
        rule = f.rule  # the registered rule's id
        run = by_label.get(f.run)
        if run is not None:
            where = rec.stage and run.stage(rec.stage)
            file, line = f"{folder}/{_rel(rec, run.file)}", (where.line if where else None)
        elif (named := _file_named(rec, f.text)) is not None:
            file, line = f"{folder}/{named}", None
        elif claim_name is not None:
            file, line = f"{folder}/{claim_name}", _key_line(claim_text, f.text)
        else:
            file, line = folder, None
        out.append(Finding(rule, f.severity, file, line, f.text, fix_for(rule)))
    return out


def _file_named(rec: RecordCheck, finding: str) -> str | None:
    """The file of the folder a record-level finding is about, when its text names one (`train_gpt.py`)."""
    files = [p for p in (rec.files.paths() if rec.files is not None else []) if "/" not in p
             and not p.startswith("submission") and p in finding]
    return min(files, key=finding.index) if files else None


def _text(rec: RecordCheck, rel: str | None) -> str:
    if rel is None or rec.files is None:
        return ""
    try:
        return rec.files.read(rel).decode("utf-8", "replace")
    except DataError:
        return ""


def _key_line(json_text: str, finding: str) -> int | None:
    """The line of submission.json holding the first key the finding names (`bytes_total`, `val_bpb`)."""
    lines = json_text.splitlines()
    keys = {m.group(1): i + 1 for i in reversed(range(len(lines))) for m in _JSON_KEY.finditer(lines[i])}
    named = [w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", finding) if w in keys]
    return keys[named[0]] if named else None
