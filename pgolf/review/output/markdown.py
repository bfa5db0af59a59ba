"""Words and tables of the reviewer side: the verdict sentence, the runs table, record and audit reports."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pgolf import stats as st
from pgolf.review.judge.published import DiffRow
from pgolf.review.judge.record import RecordResult
from pgolf.review.judge.stream import StreamAudit
from pgolf.review.model import Flag
from pgolf.review.output.columns import MD_RECORDS, MD_RUNS, Column
from pgolf.review.output.views import (
    RunLine,
    StreamSummary,
    claim_text,
    claimed_p_value,
    n_errors,
    run_lines,
    unread,
)
from pgolf.review.read.claim import readme_p_values
from pgolf.review.settings import DEFAULTS, ReviewSettings

T = TypeVar("T")


def _fmt(v: Any, spec: str = "") -> str:
    if v is None or v == "":
        return "-"
    return format(v, spec) if spec else str(v)


def _p(p: float | None) -> str:
    return "-" if p is None else st.format_p(p)


def verdict_holds(d: Mapping[str, object]) -> bool:
    """check-record's exit status: the claim is not refuted by the logs (shown, or nothing claimed) and, when a
    previous record was given, the practice's test against it holds, and no file of the folder was left out.
    False is the verdict "does not hold"."""
    if d.get("claim_supported") is False or d.get("unread"):
        return False  # refuted, or judged without files it could not read
    return not d.get("previous") or d.get("holds_practice") is True


def verdict_sentence(result: RecordResult) -> str:
    """One sentence: is the claim shown, does it beat the previous record, how many error flags."""
    rec, stats = result.record, result.stats
    claim, a = claim_text(rec) or "per seed", stats.against
    parts = [f"claim {claim} is shown by `{rec.stage}`" if rec.claim_supported is True
             else f"claim {claim} is NOT shown by any stage of the logs" if rec.claim_supported is False
             else f"no claim to match; tested `{rec.stage}`" if rec.stage  # none when no log could be read
             else "no claim to match and no stage to test"]
    if stats.mean is not None:
        parts[-1] += f" (n = {stats.n}, mean {stats.mean:.5f})"
    if a.previous:
        if a.p_previous is None:
            parts.append(f"cannot test against {a.previous} ({a.previous_error})")
        else:
            parts.append(f"against {a.previous}: p = {_p(a.p_previous)} without margin "
                         f"({'holds' if a.holds_practice else 'does not hold'} at {stats.settings.practice_alpha:g}), "
                         f"p = {_p(a.p_previous_margin)} with the {stats.settings.margin_nats:g}-nat margin "
                         f"({'holds' if a.holds_rule else 'does not hold'} at {stats.settings.rule_alpha:g})")
    t = stats.vs_threshold
    if t.threshold is not None:
        parts.append(f"mean < {t.threshold:g}: p = {_p(t.p_threshold)}" if t.p_threshold is not None
                     else f"cannot test mean < {t.threshold:g}")
    if missed := unread(rec):
        parts.append(f"{len(missed)} file(s) or folder(s) left out (not readable, a link out of the folder, a submodule), "
                     "so the claim is judged without them")
    errors = n_errors(rec)
    parts.append(f"{errors} error flag(s)" if errors else "no error flag")
    return f"{rec.name}: " + "; ".join(parts)


def md_value(v: object, kind: str) -> str:
    """A table cell of report.md; a Column's kind says how (yes/no and dates as printed)."""
    if v is None or v == "":
        return "-"
    if kind == "p":
        return _p(v)  # type: ignore[arg-type]
    spec = {"bpb": ".5f", "num": ".8g", "int": ",.0f", "ms": ",.0f"}.get(kind, "")
    return format(v, spec) if spec else str(v)


