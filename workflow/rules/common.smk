# Snakemake's side of the helpers: the config's globals the rules name, the wildcard constraints and the
# onstart/onerror/onsuccess glue. Everything derived from the config as plain Python (paths, expected
# outputs, command lines, the checks across keys) is in pgolf.dag; rules call it and hold no logic.

import shlex
import shutil
import subprocess
import sys
from functools import wraps
from pathlib import Path

from snakemake.exceptions import WorkflowError

try:  # torch-free: the evaluation vocabulary and the DAG's paths and commands
    from pgolf import evalspec
    from pgolf.dag import commands, layout
    from pgolf.dag.checks import check_config
    from pgolf.errors import PgolfError
except ImportError as exc:
    raise WorkflowError(f"cannot import pgolf ({exc}): install it with `pip install -e .`") from None


def workflow_errors(function):
    """A pgolf.dag helper whose bad-config error Snakemake shows as its own clean message."""

    @wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except PgolfError as exc:
            raise WorkflowError(str(exc)) from None

    return call


# Every check a job would make runs now, before any job (pgolf.dag.checks).
workflow_errors(check_config)(config)

# Every path derives from the config key `results` (pgolf.dag.layout).
LAYOUT = layout.Layout.from_config(config)
RESULTS = LAYOUT.results
SEEDS = list(LAYOUT.seeds)
ARTIFACT_PATTERN = LAYOUT.artifact_pattern
TRAIN_METRICS_PATTERN = LAYOUT.train_metrics_pattern
TABLES = LAYOUT.tables
STATS = LAYOUT.stats
PLOTS = LAYOUT.plots
REPORT = LAYOUT.report
FOLDERS = LAYOUT.folders()
PARTIAL_FOLDERS = LAYOUT.folders(partial=True)


wildcard_constraints:
    seed=r"\d+",
    name=r"[A-Za-z0-9_.-]+",
    condition=evalspec.NAME_PATTERN,


def folder_of(key):
    """A params function giving the folder of a named output (the folder is never hardcoded)."""

    def folder(wildcards, output):
        return str(Path(output[key]).parent)

    return folder


def prepare_folder(wildcards, output):
    return LAYOUT.prepare_folder(output.manifest)


def eval_arguments(wildcards):
    return commands.eval_arguments(config, wildcards.condition)


# --------------------------------------------------------------------- aggregate / stats / plots / report
# Each of these four rules runs the command its pgolf.dag.commands builder makes, and the --keep-going
# partial report (onerror) runs the same builders into PARTIAL_FOLDERS: one source per command.
# Params functions, not strings: the {seed}/{name} patterns and the config JSON's braces stay unformatted.


def aggregate_command(wildcards):
    return commands.aggregate_command(config, FOLDERS)


def stats_command(wildcards):
    return commands.stats_command(config, FOLDERS)


def plots_command(wildcards):
    return commands.plots_command(config, FOLDERS)


def report_command(wildcards):
    return commands.report_command(config, FOLDERS)


def report_requested():
    """True when the report is among this run's targets (no target = rule all = the report)."""
    if workflow.dag_settings.target_jobs:  # a job of a cluster executor, not the main run
        return False
    return layout.report_among(list(workflow.dag_settings.targets), REPORT)


def write_partial_report():
    """onerror: with --keep-going the report still comes, as report.partial.md beside the
    complete one (never over it), says it is partial and names what is missing; only when
    the report was asked for and the run was asked to keep going."""
    if not (report_requested() and workflow.execution_settings.keep_going):
        return
    log = f"{RESULTS}/logs/partial_report.log"
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    for step in commands.REPORT_STEPS:
        # subprocess, not shell(): the commands hold literal braces ({seed}, the config JSON).
        try:
            subprocess.run(["bash", "-c", f"{step(config, PARTIAL_FOLDERS)} >> {shlex.quote(log)} 2>&1"], check=True)
        except (OSError, subprocess.CalledProcessError):  # never hide the original failure
            print(f"pgolf: partial report step failed, see {log}", file=sys.stderr)
            return
    print(f"pgolf: some jobs failed; {LAYOUT.partial_report} is a partial report that lists what is missing "
          f"({REPORT} is left as it was)", file=sys.stderr)


def drop_partial_report():
    """onsuccess: a complete report makes an earlier partial one stale."""
    if report_requested():
        Path(LAYOUT.partial_report).unlink(missing_ok=True)
        shutil.rmtree(f"{RESULTS}/partial", ignore_errors=True)


# --------------------------------------------------------------------- one run per results folder


def lock_results():
    """onstart (jobs are about to run, not a dry run): take the results folder, or fail naming the run
    that holds it (two checkouts can share one absolute `results:` folder; Snakemake's own lock is per
    checkout)."""
    if not workflow.is_main_process:
        return
    from pgolf.errors import PgolfError
    from pgolf.runlock import acquire

    try:
        acquire(RESULTS, Path.cwd())
    except PgolfError as exc:
        raise WorkflowError(str(exc)) from None


def unlock_results():
    if workflow.is_main_process:
        from pgolf.runlock import release

        release(RESULTS)


# --------------------------------------------------------------------- outputs a failed run cannot lose
# Snakemake deletes a job's outputs before it runs and when it fails or is interrupted (pgolf.keep):
# every file under these folders gets a second name when jobs start, and gets its path back if the
# run does not succeed.


def kept_files():
    return LAYOUT.kept_files()


def keep_outputs():
    """onstart (after the lock): a second name for every earlier output."""
    if workflow.is_main_process:
        from pgolf.keep import keep

        keep([RESULTS], kept_files())


def restore_outputs():
    """onerror: every earlier output a failed or interrupted job deleted gets its path back, with its
    own bytes and time stamp; Snakemake's record of the failed job is dropped for it, so the record
    never vouches for the old file (a changed setting still reruns it: pgolf.stagefiles)."""
    if not workflow.is_main_process:
        return
    from snakemake.io import IOFile

    from pgolf.keep import restore
    from pgolf.stagefiles import put_back

    restored = restore([RESULTS], kept_files())
    put_back(RESULTS)  # after restore: the settings files' earlier versions are not among the kept files
    for path in restored:
        try:
            workflow.persistence.cleanup_metadata(IOFile(str(path)))
        except Exception:  # noqa: BLE001 - a file Snakemake never recorded has nothing to drop
            pass
    if restored:
        shown = ", ".join(str(p) for p in restored[:5]) + (" ..." if len(restored) > 5 else "")
        print(f"pgolf: the run did not finish; {len(restored)} earlier output(s) that its jobs had deleted are "
              f"back as they were: {shown}. The next run rebuilds what is out of date.", file=sys.stderr)


def discard_kept():
    """onsuccess: every output this run touched is new; the second names go."""
    if workflow.is_main_process:
        from pgolf.keep import discard
        from pgolf.stagefiles import forget

        forget(RESULTS)
        discard([RESULTS], kept_files())


# --------------------------------------------------------------------- one settings file per stage
# Each stage's rules take the config its outputs depend on as an input file (pgolf.stagefiles), so a
# changed setting reruns the stage even after an interrupted run lost Snakemake's record of params.
# A dry run writes nothing (Snakemake's own params check shows the changes it plans for).
def stage_files():
    from pgolf.stagefiles import STAGES, stage_path, write_stage_files

    if workflow.is_main_process and not workflow.dryrun:
        return {stage: str(path) for stage, path in write_stage_files(RESULTS, config).items()}
    return {stage: str(stage_path(RESULTS, stage)) for stage in STAGES}


STAGE_FILES = stage_files()
