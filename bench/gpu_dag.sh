#!/usr/bin/env bash
# Part 4 of bench/gpu_check.sh: the micro DAG (.test/config/config.yaml) with train.gpus: 1 (each seed
# trained under `torchrun --standalone --nproc_per_node=1`: NCCL on CUDA, gloo on a CPU) and eval.gpus: 1,
# from clean, in a copy of the workflow files (tests/workflow_copy.py's list), then the report's tables.
# Usage: bash bench/gpu_dag.sh WORK_DIR   (GPU_DAG_JOBS: jobs sharing the card at once, default 4)
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
where=${1:?usage: gpu_dag.sh WORK_DIR}
rm -rf "$where" && mkdir -p "$where"
for name in Snakefile workflow config profiles .test; do cp -r "$repo/$name" "$where/"; done
cat >"$where/gpu.yaml" <<'YAML'
train:
  gpus: 1
eval:
  gpus: 1
YAML
cd "$where" || exit 1
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
py=$(command -v python3 || command -v python)
# The card is one `gpu` resource per job; GPU_DAG_JOBS of the micro jobs share it at once (each holds MBs).
"$py" -m snakemake --cores "$(nproc --all)" --resources gpu="${GPU_DAG_JOBS:-4}" \
  --configfile .test/config/config.yaml gpu.yaml
rc=$?
for f in results/logs/train/1.log results/logs/eval/1/ttt.log; do
  echo "--- $f"; tail -4 "$f" 2>/dev/null
done
grep -h "world_size\|device:" results/seeds/1/train/train.log 2>/dev/null | head -3
cat results/tables/conditions.md 2>/dev/null
exit $rc
