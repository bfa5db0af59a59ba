"""The audit and the record checks as one self-contained HTML page each (index.html, report.html).

Everything is rendered by the Jinja2 templates in pgolf/review/output/templates with autoescape on, so a
text from a submission (a folder name, a flag's text) is always text on the page. The tables and
every submission's details are server-rendered; the page's script only sorts, filters and opens
them, from a small JSON of each row's raw values embedded once (escaped for a <script> block).
CSS and script are inline, the figure is inline SVG: the file opens from disk with no network.

API: `audit_page(records, seconds)` (audit RECORDS_DIR), `stream_page(a, summary, subs, records,
board, diff)` (audit --git), `record_page(result)` (check-record), `loose_page(result)` (check-logs).
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
from markupsafe import Markup, escape

from pgolf import stats as st
from pgolf.review.judge.progression import Submission
from pgolf.review.judge.stream import StreamAudit
from pgolf.review.output.figure import frontier_plot, frontier_points
from pgolf.review.output.markdown import loose_statistics, record_statistics
from pgolf.review.read.log import ParsedRun
from pgolf.review.rules import CHECKS

PR_URL = "https://github.com/openai/parameter-golf/pull/{}"
EVIDENCE_CHECKS = tuple(sorted(CHECKS))  # the registry's evidence checks: one section each


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str  # how a value is shown: text, pr, int, bpb, p, yes, ms, date


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
    runs: tuple[dict[str, Any], ...]  # RUN_COLUMNS keys
    flags: tuple[FlagView, ...]
    statistics: tuple[str, ...]
    evidence: tuple[EvidenceView, ...]


RUN_COLUMNS = (Column("file", "run", "text"), Column("seed", "seed", "text"), Column("stage", "stage", "text"),
               Column("val_loss", "val_loss", "num"), Column("val_bpb", "val_bpb", "num"),
               Column("train_time_ms", "train (ms)", "ms"), Column("eval_time_ms", "eval (ms)", "ms"),
               Column("total_eval_time_ms", "eval total (ms)", "ms"), Column("total_bytes", "bytes", "int"),
               Column("counted", "counted", "yes"))

AUDIT_COLUMNS = (Column("record", "record", "text"), Column("date", "date", "date"),
                 Column("verdict", "verdict", "text"), Column("n", "n", "int"), Column("mean", "mean bpb", "bpb"),
                 Column("claimed_bpb", "claimed", "bpb"), Column("claim_supported", "shown", "yes"),
                 Column("previous", "previous", "text"), Column("p_previous", "p", "p"),
                 Column("p_previous_margin", "p (margin)", "p"), Column("holds_practice", "practice", "yes"),
                 Column("holds_rule", "rule", "yes"), Column("errors", "errors", "int"),
                 Column("warns", "warnings", "int"))

STREAM_COLUMNS = (Column("pr", "PR", "pr"), Column("folder", "folder", "text"), Column("date", "date", "date"),
                  Column("verdict", "verdict", "text"), Column("n", "n", "int"), Column("mean_bpb", "mean bpb", "bpb"),
                  Column("claimed_bpb", "claimed", "bpb"), Column("claim_supported", "shown", "yes"),
                  Column("frontier_pr", "vs PR", "pr"), Column("p_frontier", "p", "p"),
                  Column("p_frontier_margin", "p (margin)", "p"), Column("errors", "errors", "int"),
                  Column("warns", "warnings", "int"), Column("reasons", "why", "text"))


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
    env.filters.update(cell=cell, code=code_spans, script_json=script_json)
    env.globals.update(pr_url=PR_URL.format, RUN_COLUMNS=RUN_COLUMNS)
    return env


def render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


# --------------------------------------------------------------------------- one submission's details


def _number_kind(v: Any) -> str:
    return "text" if isinstance(v, bool) else "num" if isinstance(v, float) else "int" if isinstance(v, int) else "text"


def flag_views(flags: Sequence[dict[str, Any]]) -> tuple[FlagView, ...]:
    order = {"error": 0, "warn": 1}
    return tuple(FlagView(f["severity"], f["run"], f["text"], f.get("check", ""),
                          tuple((k, cell(v, _number_kind(v))) for k, v in sorted((f.get("numbers") or {}).items())))
                 for f in sorted(flags, key=lambda f: order.get(f["severity"], 2)))


def evidence_views(flags: Sequence[dict[str, Any]]) -> tuple[EvidenceView, ...]:
    return tuple(EvidenceView(c, sum(f.get("check") == c and f["severity"] == "error" for f in flags),
                              sum(f.get("check") == c and f["severity"] != "error" for f in flags))
                 for c in EVIDENCE_CHECKS)


def record_view(d: dict[str, Any]) -> RecordView:
    """A record dict (record.json, records.json) as the page shows it."""
    facts = (("folder", d["folder"]), ("claimed stage", f"{d['stage'] or '–'} (from {d['stage_source']})"),
             ("claim", d.get("claim_text") or "–"), ("date", d.get("date") or "unknown"))
    if d.get("ignored"):
        facts += (("not train logs", ", ".join(d["ignored"])),)
    return RecordView(d["record"], d["verdict"], facts, tuple(d["runs"]), flag_views(d["flags"]),
                      tuple(record_statistics(d)), evidence_views(d["flags"]))


def loose_view(result: dict[str, Any]) -> RecordView:
    """check-logs' result (claim dict, ParsedRun lists) as the page shows it: the previous runs join the runs."""
    c = result["claim"]
    runs = [{**_run_row(r), "file": r.name} for r in result["runs"]]
    runs += [{**_run_row(r), "file": f"previous: {r.name}"} for r in result["previous"]]
    facts = (("metric", c["metric"] or "differs between runs"), ("threshold", f"{c['threshold']:g}"),
             ("alpha", f"{c['alpha']:g}"))
    return RecordView(f"mean val_bpb < {c['threshold']:g}", c["verdict"], facts, tuple(runs), flag_views(c["flags"]),
                      tuple(loose_statistics(c)), evidence_views(c["flags"]))


