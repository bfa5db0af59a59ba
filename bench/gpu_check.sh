#!/usr/bin/env bash
# The prepared GPU check (issue 32; docs/gpu.md): one script for a lent CUDA machine, about 6 minutes
# on one H200. Four parts, each with its own time limit, each run even when an earlier one failed:
#   1. training side by side: the record's own script (WORLD_SIZE=1: 8 micro-steps) and `pgolf train`
#      (compile=true) at the record's model, 524,288 tokens a step, the same seed and shards, 100 steps,
#      no cap: ms/step, tokens/s, MFU, train_loss at steps 1-10, 50, 100; a second record run with
#      QK_GAIN_INIT one float32 ulp above 1.5 gives the bf16 drift bound (run beside parts 3-4)
#   2. evaluation side by side on pgolf's artifact and synthetic documents of FineWeb's lengths: the
#      record's eval_val / eval_val_ttt_lora and pgolf's engine, flat, doc, sliding, ttt; `pgolf eval` CLI
#   3. tests/test_cuda.py (golden numbers on CUDA, torchrun on NCCL, cast_like_reference), beside part 4
#   4. the micro Snakemake DAG with train.gpus: 1 and eval.gpus: 1 (snakemake from carried wheels)
#   d. the record's drift run alone (QK_GAIN_INIT one ulp above 1.5), compared with run A's saved log
#      (RECORD_A_LOG, default .gpu/record_train_A.log; PGOLF_A_LOG, default .gpu/pgolf_train_A.log)
#   t. TTT side by side (bench/gpu_ttt.py --conditions ttt on TTT_DOCS, default 256) with torch.profiler
#      tables of a ttt pass of each side (PROFILE_DOCS, default 64) in OUT/ttt_profile.md; it trains a
#      2-step pgolf artifact (compile off) when part 1 has not. With d, beside d's run (a shared card).
# Everything goes to OUT/gpu_check.log, the tables to OUT/gpu_summary.md (printed last).
#
# Usage:  bash bench/gpu_check.sh [OUT_DIR] [--smoke]
#   Before (once, on the CPU machine, in the checkout that travels): bash bench/gpu_prepare.sh
#   On the device: carry [".gpu", ".whl"]; command: bash bench/gpu_check.sh $OUT
#   --smoke (or SMOKE=1): every part on the CPU with tiny sizes (device cpu, compile off, a few steps);
#   the record's training script requires CUDA, so its runs are skipped there (and said so).
# Knobs (environment): GPU_CHECK_SECONDS (the whole run's deadline, default 395), STEPS, TTT_DOCS,
#   PARTS (a comma list of the parts to run, default 1,2,3,4,5),
#   PROFILE (torch.profiler tables of pgolf's and the record's training step, last: auto = when 60 s
#   are left, 1 = always, 0 = never).
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out=""
smoke=${SMOKE:-0}
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=1 ;;
    *) out="$arg" ;;
  esac
done
out=${out:-${OUT:-/tmp/pgolf_gpu_out}}
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work=${GPU_WORK:-/tmp/pgolf_gpu_work}
rm -rf "$work" && mkdir -p "$work"
deadline=$((SECONDS + ${GPU_CHECK_SECONDS:-$([ "$smoke" = 1 ] && echo 900 || echo 395)}))
log="$out/gpu_check.log"
summary="$out/gpu_summary.md"
: >"$log"
exec > >(tee -a "$log") 2>&1
tee_pid=$!
cd "$repo" || exit 1
export PYTHONUNBUFFERED=1

py=$(command -v python3 || command -v python)
# Snakemake runs `python -m pgolf` and `torchrun`: give both names where the image lacks them.
mkdir -p "$work/bin"
command -v python >/dev/null || ln -s "$py" "$work/bin/python"
command -v torchrun >/dev/null || printf '#!/bin/sh\nexec %s -m torch.distributed.run "$@"\n' "$py" >"$work/bin/torchrun"
chmod +x "$work/bin/"* 2>/dev/null
export PATH="$work/bin:$PATH"
site=""
if ! "$py" -c "import snakemake" 2>/dev/null && compgen -G ".whl/*.whl" >/dev/null; then
  site="$work/site"
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" .whl/*.whl \
    || echo "WARNING: the carried wheels did not install; part 4 will fail"
