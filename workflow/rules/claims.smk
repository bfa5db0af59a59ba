# Reviewer mode: the `check_claim` and `audit` rules' inputs and arguments (workflow/rules/audit.smk),
# built by pgolf.dag.reviewer from the config keys `claims` and `audit`. Functions only (snakemake --lint).

from pgolf.dag import reviewer


@workflow_errors
def claim_inputs(wildcards):
    return reviewer.claim_inputs(reviewer.claim_config(config, wildcards.name))


@workflow_errors
def claim_command(wildcards):
    return reviewer.claim_command(reviewer.claim_config(config, wildcards.name))


@workflow_errors
def audit_inputs(wildcards):
    return reviewer.audit_inputs(reviewer.audit_config(config))


@workflow_errors
def audit_command(wildcards):
    return reviewer.audit_command(reviewer.audit_config(config))