def _run_row(r: ParsedRun) -> dict[str, Any]:
    return {"seed": r.seed, "stage": r.metric if r.ok else r.error, "val_loss": r.val_loss, "val_bpb": r.val_bpb,
            "train_time_ms": r.train_time_ms, "eval_time_ms": r.eval_time_ms,
            "total_eval_time_ms": r.total_eval_time_ms, "total_bytes": r.artifact_total(), "counted": r.ok,
            "error": r.error}


def record_page(result: dict[str, Any]) -> str:
    """report.html of check-record."""
    return render("record.html.j2", title=f"Record check: {result['record']}", view=record_view(result))


def loose_page(result: dict[str, Any]) -> str:
    """report.html of check-logs."""
    view = loose_view(result)
    return render("record.html.j2", title=f"Claim check: {view.title}", view=view)


# --------------------------------------------------------------------------- the audit's table of submissions


def _severity(flags: Sequence[dict[str, Any]]) -> str:
    sev = {f["severity"] for f in flags}
    return "error" if "error" in sev else "warn" if sev else "none"


def _status(d: dict[str, Any]) -> str:
    """A directory-mode record's verdict in a word, from what the audit computed (for the filter)."""
    if d["n_errors"]:
        return "error flag"
    if d["claim_supported"] is False:
        return "claim not shown"
    if not d.get("previous"):
        return "first"
    return "holds the rule" if d["holds_rule"] else "holds the practice" if d["holds_practice"] else "not better"


@dataclass(frozen=True)
class Table:
    """The submissions table: its rows (the template's) and one JSON of raw values, verdicts and severities
    (the script's, to sort and filter by)."""

    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    severity: list[str]  # each row's worst flag: error, warn, none
    data: dict[str, Any]
    verdicts: list[tuple[str, int]]
    severities: list[tuple[str, int]]