fi
export PYTHONPATH="$repo${site:+:$site}${PYTHONPATH:+:$PYTHONPATH}"

record=${PGOLF_RECORD_SCRIPT:-$repo/.gpu/record77_train_gpt.py}
[ -f "$record" ] || record="$repo/../shared/reference/record77_train_gpt.py"
data=${GPU_DATA:-$repo/.gpu/data}

if [ "$smoke" = 1 ]; then
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}  # a shared CPU: no oversubscribed spinning threads
  device=cpu; steps=${STEPS:-12}; warm=1; warmdown=4; log_every=6; ttt_docs=${TTT_DOCS:-8}
  model=(NUM_LAYERS=2 MODEL_DIM=64 NUM_HEADS=4 NUM_KV_HEADS=2 TRAIN_SEQ_LEN=128 TRAIN_BATCH_TOKENS=8192)
  compile=false; seq=128; chunk=64; tbatch=8; val_docs=20; warm_docs=2
else
  device=cuda; steps=${STEPS:-100}; warm=5; warmdown=20; log_every=50
  ttt_docs=${TTT_DOCS:-$([[ ",${PARTS:-}," == *",t,"* ]] && echo 256 || echo 512)}
  model=(); compile=true; seq=1024; chunk=256; tbatch=64; val_docs=8; warm_docs=8
fi

# PARTS: which parts run (default all; e.g. PARTS=5 PROFILE=1 for the step profile alone).
parts=",${PARTS:-1,2,3,4,5},"
want() { [[ $parts == *",$1,"* ]]; }

# The seconds left before the deadline, keeping `reserve` for what follows; a part's limit is the
# smaller of its own budget and that.
limit() { local budget=$1 reserve=${2:-10} left=$((deadline - SECONDS - ${2:-10})); ((left < budget)) && budget=$left; ((budget < 1)) && budget=1; echo "$budget"; }
part_header() { echo; echo "=================== $1 ($(date -u +%H:%M:%S), $((deadline - SECONDS)) s left) ==================="; }
status_row() { echo "| $1 | $2 | $3 s |" >>"$work/parts.md"; }
run_part() {  # run_part NAME BUDGET CMD...: time-limited, its status row kept, never stops the script
  local name=$1 budget t0=$SECONDS rc; budget=$(limit "$2"); shift 2
  timeout -k 10 "$budget" "$@"; rc=$?
  local what=ok; ((rc == 124 || rc == 137)) && what="timed out ($budget s)"; ((rc != 0 && rc != 124 && rc != 137)) && what="FAILED rc $rc"
  status_row "$name" "$what" $((SECONDS - t0)); echo "--- $name: $what, $((SECONDS - t0)) s"
  return 0
}
# The record's script, by its own environment variables; $1 = run folder (it writes logs/, final_model.* in
# its working directory), then extra VAR=value. Exported, so that `timeout` can run it in a fresh bash.
record_run() {
  local dir=$1; shift
  mkdir -p "$dir" && cd "$dir" && env WORLD_SIZE=1 DATA_PATH="$work/fw" TOKENIZER_PATH="$data/tokenizer.model" \
    VOCAB_SIZE=1024 SEED=1337 ITERATIONS="$steps" WARMUP_STEPS="$warm" WARMDOWN_ITERS="$warmdown" \
    MAX_WALLCLOCK_SECONDS=0 VAL_LOSS_EVERY=0 TRAIN_LOG_EVERY="$log_every" RUN_ID=run $model_env "$@" \
    "$py" "$record"
}
# OUT/gpu_summary.md from what the parts have written so far: rewritten after every part, so a run
# stopped from outside still leaves its tables.
write_summary() {
  {
    echo "# GPU check ($([ "$smoke" = 1 ] && echo "smoke, CPU" || echo "full")), $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "Machine: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1 || echo "no nvidia-smi (CPU)"), $(nproc --all) CPUs; $("$py" -c 'import torch; print("torch", torch.__version__)')"
    echo
    cat "$work/parts.md"; echo
    cat "$work/train.md" 2>/dev/null; echo
    cat "$work/eval.md" 2>/dev/null
    if [ -f "$out/profile.md" ]; then echo "## Step profile (OUT/profile.md)"; echo; grep "^## " "$out/profile.md"; echo; fi
  } >"$work/summary.partial"
  mv "$work/summary.partial" "$summary"
  cp "$work/recA.log" "$out/record_train.log" 2>/dev/null
  cp "$work/pg.log" "$out/pgolf_train.log" 2>/dev/null
  cp "$work/recB.log" "$out/record_drift_train.log" 2>/dev/null
  cat "$work/ttt.md" 2>/dev/null >>"$summary"
  if [ -f "$out/ttt_profile.md" ]; then
    { echo "## TTT profile (OUT/ttt_profile.md): host syncs and launches"; echo
      grep -E "^## |^\| (cudaStreamSynchronize|cudaLaunchKernel|cudaMemcpyAsync|aten::item) " "$out/ttt_profile.md"; } >>"$summary"
  fi
  return 0
}
model_env="${model[*]-}"
export -f record_run
export py work data steps warm warmdown log_every record model_env
pgolf_sets=()
for kv in ${model[@]+"${model[@]}"}; do pgolf_sets+=(--set "$(echo "${kv%%=*}" | tr 'A-Z' 'a-z')=${kv#*=}"); done

