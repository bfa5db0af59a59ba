# Helpers shared by the rules: paths, expected outputs and command-line arguments,
# all derived from the validated config. Rules call these; they hold no logic.

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

try:  # the evaluation vocabulary: condition names, result file names, settings (torch-free)
    from pgolf import evalspec
except ImportError as exc:
    raise WorkflowError(f"cannot import pgolf ({exc}): install it with `pip install -e .`") from None

# Every path below derives from the config key `results`: each configuration keeps
# its own folder (results/ for the default, results/record/ for the record setting),
# so one never replaces the other's outputs and switching back reruns nothing.
RESULTS = config["results"]
DATA_DIR = config["data"]["dir"]
SEEDS = [str(seed) for seed in config["seeds"]]
CONDITIONS = list(config["eval"]["conditions"])
TTT_DRAWS = int(config["eval"]["ttt_draws"])

# One eval output per seed x name (pgolf.evalspec.eval_name): a condition keeps its own
# name (`ttt.json` is the ttt condition with LoRA init draw 0); extra draws of the ttt
# condition on the same checkpoint are `ttt_draw1.json`, `ttt_draw2.json`, ...
EVAL_PATTERN = f"{RESULTS}/seeds/{{seed}}/eval/{{name}}.json"
ARTIFACT_PATTERN = f"{RESULTS}/seeds/{{seed}}/train/final_model.int8.ptz"
TRAIN_METRICS_PATTERN = f"{RESULTS}/seeds/{{seed}}/train/metrics.json"


wildcard_constraints:
    seed=r"\d+",
    name=r"[A-Za-z0-9_.-]+",
    condition=evalspec.NAME_PATTERN,


def folder_of(key):
    """A params function giving the folder of a named output (the folder is never hardcoded)."""

    def folder(wildcards, output):
        return str(Path(output[key]).parent)

    return folder


def shell_args(args):
    """Arguments as one shell-quoted string (every rule's command line is built with this)."""
    return shlex.join(str(a) for a in args)


def _config_error(key, message):
    return WorkflowError(f"config key {key}: {message}")


def check_config():
    """Cross-key rules the schema cannot say; each error names the key and the allowed values."""
    headline = config["claim"]["headline"]
    if headline not in CONDITIONS:
        raise _config_error(
            "claim.headline", f"{headline!r} is not among eval.conditions; allowed: {', '.join(CONDITIONS)}"
        )
    if TTT_DRAWS > 1 and not any(evalspec.condition(c).trains for c in CONDITIONS):
        raise _config_error("eval.ttt_draws", f"is {TTT_DRAWS} but eval.conditions has no 'ttt'")
    try:
        from pgolf.config import (check_finite, check_results_folder, check_seeds, check_train_settings,
                                  check_ttt_draws, coerce)
        from pgolf.errors import PgolfError
    except ImportError as exc:
        raise WorkflowError(f"cannot import pgolf ({exc}): install it with `pip install -e .`") from None
    # Every check a job would make runs now, before any job: Snakemake deletes a job's earlier
    # outputs before it runs, so a value that passes the schema but fails the job loses them.
    try:
        check_results_folder(RESULTS)
        check_finite(config, "")  # the schema's minimum/maximum let .nan and .inf through
        # The report always tests the claim, so it needs 2+ seeds: fail now, not after training.
        check_seeds(config["seeds"], claim=True)
        check_ttt_draws(TTT_DRAWS, int(config["eval"].get("ttt_seed") or 0))
        # The eval settings' ranges, by the check eval's own flags go through (pgolf.evalspec).
        settings = eval_settings()
        for condition in CONDITIONS:
            settings.validate(condition, evalspec.config_key)
        # Unknown or mistyped train.hyperparameters fail now, naming the key (pgolf.config's own check).
        hyperparameters = {str(k): v for k, v in (config["train"].get("hyperparameters") or {}).items()}
        for key, value in hyperparameters.items():
            coerce(key, value, "config key train.hyperparameters")
        # Ranges, the model's shape and agreement with `data`, as the train job will build them.
        check_train_settings(config["train"].get("config"), data_settings(), hyperparameters, DATA_SETTING_KEYS)
    except PgolfError as exc:
        raise WorkflowError(str(exc)) from None



# --------------------------------------------------------------------- data


def is_fineweb():
    return config["data"]["source"] == "fineweb"


def dataset_dir():
    """Shards + manifest. FineWeb keeps the reference's layout under the data root."""
    if is_fineweb():
        return f"{DATA_DIR}/datasets/fineweb10B_sp1024"
    return DATA_DIR


def data_manifest():
    return f"{dataset_dir()}/manifest.json"


def tokenizer_path():
    if is_fineweb():
        return f"{DATA_DIR}/tokenizers/fineweb_1024_bpe.model"
    return f"{DATA_DIR}/tokenizer.model"


