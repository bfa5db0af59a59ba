"""The checks across config keys that the schema cannot say, run before any job: Snakemake deletes a
job's earlier outputs before it runs, so a value that passes the schema but fails the job loses them."""

from __future__ import annotations

from typing import Any

from pgolf import evalspec
from pgolf.config import (
    check_finite,
    check_results_folder,
    check_seeds,
    check_train_settings,
    check_ttt_draws,
    coerce,
)
from pgolf.dag.commands import eval_settings
from pgolf.dag.layout import DATA_SETTING_KEYS, data_settings
from pgolf.errors import ConfigError


def config_error(key: str, message: str) -> ConfigError:
    return ConfigError(f"config key {key}: {message}")


def check_config(config: dict[str, Any]) -> None:
    """Every check a job would make, now; each error names the key and the allowed values (PgolfError)."""
    conditions = list(config["eval"]["conditions"])
    draws = int(config["eval"]["ttt_draws"])
    headline = config["claim"]["headline"]
    if headline not in conditions:
        raise config_error("claim.headline",
                           f"{headline!r} is not among eval.conditions; allowed: {', '.join(conditions)}")
    if draws > 1 and not any(evalspec.condition(c).trains for c in conditions):
        raise config_error("eval.ttt_draws", f"is {draws} but eval.conditions has no 'ttt'")
    check_results_folder(config["results"])
    check_finite(config, "")  # the schema's minimum/maximum let .nan and .inf through
    # The report always tests the claim, so it needs 2+ seeds: fail now, not after training.
    check_seeds(config["seeds"], claim=True)
    check_ttt_draws(draws, int(config["eval"].get("ttt_seed") or 0))
    # The eval settings' ranges, by the check eval's own flags go through (pgolf.evalspec).
    settings = eval_settings(config)
    for condition in conditions:
        settings.validate(condition, evalspec.config_key)
    # Unknown or mistyped train.hyperparameters fail now, naming the key (pgolf.config's own check).
    hyperparameters = {str(k): v for k, v in (config["train"].get("hyperparameters") or {}).items()}
    for key, value in hyperparameters.items():
        coerce(key, value, "config key train.hyperparameters")
    # Ranges, the model's shape and agreement with `data`, as the train job will build them.
    check_train_settings(config["train"].get("config"), data_settings(config), hyperparameters, DATA_SETTING_KEYS)
