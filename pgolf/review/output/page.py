"""The audit and the record checks as one self-contained HTML page each (index.html, report.html).

Everything is rendered by the Jinja2 templates in pgolf/review/output/templates with autoescape on, so a
text from a submission (a folder name, a flag's text) is always text on the page. The tables and
every submission's details are server-rendered; the page's script only sorts, filters and opens
them, from a small JSON of each row's raw values embedded once (escaped for a <script> block).
CSS and script are inline, the figure is inline SVG: the file opens from disk with no network.

API: `audit_page(results, seconds)` (audit RECORDS_DIR), `stream_page(a, summary, results)` (audit --git),
`record_page(result)` (check-record), `loose_page(view)` (check-logs); each takes the typed results.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import jinja2
from markupsafe import Markup, escape

from pgolf import stats as st
from pgolf.review.judge.loose import LooseResult
from pgolf.review.judge.progression import LeaderRow
from pgolf.review.judge.record import RecordResult
from pgolf.review.judge.stream import StreamAudit
from pgolf.review.model import Flag, ParsedRun
from pgolf.review.output.columns import PAGE_RECORDS, PAGE_RUNS, PAGE_SUBMISSIONS, Column
from pgolf.review.output.figure import frontier_plot, frontier_points
from pgolf.review.output.loose import loose_statistics
from pgolf.review.output.markdown import record_statistics, runs_word, verdict_sentence
from pgolf.review.output.views import (
    RunLine,
    StreamSummary,
    claim_text,
    record_index,
    run_lines,
)
from pgolf.review.rules import CHECKS
from pgolf.review.settings import DEFAULTS, ReviewSettings

T = TypeVar("T")
PR_URL = "https://github.com/openai/parameter-golf/pull/{}"
EVIDENCE_CHECKS = tuple(sorted(CHECKS))  # the registry's evidence checks: one section each


@dataclass(frozen=True)
class FlagView:
    severity: str
    run: str
    text: str
    check: str
    numbers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EvidenceView:
    check: str
    errors: int
    warns: int


@dataclass(frozen=True)
class RecordView:
    """What one submission opens to: its runs, flags, statistics and evidence checks."""

    title: str
    verdict: str
    facts: tuple[tuple[str, str], ...]
    runs: tuple[RunLine, ...]
    flags: tuple[FlagView, ...]
    statistics: tuple[str, ...]
    evidence: tuple[EvidenceView, ...]


# --------------------------------------------------------------------------- formatting (template filters)


def cell(value: Any, kind: str) -> str:
    """A value as the page shows it; the raw value stays in the row data for sorting."""
    if value is None or value == "":
        return "–"
    if kind == "p":
        return st.format_p(value)
    if kind == "bpb":
        return f"{value:.5f}"
    if kind == "num":
        return f"{value:.8g}"
    if kind in ("int", "ms"):
        return f"{value:,.0f}"
    if kind == "yes":
        return "yes" if value else "no"
    if kind == "pr":
        return f"#{value}"
    return str(value)


def code_spans(text: str) -> Markup:
    """Escaped text with its `backticked` parts as <code>."""
    return Markup(re.sub(r"`([^`]*)`", r"<code>\1</code>", str(escape(text))))


def script_json(data: Any) -> Markup:
    """JSON safe inside <script>: no `<`, `>`, `&` or line separator can end the block or start a comment."""
    text = json.dumps(st.json_safe(data), separators=(",", ":"), allow_nan=False, sort_keys=True)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return Markup(text)


@functools.cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("pgolf.review.output", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(cell=cell, code=code_spans, script_json=script_json, name=_name)
    env.globals.update(pr_url=PR_URL.format, RUN_COLUMNS=PAGE_RUNS, runs_word=runs_word)
    return env


def render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


# --------------------------------------------------------------------------- one submission's details


def _number_kind(v: object) -> str:
    return "text" if isinstance(v, bool) else "num" if isinstance(v, float) else "int" if isinstance(v, int) else "text"


def flag_views(flags: Sequence[Flag]) -> tuple[FlagView, ...]:
    order = {"error": 0, "warn": 1}
    return tuple(FlagView(f.severity, f.run, f.text, f.check,
                          tuple((k, cell(v, _number_kind(v))) for k, v in sorted(dict(f.numbers).items())))
                 for f in sorted(flags, key=lambda f: order.get(f.severity, 2)))


def evidence_views(flags: Sequence[Flag]) -> tuple[EvidenceView, ...]:
    return tuple(EvidenceView(c, sum(f.check == c and f.severity == "error" for f in flags),
                              sum(f.check == c and f.severity != "error" for f in flags))
                 for c in EVIDENCE_CHECKS)


def record_view(result: RecordResult) -> RecordView:
    """A judged record as the page shows it."""
    rec = result.record
    facts = (("folder", rec.folder), ("claimed stage", f"{rec.stage or '–'} (from {rec.stage_source})"),
             ("claim", claim_text(rec) or "–"), ("date", rec.date or "unknown"))
    if rec.ignored:
        facts += (("not train logs", ", ".join(rec.ignored)),)
    return RecordView(rec.name, verdict_sentence(result), facts, run_lines(rec), flag_views(rec.flags),
                      tuple(record_statistics(result)), evidence_views(rec.flags))


def record_page(result: RecordResult) -> str:
    """report.html of check-record."""
    return render("record.html.j2", title=f"Record check: {result.record.name}", view=record_view(result))


def _loose_line(r: ParsedRun, file: str) -> RunLine:
    """A check-logs run as the runs table shows it: its stage, else why it has none."""
    return RunLine(record="", part=r.part, implied_val_bytes=None, bytes_per_token=None, stage_bytes="", flags="",
                   file=file, seed=r.seed, seed_in_name=None, world_size=r.world_size, steps=r.steps,
                   train_time_ms=r.train_time_ms, stage=r.metric if r.ok else r.error, val_loss=r.val_loss,
                   val_bpb=r.val_bpb, eval_time_ms=r.eval_time_ms, total_eval_time_ms=r.total_eval_time_ms,
                   total_bytes=r.artifact_total(), model_bytes=r.model_bytes, code_bytes=r.code_bytes,
                   artifact_production_s=r.artifact_production_s, train_shards=r.train_shards,
                   val_tokens=r.val_tokens, counted=r.ok, error=r.error)


def loose_view(result: LooseResult) -> RecordView:
    """check-logs' result as the page shows it: the previous runs join the runs."""
    o = result.options
    runs = [_loose_line(r, r.name) for r in result.runs] + [_loose_line(r, f"previous: {r.name}")
                                                            for r in result.previous]
    facts = (("metric", result.metric or "differs between runs"), ("threshold", f"{o.threshold:g}"),
             ("alpha", f"{o.alpha:g}"))
    return RecordView(f"mean val_bpb < {o.threshold:g}", result.verdict, facts, tuple(runs),
                      flag_views(result.flags), tuple(loose_statistics(result)), evidence_views(result.flags))