def _table(columns: tuple[Column, ...], rows: list[dict[str, Any]], rec: list[int],
           records: Sequence[dict[str, Any]]) -> Table:
    sev = [_severity(records[k]["flags"]) for k in rec]
    data = {"columns": [c.key for c in columns], "values": [[r[c.key] for c in columns] for r in rows],
            "record": rec, "severity": sev, "verdict": [r["verdict"] for r in rows]}
    return Table(columns, rows, sev, data, Counter(r["verdict"] for r in rows).most_common(),
                 [(s, sev.count(s)) for s in ("error", "warn", "none")])


def _counts(d: dict[str, Any]) -> dict[str, int]:
    sev = Counter(f["severity"] for f in d["flags"])
    return {"errors": sev["error"], "warns": sum(sev.values()) - sev["error"]}


def audit_page(records: Sequence[dict[str, Any]], seconds: float) -> str:
    """index.html of `audit RECORDS_DIR`: the progression, the figure, every record."""
    rows = [{**{c.key: d.get(c.key) for c in AUDIT_COLUMNS}, "verdict": _status(d), **_counts(d)} for d in records]
    points = frontier_points(records)
    chain = [p for p in points if p.on_chain]
    return render("audit.html.j2", title=f"Leaderboard audit: {len(records)} record folders", mode="records",
                  summary={"records": len(records), "seconds": seconds},
                  progression=[records[p.index] for p in chain], board=None, diff=None,
                  figure=frontier_plot(points, chain),
                  table=_table(AUDIT_COLUMNS, rows, list(range(len(records))), records),
                  views=[record_view(d) for d in records])


def record_index(submissions: Sequence[Submission]) -> list[int]:
    """Each submission's record, as an index into audit_git_to's `records` (one per record, first seen first)."""
    first: dict[int, int] = {}
    return [first.setdefault(id(s.record), len(first)) for s in submissions]


def _name(folder: str) -> str:
    return folder.rsplit("/", 1)[-1]


def board_records(a: StreamAudit) -> set[int]:
    """The records (indices into audit_git_to's `records`) of the rebuilt leaderboard's rows."""
    where = {(s.pr, s.folder): k for s, k in zip(a.submissions, record_index(a.submissions), strict=True)}
    return {where[key] for r in a.leaderboard if (key := (r.pr, r.folder)) in where}


def stream_page(a: StreamAudit, summary: dict[str, Any], subs: Sequence[dict[str, Any]],
                records: Sequence[dict[str, Any]], board: Sequence[dict[str, Any]],
                diff: Sequence[dict[str, Any]]) -> str:
    """index.html of `audit --git`: the rebuilt leaderboard, the figure, the diff, every submission."""
    rec = record_index(a.submissions)
    rows = [{**{c.key: s.get(c.key) for c in STREAM_COLUMNS}, "folder": _name(s["folder"]), **_counts(records[k])}
            for s, k in zip(subs, rec, strict=True)]
    where = {(s["pr"], s["folder"]): (s["date"], k) for s, k in zip(subs, rec, strict=True)}
    found = [where.get((r["pr"], r["folder"]), (None, None)) for r in board]
    leaders = [{**r, "date": date, "name": _name(r["folder"])} for r, (date, _) in zip(board, found, strict=True)]
    points = frontier_points(records)
    on_board = {k for _, k in found}
    chain = [p for p in points if p.index in on_board]
    return render("audit.html.j2", title=f"Audit of the pull-request stream: {summary['submissions']} submissions",
                  mode="stream", summary=summary, progression=None, board=leaders,
                  diff=[{**r, "name": _name(r["folder"])} for r in diff], figure=frontier_plot(points, chain),
                  table=_table(STREAM_COLUMNS, rows, rec, records), views=[record_view(d) for d in records])
