#!/usr/bin/env bash
# Before bench/gpu_check.sh travels to a GPU machine (which reaches no network and receives only the
# checkout plus the `carry` folders): run once here, in the checkout that travels. Fills two ignored folders:
#   .gpu/  the record's script (never committed: .gitignore and .git/info/exclude name the folder) and
#          the check's data (`pgolf prepare` on the embedded corpus, vocabulary 1024), about 2.5 MB
#   .whl/  snakemake and every package it needs that the device's image lacks (docs/gpu.md), about 26 MB
# Then: run(command="bash bench/gpu_check.sh $OUT", carry=[".gpu", ".whl"], timeout_s=420).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
record=${PGOLF_RECORD_SCRIPT:-$repo/../shared/reference/record77_train_gpt.py}
exclude="$(git rev-parse --git-common-dir)/info/exclude"
mkdir -p "$(dirname "$exclude")"
for folder in /.gpu/ /.whl/; do grep -qxF "$folder" "$exclude" 2>/dev/null || echo "$folder" >>"$exclude"; done
mkdir -p .gpu
cp "$record" .gpu/record77_train_gpt.py
[ -f .gpu/data/tokenizer.model ] || python -m pgolf prepare --out .gpu/data --vocab-size 1024 | tail -2
# Versions: those this repository's CI environment runs snakemake with; the list is snakemake's
# requirements closure less what the device image already holds (.library/device/KINDS.md).
wheels=(snakemake==9.27.1 platformdirs==4.14.9 immutables==0.21 configargparse==1.9.0 docutils==0.22.4
  gitpython==3.2.1 gitdb==4.0.12 smmap==5.0.3 humanfriendly==10.0 jsonschema==4.26.0
  jsonschema-specifications==2025.9.1 referencing==0.37.0 rpds-py==2026.9.1 nbformat==5.11.1
  fastjsonschema==2.22.3 jupyter-core==5.9.1 traitlets==5.16.1 pulp==3.3.2 tenacity==9.2.1 smart-open==7.7.1
  snakemake-interface-executor-plugins==9.4.0 argparse-dataclass==2.0.0 snakemake-interface-common==1.23.0
  throttler==1.2.3 snakemake-interface-storage-plugins==4.4.1 snakemake-interface-report-plugins==1.3.0
  snakemake-interface-logger-plugins==2.1.0 snakemake-interface-scheduler-plugins==2.0.2 yte==1.9.4 dpath==2.2.0
  conda-inject==1.3.2 sqlmodel==0.0.37 sqlalchemy==2.0.58 greenlet==3.5.6 pydantic==2.14.4 annotated-types==0.8.0
  pydantic-core==2.50.5 typing-inspection==0.4.5)
if [ "$(ls .whl/*.whl 2>/dev/null | wc -l)" -lt $((${#wheels[@]} + 1)) ]; then
  python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${wheels[@]}"
  # connection-pool 0.0.3 is published as a source archive only (pure Python): build its wheel here.
  python -m pip download -q --no-deps --no-binary=:all: -d .whl/src connection-pool==0.0.3
  python -m pip wheel -q --no-deps --no-build-isolation -w .whl .whl/src/connection_pool-0.0.3.tar.gz
  rm -rf .whl/src
fi
du -sh .gpu .whl
