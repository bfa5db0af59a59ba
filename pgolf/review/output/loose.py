"""check-logs' words: report.md and the statistics lines its page shows, from the typed `LooseResult`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pgolf import stats as st
from pgolf.review.judge.loose import LooseResult, Tried, WelchTest
from pgolf.review.model import ParsedRun
from pgolf.review.output.markdown import _fmt, flags_list


def runs_table_loose(runs: Sequence[ParsedRun]) -> str:
    """The runs of check-logs."""
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


def welch_sentence(w: WelchTest, unit: str, alpha: float) -> str:
    if w.result is None:
        return f"cannot test ({w.error})"
    r, verdict = w.result, "holds" if w.holds else "does not hold"
    needed = f"{-r.margin:+.4f}" if r.margin else "0"
    return (f"new mean {r.mean_new:.4f} vs previous {r.mean_old:.4f} {unit}: difference "
            f"{r.diff:+.4f}, needed < {needed}; one-sided Welch t = {r.t:.2f}, "
            f"df = {r.df:.1f}, p = {st.format_p(r.p_value)}: {verdict} at alpha = {alpha:g}")


def _loose_test(res: LooseResult) -> list[str]:
    c = res.test.result
    if c is None:
        return [f"- {res.verdict}"]
    out = [f"- one-sided one-sample t-test of mean < {res.options.threshold:g}: n = {c.n}, mean = {c.mean:.6f}, "
           f"sample std (n - 1) = {c.std:.6f} (dividing by n: {c.std_ddof0:.6f}), t = {c.t:.3f}, "
           f"df = {c.df}, p = {c.p_value:.8f}",
           f"- {c.confidence:.0%} t-interval for the mean: [{c.ci[0]:.6f}, {c.ci[1]:.6f}]; "
           f"one-sided upper bound {c.bound:.6f}"]
    if res.std_convention is not None:
        sc = res.std_convention
        out.append(f"- claimed std: {sc.result.note if sc.result is not None else sc.error}")
    if res.claimed_p is not None:
        cp = res.claimed_p
        out.append(f"- claimed p {cp.printed:g}: computed {cp.computed:.8f} "
                   f"({'matches' if cp.matches else 'does not match'} at the printed digits)")
    return out


def _loose_power(t: Tried[st.PowerEstimate]) -> list[str]:
    p = t.result
    if p is None:
        return [f"- cannot estimate: {t.error}"]
    return [f"- effect size (threshold - mean) / std = {p.effect_size:.2f}; power of this test with "
            f"n = {p.n} at alpha = {p.alpha:g}: {p.power_at_n:.2f}",
            f"- runs at which the observed mean and std would give p < {p.alpha:g}: {_fmt(p.n_for_p)} "
            "(expected t reaches the critical value: about even odds)",
            f"- runs for {p.target_power:.0%} power if the observed mean and std are the truth "
            f"(noncentral t): {_fmt(p.n_for_power)}",
            f"- both take the std of {p.n} runs as the truth; with so few runs it is itself uncertain, "
            "so read these as a rough guide"]


def _loose_margin(t: Tried[st.MarginConversion]) -> list[str]:
    m = t.result
    if m is None:
        return [f"- cannot convert: {t.error}"]
    return [f"The challenge states its margin in val_loss nats; these runs' own ratio converts it: "
            f"bpb = val_loss / ln 2 x tokens / bytes, so bpb / val_loss = {m.bpb_per_nat:.6f} "
            f"(mean over {m.n} runs, from {m.ratio_min:.6f} to {m.ratio_max:.6f} with the printed "
            f"rounding; {m.tokens_per_byte:.4f} tokens per byte). A margin of {m.margin_nats:g} nats is "
            f"{m.margin_bpb:.6f} bpb."]


def _welch_lines(res: LooseResult, prefix: str) -> list[str]:
    w, alpha = res.welch, res.options.alpha
    if w is None:
        return []
    return [f"{prefix}bpb, no margin: {welch_sentence(w.bpb_no_margin, 'bpb', alpha)}",
            f"{prefix}bpb, margin {w.margin_nats:g} nats in bpb: {welch_sentence(w.bpb_margin, 'bpb', alpha)}",
            f"{prefix}val_loss, margin {w.margin_nats:g} nats: {welch_sentence(w.nats_margin, 'nats', alpha)}"]


def loose_statistics(res: LooseResult) -> list[str]:
    """The test, the runs needed, the margin and the comparison with previous runs of check-logs, one line each."""
    lines = [line.removeprefix("- ") for line in _loose_test(res) + _loose_power(res.power) + _loose_margin(res.margin)]
    return lines + _welch_lines(res, "previous, ")


def loose_report(res: LooseResult) -> str:
    o, runs, flags = res.options, res.runs, res.flags
    lines = [f"# Claim check: mean val_bpb < {o.threshold:g}", "", f"**Verdict:** {res.verdict}.", ""]
    if flags:
        lines[-1:] = [f"{len(flags)} flag(s) below; the verdict is about the statistics only.", ""]
    spellings = sorted({r.metric for r in runs if r.ok and r.metric})
    metric = f"`{res.metric}`" if res.metric else "differs between runs"
    if res.metric and len(spellings) > 1:
        metric += " (printed as " + ", ".join(f"`{t}`" for t in spellings) + ")"
    lines += ["## Runs", "", f"Stage: {metric}: each log's last `final_*` stage (else its last non-diagnostic one) "
              "unless `--metric` names one; exact digits where the log prints an `_exact` line.", "",
              runs_table_loose(runs), "## Flags", "", *flags_list(flags), "", "## Test", "", *_loose_test(res),
              "", "## Runs needed", "", *_loose_power(res.power), "", "## Margin in nats and bpb", "",
              *_loose_margin(res.margin)]
    if res.welch is not None:
        lines += ["", "## Against the previous record", "",
                  f"Previous runs: {', '.join(Path(f).name for f in res.welch.previous_runs) or 'none'}.", "",
                  *(f"- {line}" for line in _welch_lines(res, ""))]
    if res.previous:
        lines += ["", "### Previous runs", "", runs_table_loose(res.previous)]
    return "\n".join(lines).rstrip() + "\n"
