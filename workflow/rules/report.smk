# plots and the Markdown report; the report template is an input, so editing it
# reruns the report alone.


rule plots:
    input:
        runs=TABLES["runs"],
        positions=TABLES["positions"],
        settings=STAGE_FILES["report"],
    output:
        ablation=report(PLOTS["ablation"], caption="../report/ablation.rst", category="Figures"),
        positions=report(PLOTS["positions"], caption="../report/positions.rst", category="Figures"),
    log:
        f"{RESULTS}/logs/plots.log",
    params:
        command=plots_command,
    conda:
        "../envs/pgolf.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "{params.command} > {log} 2>&1"


rule report:
    input:
        template=config["report"]["template"],
        tables=list(TABLES.values()),
        stats=list(STATS.values()),
        plots=list(PLOTS.values()),
        settings=STAGE_FILES["report"],
    output:
        report(REPORT, caption="../report/report.rst", category="Report"),
    log:
        f"{RESULTS}/logs/report.log",
    params:
        command=report_command,
    conda:
        "../envs/pgolf.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "{params.command} > {log} 2>&1"