part_header "MACHINE"
echo "mode: $([ "$smoke" = 1 ] && echo 'smoke (CPU, tiny sizes)' || echo 'full (CUDA)'); repo $repo; work $work; out $out"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>/dev/null || echo "no nvidia-smi"
"$py" -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
"$py" -c "import snakemake; print('snakemake', snakemake.__version__)" 2>&1 | tail -1
echo "record script: $record ($([ -f "$record" ] && echo present || echo MISSING))"
echo "| part | status | seconds |" >"$work/parts.md"; echo "|---|---|---|" >>"$work/parts.md"

part_header "DATA"
if [ ! -f "$data/tokenizer.model" ]; then
  echo "no prepared data at $data: preparing it here (pgolf prepare, vocab 1024)"
  data="$work/data"; "$py" -m pgolf prepare --out "$data" --vocab-size 1024 | tail -3
fi
"$py" bench/gpu_data.py --src "$data" --out "$work" --val-docs "$val_docs" \
  --val-min-tokens $((3 * seq + 1)) --ttt-docs "$ttt_docs"

if want 1; then
part_header "PART 1: training side by side (record's script vs pgolf train, $steps steps)"
if [ "$device" = cuda ] && [ -f "$record" ]; then
  run_part "1a record train" 180 bash -c 'record_run "$work/recA"' 2>&1 | tee "$work/recA.log"
else
  echo "SKIP 1a: the record's script requires CUDA (its main() raises 'CUDA is required'); started with the"
  echo "check's settings (record_run, as 1a and the drift run start it), it stops at:"
  CUDA_VISIBLE_DEVICES="" timeout 60 bash -c 'record_run "$work/recA" QK_GAIN_INIT=1.5000001' 2>&1 | tail -1
  status_row "1a record train" "skipped: needs CUDA" 0
fi
run_part "1b pgolf train" 180 "$py" -m pgolf train --out "$work/pg" --set device="$device" \
  --set data_path="$work/fw" --set tokenizer_path="$data/tokenizer.model" --set vocab_size=1024 --set seed=1337 \
  --set iterations="$steps" --set warmup_steps="$warm" --set warmdown_iters="$warmdown" \
  --set max_wallclock_seconds=0 --set val_loss_every=0 --set train_log_every="$log_every" \
  --set compile="$compile" ${pgolf_sets[@]+"${pgolf_sets[@]}"} 2>&1 | tee "$work/pg.log"