def md_table(columns: Sequence[Column[T]], rows: Sequence[T]) -> str:
    """A Markdown table of `rows`, one cell per column."""
    head = "| " + " | ".join(c.header for c in columns) + " |\n" + "|---" * len(columns) + "|\n"
    return head + "\n".join("| " + " | ".join(md_value(c.get(r), c.kind) for c in columns) + " |" for r in rows)


def runs_table(lines: Sequence[RunLine]) -> str:
    """The runs of a record; a run without a score shows why in its stage cell."""
    stage = [c.name for c in MD_RUNS].index("stage")
    body = []
    for r in lines:
        cells = [md_value(c.get(r), c.kind) for c in MD_RUNS]
        if r.error:
            cells[stage] = f"**{r.error}**"
        body.append("| " + " | ".join(cells) + " |")
    return md_table(MD_RUNS, []) + "\n".join(body) + "\n"


def flags_list(flags: Sequence[Flag]) -> list[str]:
    return [f"- **{f.severity}** {f.run + ': ' if f.run else ''}{f.text}" for f in flags] or ["- none"]


def record_report(result: RecordResult) -> str:
    rec = result.record
    lines = [f"# Record check: {rec.name}", "", f"**Verdict:** {verdict_sentence(result)}.", "",
             f"Claimed stage: `{rec.stage}` (from {rec.stage_source}); date {rec.date or 'unknown'}.", ""]
    lines += ["## Runs", "", runs_table(run_lines(rec)), "## Flags", "", *flags_list(rec.flags), ""]
    lines += ["## Statistics", "", *(f"- {line}" for line in record_statistics(result))]
    if rec.ignored:
        lines += ["", "Files read that are no train log: " + ", ".join(rec.ignored)]
    return "\n".join(lines).rstrip() + "\n"


def record_statistics(result: RecordResult) -> list[str]:
    """The statistics of one record (both rules: the practice without margin, the rule with it), one line each."""
    s, a, t, levels = result.stats, result.stats.against, result.stats.vs_threshold, result.stats.settings
    lines = [f"n = {s.n}, mean val_bpb {_fmt(s.mean, '.6f')}, sample std {_fmt(s.std, '.6f')}",
             f"margin {levels.margin_nats:g} nats = {_fmt(s.margin_bpb, '.6f')} bpb "
             f"(bpb/val_loss {_fmt(s.bpb_per_nat, '.6f')} from these runs)"]
    if a.previous:
        lines += [f"previous {a.previous}: n = {a.previous_n}, mean {_fmt(a.previous_mean, '.6f')}; "
                  f"one-sided {a.previous_method or 'Welch'} test p = {_p(a.p_previous)} (no margin, "
                  f"vs {levels.practice_alpha:g}) and p = {_p(a.p_previous_margin)} (margin, vs {levels.rule_alpha:g})"]
    if t.threshold is not None:
        src = " (the threshold the README tests)" if t.threshold_source == "README" else ""
        lines += [f"one-sample t-test of mean < {t.threshold:g}{src}: p = {_p(t.p_threshold)}"]
    lines += [f"runs needed for 80% power at the observed spread: {_fmt(s.runs_needed)}"]
    claimed_p = claimed_p_value(result.record)
    quoted = [f"submission.json p_value {claimed_p:g}"] if claimed_p is not None else []
    quoted += [f"README p = {p}" for p in readme_p_values(result.record.readme)]
    if quoted:
        lines += [f"quoted: {'; '.join(quoted)} (computed above)"]
    return lines


def audit_report(results: Sequence[RecordResult], seconds: float, figure: str = "frontier.png",
                 settings: ReviewSettings = DEFAULTS) -> str:
    lines = [f"# Leaderboard audit: {len(results)} record folders", "",
             f"Each record against the best-scoring record before it (or --pairs); practice: one-sided Welch p < "
             f"the progression alpha without margin; rule: with the {settings.margin_nats:g}-nat margin at alpha. "
             f"Took {seconds:.1f} s.", "", md_table(MD_RECORDS, results), "", f"![frontier]({figure})", "", "## Flags", ""]
    for r in results:
        if r.record.flags:
            lines += [f"### {r.record.name}", "", *flags_list(r.record.flags), ""]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- audit --git


