"""One seed of a compliance rerun: the submission's own script under torchrun, in a fresh copy.

Layout of OUT (one seed's folder, `results/rerun/{name}/{seed}/`):
  train.log      the script's standard output: the seed's train log
  stderr.log     its standard error
  script_logs/   every *.txt / *.log file the script wrote itself (e.g. logs/<RUN_ID>.txt)
  rerun.json     wall time, exit status, command, environment, hashes, provenance (written last)
  work/          the fresh copy the script ran in (remade on every attempt)
  attempt/       output of the attempt in progress; stays for reading when an attempt fails
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgolf import atomic, provenance
from pgolf.errors import PgolfError

LOG_SUFFIXES = (".txt", ".log")
KILL_GRACE_S = 10.0


@dataclass(frozen=True)
class SeedRun:
    """What to run: one seed of one rerun entry."""

    folder: Path
    seed: int
    out: Path
    script: str = "train_gpt.py"
    nproc: int = 8
    run_id: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    timeout_minutes: float | None = None

    @property
    def label(self) -> str:
        return f"seed {self.seed} of {self.folder}"


def launch_command(nproc: int, script: str) -> list[str]:
    """`torchrun --standalone --nproc_per_node=N SCRIPT`, with this Python's torchrun."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", script]


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in root.rglob("*") if p.is_file()}


def _fresh_copy(run: SeedRun) -> Path:
    if not (run.folder / run.script).is_file():
        raise PgolfError(f"{run.folder / run.script}: no such script; set the rerun entry's `script:`")
    work = run.out / "work"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(run.folder, work, symlinks=True)
    return work


def _kill_group(proc: subprocess.Popen) -> None:
    """Stop the launcher and every rank: they share the process group started for them.

    SIGTERM first so torchrun can stop its ranks; SIGKILL for whatever is left after the grace."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=KILL_GRACE_S)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class Stopped(Exception):
    """This process was asked to stop (SIGTERM)."""


def _stopped(signum: int, _frame: object) -> None:
    raise Stopped(signal.Signals(signum).name)


def _run(run: SeedRun, work: Path, attempt: Path) -> tuple[int, float, bool]:
    """(exit status, wall seconds, timed out). The whole group dies on timeout or interrupt."""
    env = {**os.environ, **run.env, "SEED": str(run.seed), "RUN_ID": run.run_id or f"seed{run.seed}"}
    timeout = None if run.timeout_minutes is None else 60.0 * run.timeout_minutes
    attempt.mkdir(parents=True, exist_ok=True)
    with open(attempt / "train.log", "wb") as out, open(attempt / "stderr.log", "wb") as err:
        start = time.monotonic()
        proc = subprocess.Popen(launch_command(run.nproc, run.script), cwd=work, env=env,
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        # The ranks run in their own session, so a SIGTERM to this job (Snakemake, scancel,
        # a SLURM time limit) would not reach them: turn it into an exception that kills them.
        previous = signal.signal(signal.SIGTERM, _stopped)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return -1, time.monotonic() - start, True
        except (Stopped, KeyboardInterrupt) as exc:
            _kill_group(proc)
            raise PgolfError(f"{run.label}: stopped by {exc or 'an interrupt'}; killed its process group "
                             "(torchrun and every rank)") from None
        finally:
            signal.signal(signal.SIGTERM, previous)
        _kill_group(proc)  # a rank may outlive a launcher that has exited
        return rc, time.monotonic() - start, False


# Where torchrun's own report of a failed rank begins: the script's last words come before it.
_LAUNCHER_LINE = re.compile(r"torch[./]distributed[./](elastic|run)|ChildFailedError|^\s*Root Cause")


def _script_tail(path: Path, lines: int = 15) -> str:
    """The last lines the script itself wrote to stderr, before torchrun's failure report."""
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    cut = next((i for i, line in enumerate(text) if _LAUNCHER_LINE.search(line)), len(text))
    return "\n".join(f"    {line}" for line in (text[:cut] or text)[-lines:])


def _script_logs(work: Path, before: dict[str, tuple[int, int]]) -> dict[str, bytes]:
    """Every log file the script wrote or changed, by its path under the work copy."""
    return {rel: (work / rel).read_bytes() for rel, stamp in sorted(_snapshot(work).items())
            if rel.endswith(LOG_SUFFIXES) and before.get(rel) != stamp}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_seed(run: SeedRun) -> dict[str, Any]:
    """Run one seed; on success write OUT/train.log, stderr.log, script_logs/ and rerun.json.

    Raises PgolfError naming the seed, the cause and where its output went when the
    script fails or runs past `timeout_minutes`; earlier good outputs are left alone.
    """
    work = _fresh_copy(run)
    before = _snapshot(work)
    attempt = run.out / "attempt"
    started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    rc, wall_s, timed_out = _run(run, work, attempt)
    if timed_out:
        raise PgolfError(
            f"{run.label}: {run.script} ran past the timeout of {run.timeout_minutes:g} minute(s) "
            f"({wall_s:.0f} s); killed its process group (torchrun and every rank). Its output so far: "
            f"{attempt / 'train.log'}, {attempt / 'stderr.log'}; raise `timeout_minutes` if the run needs longer"
        )
    if rc != 0:
        raise PgolfError(
            f"{run.label}: {run.script} exited with status {rc} after {wall_s:.1f} s; "
            f"last lines of {attempt / 'stderr.log'}:\n{_script_tail(attempt / 'stderr.log')}"
        )
    return _finish(run, work, before, attempt, rc, wall_s, started)


def _finish(run: SeedRun, work: Path, before: dict, attempt: Path, rc: int, wall_s: float,
            started: str) -> dict[str, Any]:
    """The seed's output set, written as one group (rerun.json last): a failure writes none of it."""
    script_logs = {run.out / "script_logs" / rel: data for rel, data in _script_logs(work, before).items()}
    logs = {name: (attempt / name).read_bytes() for name in ("stderr.log", "train.log")}
    info = {
        "seed": run.seed, "run_id": run.run_id or f"seed{run.seed}", "nproc": run.nproc,
        "folder": str(run.folder), "script": run.script,
        "script_sha256": atomic.sha256_file(run.folder / run.script),
        "command": launch_command(run.nproc, run.script), "env": dict(run.env),
        "timeout_minutes": run.timeout_minutes, "returncode": rc, "wall_time_s": round(wall_s, 3),
        "started_utc": started,
        "train_log": {"file": str(run.out / "train.log"), "sha256": _sha256(logs["train.log"])},
        "script_logs": [{"file": str(path), "sha256": _sha256(data)} for path, data in script_logs.items()],
    }
    info["provenance"] = provenance.collect(command="rerun-seed", seed=run.seed)
    atomic.write_group({**script_logs, **{run.out / name: data for name, data in logs.items()},
                        run.out / "rerun.json": atomic.json_text(info)})
    for stale in (run.out / "script_logs").rglob("*"):  # an earlier run's logs this run did not write
        if stale.is_file() and stale not in script_logs:
            stale.unlink()
    shutil.rmtree(attempt)
    return info


def parse_env(pairs: Sequence[str]) -> dict[str, str]:
    """`KEY=VALUE` strings -> a mapping, with an error naming the bad one."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise PgolfError(f"--env {pair!r}: expected KEY=VALUE")
        env[key] = value
    return env
