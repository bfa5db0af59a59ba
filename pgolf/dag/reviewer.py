"""Reviewer mode: the inputs and arguments of the `check_claim` and `audit` rules, from the config keys
`claims` and `audit`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pgolf.dag.commands import shell_args
from pgolf.errors import ConfigError


def claim_config(config: dict[str, Any], name: str) -> dict[str, Any]:
    """One `claims` entry, with the shape of `previous` its kind (`record` or `logs`) needs."""
    claims = config.get("claims") or {}
    if name not in claims:
        known = ", ".join(sorted(claims)) or "none"
        raise ConfigError(f"config key claims.{name}: no such claim; configured: {known}")
    entry = claims[name]
    previous = entry.get("previous")
    if "record" in entry and previous is not None and not isinstance(previous, str):
        raise ConfigError(f"config key claims.{name}.previous: with `record`, give the previous "
                          "record's folder (a path), not a list of logs")
    if "logs" in entry and isinstance(previous, str):
        raise ConfigError(f"config key claims.{name}.previous: with `logs`, give a list of the "
                          "previous record's logs")
    return entry


def folder_files(folder: str) -> list[str]:
    """Every file under a folder: a change to any of them reruns the check."""
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"{folder}: no such record folder (missing input): put the record folder(s) there, "
                          "e.g. a clone of the challenge's repository, or fix the path in the config")
    return sorted(str(p) for p in root.rglob("*") if p.is_file())


def claim_inputs(entry: dict[str, Any]) -> dict[str, list[str]]:
    if "record" in entry:
        previous = folder_files(entry["previous"]) if entry.get("previous") else []
        return {"logs": folder_files(entry["record"]), "previous": previous}
    return {"logs": entry["logs"], "previous": entry.get("previous", [])}


def claim_command(entry: dict[str, Any]) -> str:
    """The verb and its arguments for one claims entry (the rule adds --out)."""
    if "record" in entry:
        args, keys = ["check-record", entry["record"]], ("previous", "threshold", "metric", "margin_nats",
                                                         "alpha", "progression_alpha")
    else:
        args, keys = ["check-logs", *entry["logs"]], ("threshold", "margin_nats", "metric", "alpha", "claimed_std")
        if entry.get("previous"):
            args += ["--previous", *entry["previous"]]
    for key in keys:
        if entry.get(key) is not None:
            args += [f"--{key.replace('_', '-')}", entry[key]]
    return shell_args(args)


def audit_config(config: dict[str, Any]) -> dict[str, Any]:
    entry = config.get("audit")
    if not entry:
        raise ConfigError("config key audit: not set; add `audit: {records: PATH}` naming the folder of "
                          "record folders (e.g. records/track_10min_16mb)")
    return entry


def audit_inputs(entry: dict[str, Any]) -> dict[str, Any]:
    inputs: dict[str, Any] = {"records": folder_files(entry["records"])}
    if entry.get("pairs"):
        inputs["pairs"] = entry["pairs"]
    return inputs


def audit_command(entry: dict[str, Any]) -> str:
    args = [entry["records"]]
    for key in ("pairs", "margin_nats", "alpha", "progression_alpha"):
        if entry.get(key) is not None:
            args += [f"--{key.replace('_', '-')}", entry[key]]
    return shell_args(args)
