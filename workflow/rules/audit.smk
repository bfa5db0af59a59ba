# Reviewer mode rules (helpers in workflow/rules/claims.smk):
# - results/claims/{name}/report.md: one `claims` entry, check-logs for `logs`, check-record for `record`;
# - results/audit/report.md: `python -m pgolf audit` on `audit: {records: PATH}`, every record folder
#   in date order against the best-scoring record before it.


rule check_claim:
    input:
        unpack(claim_inputs),
    output:
        report=f"{RESULTS}/claims/{{name}}/report.md",
        runs=f"{RESULTS}/claims/{{name}}/runs.csv",
    log:
        f"{RESULTS}/logs/claims/{{name}}.log",
    params:
        command=claim_command,
        out=folder_of("report"),
    conda:
        "../envs/pgolf.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python -m pgolf {params.command} --out {params.out} > {log} 2>&1"


rule audit:
    input:
        unpack(audit_inputs),
    output:
        report=f"{RESULTS}/audit/report.md",
        records=f"{RESULTS}/audit/records.csv",
        runs=f"{RESULTS}/audit/runs.csv",
        figure=f"{RESULTS}/audit/frontier.png",
    log:
        f"{RESULTS}/logs/audit/audit.log",
    params:
        command=audit_command,
        out=folder_of("report"),
    conda:
        "../envs/pgolf.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "python -m pgolf audit {params.command} --out {params.out} > {log} 2>&1"
