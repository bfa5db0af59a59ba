# aggregate: every seed x condition eval into tidy tables; stats: the claim's test
# and the paired steps between consecutive conditions.


rule aggregate:
    input:
        evals=LAYOUT.eval_jsons(),
        metrics=expand(TRAIN_METRICS_PATTERN, seed=SEEDS),
        manifest=LAYOUT.manifest,
        settings=STAGE_FILES["report"],
    output:
        runs=report(TABLES["runs"], caption="../report/runs.rst", category="Tables"),
        conditions=TABLES["conditions"],
        conditions_md=TABLES["conditions_md"],
        steps=TABLES["steps"],
        steps_md=TABLES["steps_md"],
        positions=TABLES["positions"],
        missing=TABLES["missing"],
        runs_info=TABLES["runs_info"],
    log:
        f"{RESULTS}/logs/aggregate.log",
    params:
        command=aggregate_command,
    conda:
        "../envs/pgolf.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "{params.command} > {log} 2>&1"


rule stats:
    input:
        runs=TABLES["runs"],
        settings=STAGE_FILES["report"],
    output:
        claim=STATS["claim"],
        paired=report(STATS["paired"], caption="../report/paired.rst", category="Claim tests"),
        noise=STATS["noise"],
    log:
        f"{RESULTS}/logs/stats.log",
    params:
        command=stats_command,
    conda:
        "../envs/pgolf.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "{params.command} > {log} 2>&1"
