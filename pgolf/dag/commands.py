"""Every rule's command-line arguments, built once from the config: the rules and the --keep-going partial
report run the same builders, so a command is never written twice."""

from __future__ import annotations

import json
import shlex
from typing import Any

from pgolf import evalspec
from pgolf.config import set_text
from pgolf.dag.layout import Folders, Layout, data_settings


def shell_args(args: list[Any]) -> str:
    """Arguments as one shell-quoted string (every rule's command line is built with this)."""
    return shlex.join(str(a) for a in args)


def _command(verb: str, args: list[Any]) -> str:
    return f"python -m pgolf {verb} {shell_args(args)}"


def prepare_arguments(config: dict[str, Any]) -> str:
    d = config["data"]
    args = ["--source", d["source"], "--vocab-size", d["vocab_size"], "--seed", d["seed"]]
    for key in ("val_docs", "max_docs"):
        if d.get(key) is not None:
            args += [f"--{key.replace('_', '-')}", d[key]]
    return shell_args(args)


def train_launcher(config: dict[str, Any]) -> str:
    """One process on CPU; torchrun over all of a node's GPUs otherwise."""
    gpus = int(config["train"]["gpus"])
    if gpus > 0:
        return f"torchrun --standalone --nproc_per_node={gpus} -m pgolf"
    return "python -m pgolf"


def train_arguments(config: dict[str, Any]) -> str:
    """--config FILE (optional) and one --set per hyperparameter, data paths included."""
    t = config["train"]
    args = []
    if t.get("config"):
        args += ["--config", t["config"]]
    settings = {**data_settings(config), **(t.get("hyperparameters") or {})}
    for key, value in settings.items():
        args += ["--set", f"{key}={set_text(value)}"]
    return shell_args(args)


def eval_settings(config: dict[str, Any], draw: int = 0) -> evalspec.EvalSettings:
    """The eval settings the config's `eval` keys name (pgolf.evalspec: one key, one flag per setting);
    LoRA init draw d uses ttt_seed + d."""
    settings = evalspec.EvalSettings.from_dict(config["eval"])
    return settings.replace_ttt(seed=settings.ttt.seed + draw)


def eval_arguments(config: dict[str, Any], name: str) -> str:
    """The eval verb's arguments for one result name (a condition, or `ttt_drawN`)."""
    condition, draw = evalspec.parse_eval_name(name)
    layout = Layout.from_config(config)
    args = ["--condition", condition, "--val", layout.val_glob, "--tokenizer", layout.tokenizer]
    # Every setting the config sets, as its flag; a condition that does not train takes no ttt_* flag.
    for key, value in eval_settings(config, draw).to_dict().items():
        if key in config["eval"] and (evalspec.condition(condition).trains or not key.startswith("ttt_")):
            args += [evalspec.flag(key), value]
    return shell_args(args)


def aggregate_command(config: dict[str, Any], where: Folders) -> str:
    """Eval JSONs -> tables; its {seed}/{name} patterns reach pgolf unformatted."""
    layout = Layout.from_config(config)
    return _command("aggregate", [
        "--seeds", *layout.seeds, "--conditions", *layout.conditions, "--ttt-draws", layout.ttt_draws,
        "--eval-pattern", layout.eval_pattern, "--artifact-pattern", layout.artifact_pattern,
        "--train-metrics-pattern", layout.train_metrics_pattern, "--manifest", layout.manifest,
        "--confidence", config["claim"]["confidence"], "--out-dir", where.tables,
    ])


def stats_command(config: dict[str, Any], where: Folders) -> str:
    c = config["claim"]
    return _command("stats", [
        "--headline", c["headline"], "--threshold", c["threshold"], "--alpha", c["alpha"],
        "--confidence", c["confidence"], "--conditions", *config["eval"]["conditions"],
        "--runs", f"{where.tables}/runs.csv", "--out-dir", where.stats,
    ])


def plots_command(config: dict[str, Any], where: Folders) -> str:
    return _command("plots", [
        "--runs", f"{where.tables}/runs.csv", "--positions", f"{where.tables}/positions.csv",
        "--conditions", *config["eval"]["conditions"], "--confidence", config["claim"]["confidence"],
        "--first", 4 * int(config["eval"]["seq_len"]),  # linear panel: the first four windows
        "--seq-len", config["eval"]["seq_len"],
        "--threshold", config["claim"]["threshold"], "--headline", config["claim"]["headline"],
        "--out-dir", where.plots,
    ])


def report_command(config: dict[str, Any], where: Folders) -> str:
    """The whole validated config goes in as JSON: the report's 'what ran' and the published numbers."""
    return _command("report", [
        "--config-json", json.dumps(config, sort_keys=True), "--template", config["report"]["template"],
        "--tables-dir", where.tables, "--stats-dir", where.stats, "--plots-dir", where.plots,
        "--out", where.report, *(["--partial"] if where.partial else []),
    ])


# The four commands of the report, in the order the --keep-going partial report runs them.
REPORT_STEPS = (aggregate_command, stats_command, plots_command, report_command)


def train_gpus(config: dict[str, Any]) -> int:
    """The train job's `gpu` resource: torchrun's processes, or 0 on CPU."""
    return int(config["train"]["gpus"])


def eval_gpus(config: dict[str, Any]) -> int:
    """An eval job uses one GPU at most."""
    return 1 if int(config["eval"]["gpus"]) > 0 else 0
