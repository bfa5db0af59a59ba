"""Words and tables of the reviewer side: the verdict sentence, the runs table, record and audit reports."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pgolf import stats as st


def _fmt(v: Any, spec: str = "") -> str:
    if v is None or v == "":
        return "-"
    return format(v, spec) if spec else str(v)


def _p(p: float | None) -> str:
    return "-" if p is None else st.format_p(p)


def verdict_holds(d: Mapping[str, object]) -> bool:
    """check-record's exit status: the claim is not refuted by the logs (shown, or nothing claimed) and, when a
    previous record was given, the practice's test against it holds. False is the verdict "does not hold"."""
    if d.get("claim_supported") is False:
        return False
    return not d.get("previous") or d.get("holds_practice") is True


def verdict_sentence(d: dict[str, Any]) -> str:
    """One sentence: is the claim shown, does it beat the previous record, how many error flags."""
    parts = []
    if d.get("claim_supported") is True:
        parts.append(f"claim {d.get('claim_text') or 'per seed'} is shown by `{d['stage']}`")
    elif d.get("claim_supported") is False:
        parts.append(f"claim {d.get('claim_text') or 'per seed'} is NOT shown by any stage of the logs")
    else:
        parts.append(f"no claim to match; tested `{d.get('stage')}`")
    if d.get("mean") is not None:
        parts[-1] += f" (n = {d['n']}, mean {d['mean']:.5f})"
    if d.get("previous"):
        if d.get("p_previous") is None:
            parts.append(f"cannot test against {d['previous']} ({d.get('previous_error')})")
        else:
            parts.append(f"against {d['previous']}: p = {_p(d['p_previous'])} without margin "
                         f"({'holds' if d['holds_practice'] else 'does not hold'} at {d['progression_alpha']:g}), "
                         f"p = {_p(d['p_previous_margin'])} with the {d['margin_nats']:g}-nat margin "
                         f"({'holds' if d['holds_rule'] else 'does not hold'} at {d['alpha']:g})")
    if d.get("threshold") is not None:
        parts.append(f"mean < {d['threshold']:g}: p = {_p(d.get('p_threshold'))}"
                     if d.get("p_threshold") is not None else f"cannot test mean < {d['threshold']:g}")
    errors = d.get("n_errors", 0)
    parts.append(f"{errors} error flag(s)" if errors else "no error flag")
    return f"{d['record']}: " + "; ".join(parts)


RUN_COLUMNS = [("file", "", "run"), ("seed", "", "seed"), ("world_size", "", "GPUs"), ("steps", "", "steps"),
               ("train_time_ms", ",.0f", "train (ms)"), ("eval_time_ms", ",.0f", "eval (ms)"),
               ("total_eval_time_ms", ",.0f", "eval total (ms)"), ("total_bytes", ",", "bytes (with code)"),
               ("stage", "", "stage"), ("val_loss", ".8g", "val_loss"), ("val_bpb", ".8g", "val_bpb"),
               ("counted", "", "counted")]


def runs_table(rows: Sequence[dict[str, Any]]) -> str:
    head = "| " + " | ".join(c[2] for c in RUN_COLUMNS) + " |\n" + "|---" * len(RUN_COLUMNS) + "|\n"
    body = []
    for r in rows:
        cells = [_fmt(r.get(k), spec) for k, spec, _ in RUN_COLUMNS]
        if r.get("error"):
            cells[8] = f"**{r['error']}**"
        body.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(body) + "\n"


def flags_list(flags: Sequence[dict[str, str]]) -> list[str]:
    return [f"- **{f['severity']}** {f['run'] + ': ' if f['run'] else ''}{f['text']}" for f in flags] or ["- none"]


def record_report(d: dict[str, Any]) -> str:
    lines = [f"# Record check: {d['record']}", "", f"**Verdict:** {d['verdict']}.", "",
             f"Claimed stage: `{d['stage']}` (from {d['stage_source']}); date {d['date'] or 'unknown'}.", ""]
    lines += ["## Runs", "", runs_table(d["runs"]), "## Flags", "", *flags_list(d["flags"]), ""]
    lines += ["## Statistics", "", *(f"- {line}" for line in record_statistics(d))]
    if d.get("ignored"):
        lines += ["", "Files read that are no train log: " + ", ".join(d["ignored"])]
    return "\n".join(lines).rstrip() + "\n"


