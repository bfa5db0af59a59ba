"""The report's Markdown sections, each a pure function of tables and dicts, and the template fill.

The template (workflow/report/report_template.md) is Markdown with $placeholders;
`PLACEHOLDERS` lists the ones filled. It is an input of the report rule, so editing
it reruns the report alone.
"""

from __future__ import annotations

import math
import os
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from pgolf.errors import ConfigError
from pgolf.evalspec import NAMES, EvalSettings, condition
from pgolf.report.tables import markdown_table
from pgolf.size import SIZE_CAP_BYTES
from pgolf.stats import format_p

PLACEHOLDERS = ("title", "overview", "what_ran", "claim", "tables", "statistics", "noise", "plots", "published",
                "missing")


def fill_template(template: str, sections: dict[str, str], where: str = "template") -> str:
    """Substitute $placeholders; an unknown one is an error naming it and the known ones."""
    try:
        text = string.Template(template).substitute(sections)
    except KeyError as exc:
        raise ConfigError(
            f"{where}: unknown placeholder ${exc.args[0]}; known: {', '.join('$' + p for p in PLACEHOLDERS)}"
        ) from None
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}; write a literal dollar sign as $$") from None
    # Collapse runs of blank lines left by empty sections.
    lines, blank = [], 0
    for line in text.splitlines():
        blank = blank + 1 if not line.strip() else 0
        if blank <= 1:
            lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"


def missing_section(missing: pd.DataFrame, expected: int, results: str = "results", partial: bool = False) -> str:
    """Empty for a complete run; otherwise a warning that names every missing evaluation, and,
    for a partial report (written after failed jobs), says so first."""
    lines = []
    if partial:
        lines += ["> **Partial report:** some jobs of this run failed; it was written from what exists "
                  "after `--keep-going`, outside Snakemake's bookkeeping.", ">"]
    if not missing.empty:
        lines += [f"> **Incomplete run: {len(missing)} of {expected} evaluations are missing.** "
                  "The tables and tests below use the rest. Missing:", ">"]
        for (seed, reason), sub in missing.groupby(["seed", "reason"], sort=True):
            names = ", ".join(sub["path"].map(lambda p: Path(p).stem))
            lines.append(f"> - seed {seed}: {reason}: {names}")
        lines.append(">")
    if not lines:
        return ""
    lines.append(f"> Rerun the same `snakemake` command once the cause is fixed (the logs are under {results}/logs/).")
    return "\n".join(lines)


def _what_is_scored(name: str, seq_len: int, chunk: int, rank: int) -> str:
    return {
        "flat": f"the validation tokens as one stream, cut into windows of {seq_len} tokens across document "
                "boundaries (the challenge's baseline evaluation)",
        "doc": f"each document alone, from its first token, in windows of {seq_len} tokens",
        "sliding": f"each document alone, scored {chunk} tokens at a time, each with up to {seq_len} tokens of "
                   "context before it",
        "ttt": f"as sliding, and after each chunk is scored, rank-{rank} LoRA adapters of that document are "
               "trained on it (one Adam step) before the next chunk",
    }[name]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _utc(stamp: str | None) -> str:
    return stamp.replace("T", " ").split("+")[0] if stamp else "unknown"


def _seconds_between(start: str | None, end: str | None) -> float | None:
    import datetime as dt

    if not (start and end):
        return None
    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()