def loose_page(result: LooseResult) -> str:
    """report.html of check-logs."""
    view = loose_view(result)
    return render("record.html.j2", title=f"Claim check: {view.title}", view=view)


# --------------------------------------------------------------------------- the audit's table of submissions


def _severity(flags: Sequence[Flag]) -> str:
    sev = {f.severity for f in flags}
    return "error" if "error" in sev else "warn" if sev else "none"


AUDIT_COLUMNS = PAGE_RECORDS

STREAM_COLUMNS = PAGE_SUBMISSIONS


@dataclass(frozen=True)
class Table:
    """The submissions table: its rows (each column's raw value, the template shows them) and the script's data
    (the same values, each row's record, verdict and worst flag, to sort and filter by)."""

    columns: tuple[Column, ...]
    rows: list[list[object]]
    severity: list[str]  # each row's worst flag: error, warn, none
    record: list[int]  # each row's record (its details' template)
    verdicts: list[tuple[str, int]]
    severities: list[tuple[str, int]]

    def data(self) -> dict[str, list]:
        verdict = next(i for i, c in enumerate(self.columns) if c.name == "verdict")
        return {"columns": [c.name for c in self.columns], "values": self.rows, "record": self.record,
                "severity": self.severity, "verdict": [r[verdict] for r in self.rows]}


def _table(columns: Sequence[Column[T]], items: Sequence[T], rec: list[int],
           flags: Sequence[Sequence[Flag]]) -> Table:
    rows = [[c.get(x) for c in columns] for x in items]
    sev = [_severity(flags[k]) for k in rec]
    verdict = next(i for i, c in enumerate(columns) if c.name == "verdict")
    return Table(columns, rows, sev, rec, Counter(r[verdict] for r in rows).most_common(),
                 [(s, sev.count(s)) for s in ("error", "warn", "none")])


def audit_page(results: Sequence[RecordResult], seconds: float, settings: ReviewSettings = DEFAULTS) -> str:
    """index.html of `audit RECORDS_DIR`: the progression, the figure, every record."""
    points = frontier_points(results)
    chain = [p for p in points if p.on_chain]
    return render("audit.html.j2", title=f"Leaderboard audit: {len(results)} record folders", mode="records",
                  summary=DirSummary(len(results), seconds), levels=settings, progression=[results[p.index] for p in chain],
                  board=None, diff=None, figure=frontier_plot(points, chain),
                  table=_table(AUDIT_COLUMNS, results, list(range(len(results))), [r.record.flags for r in results]),
                  views=[record_view(r) for r in results])


@dataclass(frozen=True)
class DirSummary:
    records: int
    seconds: float


@dataclass(frozen=True)
class Leader:
    """A row of the rebuilt leaderboard with its submission's date."""

    row: LeaderRow
    date: str | None


def _name(folder: str) -> str:
    return folder.rsplit("/", 1)[-1]


def stream_page(a: StreamAudit, summary: StreamSummary, results: Sequence[RecordResult],
                settings: ReviewSettings = DEFAULTS) -> str:
    """index.html of `audit --git`: the rebuilt leaderboard, the figure, the diff, every submission.
    `results`: one per record, in unique_records' order."""
    rec = record_index(a.submissions)
    where = {(s.pr, s.folder): (s.date, k) for s, k in zip(a.submissions, rec, strict=True)}
    found = [where.get((r.pr, r.folder), (None, None)) for r in a.leaderboard]
    leaders = [Leader(r, date) for r, (date, _) in zip(a.leaderboard, found, strict=True)]
    points = frontier_points(results)
    on_board = {k for _, k in found}
    chain = [p for p in points if p.index in on_board]
    return render("audit.html.j2", title=f"Audit of the pull-request stream: {summary.submissions} submissions",
                  mode="stream", summary=summary, levels=settings, progression=None, board=leaders, diff=a.diff,
                  figure=frontier_plot(points, chain),
                  table=_table(STREAM_COLUMNS, a.submissions, rec, [r.record.flags for r in results]),
                  views=[record_view(r) for r in results])
