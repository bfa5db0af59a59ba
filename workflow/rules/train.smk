# train: one job per seed; torchrun over `train.gpus` GPUs, or one CPU process.


rule train:
    input:
        manifest=LAYOUT.manifest,
        settings=STAGE_FILES["train"],
    output:
        artifact=ARTIFACT_PATTERN,
        checkpoint=f"{RESULTS}/seeds/{{seed}}/train/final_model.pt",
        train_log=f"{RESULTS}/seeds/{{seed}}/train/train.log",
        metrics=TRAIN_METRICS_PATTERN,
    log:
        f"{RESULTS}/logs/train/{{seed}}.log",
    params:
        launcher=commands.train_launcher(config),
        args=commands.train_arguments(config),
        out=folder_of("artifact"),
    conda:
        "../envs/pgolf.yaml"
    threads: config["train"]["threads"]
    # Start every seed's training before evaluations: training is the critical path.
    priority: 10
    resources:
        gpu=commands.train_gpus(config),
        mem_mb=config["train"]["mem_mb"],
        runtime=config["train"]["runtime"],
    shell:
        "OMP_NUM_THREADS={threads} {params.launcher} train --seed {wildcards.seed} --out {params.out}"
        " {params.args} > {log} 2>&1"