def md_cell(text: object) -> str:
    """Text from a submission as one Markdown table cell: no pipe, newline, HTML tag or entity of its own. Only
    a `<` that could open a tag and an `&` that could start an entity are escaped: `16,059,704 > 16,000,000`
    reads as written in the .md file."""
    text = _ENTITY.sub("&amp;", str(text))
    return _TAG.sub("&lt;", text).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


_TAG = re.compile(r"<(?=[A-Za-z/!?])")  # `<b>`, `</td>`, `<!--`, `<?xml`: what Markdown renderers pass as HTML
_ENTITY = re.compile(r"&(?=#?\w+;)")  # `&gt;`, `&#60;`


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    lines += ["| " + " | ".join(md_cell(_fmt(c)) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def diff_markdown(rows: Sequence[DiffRow]) -> str:
    both = sum(r.in_table and r.in_rebuild for r in rows)
    lines = ["# The rebuilt leaderboard against the published table", "",
             f"{both} rows in both; {sum(r.in_table and not r.in_rebuild for r in rows)} table rows the "
             f"rebuild does not accept; {sum(r.in_rebuild and not r.in_table for r in rows)} submissions the "
             "rebuild accepts that the table lacks.", "",
             _table(["PR", "folder", "score", "in table", "in rebuild", "listed", "displaced", "reason"],
                    [[r.pr, r.folder.rsplit("/", 1)[-1], r.score, r.in_table, r.in_rebuild, r.listed, r.displaced,
                      r.reason] for r in rows])]
    return "\n".join(lines) + "\n"


def runs_word(n: int) -> str:
    """`Three` runs asked for: the practice's number of runs as the reports' prose writes it."""
    return ("One", "Two", "Three", "Four", "Five")[n - 1] if 1 <= n <= 5 else str(n)


def stream_report(summary: StreamSummary, a: StreamAudit, figure: str = "frontier.png",
                  settings: ReviewSettings = DEFAULTS) -> str:
    """report.md of `audit --git`: what was read, the verdicts, the rebuilt leaderboard, the diff."""
    counts = Counter(StreamAudit.verdict(s).status for s in a.submissions)
    lines = [f"# Audit of the pull-request stream: {summary.submissions} submissions from {summary.refs} refs",
             "", f"Repository {md_cell(summary.repo)} at main {summary.main[:12]}; read in "
             f"{summary.seconds:.1f} s. Claims matched to a stage: {summary.matched} of {summary.claimed} "
             f"folders with a claim and logs. {runs_word(settings.min_runs)} runs asked for from {summary.runs_from}.", "",
             *[f"**Warning:** {md_cell(w)}\n" for w in summary.warnings],
             "## Verdicts", "", _table(["verdict", "submissions"], sorted(counts.items(), key=lambda kv: -kv[1])), "",
             "## The rebuilt leaderboard", "",
             "The accepted submissions, best first. Each beat the record standing when its evidence landed (its "
             f"`previous PR`) at p < {settings.practice_alpha:g} (one-sided Welch on per-seed val_bpb, no margin), or "
             "by its score where a side has one run. The PR-order rebuild is leaderboard_free.csv.", "",
             _table(["rank", "PR", "folder", "mean bpb", "n", "previous PR", "p"],
                    [[r.rank, r.pr, r.folder.rsplit("/", 1)[-1], f"{r.mean_bpb:.5f}", r.n, r.previous_pr,
                      _p(r.p_previous)] for r in a.leaderboard]), "",
             f"![frontier]({figure})", "", diff_markdown(a.diff).replace("# The rebuilt", "## The rebuilt", 1)]
    return "\n".join(lines).rstrip() + "\n"
