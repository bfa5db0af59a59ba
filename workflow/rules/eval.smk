# eval: one job per seed x condition (x LoRA init draw for ttt); per-position and
# per-document sums land beside the JSON, same stem.


rule eval:
    input:
        artifact=ARTIFACT_PATTERN,
        manifest=LAYOUT.manifest,
        settings=STAGE_FILES["eval"],
    output:
        json=f"{RESULTS}/seeds/{{seed}}/eval/{{condition}}.json",
        positions=f"{RESULTS}/seeds/{{seed}}/eval/{{condition}}.positions.csv",
        docs=f"{RESULTS}/seeds/{{seed}}/eval/{{condition}}.docs.csv",
    log:
        f"{RESULTS}/logs/eval/{{seed}}/{{condition}}.log",
    params:
        args=eval_arguments,
    conda:
        "../envs/pgolf.yaml"
    threads: config["eval"]["threads"]
    resources:
        gpu=commands.eval_gpus(config),
        mem_mb=config["eval"]["mem_mb"],
        runtime=config["eval"]["runtime"],
    shell:
        "OMP_NUM_THREADS={threads} python -m pgolf eval --artifact {input.artifact} {params.args}"
        " --out {output.json} > {log} 2>&1"
