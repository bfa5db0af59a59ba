"""Did every claimed run use one configuration, and the submitted script's?

Each run's settings are what its log prints: a `Hyperparameters:` block, `key:value` lines, a
one-line argument dump. A key with different values in two claimed runs is an error (a seed run
with another learning rate is another experiment), except keys that differ by nature (seed, run
id, log file, paths, logging cadence). The script's defaults are read statically with `ast`, never
run: `os.environ.get("NAME", default)` (and helpers called the same way) and dataclass fields;
a default the logs contradict is a warning, since a run command may set the variable on purpose.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

from pgolf.review.flags import Flag
from pgolf.review.reader import ParsedRun

# keys that differ between runs by nature
_PER_RUN = re.compile(r"^(seed|run_id|run_name|rank|local_rank|logfile|log_file|log_path|log_dir|out_dir|output_dir|"
                      r"wandb_\w+|.*_every|.*_path|.*_dir|.*_file|.*_files|.*_pattern|timestamp|date|host\w*|"
                      r"model_params|world_size|.*_time\w*)$")
_ENV_GETTERS = {"get", "getenv", "_e", "env", "_env", "env_int", "env_float", "env_bool", "_get"}
MAX_LISTED = 12  # keys quoted in one flag


def settings(r: ParsedRun) -> dict[str, str]:
    """What the log printed, lower-case keys: `key:value` lines, then the block or dump over them."""
    return {k.lower(): v.strip().rstrip(",") for k, v in {**r.printed_config, **r.hyperparameters}.items()}


def _same(a: str, b: str) -> bool:
    """Equal as printed, as numbers (`0.02` and `2e-2`) or as booleans (`1` and `True`)."""
    if a == b:
        return True
    low = {a.lower(), b.lower()}
    if low <= {"1", "true"} or low <= {"0", "false"}:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return a.strip("'\"") == b.strip("'\"")


def differing_keys(runs: Sequence[ParsedRun]) -> dict[str, list[str]]:
    """Keys that two runs print with different values: key -> each run's value (None where it prints none)."""
    per = [settings(r) for r in runs]
    keys = sorted({k for s in per for k in s if not _PER_RUN.match(k)})
    out = {}
    for k in keys:
        values = [s[k] for s in per if k in s]
        if len(values) > 1 and any(not _same(values[0], v) for v in values[1:]):
            out[k] = [s.get(k) for s in per]
    return out


def config_flags(runs: Sequence[ParsedRun], label: dict[int, str]) -> list[Flag]:
    """An error naming each key whose value differs between the claimed runs, with every run's value."""
    diff = differing_keys(runs)
    if len(runs) < 2 or not diff:
        return []
    shown = [f"{k} ({', '.join(f'{label[id(r)]}: {v}' for r, v in zip(runs, vals, strict=True) if v is not None)})"
             for k, vals in list(diff.items())[:MAX_LISTED]]
    more = f" and {len(diff) - MAX_LISTED} more" if len(diff) > MAX_LISTED else ""
    return [Flag("error", "", f"config: the claimed runs differ in {len(diff)} setting(s): {'; '.join(shown)}{more}",
                 check="config", numbers=tuple((k, " | ".join(str(v) for v in vals)) for k, vals in diff.items()))]


# --------------------------------------------------------------------------- the script's defaults


def _literal(node: ast.AST) -> str | None:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return str(value) if isinstance(value, str | int | float | bool) else None


def script_defaults(source: str) -> dict[str, str]:
    """NAME -> default (lower-case keys) of every `os.environ.get("NAME", default)`-shaped call and every
    dataclass field with a literal default. The source is parsed, never run; {} when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and len(node.args) >= 2:
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            key, default = node.args[0], _literal(node.args[1])
            if name in _ENV_GETTERS and isinstance(key, ast.Constant) and isinstance(key.value, str) \
                    and re.fullmatch(r"[A-Z][A-Z0-9_]*", key.value) and default is not None:
                out.setdefault(key.value.lower(), default)
        elif isinstance(node, ast.ClassDef) and any("dataclass" in ast.unparse(d) for d in node.decorator_list):
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and item.value is not None \
                        and (default := _literal(item.value)) is not None:
                    out.setdefault(item.target.id.lower(), default)
    return out


def default_flags(runs: Sequence[ParsedRun], defaults: dict[str, str], script: str) -> list[Flag]:
    """A warning naming the settings every run printed with one value that the script's default contradicts.
    Only a `Hyperparameters:` block or argument dump is compared: free `key:value` lines print derived values
    (the effective embedding learning rate under `embed_lr`)."""
    per = [{k.lower(): v.strip().rstrip(",") for k, v in r.hyperparameters.items()} for r in runs]
    off = {}
    for k, default in sorted(defaults.items()):
        values = {s[k] for s in per if k in s}
        if _PER_RUN.match(k) or len(values) != 1:
            continue  # not printed, or already a differing key
        value = values.pop()
        if not _same(value, default):
            off[k] = (value, default)
    if not off:
        return []
    shown = "; ".join(f"{k}: log {v}, default {d}" for k, (v, d) in list(off.items())[:MAX_LISTED])
    more = f" and {len(off) - MAX_LISTED} more" if len(off) > MAX_LISTED else ""
    return [Flag("warn", "", f"config: the runs printed {len(off)} setting(s) other than {script}'s defaults ({shown}"
                             f"{more}): the run command must set them to reproduce the runs", check="config",
                 numbers=tuple((k, f"{v} | {d}") for k, (v, d) in off.items()))]
