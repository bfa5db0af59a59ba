"""Compliance reruns (config key `reruns`): each entry with the schema's defaults and its seeds, every path
it needs checked at startup, and the rerun rules' arguments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pgolf.errors import ConfigError, PgolfError


def seed_log(rerun_dir: str) -> str:
    return f"{rerun_dir}/{{name}}/{{seed}}/train.log"


def seed_info(rerun_dir: str) -> str:
    return f"{rerun_dir}/{{name}}/{{seed}}/rerun.json"


def rerun_defaults(schema: Path) -> dict[str, Any]:
    """The schema's defaults of one entry: written once, in the schema."""
    with open(schema) as fh:
        fields = yaml.safe_load(fh)["properties"]["reruns"]["additionalProperties"]["properties"]
    return {key: spec["default"] for key, spec in fields.items() if "default" in spec}


def _error(name: str, key: str, message: str) -> ConfigError:
    return ConfigError(f"config key reruns.{name}.{key}: {message}")


def resolve_rerun(name: str, entry: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """One entry with defaults and its seeds; every path it needs is checked now."""
    entry = {**defaults, **entry}
    folder = Path(entry["folder"])
    if not folder.is_dir():
        raise _error(name, "folder", f"{folder} does not exist; put the record folder there "
                     "(its script, helpers, requirements.txt and submission.json) or fix the path")
    for key, path, what in (("script", folder / entry["script"], "the script torchrun starts"),
                            ("folder", folder / "submission.json", "the claim the rerun is checked against")):
        if not path.is_file():
            raise _error(name, key, f"{path} is missing: put {what} there")
    if entry.get("previous") and not Path(entry["previous"]).is_dir():
        raise _error(name, "previous", f"{entry['previous']} does not exist; put the previous "
                     "record's folder there, or drop the key")
    if not entry.get("seeds"):
        from pgolf.rerun.claim import claimed_seeds

        try:
            entry["seeds"] = claimed_seeds(folder)
        except PgolfError as exc:
            raise _error(name, "seeds", str(exc)) from None
    entry.setdefault("gpus", entry["nproc"])
    if entry.get("runtime") is None:
        timeout = entry.get("timeout_minutes")
        entry["runtime"] = int(timeout) + 10 if timeout else 60
    return entry


def rerun_entry(reruns: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    if name not in reruns:
        known = ", ".join(sorted(reruns)) or "none"
        raise ConfigError(f"config key reruns.{name}: no such rerun; configured: {known}")
    return reruns[name]


def seed_arguments(entry: dict[str, Any], name: str, seed: str) -> list[str]:
    """rerun-seed's arguments for one seed of one entry."""
    args = ["--folder", entry["folder"], "--script", entry["script"], "--seed", seed,
            "--nproc", entry["nproc"], "--run-id", f"{name}_seed{seed}"]
    for key, value in entry["env"].items():
        if isinstance(value, bool):
            value = "1" if value else "0"
        args += ["--env", f"{key}={value}"]
    if entry.get("timeout_minutes"):
        args += ["--timeout-minutes", entry["timeout_minutes"]]
    return [str(a) for a in args]


def seed_outputs(entry: dict[str, Any], name: str, rerun_dir: str) -> dict[str, list[str]]:
    """Every seed's train log and rerun.json: rerun-check's inputs."""
    seeds = entry["seeds"]
    return {
        "logs": [seed_log(rerun_dir).format(name=name, seed=s) for s in seeds],
        "infos": [seed_info(rerun_dir).format(name=name, seed=s) for s in seeds],
    }


def check_argv(entry: dict[str, Any], name: str, rerun_dir: str, out: str | None = None) -> list[str]:
    """rerun-check's arguments for one entry: the rule and the --keep-going report share them."""
    args = ["--name", name, "--folder", entry["folder"], "--runs-dir", f"{rerun_dir}/{name}",
            "--seeds", *entry["seeds"], "--alpha", entry["alpha"], "--reproduce-alpha", entry["reproduce_alpha"],
            "--out", out or f"{rerun_dir}/{name}"]
    for key in ("previous", "threshold", "metric"):
        if entry.get(key) is not None:
            args += [f"--{key}", entry[key]]
    return [str(a) for a in args]