def record_statistics(d: dict[str, Any]) -> list[str]:
    """The statistics of one record (both rules: the practice without margin, the rule with it), one line each."""
    lines = [f"n = {d['n']}, mean val_bpb {_fmt(d['mean'], '.6f')}, sample std {_fmt(d['std'], '.6f')}",
             f"margin {d['margin_nats']:g} nats = {_fmt(d['margin_bpb'], '.6f')} bpb "
             f"(bpb/val_loss {_fmt(d['bpb_per_nat'], '.6f')} from these runs)"]
    if d.get("previous"):
        lines += [f"previous {d['previous']}: n = {d['previous_n']}, mean {_fmt(d['previous_mean'], '.6f')}; "
                  f"one-sided {d.get('previous_method') or 'Welch'} test p = {_p(d['p_previous'])} (no margin, "
                  f"vs {d['progression_alpha']:g}) and p = {_p(d['p_previous_margin'])} (margin, vs {d['alpha']:g})"]
    if d.get("threshold") is not None:
        src = " (the threshold the README tests)" if d.get("threshold_source") == "README" else ""
        lines += [f"one-sample t-test of mean < {d['threshold']:g}{src}: p = {_p(d['p_threshold'])}"]
    lines += [f"runs needed for 80% power at the observed spread: {_fmt(d['runs_needed'])}"]
    quoted = [f"submission.json p_value {d['claimed_p_value']:g}"] if d.get("claimed_p_value") is not None else []
    quoted += [f"README p = {p}" for p in d.get("readme_p_values") or []]
    if quoted:
        lines += [f"quoted: {'; '.join(quoted)} (computed above)"]
    return lines


AUDIT_COLUMNS = [("record", "", "record"), ("date", "", "date"), ("n", "", "n"), ("mean_bpb", ".5f", "mean bpb"),
                 ("claimed_bpb", "", "claimed"), ("claim_supported", "", "shown"), ("previous", "", "previous"),
                 ("p_previous", "p", "p"), ("p_previous_margin", "p", "p (margin)"),
                 ("holds_practice", "", "practice"), ("holds_rule", "", "rule"), ("n_errors", "", "errors")]


def audit_report(rows: Sequence[dict[str, Any]], seconds: float, figure: str = "frontier.png") -> str:
    head = "| " + " | ".join(c[2] for c in AUDIT_COLUMNS) + " |\n" + "|---" * len(AUDIT_COLUMNS) + "|\n"
    body = ["| " + " | ".join(_p(r.get(k)) if spec == "p" else _fmt(r.get(k), spec) for k, spec, _ in AUDIT_COLUMNS)
            + " |" for r in rows]
    lines = [f"# Leaderboard audit: {len(rows)} record folders", "",
             f"Each record against the best-scoring record before it (or --pairs); practice: one-sided Welch p < "
             f"the progression alpha without margin; rule: with the 0.005-nat margin at alpha. Took {seconds:.1f} s.",
             "", head + "\n".join(body), "", f"![frontier]({figure})", "", "## Flags", ""]
    for r in rows:
        if r["flag_list"]:
            lines += [f"### {r['record']}", "", *flags_list(r["flag_list"]), ""]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- check-logs


def runs_table_loose(runs: Sequence[Any]) -> str:
    """The runs of check-logs (ParsedRun objects)."""
    head = ("| run | seed | world size | grad accum | steps | cap (s) | train (s) | total bytes | stage "
            "| val_loss | val_bpb | eval (s) |\n" + "|---" * 12 + "|\n")
    rows = []
    for r in runs:
        rows.append("| " + " | ".join([
            r.name, _fmt(r.seed), _fmt(r.world_size), _fmt(r.grad_accum_steps),
            f"{r.steps}/{r.iterations}" if r.steps is not None else "-", _fmt(r.max_wallclock_seconds, "g"),
            _fmt(None if r.train_time_ms is None else r.train_time_ms / 1000, ".1f"),
            _fmt(r.artifact_total(), ","), _fmt(r.metric) if r.ok else f"**{r.error}**",
            _fmt(r.val_loss, ".8g"), _fmt(r.val_bpb, ".8g"),
            _fmt(None if r.eval_time_ms is None else r.eval_time_ms / 1000, ".1f"),
        ]) + " |")
    return head + "\n".join(rows) + "\n"


