"""A PR's review as one Markdown comment: headline verdict per folder, a short table, the findings.

Everything a submission wrote (folder names, claims, log lines, flag texts quoting them) passes through
`text()`: HTML and Markdown syntax escaped, no @mention, issue reference or bare link left live, and
bounded in length. The comment starts with a hidden marker, so the action finds and edits its own comment.
"""

from __future__ import annotations

import re

from pgolf.bot.model import FolderReview, PrReview, SeedRow
from pgolf.review.settings import MARGIN_NATS
from pgolf.stats import format_p

MARKER = "<!-- pgolf-review -->"
ZWJ = "\u200d"
MAX_TEXT = 300  # one finding's or reason's text
MAX_NAME = 100  # a folder name
MAX_FINDINGS = 8  # per folder; the rest are in the full report
MAX_FOLDERS = 6
MAX_SEEDS = 8
MAX_COMMENT = 30_000  # GitHub allows 65,536 characters
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\*_\[\]|~])")  # mid-line: what can open emphasis, code, a link, a cell
_PING = re.compile(r"([@#])(?=[\w-])")  # @user, @org/team, #123: a mention or a cross-reference
_LINK = re.compile(r"(?i)(://|www\.)")


def text(value: object, limit: int = MAX_TEXT) -> str:
    """Submission text as inert Markdown: one line, escaped, never a mention, a reference or a link."""
    # a backtick becomes a quote: escaped, it would still pair with another as a code span in some renderers
    s = _CONTROL.sub(" ", str(value).replace("\r", " ").replace("\n", " ")).replace("`", "'")
    if len(s) > limit:
        s = s[:limit - 1] + "…"
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    s = _PING.sub(lambda m: m.group(1) + ZWJ, s)
    return _LINK.sub(lambda m: m.group(1)[0] + ZWJ + m.group(1)[1:], s)


def code(value: object, limit: int = MAX_NAME) -> str:
    """Submission text as a code span: nothing inside renders (no mention, link or tag); backticks and
    control characters replaced, bounded."""
    s = _CONTROL.sub(" ", str(value).replace("\r", " ").replace("\n", " ")).replace("`", "'")
    return f"`{s if len(s) <= limit else s[:limit - 1] + '…'}`"


def _num(v: float | None, spec: str) -> str:
    return "–" if v is None else format(v, spec)


def _seed_line(r: SeedRow) -> str:
    secs = lambda ms: _num(ms / 1000 if ms is not None else None, ".0f")  # noqa: E731
    return (f"| {text(r.seed, 24)} | {text(r.claimed_bpb or '–', 24)} | {_num(r.log_bpb, '.5f')} | "
            f"{_num(r.total_bytes, ',')} | {_num(r.implied_bytes, ',.0f')} | {secs(r.train_ms)} | {secs(r.eval_ms)} |")


def _headline(f: FolderReview) -> str:
    mark = ("✅ holds" if f.holds else "⏸ held for review" if f.status == "held for review"
            else f"❌ does not hold: {f.status}")
    return f"### {mark} · {code(f.folder.rsplit('/', 1)[-1])}"


def _numbers(f: FolderReview) -> list[str]:
    size = (f"{f.max_total_bytes:,} bytes, headroom {f.headroom:,}" if f.max_total_bytes is not None
            else "not shown")
    lines = [f"- claim {text(f.claimed_bpb or '–', 40)} at {code(f.stage or '–', 60)}; logs: mean "
             f"{_num(f.mean_bpb, '.5f')}, n = {f.n}", f"- size: {size} (cap {f.size_cap:,})"]
    if f.standing is not None:
        p = format_p(f.p_standing) if f.p_standing is not None else f"none ({f.method or 'no test'})"
        rule = f" (the written rule, {MARGIN_NATS:g} nats: p = {format_p(f.p_standing_margin)})" \
            if f.p_standing_margin is not None else ""
        lines.append(f"- against the standing record {text(f.standing.key, MAX_NAME)} (mean "
                     f"{_num(f.standing.mean_bpb, '.5f')}): p = {p}{rule}, n = {f.n} vs {f.standing.n}")
    return lines