def overview_section(config: dict[str, Any], info: dict[str, Any], runs: pd.DataFrame) -> str:
    """What ran, on what, how long, and what each condition scores: the report's opening."""
    e, seeds = config["eval"], config["seeds"]
    ttt = EvalSettings.from_dict(e).ttt
    seq_len, chunk = int(e["seq_len"]), int(e["chunk"])
    rows = pd.DataFrame([{"condition": f"{condition(c).label} (`{c}`)",
                          "what is scored": _what_is_scored(c, seq_len, chunk, ttt.rank)} for c in e["conditions"]])
    train = info.get("train") or {}
    train_s = [m["train_time_ms"] / 1000 for m in train.values() if isinstance(m.get("train_time_ms"), int | float)]
    eval_s = runs["seconds"].dropna() if "seconds" in runs else pd.Series(dtype=float)
    when = info.get("timing") or {}
    span = _seconds_between(when.get("data_utc"), when.get("last_eval_utc"))
    lines = [
        f"This report reproduces the ablation of parameter-golf record #77 (\"sliding window + LoRA TTT\") on "
        f"{len(seeds)} distinct training seeds ({', '.join(map(str, seeds))}): each seed's model was trained "
        "once, then scored under every condition below. Each condition adds one thing to the one before it, "
        "so the step between neighbours is what that thing is worth. The score is val_bpb, bits per byte of "
        "the validation text (lower is better).", "",
        markdown_table(rows), "",
        f"- machine: {', '.join(info.get('devices') or ['unknown'])} on host {', '.join(info.get('hosts') or ['unknown'])}"
        + (f" ({', '.join(info['platforms'])})" if info.get("platforms") else ""),
    ]
    if train_s:
        lines.append(f"- training: {sum(train_s):.0f} s over {len(train_s)} seeds "
                     f"({', '.join(f'{s:.1f}' for s in train_s)} s each, the loop's own clock)")
    if len(eval_s):
        lines.append(f"- evaluation: {eval_s.sum():.0f} s over {len(eval_s)} jobs (each job's own seconds)")
    if span is not None:
        prep = when.get("prepare_seconds")
        lines.append(f"- wall clock: {span:.0f} s from the dataset ({_utc(when.get('data_utc'))} UTC"
                     + (f", built in {prep:.1f} s" if isinstance(prep, int | float) else "")
                     + f") to the last evaluation ({_utc(when.get('last_eval_utc'))} UTC)")
    return "\n".join(lines)


def claim_section(claim: dict[str, Any], note: str = "") -> str:
    """The claim in one sentence, then its numbers; or why no test ran."""
    head = f"Claim: mean {claim['headline']} val_bpb < {claim['threshold']:g} over seeds."
    if note:
        head += f" {note.strip()}"
    if not claim.get("tested"):
        values = ", ".join(f"{v:.4f}" for v in claim.get("values") or [])
        return f"{head}\n\n**No test was run:** {claim['reason']}." + (f" Values: {values}." if values else "")
    r = claim["result"]
    pct = f"{r['confidence'] * 100:g}%"
    lines = [head, "", f"**{claim['sentence']}.**", "",
             f"- per-seed bpb ({', '.join(str(s) for s in claim['seeds'])}): "
             + ", ".join(f"{v:.4f}" for v in claim["values"]),
             f"- mean {_num(r['mean'], '.4f')}, sample std {_num(r['std'], '.4f')}, t = {_num(r['t'], '.2f')}, "
             f"df = {r['df']}, p = {format_p(r['p_value'])} (one-sided, mean < {r['threshold']:g})",
             f"- {pct} t-interval for the mean [{_num(r['ci'][0], '.4f')}, {_num(r['ci'][1], '.4f')}]; "
             f"one-sided {pct} upper bound {_num(r['bound'], '.4f')}"]
    p = claim.get("power")
    if p and p.get("n_for_power"):
        lines.append(f"- taking the observed mean and std as the truth, {p['n_for_power']} seeds give "
                     f"{p['target_power']:.0%} power at alpha = {p['alpha']:g} (power with n = {p['n']}: "
                     f"{_num(p['power_at_n'], '.2f')})")
    return "\n".join(lines)


def _num(value: Any, spec: str) -> str:
    """A number as `spec`; a null (a statistic that was not finite, e.g. t with a threshold near 1e308) as
    'not finite', never a crash of the whole report."""
    return "not finite" if value is None else format(value, spec)


