# aggregate: every seed x condition eval into tidy tables; stats: the claim's test
# and the paired steps between consecutive conditions.


rule aggregate:
    input:
        evals=eval_jsons(),
        metrics=expand(TRAIN_METRICS_PATTERN, seed=SEEDS),
        manifest=data_manifest(),
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
        args=aggregate_arguments,
        out=folder_of("runs"),
    conda:
        "../envs/pgolf.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "python -m pgolf aggregate {params.args} --out-dir {params.out} > {log} 2>&1"


rule stats:
    input:
        runs=TABLES["runs"],
    output:
        claim=STATS["claim"],
        paired=report(STATS["paired"], caption="../report/paired.rst", category="Claim tests"),
        noise=STATS["noise"],
    log:
        f"{RESULTS}/logs/stats.log",
    params:
        args=stats_arguments(),
        out=folder_of("claim"),
    conda:
        "../envs/pgolf.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python -m pgolf stats {params.args} --runs {input.runs} --out-dir {params.out} > {log} 2>&1"
