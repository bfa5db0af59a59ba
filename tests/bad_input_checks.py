"""What every bad-input test asserts: the real CLI in a subprocess, exit status 2, exactly one error
line and no traceback, and every earlier output byte for byte as it was (by sha256)."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def pgolf(*argv: str, file_limit: int | None = None, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """`python -m pgolf ARGV`; `file_limit` (bytes) makes any larger write fail as a full disk does
    (RLIMIT_FSIZE, with SIGXFSZ ignored so the write returns an error instead of killing the process)."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "pgolf", *map(str, argv)], env=env, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=limit if file_limit else None)


def sha256s(*folders: Path) -> dict[str, str]:
    """Every file under the folders (and the folders' listings), by path: its sha256."""
    out = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else [folder]:
            if path.is_file():
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def assert_clean_failure(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit status 2, one `error:` line holding every needle, no traceback; returns that line."""
    err = proc.stderr
    assert proc.returncode == 2, (proc.returncode, err[-3000:])
    assert "Traceback" not in err, err[-3000:]
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err[-3000:]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]