def welch_sentence(w: dict[str, Any], unit: str, alpha: float) -> str:
    if "error" in w:
        return f"cannot test ({w['error']})"
    verdict = "holds" if w["holds"] else "does not hold"
    needed = f"{-w['margin']:+.4f}" if w["margin"] else "0"
    return (f"new mean {w['mean_new']:.4f} vs previous {w['mean_old']:.4f} {unit}: difference "
            f"{w['diff']:+.4f}, needed < {needed}; one-sided Welch t = {w['t']:.2f}, "
            f"df = {w['df']:.1f}, p = {st.format_p(w['p_value'])}: {verdict} at alpha = {alpha:g}")


def _loose_test(c: dict[str, Any]) -> list[str]:
    if c.get("t") is None:
        return [f"- {c['verdict']}"]
    out = [f"- one-sided one-sample t-test of mean < {c['threshold']:g}: n = {c['n']}, mean = {c['mean']:.6f}, "
           f"sample std (n - 1) = {c['std']:.6f} (dividing by n: {c['std_ddof0']:.6f}), t = {c['t']:.3f}, "
           f"df = {c['df']}, p = {c['p_value']:.8f}",
           f"- {c['confidence']:.0%} t-interval for the mean: [{c['ci'][0]:.6f}, {c['ci'][1]:.6f}]; "
           f"one-sided upper bound {c['bound']:.6f}"]
    if c.get("std_convention"):
        sc = c["std_convention"]
        out.append(f"- claimed std: {sc.get('note', sc.get('error'))}")
    if c.get("claimed_p"):
        cp = c["claimed_p"]
        out.append(f"- claimed p {cp['printed']:g}: computed {cp['computed']:.8f} "
                   f"({'matches' if cp['matches'] else 'does not match'} at the printed digits)")
    return out


def _loose_power(p: dict[str, Any]) -> list[str]:
    if "error" in p:
        return [f"- cannot estimate: {p['error']}"]
    return [f"- effect size (threshold - mean) / std = {p['effect_size']:.2f}; power of this test with "
            f"n = {p['n']} at alpha = {p['alpha']:g}: {p['power_at_n']:.2f}",
            f"- runs at which the observed mean and std would give p < {p['alpha']:g}: {_fmt(p['n_for_p'])} "
            "(expected t reaches the critical value: about even odds)",
            f"- runs for {p['target_power']:.0%} power if the observed mean and std are the truth "
            f"(noncentral t): {_fmt(p['n_for_power'])}",
            f"- both take the std of {p['n']} runs as the truth; with so few runs it is itself uncertain, "
            "so read these as a rough guide"]


def _loose_margin(m: dict[str, Any]) -> list[str]:
    if "error" in m:
        return [f"- cannot convert: {m['error']}"]
    return [f"The challenge states its margin in val_loss nats; these runs' own ratio converts it: "
            f"bpb = val_loss / ln 2 x tokens / bytes, so bpb / val_loss = {m['bpb_per_nat']:.6f} "
            f"(mean over {m['n']} runs, from {m['ratio_min']:.6f} to {m['ratio_max']:.6f} with the printed "
            f"rounding; {m['tokens_per_byte']:.4f} tokens per byte). A margin of {m['margin_nats']:g} nats is "
            f"{m['margin_bpb']:.6f} bpb."]


def loose_statistics(c: dict[str, Any]) -> list[str]:
    """The test, the runs needed, the margin and the comparison with previous runs of check-logs, one line each."""
    lines = [line.removeprefix("- ") for line in _loose_test(c) + _loose_power(c["power"]) + _loose_margin(c["margin"])]
    if c.get("welch"):
        w = c["welch"]
        lines += [f"previous, bpb, no margin: {welch_sentence(w['bpb_no_margin'], 'bpb', c['alpha'])}",
                  f"previous, bpb, margin {w['margin_nats']:g} nats in bpb: "
                  f"{welch_sentence(w['bpb_margin'], 'bpb', c['alpha'])}",
                  f"previous, val_loss, margin {w['margin_nats']:g} nats: "
                  f"{welch_sentence(w['nats_margin'], 'nats', c['alpha'])}"]
    return lines


