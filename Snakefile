# pgolf: the ablation of record #77 (flat -> doc -> sliding -> LoRA TTT) from seeds to report.
#   snakemake results/report.md --cores all                           # embedded CPU default -> results/
#   snakemake --profile profiles/record results/record/report.md      # the record setting -> results/record/
# Any other config: target first (--configfile takes several values and would swallow it):
#   snakemake results/mine/report.md --cores all --configfile mine.yaml   # mine.yaml sets `results: results/mine`
# Everything that computes is a `python -m pgolf <verb>` command; see workflow/rules/.

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

min_version("8.20")


# Snakemake reads a non-UTF-8 config file with a bare UnicodeDecodeError; this one names the file.
# (A --configfile given on the command line is read by Snakemake before this file: its error stays Snakemake's.)
try:
    from pgolf.inputs import read_text as _read_text
    from pgolf.errors import PgolfError as _PgolfError
except ImportError:  # common.smk says how to install pgolf
    pass
else:
    try:
        _read_text("config/config.yaml", "config file")
    except _PgolfError as _exc:
        raise WorkflowError(str(_exc)) from None


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/eval.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/audit.smk"
include: "workflow/rules/rerun.smk"


# Seconds-long table/figure/report rules run where Snakemake runs, never as cluster jobs.
localrules:
    all,
    aggregate,
    stats,
    plots,
    report,
    check_claim,
    audit,
    rerun_check,


rule all:
    input:
        REPORT,
    default_target: True


# One run at a time per results folder, whichever checkout it comes from.
onstart:
    lock_results()
    keep_outputs()


onsuccess:
    drop_partial_report()
    discard_kept()
    unlock_results()


# With --keep-going a failed seed leaves its eval JSONs missing, so the DAG never
# reaches the report; build report.partial.md from what exists, naming what is missing
# (before the earlier outputs of failed jobs are put back: pgolf.keep).
onerror:
    write_partial_report()
    write_partial_reruns()
    restore_outputs()
    unlock_results()
