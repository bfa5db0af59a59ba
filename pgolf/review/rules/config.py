"""Configuration provenance: the claimed runs' printed settings against each other and against the
script's defaults (configcheck.py reads both)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from pgolf.review.model import Finding
from pgolf.review.read.config import MAX_LISTED, default_settings_off, differing_keys, script_defaults
from pgolf.review.rules.inputs import FolderInput
from pgolf.review.rules.registry import rule

# a published row whose one seed ran an extra TTT evaluation (`ttt_enabled: True`) beside the common stage
EXTRA_EVAL = "https://github.com/openai/parameter-golf/pull/1334"
# settings of the evaluation only: runs that differ in them alone trained alike, one evaluated more
_EVAL_ONLY = re.compile(r"^(?:ttt|eval|sliding|slot|ngram|ppm|val_)|_ttt$|_eval$", re.IGNORECASE)


@rule("config.runs_differ", severity="error", scope="folder", check="config", since="2026-03-18", source=EXTRA_EVAL)
def runs_differ(x: FolderInput) -> list[Finding]:
    """An error naming each key whose value differs between the claimed runs, with every run's value; a
    warning when only evaluation settings differ (`ttt_enabled`, `eval_stride`: one seed ran an extra,
    unclaimed evaluation beside the stage they share).

    >>> from pgolf.review.rules.examples import log
    >>> from pgolf.review.rules.inputs import FolderInput
    >>> a = log("Hyperparameters:", "  seed: 1", "  matrix_lr: 0.02", "final val_loss:2.0 val_bpb:1.2", file="a.log")
    >>> b = log("Hyperparameters:", "  seed: 2", "  matrix_lr: 0.04", "final val_loss:2.0 val_bpb:1.2", file="b.log")
    >>> [f.text for f in runs_differ(FolderInput([a, b], [a, b], None, (), {id(a): "a.log", id(b): "b.log"}))]
    ['config: the claimed runs differ in 1 setting(s): matrix_lr (a.log: 0.02, b.log: 0.04)']
    """
    runs = list(x.counted)
    diff = differing_keys(runs)
    if len(runs) < 2 or not diff:
        return []
    shown = [f"{k} ({', '.join(f'{x.label[id(r)]}: {v}' for r, v in zip(runs, vals, strict=True) if v is not None)})"
             for k, vals in list(diff.items())[:MAX_LISTED]]
    more = f" and {len(diff) - MAX_LISTED} more" if len(diff) > MAX_LISTED else ""
    extra = all(_EVAL_ONLY.search(k) for k in diff)
    why = " (evaluation settings only: an extra evaluation in some runs; the claimed stage decides)" if extra else ""
    return [Finding(f"config: the claimed runs differ in {len(diff)} setting(s): {'; '.join(shown)}{more}{why}",
                    severity="warn" if extra else None, numbers=tuple((k, " | ".join(str(v) for v in vals)) for k, vals in diff.items()))]


@rule("config.not_defaults", severity="warn", scope="folder", check="config")
def not_defaults(x: FolderInput) -> list[Finding]:
    """The settings every claimed run printed with one value that train_gpt.py's default contradicts: the
    run command must set them to reproduce the runs."""
    main = next((s for s in x.scripts if PurePosixPath(s.rel).name == "train_gpt.py"), None)
    if main is None or not x.counted:
        return []
    off = default_settings_off(list(x.counted), script_defaults("\n".join(main.lines)))
    if not off:
        return []
    shown = "; ".join(f"{k}: log {v}, default {d}" for k, (v, d) in list(off.items())[:MAX_LISTED])
    more = f" and {len(off) - MAX_LISTED} more" if len(off) > MAX_LISTED else ""
    return [Finding(f"config: the runs printed {len(off)} setting(s) other than {main.rel}'s defaults ({shown}"
                    f"{more}): the run command must set them to reproduce the runs",
                    numbers=tuple((k, f"{v} | {d}") for k, (v, d) in off.items()))]