def loose_report(result: dict[str, Any]) -> str:
    from pathlib import Path

    c, runs = result["claim"], result["runs"]
    lines = [f"# Claim check: mean val_bpb < {c['threshold']:g}", "", f"**Verdict:** {c['verdict']}.", ""]
    if c["flags"]:
        lines[-1:] = [f"{len(c['flags'])} flag(s) below; the verdict is about the statistics only.", ""]
    spellings = sorted({r.metric for r in runs if r.ok and r.metric})
    metric = f"`{c['metric']}`" if c["metric"] else "differs between runs"
    if c["metric"] and len(spellings) > 1:
        metric += " (printed as " + ", ".join(f"`{t}`" for t in spellings) + ")"
    lines += ["## Runs", "", f"Stage: {metric}: each log's last `final_*` stage (else its last non-diagnostic one) "
              "unless `--metric` names one; exact digits where the log prints an `_exact` line.", "",
              runs_table_loose(runs), "## Flags", "", *flags_list(c["flags"]), "", "## Test", "", *_loose_test(c),
              "", "## Runs needed", "", *_loose_power(c["power"]), "", "## Margin in nats and bpb", "",
              *_loose_margin(c["margin"])]
    if c.get("welch"):
        w = c["welch"]
        lines += ["", "## Against the previous record", "",
                  f"Previous runs: {', '.join(Path(f).name for f in w['previous_runs']) or 'none'}.", "",
                  f"- bpb, no margin: {welch_sentence(w['bpb_no_margin'], 'bpb', c['alpha'])}",
                  f"- bpb, margin {w['margin_nats']:g} nats in bpb: {welch_sentence(w['bpb_margin'], 'bpb', c['alpha'])}",
                  f"- val_loss, margin {w['margin_nats']:g} nats: {welch_sentence(w['nats_margin'], 'nats', c['alpha'])}"]
    if result["previous"]:
        lines += ["", "### Previous runs", "", runs_table_loose(result["previous"])]
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


def diff_markdown(rows: Sequence[dict[str, Any]]) -> str:
    both = sum(r["in_table"] and r["in_rebuild"] for r in rows)
    lines = ["# The rebuilt leaderboard against the published table", "",
             f"{both} rows in both; {sum(r['in_table'] and not r['in_rebuild'] for r in rows)} table rows the "
             f"rebuild does not accept; {sum(r['in_rebuild'] and not r['in_table'] for r in rows)} submissions the "
             "rebuild accepts that the table lacks.", "",
             _table(["PR", "folder", "score", "in table", "in rebuild", "reason"],
                    [[r["pr"], r["folder"].rsplit("/", 1)[-1], r["score"], r["in_table"], r["in_rebuild"], r["reason"]]
                     for r in rows])]
    return "\n".join(lines) + "\n"


def stream_report(summary: dict[str, Any], board: Sequence[dict[str, Any]], diff: Sequence[dict[str, Any]],
                  counts: dict[str, int], figure: str = "frontier.png") -> str:
    """report.md of `audit --git`: what was read, the verdicts, the rebuilt leaderboard, the diff."""
    lines = [f"# Audit of the pull-request stream: {summary['submissions']} submissions from {summary['refs']} refs",
             "", f"Repository {md_cell(summary['repo'])} at main {summary['main'][:12]}; read in "
             f"{summary['seconds']:.1f} s. Claims matched to a stage: {summary['matched']} of {summary['claimed']} "
             f"folders with a claim and logs. Three runs asked for from {summary['runs_from']}.", "",
             *[f"**Warning:** {md_cell(w)}\n" for w in summary.get("warnings", [])],
             "## Verdicts", "", _table(["verdict", "submissions"], sorted(counts.items(), key=lambda kv: -kv[1])), "",
             "## The rebuilt leaderboard", "",
             "Each row beat the row below it at p < 0.25 (one-sided Welch on per-seed val_bpb, no margin), or by "
             "its score where a side has one run.", "",
             _table(["rank", "PR", "folder", "mean bpb", "n", "previous PR", "p"],
                    [[r["rank"], r["pr"], r["folder"].rsplit("/", 1)[-1], f"{r['mean_bpb']:.5f}", r["n"],
                      r["previous_pr"], _p(r["p_previous"])] for r in board]), "",
             f"![frontier]({figure})", "", diff_markdown(diff).replace("# The rebuilt", "## The rebuilt", 1)]
    return "\n".join(lines).rstrip() + "\n"
