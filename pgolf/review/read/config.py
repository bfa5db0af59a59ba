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
import functools
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from pgolf.review.read.log import ParsedRun

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


# --------------------------------------------------------------------------- the script's defaults


def _literal(node: ast.AST) -> str | None:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return str(value) if isinstance(value, str | int | float | bool) else None


# where a default can stand: a getter called with an upper-case name first, or a dataclass's body
_ENV_CALL = re.compile(r"\b(?:" + "|".join(sorted(_ENV_GETTERS)) + r")\(\s*[\"'][A-Z][A-Z0-9_]*[\"']\s*,")
_DATACLASS = re.compile(r"^@(?:dataclasses\.)?dataclass\b[^\n]*\n(class [^\n]*:\n(?:(?:[ \t]+[^\n]*)?\n)*)", re.MULTILINE)
_MAX_CALL = 2000  # characters of one getter call: a default is a literal, never a page of code


def _call_text(source: str, start: int) -> str | None:
    """The call that opens at `start` up to its balanced closing parenthesis (strings not parsed: a default
    holding a parenthesis in quotes fails to parse and is skipped)."""
    depth, i = 0, source.index("(", start)
    for j in range(i, min(len(source), i + _MAX_CALL)):
        depth += {"(": 1, ")": -1}.get(source[j], 0)
        if depth == 0:
            return source[start:j + 1]
    return None


def _parse(snippet: str, mode: str = "exec") -> ast.AST | None:
    try:
        return ast.parse(snippet, mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _env_defaults(source: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _ENV_CALL.finditer(source):
        call = _parse(_call_text(source, m.start()) or "", "eval")
        node = call.body if isinstance(call, ast.Expression) else None
        if isinstance(node, ast.Call) and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant) \
                and (default := _literal(node.args[1])) is not None:
            out.setdefault(str(node.args[0].value).lower(), default)
    return out


def _dataclass_defaults(source: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _DATACLASS.finditer(source):
        tree = _parse(m.group(1))
        for cls in tree.body if isinstance(tree, ast.Module) else []:
            for item in cls.body if isinstance(cls, ast.ClassDef) else []:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and item.value is not None \
                        and (default := _literal(item.value)) is not None:
                    out.setdefault(item.target.id.lower(), default)
    return out


@functools.lru_cache(maxsize=1024)
def script_defaults(source: str) -> Mapping[str, str]:
    """NAME -> default (lower-case keys) of every `os.environ.get("NAME", default)`-shaped call and every
    dataclass field with a literal default. Only those calls and classes are parsed (a whole 100 KB script
    took ~50 ms to parse, ~1,000 of them per stream), never run."""
    return MappingProxyType({**_dataclass_defaults(source), **_env_defaults(source)})


def default_settings_off(runs: Sequence[ParsedRun], defaults: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """The settings every run printed with one value that the script's default contradicts: {key: (value,
    default)}. Only a `Hyperparameters:` block or argument dump is compared: free `key:value` lines print
    derived values (the effective embedding learning rate under `embed_lr`)."""
    per = [{k.lower(): v.strip().rstrip(",") for k, v in r.hyperparameters.items()} for r in runs]
    off = {}
    for k, default in sorted(defaults.items()):
        values = {s[k] for s in per if k in s}
        if _PER_RUN.match(k) or len(values) != 1:
            continue  # not printed, or already a differing key
        value = values.pop()
        if not _same(value, default):
            off[k] = (value, default)
    return off