def val_glob():
    prefix = "fineweb" if is_fineweb() else "pgolf"
    return f"{dataset_dir()}/{prefix}_val_*.bin"


def prepare_folder(wildcards, output):
    """prepare's --out: the manifest's folder, or for FineWeb the data root two levels above it."""
    folder = Path(output.manifest).parent
    return str(folder.parents[1] if is_fineweb() else folder)


def prepare_outputs():
    """prepare writes the tokenizer for a built corpus; FineWeb's own is only checked, never
    declared an output (Snakemake would delete it before the job runs)."""
    outputs = {"manifest": data_manifest()}
    if not is_fineweb():
        outputs["tokenizer"] = tokenizer_path()
    return outputs


def prepare_arguments():
    d = config["data"]
    args = ["--source", d["source"], "--vocab-size", d["vocab_size"], "--seed", d["seed"]]
    for key in ("val_docs", "max_docs"):
        if d.get(key) is not None:
            args += [f"--{key.replace('_', '-')}", d[key]]
    return shell_args(args)


# --------------------------------------------------------------------- train


def train_launcher():
    """One process on CPU; torchrun over all of a node's GPUs otherwise."""
    gpus = int(config["train"]["gpus"])
    if gpus > 0:
        return f"torchrun --standalone --nproc_per_node={gpus} -m pgolf"
    return "python -m pgolf"


# The hyperparameters every train job takes from `data`, and the config key each comes from.
DATA_SETTING_KEYS = {"data_path": "data.dir", "tokenizer_path": "data.dir", "vocab_size": "data.vocab_size"}


def data_settings():
    return {"data_path": dataset_dir(), "tokenizer_path": tokenizer_path(), "vocab_size": config["data"]["vocab_size"]}


def train_arguments():
    """--config FILE (optional) and one --set per hyperparameter, data paths included."""
    from pgolf.config import set_text

    t = config["train"]
    args = []
    if t.get("config"):
        args += ["--config", t["config"]]
    settings = {**data_settings(), **(t.get("hyperparameters") or {})}
    for key, value in settings.items():
        args += ["--set", f"{key}={set_text(value)}"]
    return shell_args(args)


def train_gpus():
    return int(config["train"]["gpus"])


# --------------------------------------------------------------------- eval


def eval_names():
    """File stems of one seed's evaluations, in ablation order."""
    return [evalspec.eval_name(c, draw) for c, draw in evalspec.evaluations(CONDITIONS, TTT_DRAWS)]


def eval_jsons(seeds=None):
    return [EVAL_PATTERN.format(seed=s, name=n) for s in (seeds or SEEDS) for n in eval_names()]


def eval_settings(draw=0):
    """The eval settings the config's `eval` keys name (pgolf.evalspec: one key, one flag per setting);
    LoRA init draw d uses ttt_seed + d."""
    settings = evalspec.EvalSettings.from_dict(config["eval"])
    return settings.replace_ttt(seed=settings.ttt.seed + draw)


def eval_arguments(wildcards):
    condition, draw = evalspec.parse_eval_name(wildcards.condition)
    args = ["--condition", condition, "--val", val_glob(), "--tokenizer", tokenizer_path()]
    # Every setting the config sets, as its flag; a condition that does not train takes no ttt_* flag.
    for key, value in eval_settings(draw).to_dict().items():
        if key in config["eval"] and (evalspec.condition(condition).trains or not key.startswith("ttt_")):
            args += [evalspec.flag(key), value]
    return shell_args(args)


def eval_gpus():
    return 1 if int(config["eval"]["gpus"]) > 0 else 0


# --------------------------------------------------------------------- aggregate / stats / plots / report
# Each of these four rules runs the command its *_command() helper builds, and the
# --keep-going partial report (onerror) runs the same helpers: one source per command.

TABLES = {
    "runs": f"{RESULTS}/tables/runs.csv",
    "conditions": f"{RESULTS}/tables/conditions.csv",
    "conditions_md": f"{RESULTS}/tables/conditions.md",
    "steps": f"{RESULTS}/tables/steps.csv",
    "steps_md": f"{RESULTS}/tables/steps.md",
    "positions": f"{RESULTS}/tables/positions.csv",
    "missing": f"{RESULTS}/tables/missing.csv",
    "runs_info": f"{RESULTS}/tables/provenance.json",
}
STATS = {
    "claim": f"{RESULTS}/stats/claim.json",
    "paired": f"{RESULTS}/stats/paired.csv",
    "noise": f"{RESULTS}/stats/noise.csv",
}
PLOTS = {
    "ablation": f"{RESULTS}/plots/ablation.png",
    "positions": f"{RESULTS}/plots/positions.png",
}
REPORT = f"{RESULTS}/report.md"