def _table(f: FolderReview) -> list[str]:
    if not f.seeds:
        return []
    rows = [_seed_line(r) for r in f.seeds[:MAX_SEEDS]]
    more = [f"\n{len(f.seeds) - MAX_SEEDS} more in the full report"] if len(f.seeds) > MAX_SEEDS else []
    return ["", "| seed | claim | log | bytes | implied val bytes | train s | eval s |", "|---|---|---|---|---|---|---|",
            *rows, *more]


def _finding_lines(f: FolderReview) -> list[str]:
    shown = f.findings[:MAX_FINDINGS]
    lines = [f"- **{x.severity}** {code(x.rule, 40)} {code(x.file.rsplit('/', 1)[-1] + (f':{x.line}' if x.line else ''))}"
             f": {text(x.text)}. *Fix:* {text(x.fix)}" for x in shown]
    if len(f.findings) > MAX_FINDINGS:
        lines.append(f"- … {len(f.findings) - MAX_FINDINGS} more in the full report")
    return lines


def _report_link(f: FolderReview, report_url: str | None, run_url: str | None) -> list[str]:
    if not f.report:
        return []
    if report_url:
        return ["", f"[Full report]({report_url.rstrip('/')}/{f.report})"]
    if run_url:
        return ["", f"Full report: `{f.report}` in the [run's `pgolf-review` artifact]({run_url})"]
    return ["", f"[Full report](./{f.report})"]


def folder_section(f: FolderReview, report_url: str | None = None, run_url: str | None = None) -> str:
    """One folder's part of the comment (also what the pre-commit hook prints)."""
    lines = [_headline(f), "", text(f.reasons, 2 * MAX_TEXT), "", *_numbers(f), *_table(f)]
    if f.findings:
        errors = sum(x.severity == "error" for x in f.findings)
        lines += ["", f"**Findings** ({errors} error(s), {len(f.findings) - errors} warning(s)):", *_finding_lines(f)]
    return "\n".join(lines + _report_link(f, report_url, run_url))


def comment(review: PrReview, report_url: str | None = None, run_url: str | None = None) -> str:
    """The whole comment, marker first, bounded to MAX_COMMENT characters."""
    verdict = "could not be judged" if not review.judged else \
        ("holds as a record" if review.holds else "does not hold as a record") if review.folders \
        else "changes no record folder"
    head = [MARKER, f"## pgolf review: this PR {verdict}", "",
            f"Judged at `{review.head[:12]}` against the record standing on `{review.base[:12]}`"
            + (f" (the README table's best: {text(review.table_record, 80)})" if review.table_record else "") + "."]
    parts = [folder_section(f, report_url, run_url) for f in review.folders[:MAX_FOLDERS]]
    if len(review.folders) > MAX_FOLDERS:
        parts.append(f"… {len(review.folders) - MAX_FOLDERS} more record folders in review.json")
    if review.notes:  # what the clone lacks: said where the reviewer reads, not only in the job's log
        parts.append("**What this clone could not show** (fetch the missing objects and run again):\n"
                     + "\n".join(f"- {text(n)}" for n in review.notes[:MAX_FINDINGS]))
    if review.deleted:
        parts.append("Deletes: " + ", ".join(text(d, MAX_NAME) for d in review.deleted[:MAX_FOLDERS]))
    foot = ["<sub>pgolf reads the PR's logs and JSON from git objects and runs none of its code. "
            "Exit 0: holds; 1: does not hold or held for review.</sub>"]
    body = "\n\n".join(["\n".join(head), *parts, *foot]) + "\n"
    if len(body) > MAX_COMMENT:
        body = body[:MAX_COMMENT - 80].rsplit("\n", 1)[0] + "\n\n… cut here; the rest is in the full report.\n"
    return body
