#!/usr/bin/env bash
# Start the local one-node SLURM cluster, run tests/test_slurm.py against it, and
# stop the cluster whatever happens. Called from .ci/run (as root, CI=true).
# Extra arguments go to pytest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

cleanup() {
  local rc=$?
  bash "$here/stop.sh" || true
  if ((rc != 0)); then
    echo "[slurm] failed (exit $rc); daemon logs: ${PGOLF_SLURM_DIR:-/tmp/pgolf-slurm}/log" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT

# The executor plugin is the `slurm` extra of pyproject.toml; install it if the
# environment was set up without that extra.
PLUGIN_SPEC=${PGOLF_SLURM_PLUGIN_SPEC:-snakemake-executor-plugin-slurm>=2.8,<3}
if ! python -c "import snakemake_executor_plugin_slurm" 2>/dev/null; then
  echo "[slurm] installing $PLUGIN_SPEC" >&2
  python -m pip install -q "$PLUGIN_SPEC"
fi

t0=$SECONDS
bash "$here/start.sh"
echo "[slurm] cluster started in $((SECONDS - t0)) s"
t1=$SECONDS
PGOLF_SLURM=1 python -m pytest tests/test_slurm.py -q -p no:cacheprovider "$@"
echo "[slurm] tests took $((SECONDS - t1)) s; start + tests $((SECONDS - t0)) s"