"$py" bench/gpu_report.py train --record "$work/recA.log" --pgolf "$work/pg.log" --steps "$steps" \
  --summary "$work/train.md" ${pgolf_sets[@]+"${pgolf_sets[@]}"}
write_summary
fi

if want 2; then
part_header "PART 2: evaluation side by side (flat, doc, sliding, ttt; seq $seq, chunk $chunk, batch $tbatch, rank 8)"
artifact="$work/pg/final_model.int8.ptz"
[ -f "$artifact" ] || artifact="$work/recA/final_model.int8.ptz"
[ -f "$artifact" ] || echo "NO ARTIFACT: neither training run of part 1 wrote one; part 2 fails"
run_part "2a eval record vs pgolf" 90 "$py" bench/gpu_ttt.py --artifact "$artifact" --val "$work/ttt/fineweb_val_*.bin" \
  --tokenizer "$data/tokenizer.model" --device "$device" --seq-len "$seq" --chunk "$chunk" --batch "$tbatch" \
  --warm-docs "$warm_docs" --summary "$work/eval.md"
run_part "2b pgolf eval CLI (ttt)" 60 "$py" -m pgolf eval --artifact "$artifact" --condition ttt \
  --val "$work/ttt/fineweb_val_*.bin" --tokenizer "$data/tokenizer.model" --device "$device" --seq-len "$seq" \
  --chunk "$chunk" --ttt-batch "$tbatch" --ttt-rank 8 --progress 0 --out "$work/cli/ttt.json"
"$py" bench/gpu_report.py cli --json "$work/cli/ttt.json" --summary "$work/eval.md"
write_summary
fi

# Part d: the drift run alone (its run A from an earlier call's log), started first, in the background;
# part t beside it.
drift_d_pid=""
if want d; then
  part_header "PART d: the record's drift run (QK_GAIN_INIT=1.5000001) against run A's saved log"
  record_a=${RECORD_A_LOG:-$repo/.gpu/record_train_A.log}; pgolf_a=${PGOLF_A_LOG:-$repo/.gpu/pgolf_train_A.log}
  [ -f "$record_a" ] || echo "NO RUN A LOG at $record_a: part d's table will lack the record's losses"
  if [ "$device" = cuda ] && [ -f "$record" ]; then
    budget=$(limit 200 5)
    (timeout -k 10 "$budget" bash -c 'record_run "$work/recB" QK_GAIN_INIT=1.5000001' >"$work/recB.log" 2>&1
     echo "record drift run rc $?" >>"$work/recB.log") &
    drift_d_pid=$!
  else
    echo "SKIP d: the record's script requires CUDA; smoke: run A's saved log compared with itself"
    cp "$record_a" "$work/recB.log" 2>/dev/null; echo "record drift run skipped (smoke)" >>"$work/recB.log"
  fi
fi
if want t; then
  part_header "PART t: TTT side by side with torch.profiler tables ($ttt_docs documents, profile on ${PROFILE_DOCS:-64})"
  artifact="$work/pg/final_model.int8.ptz"
  if [ ! -f "$artifact" ]; then  # the record's shape, 2 uncompiled steps: TTT's speed needs the shape, not the loss
    run_part "t0 pgolf train (2 steps, artifact)" 90 "$py" -m pgolf train --out "$work/pg" --set device="$device" \
      --set data_path="$work/fw" --set tokenizer_path="$data/tokenizer.model" --set vocab_size=1024 --set seed=1337 \
      --set iterations=2 --set warmup_steps=0 --set warmdown_iters=1 --set max_wallclock_seconds=0 \
      --set val_loss_every=0 --set compile=false ${pgolf_sets[@]+"${pgolf_sets[@]}"} >"$work/pg_t.log" 2>&1
    tail -3 "$work/pg_t.log"
  fi
  run_part "t ttt side by side + profile" 120 "$py" bench/gpu_ttt.py --artifact "$artifact" \
    --val "$work/ttt/fineweb_val_*.bin" --tokenizer "$data/tokenizer.model" --device "$device" --seq-len "$seq" \
    --chunk "$chunk" --batch "$tbatch" --warm-docs "$warm_docs" --conditions ttt --summary "$work/ttt.md" \
    --profile "$out/ttt_profile.md" --profile-docs "${PROFILE_DOCS:-64}"
  [ -n "$drift_d_pid" ] && echo "(part t ran beside part d's training run on the same card: its seconds are upper bounds)" >>"$work/ttt.md"
  write_summary
