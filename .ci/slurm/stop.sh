#!/usr/bin/env bash
# Stop the one-node cluster that start.sh started: cancel its jobs, stop slurmd,
# slurmctld and munged by their pid files, unlink /etc/slurm/slurm.conf when it is
# ours. Idempotent; logs stay in $PGOLF_SLURM_DIR/log for a post-mortem.
set -uo pipefail

STATE=${PGOLF_SLURM_DIR:-/tmp/pgolf-slurm}
SYSCONF=/etc/slurm/slurm.conf

say() { printf '[slurm-stop] %s\n' "$*" >&2; }

stop_pidfile() {  # name pidfile: only a process of that name (pids get reused)
  local pid
  [[ -s $2 ]] || return 0
  pid=$(cat "$2")
  if [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$1" ]]; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$1 ($pid) ignored TERM for 10 s; sending KILL"; kill -KILL "$pid" 2>/dev/null
    fi
    say "stopped $1 ($pid)"
  fi
  rm -f "$2"
}

if [[ -s $STATE/run/slurmctld.pid ]] \
  && [[ $(cat "/proc/$(cat "$STATE/run/slurmctld.pid")/comm" 2>/dev/null) == slurmctld ]]; then
  timeout 10 scancel --full --quiet --partition=debug 2>/dev/null || true
fi
stop_pidfile slurmd "$STATE/run/slurmd.pid"
stop_pidfile slurmctld "$STATE/run/slurmctld.pid"
stop_pidfile munged "$STATE/munge/munged.pid"
if [[ -L $SYSCONF ]] && [[ $(readlink "$SYSCONF") == "$STATE/etc/slurm.conf" ]]; then
  rm -f "$SYSCONF"
fi
exit 0
