# plots and the Markdown report; the report template is an input, so editing it
# reruns the report alone.


rule plots:
    input:
        runs=TABLES["runs"],
        positions=TABLES["positions"],
    output:
        ablation=report(PLOTS["ablation"], caption="../report/ablation.rst", category="Figures"),
        positions=report(PLOTS["positions"], caption="../report/positions.rst", category="Figures"),
    log:
        f"{RESULTS}/logs/plots.log",
    params:
        conditions=" ".join(CONDITIONS),
        first=4 * int(config["eval"]["seq_len"]),  # linear panel: the first four windows
        out=folder_of("ablation"),
    conda:
        "../envs/pgolf.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python -m pgolf plots --runs {input.runs} --positions {input.positions}"
        " --conditions {params.conditions} --first {params.first} --out-dir {params.out} > {log} 2>&1"


rule report:
    input:
        template=config["report"]["template"],
        runs=TABLES["runs"],
        claim=STATS["claim"],
        ablation=PLOTS["ablation"],
        tables=list(TABLES.values()),
        stats=list(STATS.values()),
        plots=list(PLOTS.values()),
    output:
        report(f"{RESULTS}/report.md", caption="../report/report.rst", category="Report"),
    log:
        f"{RESULTS}/logs/report.log",
    params:
        config_json=report_arguments,
        tables=folder_of("runs", "input"),
        stats=folder_of("claim", "input"),
        plots=folder_of("ablation", "input"),
    conda:
        "../envs/pgolf.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python -m pgolf report --config-json {params.config_json} --template {input.template}"
        " --tables-dir {params.tables} --stats-dir {params.stats} --plots-dir {params.plots}"
        " --out {output} > {log} 2>&1"