def _hashes(obj: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every `...sha256` string in a manifest, with the path of keys that leads to it."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, str) and str(k).endswith("sha256"):
                yield prefix.rstrip("."), v
            else:
                yield from _hashes(v, f"{prefix}{k}.")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            name = v.get("name") or v.get("path") if isinstance(v, dict) else None
            yield from _hashes(v, f"{prefix}{name or i}.")


def what_ran_section(config: dict[str, Any], info: dict[str, Any]) -> str:
    """Config summary, seeds, hardware, versions, data hashes and git revision."""
    d, t, e, c = config["data"], config["train"], config["eval"], config["claim"]
    ttt = EvalSettings.from_dict(e).ttt  # keys the config leaves out take the eval defaults
    hp = t.get("hyperparameters") or {}
    gpus = int(t.get("gpus", 0))
    lines = [
        f"- seeds: {', '.join(str(s) for s in config['seeds'])} ({len(config['seeds'])} distinct training seeds)",
        f"- data: source `{d['source']}`, vocabulary {d['vocab_size']}, folder `{d['dir']}`",
        "- training: " + (f"torchrun on {gpus} {'GPU' if gpus == 1 else 'GPUs'}" if gpus else "one CPU process per seed")
        + ("; " + ", ".join(f"{k}={v}" for k, v in hp.items()) if hp else ""),
        f"- evaluation: conditions {', '.join(e['conditions'])}; seq_len {e['seq_len']}, chunk {e['chunk']}, "
        f"LoRA rank {ttt.rank}, lr {ttt.lr}, batch {ttt.batch}, "
        f"{_count(int(e.get('ttt_draws', 1)), 'LoRA init draw')} per checkpoint from eval seed {ttt.seed}",
        f"- claim: {c['headline']} mean val_bpb < {c['threshold']:g}, alpha {c.get('alpha', 0.01):g}",
        f"- hardware: {', '.join(info.get('devices') or ['unknown'])} on {', '.join(info.get('hosts') or ['unknown'])}",
        f"- git revision: {', '.join(info.get('git_revisions') or ['unknown'])}",
    ]
    versions = info.get("versions") or {}
    if versions:
        lines.append("- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items() if v))
    train = info.get("train") or {}
    if train:
        lines += ["", "Training, per seed:", "", _train_table(train)]
    data = data_section(info.get("data_manifest") or {})
    if data:
        lines += ["", data]
    return "\n".join(lines)


def data_section(manifest: dict[str, Any]) -> str:
    """The dataset's files (tokens, bytes, sha256) and splits (documents, tokens, text bytes) as tables."""
    files = manifest.get("files")
    if isinstance(files, dict) and all(isinstance(v, dict) for v in files.values()):
        rows = [{"file": f"`{name}`", "tokens": v.get("tokens"), "bytes": v.get("bytes"),
                 "sha256": f"`{v.get('sha256')}`"} for name, v in files.items()]
    else:  # another manifest shape: every sha256 it holds, named by its last key
        rows = [{"file": f"`{name.rsplit('.', 1)[-1] if name.count('.') > 1 else name}`", "sha256": f"`{h}`"}
                for name, h in _hashes(manifest)]
    if not rows:
        return ""
    out = ["Data files:", "", markdown_table(pd.DataFrame(rows), formats={"tokens": ",.0f", "bytes": ",.0f"})]
    splits = manifest.get("splits")
    if isinstance(splits, dict) and splits:
        srows = [{"split": k, "documents": v.get("docs"), "tokens": v.get("tokens"), "text bytes": v.get("bytes")}
                 for k, v in splits.items() if isinstance(v, dict)]
        out += ["", "Splits:", "", markdown_table(pd.DataFrame(srows),
                                                    formats={c: ",.0f" for c in ("documents", "tokens", "text bytes")})]
    return "\n".join(out)


_TRAIN_KEYS = ("model_params", "world_size", "steps", "train_time_ms", "step_avg_ms", "artifact_bytes",
               "total_submission_bytes")


def _train_table(train: dict[str, dict[str, Any]]) -> str:
    """The reference's headline training numbers that every seed reports."""
    cols = [k for k in _TRAIN_KEYS if all(isinstance(m.get(k), int | float) for m in train.values())]
    df = pd.DataFrame([{"seed": s, **{k: m.get(k) for k in cols}, **_cap_columns(m)} for s, m in train.items()])
    table = markdown_table(df, formats={"train_time_ms": ".0f", "step_avg_ms": ".1f"})
    over = [s for s, m in train.items() if (m.get("size_cap") or {}).get("over_cap")]
    if over:
        table += (f"\n\n**Over the {SIZE_CAP_BYTES:,}-byte cap** (model + counted code): "
                  f"{'seed' if len(over) == 1 else 'seeds'} {', '.join(over)}; "
                  "the challenge would reject such an artifact.")
    counts = sorted({str((m.get("size_cap") or {}).get("code_count", "raw")) for m in train.values() if m.get("size_cap")})
    if counts:
        table += ("\n\nCode counted toward the cap: " + ", ".join(_COUNT_WORDS.get(c, c) for c in counts) + ".")
    return table


_COUNT_WORDS = {"lzma": "the self-extracting lzma bundle of the modules training and evaluation import "
                       "(as the challenge's later records count code)", "raw": "the raw bytes of those modules"}


def _cap_columns(metrics: dict[str, Any]) -> dict[str, Any]:
    """The size cap's verdict per seed (metrics.json `size_cap`, absent in older runs)."""
    cap = metrics.get("size_cap")
    if not isinstance(cap, dict):
        return {}
    return {"headroom_bytes": cap.get("headroom_bytes"), "size_cap": "OVER" if cap.get("over_cap") else "under"}


def tables_section(conditions_md: str, steps_md: str, confidence: float) -> str:
    return "\n".join([
        f"Per condition (draw 0 of every seed): mean, sample std and {confidence * 100:g}% t-interval of "
        "val_bpb; the step is the mean per-seed change from the previous condition.",
        "", conditions_md.strip(), "",
        "Per seed, the step in val_bpb from each condition to the next (negative = better):", "",
        steps_md.strip(),
    ])


def statistics_section(paired: pd.DataFrame, alpha: float) -> str:
    if paired.empty:
        return "Only one condition: no steps to compare."
    df = paired.assign(
        step=paired["from"] + " -> " + paired["to"],
        interval=[("-" if math.isnan(lo) else f"[{lo:+.4f}, {hi:+.4f}]")
                  for lo, hi in zip(paired["ci_low"], paired["ci_high"], strict=True)],
        p=paired["p_value"].map(lambda v: "-" if pd.isna(v) else format_p(v)),
        p_holm_text=paired["p_holm"].map(lambda v: "-" if pd.isna(v) else format_p(v)),
    )
    table = markdown_table(
        df[["step", "n", "mean_diff", "std_diff", "interval", "p", "p_holm_text", "holds", "note"]],
        formats={"mean_diff": "+.4f", "std_diff": ".4f"},
        headers={"mean_diff": "mean step", "std_diff": "std", "interval": "paired-t interval",
                 "p": "p (one-sided)", "p_holm_text": "p (Holm)", "holds": f"lower at alpha {alpha:g}"},
    )
    return ("Paired per-seed differences between consecutive conditions (later minus earlier); "
            "one-sided paired t-tests that the later condition is lower, Holm-adjusted over the steps.\n\n" + table)


def noise_section(noise: pd.DataFrame) -> str:
    if noise.empty:
        return ""
    all_row = noise[noise["seed"].astype(str) == "all"].iloc[0]
    table = markdown_table(noise[["seed", "draws", "mean_bpb", "std_bpb"]],
                           formats={"mean_bpb": ".4f", "std_bpb": ".5f"})
    share = all_row["eval_share"]
    share_text = "-" if pd.isna(share) else f"{share:.0%}"
    return "\n".join([
        "### Evaluation noise apart from training noise", "",
        "The ttt condition was scored with several LoRA init draws per checkpoint.", "", table, "",
        f"Evaluation noise (pooled std over draws of one checkpoint): {all_row['eval_std']:.5f} bpb; "
        f"spread of the per-seed means: {all_row['train_std']:.5f} bpb; the evaluation's share of that "
        f"spread's variance: {share_text}.",
    ])


def figure_notes(config: dict[str, Any], n_seeds: int) -> dict[str, str]:
    """What each figure shows, in words, under it."""
    c, e = config["claim"], config["eval"]
    seq_len, chunk = int(e["seq_len"]), int(e["chunk"])
    return {
        "ablation": f"Each grey line is one of the {n_seeds} training seeds across the conditions; the squares are "
                    "the means with their t-intervals; the dashed red line is the claim's threshold "
                    f"(mean {c['headline']} val_bpb < {c['threshold']:g}).",
        "positions": "Top: bits per byte of the targets at each position inside their document, summed over "
                     "seeds; bottom: how many targets were scored at that position (every document has a first "
                     "token, few are thousands of tokens long, so the right end rests on few documents). "
                     f"The dotted lines are the window boundaries, every {seq_len} positions: the doc condition "
                     f"scores a document in windows of {seq_len} tokens from its start, so the first target of "
                     "each new window has almost no context and its bpb jumps. Sliding scores "
                     f"{chunk} tokens at a time with up to {seq_len} tokens of context, which removes those "
                     "jumps; flat's windows are cut across documents, so they do not line up with document "
                     "positions.",
    }


def plots_section(paths: dict[str, str | Path], report_path: str | Path, notes: dict[str, str] | None = None) -> str:
    """Image links relative to the report, so the folder can be moved or zipped; each with its note."""
    captions = {"ablation": "Ablation: bpb per condition, seeds joined, mean with t-interval and the claim's threshold",
                "positions": "bpb by position in document, per condition, with the targets scored at each position"}
    base = Path(report_path).parent
    lines = []
    for name, path in paths.items():
        rel = os.path.relpath(Path(path), base)
        lines += [f"![{captions.get(name, name)}]({rel})", ""]
        if notes and notes.get(name):
            lines += [notes[name], ""]
    return "\n".join(lines).strip()


def published_section(published: dict[str, Any] | None, summary: pd.DataFrame, claim: dict[str, Any]) -> str:
    """The published record beside what was reproduced; empty when the config carries none."""
    if not published:
        return ""
    lines = ["## Published record beside this reproduction", ""]
    if published.get("source"):
        lines += [f"Published: {published['source']}.", ""]
    ours = summary.set_index("condition") if not summary.empty else pd.DataFrame()
    rows = []
    for p in published.get("ablation") or []:
        c = p["condition"]
        have = c in ours.index and ours.loc[c, "n"] > 0
        rows.append({
            "condition": condition(c).label if c in NAMES else c,  # a published name may be any text
            "published val_loss": p.get("val_loss"), "published val_bpb": p.get("val_bpb"),
            "reproduced val_loss": ours.loc[c, "mean_loss"] if have else None,
            "reproduced val_bpb": ours.loc[c, "mean_bpb"] if have else None,
            "difference bpb": (ours.loc[c, "mean_bpb"] - p["val_bpb"]) if have else None,
        })
    if rows:
        fmt = {k: ".4f" for k in rows[0] if k != "condition"}
        fmt["difference bpb"] = "+.4f"
        lines += ["Ablation (published: one run; reproduced: mean over seeds):", "",
                  markdown_table(pd.DataFrame(rows), formats=fmt), ""]
    runs = published.get("runs") or []
    pc = published.get("claim") or {}
    if runs or pc:
        values = ", ".join(f"{r['val_bpb']:.4f}" for r in runs)
        lines.append(f"Published claim: bpb [{values}], mean {pc.get('mean', float('nan')):g}, "
                     f"std {pc.get('std', float('nan')):g}, p = {pc.get('p_value', float('nan')):g} "
                     f"against {pc.get('threshold', float('nan')):g}.")
        if claim.get("tested"):
            lines.append(f"Reproduced: {claim['sentence']}.")
        else:
            lines.append(f"Reproduced: no test ({claim.get('reason')}).")
    return "\n".join(lines).strip()
