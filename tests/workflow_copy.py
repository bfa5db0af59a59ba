"""A fresh clone's workflow files in a test's own folder, so each test's results/ is its own.

pgolf itself comes from the checkout (PYTHONPATH); only what Snakemake reads is copied.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "profiles", ".test")
MICRO = ".test/config/config.yaml"


def copy_workflow(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".snakemake"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def snakemake(where: Path, *args: str, configfiles: tuple[str, ...] = (MICRO,),
              timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Targets (in args) first: --configfile takes several values and would swallow them."""
    return run_snakemake(where, *args, "--cores", "2", "--configfile", *configfiles, timeout=timeout)


def run_snakemake(where: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=where, env=env,
                          capture_output=True, text=True, timeout=timeout)
