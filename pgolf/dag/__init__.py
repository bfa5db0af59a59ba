"""What the Snakemake workflow derives from its validated config, as plain Python: paths and expected
outputs (layout), command lines (commands), the checks across keys the schema cannot say (checks), the
reviewer rules' arguments (reviewer) and the compliance reruns' entries (reruns).

No torch and no Snakemake here: workflow/rules/*.smk pass `config` in and keep only the glue that needs
Snakemake's globals. Errors are ConfigError naming the config key; the .smk files show them as
WorkflowError.
"""