def _folder(paths):
    return str(Path(next(iter(paths.values()))).parent)


# Where the four commands write: the DAG's outputs, or (the --keep-going partial report) a
# folder of their own, so a partial report never replaces a complete one nor its tables.
FOLDERS = {"tables": _folder(TABLES), "stats": _folder(STATS), "plots": _folder(PLOTS), "report": REPORT}
PARTIAL_REPORT = f"{RESULTS}/report.partial.md"
PARTIAL_FOLDERS = {"tables": f"{RESULTS}/partial/tables", "stats": f"{RESULTS}/partial/stats",
                   "plots": f"{RESULTS}/partial/plots", "report": PARTIAL_REPORT}


def _command(verb, args):
    return f"python -m pgolf {verb} {shell_args(args)}"


def aggregate_command(wildcards=None, where=FOLDERS):
    """Eval JSONs -> tables. A function, not a string: its {seed}/{name} patterns must reach
    pgolf unformatted."""
    return _command("aggregate", [
        "--seeds", *SEEDS, "--conditions", *CONDITIONS, "--ttt-draws", TTT_DRAWS,
        "--eval-pattern", EVAL_PATTERN, "--artifact-pattern", ARTIFACT_PATTERN,
        "--train-metrics-pattern", TRAIN_METRICS_PATTERN, "--manifest", data_manifest(),
        "--confidence", config["claim"]["confidence"], "--out-dir", where["tables"],
    ])


def stats_command(wildcards=None, where=FOLDERS):
    c = config["claim"]
    return _command("stats", [
        "--headline", c["headline"], "--threshold", c["threshold"], "--alpha", c["alpha"],
        "--confidence", c["confidence"], "--conditions", *CONDITIONS,
        "--runs", f"{where['tables']}/runs.csv", "--out-dir", where["stats"],
    ])


def plots_command(wildcards=None, where=FOLDERS):
    return _command("plots", [
        "--runs", f"{where['tables']}/runs.csv", "--positions", f"{where['tables']}/positions.csv",
        "--conditions", *CONDITIONS, "--confidence", config["claim"]["confidence"],
        "--first", 4 * int(config["eval"]["seq_len"]),  # linear panel: the first four windows
        "--seq-len", config["eval"]["seq_len"],
        "--threshold", config["claim"]["threshold"], "--headline", config["claim"]["headline"],
        "--out-dir", where["plots"],
    ])


def report_command(wildcards=None, where=FOLDERS):
    """The whole validated config goes in as JSON (a function, so its braces stay
    unformatted): the report's 'what ran' and the published numbers."""
    return _command("report", [
        "--config-json", json.dumps(config, sort_keys=True), "--template", config["report"]["template"],
        "--tables-dir", where["tables"], "--stats-dir", where["stats"], "--plots-dir", where["plots"],
        "--out", where["report"], *(["--partial"] if where is PARTIAL_FOLDERS else []),
    ])


def report_requested():
    """True when the report is among this run's targets (no target = rule all = the report)."""
    if workflow.dag_settings.target_jobs:  # a job of a cluster executor, not the main run
        return False
    targets = {str(t) for t in workflow.dag_settings.targets}
    return not targets or bool(targets & {"all", REPORT, str(Path(REPORT).resolve())})


def write_partial_report():
    """onerror: with --keep-going the report still comes, as report.partial.md beside the
    complete one (never over it), says it is partial and names what is missing; only when
    the report was asked for and the run was asked to keep going."""
    if not (report_requested() and workflow.execution_settings.keep_going):
        return
    log = f"{RESULTS}/logs/partial_report.log"
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    commands = [step(where=PARTIAL_FOLDERS) for step in (aggregate_command, stats_command, plots_command, report_command)]
    for command in commands:
        # subprocess, not shell(): the commands hold literal braces ({seed}, the config JSON).
        try:
            subprocess.run(["bash", "-c", f"{command} >> {shlex.quote(log)} 2>&1"], check=True)
        except (OSError, subprocess.CalledProcessError):  # never hide the original failure
            print(f"pgolf: partial report step failed, see {log}", file=sys.stderr)
            return
    print(f"pgolf: some jobs failed; {PARTIAL_REPORT} is a partial report that lists what is missing "
          f"({REPORT} is left as it was)", file=sys.stderr)


def drop_partial_report():
    """onsuccess: a complete report makes an earlier partial one stale."""
    if report_requested():
        Path(PARTIAL_REPORT).unlink(missing_ok=True)
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
    """Besides everything under RESULTS: prepare's outputs where the data live elsewhere (FineWeb's folder
    holds the user's shards: only the manifest is ours)."""
    return list(prepare_outputs().values())


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

# After every helper above is defined (the checks use them).
check_config()
STAGE_FILES = stage_files()
