# Helpers of workflow/rules/rerun.smk (config key `reruns`): the entries, resolved and checked at startup
# by pgolf.dag.reruns, the rerun rules' arguments, and the --keep-going partial check (onerror).

import subprocess
import sys
from pathlib import Path

from pgolf.dag import reruns

RERUN_DIR = f"{RESULTS}/rerun"
RERUN_SEED_LOG = reruns.seed_log(RERUN_DIR)
RERUN_SEED_INFO = reruns.seed_info(RERUN_DIR)


@workflow_errors
def _resolve_reruns():
    defaults = reruns.rerun_defaults(Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")
    return {name: reruns.resolve_rerun(name, entry, defaults) for name, entry in (config.get("reruns") or {}).items()}


RERUNS = _resolve_reruns()


@workflow_errors
def rerun_entry(wildcards):
    return reruns.rerun_entry(RERUNS, wildcards.name)


def rerun_seed_arguments(wildcards):
    return commands.shell_args(reruns.seed_arguments(rerun_entry(wildcards), wildcards.name, wildcards.seed))


def rerun_seed_logs(wildcards):
    return reruns.seed_outputs(rerun_entry(wildcards), wildcards.name, RERUN_DIR)


def rerun_check_arguments(wildcards):
    return commands.shell_args(reruns.check_argv(rerun_entry(wildcards), wildcards.name, RERUN_DIR))


def write_partial_reruns():
    """onerror, with --keep-going (the other seeds have run): for every requested rerun report,
    the check over the seeds that finished, naming the ones that did not, in the rerun's
    `partial/` folder, never over a complete check."""
    if not workflow.execution_settings.keep_going:
        return
    targets = {str(Path(t)) for t in workflow.dag_settings.targets}
    for name, entry in RERUNS.items():
        wanted = {str(Path(RERUN_DIR, name, f)) for f in ("record.json", "report.md")}
        if not targets & wanted:
            continue
        log = Path(RESULTS, "logs", "rerun", f"{name}.check.log")
        log.parent.mkdir(parents=True, exist_ok=True)
        partial = f"{RERUN_DIR}/{name}/partial"
        argv = [sys.executable, "-m", "pgolf", "rerun-check", *reruns.check_argv(entry, name, RERUN_DIR, partial),
                "--allow-missing"]
        with open(log, "a") as fh:
            done = subprocess.run(argv, stdout=fh, stderr=subprocess.STDOUT)
        where = f"{partial}/report.md" if done.returncode == 0 else f"nothing; see {log}"
        print(f"pgolf: rerun {name}: some seeds failed; partial check in {where}", file=sys.stderr)
