# Reviewer mode: a published claim checked from its train logs (config key `claims`).


rule check_claim:
    input:
        unpack(claim_logs),
    output:
        report=f"{RESULTS}/claims/{{name}}/report.md",
        claim=f"{RESULTS}/claims/{{name}}/claim.json",
        runs=f"{RESULTS}/claims/{{name}}/runs.csv",
    log:
        f"{RESULTS}/logs/claims/{{name}}.log",
    params:
        args=claim_arguments,
        out=folder_of("report"),
    conda:
        "../envs/pgolf.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python -m pgolf check-logs {input.logs} {params.args} --out {params.out} > {log} 2>&1"