fi
if want d; then
  [ -n "$drift_d_pid" ] && { part_header "PART d: waiting for the drift run"; wait "$drift_d_pid"; }
  tail -3 "$work/recB.log"
  status_row "d record drift run" "$(tail -1 "$work/recB.log")" "-"
  "$py" bench/gpu_report.py train --record "$record_a" --pgolf "$pgolf_a" --drift "$work/recB.log" \
    --steps "$steps" --summary "$work/train.md" ${pgolf_sets[@]+"${pgolf_sets[@]}"}
  write_summary
fi

want 3 || want 4 || want 1 && part_header "PARTS 3 and 4 side by side (correctness only), with the record's drift run beside them"
drift_pid=""
if want 1 && [ "$device" = cuda ] && [ -f "$record" ]; then
  # One float32 ulp on q_gain's initial value (1.5 -> 1.50000012): the smallest change the record's
  # code allows without an edit; its losses against run A bound what bf16 rounding alone moves.
  budget=$(limit 200 5)
  (timeout -k 10 "$budget" bash -c 'record_run "$work/recB" QK_GAIN_INIT=1.5000001' >"$work/recB.log" 2>&1
   echo "record drift run rc $?" >>"$work/recB.log") &
  drift_pid=$!
elif want 1; then
  echo "SKIP 1d (drift run): the record's script requires CUDA"
fi
tests_pid="" dag_pid=""
if want 3; then
  (run_part "3 tests/test_cuda.py" 150 "$py" -m pytest -q -rs -p no:cacheprovider tests/test_cuda.py >"$work/part3.log" 2>&1) &
  tests_pid=$!
fi
if want 4; then
  (run_part "4 micro DAG" 150 bash bench/gpu_dag.sh "$work/dag" >"$work/part4.log" 2>&1) &
  dag_pid=$!
fi
if [ -n "$tests_pid" ]; then
  wait "$tests_pid"; part_header "PART 3: tests/test_cuda.py"; cat "$work/part3.log"; write_summary
fi
if [ -n "$dag_pid" ]; then
  wait "$dag_pid"; part_header "PART 4: the micro DAG with train.gpus: 1, eval.gpus: 1"; cat "$work/part4.log"
fi

if [ -n "$drift_pid" ]; then
  part_header "PART 1 (drift): waiting for the second record run"
  wait "$drift_pid"; tail -3 "$work/recB.log"
  status_row "1d record drift run" "$(tail -1 "$work/recB.log")" "-"
  "$py" bench/gpu_report.py train --record "$work/recA.log" --pgolf "$work/pg.log" --drift "$work/recB.log" \
    --steps "$steps" --summary "$work/train.md" ${pgolf_sets[@]+"${pgolf_sets[@]}"}
fi

# The step profile last, in whatever time is left (PROFILE=1: always, up to 150 s; 0: never).
profile_budget=$([ "${PROFILE:-auto}" = 1 ] && echo 150 || echo $((deadline - SECONDS - 15)))
if want 5 && [ "${PROFILE:-auto}" != 0 ] && ((profile_budget >= 60)); then
  part_header "PROFILE: torch.profiler tables of one training step, pgolf and the record"
  run_part "5 step profile" "$profile_budget" "$py" bench/gpu_profile.py --device "$device" \
    $([ "$smoke" = 1 ] && echo --smoke) --out "$out/profile.md"
elif want 5; then
  status_row "5 step profile" "skipped: $profile_budget s left (PROFILE=1 forces it)" 0
fi

part_header "SUMMARY"
write_summary
cat "$summary"
exec 1>&- 2>&-
wait "$tee_pid" 2>/dev/null  # the log complete before the command returns
exit 0  # each part's status is in the summary table
