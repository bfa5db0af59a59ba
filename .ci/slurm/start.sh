#!/usr/bin/env bash
# Start a one-node SLURM cluster on this host (munged + slurmctld + slurmd), for
# tests/test_slurm.py and for trying the SLURM profile by hand. Idempotent: a
# cluster that already answers is left alone.
#
# Needs root (it installs Debian's slurm-wlm and munge with apt-get when they are
# missing, and links /etc/slurm/slurm.conf to the generated config so that every
# SLURM client finds it without SLURM_CONF).
#
# Everything else lives under $PGOLF_SLURM_DIR (default /tmp/pgolf-slurm):
#   etc/slurm.conf  etc/gres.conf  munge/ (key, socket)  ctld/ (state)  spool/  log/  run/ (pid files)
# The node also offers $PGOLF_SLURM_FAKE_GPUS (default 2, at most 5, 0 for none)
# stand-in "GPUs": GRES entries backed by /dev/null, /dev/zero, ... so that sbatch
# --gpus=N is scheduled and SLURM sets CUDA_VISIBLE_DEVICES, as on a GPU node.
# No CUDA device exists, so torch still runs on the CPU.
# No accounting database: status comes from squeue, which keeps finished jobs for
# MinJobAge (1 h) -- see profiles/slurm-ci/config.yaml.
set -euo pipefail

STATE=${PGOLF_SLURM_DIR:-/tmp/pgolf-slurm}
CONF=$STATE/etc/slurm.conf
SYSCONF=/etc/slurm/slurm.conf
MARK="# written by pgolf .ci/slurm/start.sh"
HOST=$(hostname -s)
WAIT_S=${PGOLF_SLURM_WAIT_S:-90}
FAKE_GPUS=${PGOLF_SLURM_FAKE_GPUS:-2}
FAKE_GPU_FILES=(/dev/null /dev/zero /dev/full /dev/random /dev/urandom)

say() { printf '[slurm-start] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[[ $(id -u) == 0 ]] || die "must run as root (apt-get, /etc/slurm); try: sudo $0"

# alive PIDFILE NAME: the pid file names a running process called NAME (not a
# stranger that reused the pid of a daemon from an earlier boot).
alive() { [[ -s $1 ]] && [[ $(cat "/proc/$(cat "$1")/comm" 2>/dev/null) == "$2" ]]; }

cluster_answers() {
  alive "$STATE/run/slurmctld.pid" slurmctld && alive "$STATE/run/slurmd.pid" slurmd \
    && [[ $(sinfo -h -n "$HOST" -o %t 2>/dev/null) =~ ^(idle|mix|alloc)$ ]]
}

install_packages() {
  local need=()
  command -v munged >/dev/null || need+=(munge)
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
    || need+=(slurm-wlm)
  ((${#need[@]})) || return 0
  say "installing ${need[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the packages' init scripts from starting the daemons with
  # Debian's config: this script starts them itself, with its own.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; made_policy=1
  fi
  local ok=0
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || ok=$?
  ((made_policy)) && rm -f "$policy"
  ((ok == 0)) || die "apt-get install ${need[*]} failed (exit $ok)"
  return 0
}

write_config() {
  local cpus mem_mb
  cpus=$(nproc)
  # Leave 5% to the system, so slurmd never finds less memory than configured
  # (a node with less than RealMemory is drained as INVAL).
  mem_mb=$(free -m | awk '/^Mem:/ {printf "%d", $2 * 0.95}')
  mkdir -p "$STATE"/{etc,munge,ctld,spool,log,run}
  ((FAKE_GPUS >= 0 && FAKE_GPUS <= ${#FAKE_GPU_FILES[@]})) \
    || die "PGOLF_SLURM_FAKE_GPUS=$FAKE_GPUS: allowed 0..${#FAKE_GPU_FILES[@]}"
  local gres_node="" gres_types=""
  : >"$STATE/etc/gres.conf"
  if ((FAKE_GPUS > 0)); then
    gres_node=" Gres=gpu:$FAKE_GPUS" gres_types="GresTypes=gpu"
    local f
    for f in "${FAKE_GPU_FILES[@]:0:FAKE_GPUS}"; do
      echo "NodeName=$HOST Name=gpu File=$f" >>"$STATE/etc/gres.conf"
    done
  fi
  cat >"$CONF" <<EOF
$MARK
# One node on localhost; host $HOST, $cpus CPUs, ${mem_mb} MB, $FAKE_GPUS stand-in GPUs.
ClusterName=pgolf
$gres_types
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$STATE/munge/munge.socket.2
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldPort=${PGOLF_SLURMCTLD_PORT:-6817}
SlurmdPort=${PGOLF_SLURMD_PORT:-6818}
# No cgroups inside a container: plain /proc process tracking, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
# squeue is the status source (no slurmdbd): keep finished jobs visible for an hour.
MinJobAge=3600
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
NodeName=$HOST NodeAddr=127.0.0.1$gres_node CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
  mkdir -p /etc/slurm
  if [[ -e $SYSCONF || -L $SYSCONF ]] && [[ $(readlink "$SYSCONF") != "$CONF" ]] \
    && ! grep -qF "$MARK" "$SYSCONF" 2>/dev/null; then
    die "$SYSCONF exists and was not written by this script; refusing to replace a real cluster's config"
  fi
  ln -sfn "$CONF" "$SYSCONF"
}

start_munge() {
  alive "$STATE/munge/munged.pid" munged && return 0
  if [[ ! -s $STATE/munge/munge.key ]]; then
    dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
  fi
  chmod 700 "$STATE/munge"; chmod 400 "$STATE/munge/munge.key"
  # --force: the socket lives under /tmp, which munged calls insecure (world-writable).
  munged --force --key-file="$STATE/munge/munge.key" --socket="$STATE/munge/munge.socket.2" \
    --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/log/munged.log" \
    --seed-file="$STATE/munge/munged.seed"
  munge -n -S "$STATE/munge/munge.socket.2" | unmunge -S "$STATE/munge/munge.socket.2" >/dev/null \
    || die "munge does not answer; see $STATE/log/munged.log"
}

wait_idle() {
  local t0=$SECONDS state=""
  while ((SECONDS - t0 < WAIT_S)); do
    state=$(sinfo -h -n "$HOST" -o %t 2>/dev/null || true)
    case $state in
      idle|mix|alloc) return 0 ;;
      down*|drain*|drng*|inval*)
        scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 1
  done
  say "node $HOST is '${state:-no answer}' after ${WAIT_S}s; last log lines:"
  tail -n 20 "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" >&2 || true
  return 1
}

main() {
  if cluster_answers; then say "cluster already up ($CONF)"; return 0; fi
  install_packages
  # Anything half-started from an earlier run goes first, so the state is fresh.
  if alive "$STATE/run/slurmctld.pid" slurmctld || alive "$STATE/run/slurmd.pid" slurmd; then
    bash "$(dirname "$0")/stop.sh"
  fi
  rm -rf "$STATE/ctld" "$STATE/spool"
  write_config
  start_munge
  slurmctld -f "$CONF" || die "slurmctld did not start; see $STATE/log/slurmctld.log"
  slurmd -f "$CONF" || die "slurmd did not start; see $STATE/log/slurmd.log"
  wait_idle || die "node did not become idle"
  local out
  out=$(timeout 60 srun -N1 -n1 -t 1 hostname) || die "srun hostname failed"
  say "cluster up: node $out idle in partition debug ($(nproc) CPUs, $FAKE_GPUS stand-in GPUs); config $CONF"
}

main "$@"
