#!/usr/bin/env bash
# The prepared GPU check: one short script for a lent CUDA machine (about 5 minutes on one
# H100/H200). It prints the card, training throughput with MFU (tiny, medium and the record's
# 17M-parameter model, compile off and on) and evaluation throughput per condition against the
# reference algorithm, then the model and evaluation unit tests on that machine (when pytest is there).
# Usage: bash bench/gpu_check.sh [OUT_DIR]   (everything is also tee'd to OUT_DIR/gpu_check.log)
set -uo pipefail
out=${1:-${OUT:-/tmp}}
mkdir -p "$out"
export PYTHONPATH="$(cd "$(dirname "$0")/.." && pwd)${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
  timeout 240 python bench/train_throughput.py --device cuda --configs tiny,medium,record --steps 5 --rounds 3
  timeout 180 python bench/eval_throughput.py --device cuda --configs tiny,medium --docs 64 --rounds 2
  if python -c "import pytest" 2>/dev/null; then
    timeout 120 python -m pytest -q -x -m "not slow" tests/test_model.py tests/test_conditions.py tests/test_ttt.py
  fi
} 2>&1 | tee "$out/gpu_check.log"
