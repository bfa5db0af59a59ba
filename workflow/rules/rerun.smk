# Compliance reruns (config key `reruns`): a record folder's own script, run again for
# each seed under torchrun (one whole node per seed on a cluster), then the rerun logs
# checked against the folder's own claim. Helpers: rerun_common.smk.


include: "rerun_common.smk"


rule rerun_seed:
    output:
        train_log=RERUN_SEED_LOG,
        info=RERUN_SEED_INFO,
    log:
        f"{RESULTS}/logs/rerun/{{name}}/{{seed}}.log",
    params:
        args=rerun_seed_arguments,
        out=folder_of("info"),
    # pgolf's environment has torch; a record needing more lists it in its requirements.txt
    conda:
        "../envs/pgolf.yaml"
    threads: lambda wildcards: rerun_entry(wildcards)["threads"]
    resources:
        gpu=lambda wildcards: rerun_entry(wildcards)["gpus"],
        mem_mb=lambda wildcards: rerun_entry(wildcards)["mem_mb"],
        runtime=lambda wildcards: rerun_entry(wildcards)["runtime"],
    shell:
        "python -m pgolf rerun-seed {params.args} --out {params.out} > {log} 2>&1"


rule rerun_check:
    input:
        unpack(rerun_seed_logs),
    output:
        record=f"{RERUN_DIR}/{{name}}/record.json",
        report=f"{RERUN_DIR}/{{name}}/report.md",
    log:
        f"{RESULTS}/logs/rerun/{{name}}.check.log",
    params:
        args=rerun_check_arguments,
    conda:
        "../envs/pgolf.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python -m pgolf rerun-check {params.args} > {log} 2>&1"
