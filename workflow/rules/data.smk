# prepare: corpus -> tokenizer + train/val shards + manifest (hashes, counts, settings);
# for FineWeb (data.dir = the data root) it checks the downloaded shards and writes the manifest.


rule prepare:
    input:
        settings=STAGE_FILES["data"],
    output:
        **LAYOUT.prepare_outputs(),
    log:
        f"{RESULTS}/logs/prepare.log",
    params:
        args=commands.prepare_arguments(config),
        out=prepare_folder,
    conda:
        "../envs/pgolf.yaml"
    threads: 1
    resources:
        mem_mb=config["data"]["mem_mb"],
        runtime=config["data"]["runtime"],
    shell:
        "python -m pgolf prepare --out {params.out} {params.args} > {log} 2>&1"
