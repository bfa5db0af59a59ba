# Helpers of workflow/rules/rerun.smk (config key `reruns`): entries with their defaults,
# checked at startup, and every argument list of the rerun rules.

import subprocess
import sys
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError

RERUN_DIR = f"{RESULTS}/rerun"
RERUN_SEED_LOG = f"{RERUN_DIR}/{{name}}/{{seed}}/train.log"
RERUN_SEED_INFO = f"{RERUN_DIR}/{{name}}/{{seed}}/rerun.json"


def _rerun_defaults():
    """The schema's defaults of one entry: written once, in the schema."""
    with open(Path(workflow.basedir) / "workflow/schemas/config.schema.yaml") as fh:
        schema = yaml.safe_load(fh)
    fields = schema["properties"]["reruns"]["additionalProperties"]["properties"]
    return {key: spec["default"] for key, spec in fields.items() if "default" in spec}


def _rerun_error(name, key, message):
    return WorkflowError(f"config key reruns.{name}.{key}: {message}")


def _resolve_rerun(name, entry):
    """One entry with defaults and its seeds; every path it needs is checked now."""
    entry = {**_rerun_defaults(), **entry}
    folder = Path(entry["folder"])
    if not folder.is_dir():
        raise _rerun_error(name, "folder", f"{folder} does not exist; put the record folder there "
                           "(its script, helpers, requirements.txt and submission.json) or fix the path")
    for key, path, what in (("script", folder / entry["script"], "the script torchrun starts"),
                            ("folder", folder / "submission.json", "the claim the rerun is checked against")):
        if not path.is_file():
            raise _rerun_error(name, key, f"{path} is missing: put {what} there")
    if entry.get("previous") and not Path(entry["previous"]).is_dir():
        raise _rerun_error(name, "previous", f"{entry['previous']} does not exist; put the previous "
                           "record's folder there, or drop the key")
    if not entry.get("seeds"):
        from pgolf.errors import PgolfError
        from pgolf.rerun.claim import claimed_seeds

        try:
            entry["seeds"] = claimed_seeds(folder)
        except PgolfError as exc:
            raise _rerun_error(name, "seeds", str(exc)) from None
    entry.setdefault("gpus", entry["nproc"])
    if entry.get("runtime") is None:
        timeout = entry.get("timeout_minutes")
        entry["runtime"] = int(timeout) + 10 if timeout else 60
    return entry


RERUNS = {name: _resolve_rerun(name, entry) for name, entry in (config.get("reruns") or {}).items()}


def rerun_entry(wildcards):
    if wildcards.name not in RERUNS:
        known = ", ".join(sorted(RERUNS)) or "none"
        raise WorkflowError(f"config key reruns.{wildcards.name}: no such rerun; configured: {known}")
    return RERUNS[wildcards.name]


def rerun_seed_arguments(wildcards):
    e = rerun_entry(wildcards)
    args = ["--folder", e["folder"], "--script", e["script"], "--seed", wildcards.seed,
            "--nproc", e["nproc"], "--run-id", f"{wildcards.name}_seed{wildcards.seed}"]
    for key, value in e["env"].items():
        if isinstance(value, bool):
            value = "1" if value else "0"
        args += ["--env", f"{key}={value}"]
    if e.get("timeout_minutes"):
        args += ["--timeout-minutes", e["timeout_minutes"]]
    return shell_args(args)


def rerun_seed_logs(wildcards):
    seeds = rerun_entry(wildcards)["seeds"]
    return {
        "logs": [RERUN_SEED_LOG.format(name=wildcards.name, seed=s) for s in seeds],
        "infos": [RERUN_SEED_INFO.format(name=wildcards.name, seed=s) for s in seeds],
    }


def rerun_check_argv(name, out=None):
    """rerun-check's arguments for one entry: the rule and the --keep-going report share them."""
    e = RERUNS[name]
    args = ["--name", name, "--folder", e["folder"], "--runs-dir", f"{RERUN_DIR}/{name}",
            "--seeds", *e["seeds"], "--alpha", e["alpha"], "--reproduce-alpha", e["reproduce_alpha"],
            "--out", out or f"{RERUN_DIR}/{name}"]
    for key in ("previous", "threshold", "metric"):
        if e.get(key) is not None:
            args += [f"--{key}", e[key]]
    return [str(a) for a in args]


def rerun_check_arguments(wildcards):
    rerun_entry(wildcards)
    return shell_args(rerun_check_argv(wildcards.name))


def write_partial_reruns():
    """onerror, with --keep-going (the other seeds have run): for every requested rerun report,
    the check over the seeds that finished, naming the ones that did not, in the rerun's
    `partial/` folder, never over a complete check."""
    if not workflow.execution_settings.keep_going:
        return
    targets = {str(Path(t)) for t in workflow.dag_settings.targets}
    for name in RERUNS:
        wanted = {str(Path(RERUN_DIR, name, f)) for f in ("record.json", "report.md")}
        if not targets & wanted:
            continue
        log = Path(RESULTS, "logs", "rerun", f"{name}.check.log")
        log.parent.mkdir(parents=True, exist_ok=True)
        partial = f"{RERUN_DIR}/{name}/partial"
        argv = [sys.executable, "-m", "pgolf", "rerun-check", *rerun_check_argv(name, partial), "--allow-missing"]
        with open(log, "a") as fh:
            done = subprocess.run(argv, stdout=fh, stderr=subprocess.STDOUT)
        where = f"{partial}/report.md" if done.returncode == 0 else f"nothing; see {log}"
        print(f"pgolf: rerun {name}: some seeds failed; partial check in {where}", file=sys.stderr)
