"""`python -m pgolf check-logs`: does a published claim hold, and what in its runs breaks the rules?

Reads the train logs, tests the claim "mean val_bpb < threshold" with a one-sided
one-sample t-test (sample std, n - 1), optionally compares with a previous
record's logs (one-sided Welch test, with and without the challenge's margin,
given in nats and converted to bpb), estimates how many runs the observed spread
needs, and lists rule flags, each naming its run. Writes DIR/runs.csv,
DIR/claim.json and DIR/report.md; prints the verdict sentence. Exit code 0 when
the check ran, whatever the verdict (it is in the files).
"""

from __future__ import annotations

import argparse
import io
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd

from pgolf import atomic, provenance
from pgolf import stats as st
from pgolf.errors import PgolfError
from pgolf.logs import RunLog, canonical_tag, parse_log

WORLD_SIZE = 8
WALLCLOCK_LIMIT_S = 600.0
EVAL_LIMIT_S = 600.0
ARTIFACT_LIMIT_BYTES = 16_000_000
MIN_RUNS = 3


def _number_text(text: str) -> str:
    """Keep a printed number as text (its digits say how it was rounded) after checking it is one."""
    try:
        float(Decimal(text))
    except (InvalidOperation, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    return text


def _probability(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not 0.0 < v < 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a number between 0 and 1")
    return v


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("logs", nargs="+", metavar="LOG", help="train logs of the claim's runs")
    parser.add_argument("--threshold", type=float, required=True,
                        help="the claimed bound: tests mean val_bpb < THRESHOLD (e.g. 1.195)")
    parser.add_argument("--previous", nargs="+", metavar="LOG", default=None,
                        help="train logs of the previous record: adds the one-sided Welch test")
    parser.add_argument("--margin-nats", type=float, default=0.005,
                        help="required improvement over --previous in val_loss nats (challenge rule: 0.005)")
    parser.add_argument("--metric", default=None,
                        help="evaluation tag to test (e.g. final_int8_ttt_lora); default: each log's last final_* stage")
    parser.add_argument("--alpha", type=_probability, default=0.01, help="significance level (challenge rule: 0.01)")
    parser.add_argument("--power", type=_probability, default=0.8, dest="target_power",
                        help="target power for the runs-needed estimate")
    parser.add_argument("--claimed-std", default=None, type=_number_text,
                        help="the std the claim printed, as printed (e.g. 0.0005): says whether it used n or n - 1")
    parser.add_argument("--claimed-p", default=None, type=_number_text, help="the p-value the claim printed, to compare")
    parser.add_argument("--time-slack-s", type=float, default=1.0,
                        help="train time over 600 s allowed before flagging (the cap stops at the first step past it)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")


# --------------------------------------------------------------------------- flags


def _labels(runs: Sequence[RunLog]) -> dict[int, str]:
    """Name runs by file name, or by full path where two share a name."""
    names = [r.name for r in runs]
    return {id(r): (r.name if names.count(r.name) == 1 else r.file) for r in runs}


def rule_flags(runs: Sequence[RunLog], time_slack_s: float = 1.0, min_runs: int = MIN_RUNS) -> list[str]:
    """Every rule a run breaks, one string each, naming the run."""
    label = _labels(runs)
    flags: list[str] = []
    for r in runs:
        who = label[id(r)]
        if r.error:
            flags.append(f"{who}: {r.error}; left out of the test")
        if r.world_size is None:
            flags.append(f"{who}: no world_size line; cannot check that it ran on {WORLD_SIZE} GPUs")
        elif r.world_size != WORLD_SIZE:
            extra = f" (grad_accum_steps {r.grad_accum_steps})" if r.grad_accum_steps is not None else ""
            flags.append(f"{who}: world size {r.world_size}{extra}, not {WORLD_SIZE}: not the 8xH100 setting")
        if r.max_wallclock_seconds is not None and r.max_wallclock_seconds > WALLCLOCK_LIMIT_S:
            flags.append(f"{who}: wall-clock cap {r.max_wallclock_seconds:g} s is over the {WALLCLOCK_LIMIT_S:g} s limit")
        if r.train_time_ms is not None and r.train_time_ms / 1000.0 > WALLCLOCK_LIMIT_S + time_slack_s:
            flags.append(f"{who}: train time {r.train_time_ms / 1000.0:.1f} s is over {WALLCLOCK_LIMIT_S:g} s")
        if r.eval_time_ms is not None and r.eval_time_ms / 1000.0 > EVAL_LIMIT_S:
            flags.append(f"{who}: eval time of {r.metric} {r.eval_time_ms / 1000.0:.1f} s is over {EVAL_LIMIT_S:g} s")
        elif r.eval_time_total_ms is not None and r.eval_time_total_ms / 1000.0 > EVAL_LIMIT_S:
            flags.append(f"{who}: all final_* evaluations together take {r.eval_time_total_ms / 1000.0:.1f} s, "
                         f"over {EVAL_LIMIT_S:g} s")
        if r.total_bytes is None:
            flags.append(f"{who}: no 'Total submission size <format>:' line; artifact size unchecked")
        elif r.total_bytes > ARTIFACT_LIMIT_BYTES:
            flags.append(f"{who}: total artifact {r.total_bytes:,} bytes is over {ARTIFACT_LIMIT_BYTES:,}")
        if r.truncated and not r.error:
            flags.append(f"{who}: the log is cut off at the end (last line partial)")
    by_hash: dict[str, list[str]] = defaultdict(list)
    for r in runs:
        if r.sha256:
            by_hash[r.sha256].append(label[id(r)])
    for same in by_hash.values():
        if len(same) > 1:
            flags.append(f"{', '.join(same)}: the same log content {len(same)} times; it counts once per copy")
    by_seed: dict[int, list[str]] = defaultdict(list)
    for r in runs:
        if r.seed is None:
            flags.append(f"{label[id(r)]}: no seed line")
        else:
            by_seed[r.seed].append(label[id(r)])
    for seed, who_list in sorted(by_seed.items()):
        if len(who_list) > 1:
            every = "all" if len(who_list) == len(runs) else ""
            flags.append(
                f"seed {seed} is used by {every + ' ' if every else ''}{len(who_list)} runs ({', '.join(who_list)}): "
                "their spread is run-to-run (GPU) noise, not seed-to-seed variance"
            )
    good = [r for r in runs if r.ok]
    if len(good) < min_runs:
        flags.append(f"only {len(good)} run(s) with a final metric ({', '.join(label[id(r)] for r in good) or 'none'}): "
                     f"fewer than {min_runs}")
    tags = {canonical_tag(r.metric) for r in good if r.metric}
    if len(tags) > 1:
        flags.append("runs report different final metrics: "
                     + "; ".join(f"{label[id(r)]}: {r.metric}" for r in good)
                     + " (name one with --metric)")
    return flags


# --------------------------------------------------------------------------- main


def _try(fn, *a, **kw) -> tuple[Any, str | None]:
    try:
        return fn(*a, **kw), None
    except PgolfError as exc:
        return None, str(exc)


def _decimals(text: str) -> int:
    return max(0, -int(Decimal(text).as_tuple().exponent))


def check(args: argparse.Namespace) -> dict[str, Any]:
    """Run the whole check; returns the claim dict (also used by tests)."""
    runs = [parse_log(p, args.metric) for p in args.logs]
    previous = [parse_log(p, args.metric) for p in (args.previous or [])]
    good = [r for r in runs if r.ok]
    bpb = [r.val_bpb for r in good]
    loss = [r.val_loss for r in good]
    flags = rule_flags(runs, args.time_slack_s)
    tags = {canonical_tag(r.metric) for r in good if r.metric}
    claim: dict[str, Any] = {
        "threshold": args.threshold, "alternative": "less", "alpha": args.alpha,
        "metric": canonical_tag(args.metric) if args.metric else (tags.pop() if len(tags) == 1 else None),
        "runs": [r.file for r in good], "values": bpb, "flags": flags,
        "errors": {r.file: r.error for r in runs if r.error},
    }
    test, why = _try(st.one_sample_t, bpb, args.threshold, "less")
    if test is not None:
        claim.update({k: v for k, v in test.to_dict().items() if k not in ("threshold", "alternative")})
        claim["holds"] = bool(test.holds(args.alpha))
        claim["verdict"] = st.one_sample_sentence(test, args.alpha)
    else:
        claim.update({"n": len(bpb), "mean": (sum(bpb) / len(bpb)) if bpb else None, "std": None,
                      "t": None, "df": None, "p_value": None, "holds": False})
        claim["verdict"] = f"cannot test the claim mean < {args.threshold:g}: {why}"
    claim["test_error"] = why
    power, why_p = _try(st.power_one_sample, bpb, args.threshold, args.alpha, args.target_power, "less")
    claim["power"] = power.to_dict() if power else {"error": why_p}
    conv, why_c = _try(st.nats_margin_to_bpb, args.margin_nats, loss, bpb)
    claim["margin"] = conv.to_dict() if conv else {"error": why_c}
    claim["welch"] = _welch(previous, good, conv, args) if args.previous else None
    if args.previous:
        flags.extend(f"previous: {f}" for f in rule_flags(previous, args.time_slack_s, min_runs=2))
    claim["std_convention"] = None
    if args.claimed_std is not None and len(bpb) >= 2:
        sc, why_s = _try(st.std_convention, bpb, args.claimed_std)
        claim["std_convention"] = ({**sc.to_dict(), "note": sc.note} if sc else {"error": why_s})
    claim["claimed_p"] = None
    if args.claimed_p is not None and test is not None:
        printed = float(args.claimed_p)
        tol = 0.5 * 10.0 ** (-_decimals(args.claimed_p)) * (1 + 1e-9)
        claim["claimed_p"] = {"printed": printed, "computed": test.p_value,
                              "matches": abs(test.p_value - printed) <= tol}
    return {"claim": claim, "runs": runs, "previous": previous}


def _welch(previous: list[RunLog], good: list[RunLog], conv, args) -> dict[str, Any]:
    prev_good = [r for r in previous if r.ok]
    out: dict[str, Any] = {"previous_runs": [r.file for r in prev_good],
                           "previous_values": [r.val_bpb for r in prev_good],
                           "margin_nats": args.margin_nats}
    new_b, old_b = [r.val_bpb for r in good], [r.val_bpb for r in prev_good]
    new_l, old_l = [r.val_loss for r in good], [r.val_loss for r in prev_good]
    for key, values_new, values_old, margin in (
        ("bpb_no_margin", new_b, old_b, 0.0),
        ("bpb_margin", new_b, old_b, conv.margin_bpb if conv else None),
        ("nats_margin", new_l, old_l, args.margin_nats),
    ):
        if margin is None:
            out[key] = {"error": "no margin in bpb (no run with a final metric)"}
            continue
        res, why = _try(st.welch_one_sided, values_new, values_old, margin)
        out[key] = {**res.to_dict(), "holds": bool(res.holds(args.alpha))} if res else {"error": why}
    return out


def _fmt(v: Any, spec: str = "") -> str:
    if v is None:
        return "-"
    return format(v, spec) if spec else str(v)


def runs_table(runs: Sequence[RunLog]) -> str:
    head = ("| run | seed | world size | grad accum | steps | cap (s) | train (s) | total bytes | metric "
            "| val_loss | val_bpb | eval (s) |\n" + "|---" * 12 + "|\n")
    rows = []
    for r in runs:
        rows.append("| " + " | ".join([
            r.name, _fmt(r.seed), _fmt(r.world_size), _fmt(r.grad_accum_steps),
            f"{r.steps}/{r.iterations}" if r.steps is not None else "-",
            _fmt(r.max_wallclock_seconds, "g"),
            _fmt(None if r.train_time_ms is None else r.train_time_ms / 1000, ".1f"),
            _fmt(r.total_bytes, ","), _fmt(r.metric) if r.ok else f"**{r.error}**",
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


def render_report(result: dict[str, Any]) -> str:
    c, runs = result["claim"], result["runs"]
    lines = [f"# Claim check: mean val_bpb < {c['threshold']:g}", "", f"**Verdict:** {c['verdict']}.", ""]
    if c["flags"]:
        lines[-1:] = [f"{len(c['flags'])} rule flag(s) below; the verdict is about the statistics only.", ""]
    spellings = sorted({r.metric for r in runs if r.ok and r.metric})
    metric = f"`{c['metric']}`" if c["metric"] else "differs between runs"
    if c["metric"] and len(spellings) > 1:
        metric += " (printed as " + ", ".join(f"`{t}`" for t in spellings) + ")"
    lines += ["## Runs", "", f"Metric: {metric}: the last `final_*` stage of each log unless `--metric` names one; "
              "exact digits where the log prints an `_exact` line.", "", runs_table(runs)]
    lines += ["## Flags", ""] + ([f"- {f}" for f in c["flags"]] or ["- none"]) + [""]
    lines += ["## Test", ""]
    if c.get("t") is not None:
        lines += [
            f"- one-sided one-sample t-test of mean < {c['threshold']:g}: n = {c['n']}, mean = {c['mean']:.6f}, "
            f"sample std (n - 1) = {c['std']:.6f} (dividing by n: {c['std_ddof0']:.6f}), t = {c['t']:.3f}, "
            f"df = {c['df']}, p = {c['p_value']:.8f}",
            f"- {c['confidence']:.0%} t-interval for the mean: [{c['ci'][0]:.6f}, {c['ci'][1]:.6f}]; "
            f"one-sided upper bound {c['bound']:.6f}",
        ]
    else:
        lines += [f"- {c['verdict']}"]
    if c.get("std_convention"):
        sc = c["std_convention"]
        lines += [f"- claimed std: {sc.get('note', sc.get('error'))}"]
    if c.get("claimed_p"):
        cp = c["claimed_p"]
        lines += [f"- claimed p {cp['printed']:g}: computed {cp['computed']:.8f} "
                  f"({'matches' if cp['matches'] else 'does not match'} at the printed digits)"]
    p = c["power"]
    lines += ["", "## Runs needed", ""]
    if "error" in p:
        lines += [f"- cannot estimate: {p['error']}"]
    else:
        lines += [
            f"- effect size (threshold - mean) / std = {p['effect_size']:.2f}; power of this test with "
            f"n = {p['n']} at alpha = {p['alpha']:g}: {p['power_at_n']:.2f}",
            f"- runs at which the observed mean and std would give p < {p['alpha']:g}: {_fmt(p['n_for_p'])} "
            "(expected t reaches the critical value: about even odds)",
            f"- runs for {p['target_power']:.0%} power if the observed mean and std are the truth "
            f"(noncentral t): {_fmt(p['n_for_power'])}",
            f"- both take the std of {p['n']} runs as the truth; with so few runs it is itself uncertain, "
            "so read these as a rough guide",
        ]
    m = c["margin"]
    lines += ["", "## Margin in nats and bpb", ""]
    if "error" in m:
        lines += [f"- cannot convert: {m['error']}"]
    else:
        lines += [
            f"The challenge states its margin in val_loss nats; these runs' own ratio converts it: "
            f"bpb = val_loss / ln 2 x tokens / bytes, so bpb / val_loss = {m['bpb_per_nat']:.6f} "
            f"(mean over {m['n']} runs, from {m['ratio_min']:.6f} to {m['ratio_max']:.6f} with the printed "
            f"rounding; {m['tokens_per_byte']:.4f} tokens per byte). A margin of {m['margin_nats']:g} nats is "
            f"{m['margin_bpb']:.6f} bpb.",
        ]
    if c.get("welch"):
        w = c["welch"]
        lines += ["", "## Against the previous record", "",
                  f"Previous runs: {', '.join(Path(f).name for f in w['previous_runs']) or 'none'}.", "",
                  f"- bpb, no margin: {welch_sentence(w['bpb_no_margin'], 'bpb', c['alpha'])}",
                  f"- bpb, margin {w['margin_nats']:g} nats in bpb: "
                  f"{welch_sentence(w['bpb_margin'], 'bpb', c['alpha'])}",
                  f"- val_loss, margin {w['margin_nats']:g} nats: "
                  f"{welch_sentence(w['nats_margin'], 'nats', c['alpha'])}"]
    if result["previous"]:
        lines += ["", "### Previous runs", "", runs_table(result["previous"])]
    return "\n".join(lines).rstrip() + "\n"


def main(args: argparse.Namespace) -> int:
    result = check(args)
    claim = result["claim"]
    out: Path = args.out
    rows = [{"role": "claim", **r.row()} for r in result["runs"]]
    rows += [{"role": "previous", **r.row()} for r in result["previous"]]
    buf = io.StringIO()
    pd.DataFrame(rows).to_csv(buf, index=False, lineterminator="\n")
    atomic.write_text(out / "runs.csv", buf.getvalue())
    logs = [{"file": r.file, "sha256": atomic.sha256_file(r.file)} for r in result["runs"] + result["previous"]]
    claim["provenance"] = provenance.collect(command="check-logs", logs=logs, metric_arg=args.metric,
                                             margin_nats=args.margin_nats)
    atomic.write_json(out / "claim.json", claim)
    atomic.write_text(out / "report.md", render_report(result))
    print(claim["verdict"])
    return 0
