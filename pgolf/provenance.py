"""Where a number came from: versions, device, git revision, host. Recorded in every result file."""

from __future__ import annotations

import datetime as _dt
import functools
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

_PACKAGES = ("torch", "numpy", "sentencepiece", "pandas", "scipy", "matplotlib", "snakemake")


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in ("pgolf", *_PACKAGES):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@functools.cache
def git_revision(cwd: str | None = None) -> str | None:
    """The checkout's commit, with `+dirty` when tracked files differ; None outside git."""
    where = cwd or str(Path(__file__).resolve().parent)
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where, capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("+dirty" if dirty else "")


def device_description(device: Any = None) -> str:
    """A human name for the device numbers were computed on (GPU name, or CPU model)."""
    if device is not None and str(device).startswith("cuda"):
        import torch  # only here: reviewer mode records provenance without loading torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(torch.device(device))
    return f"cpu:{platform.processor() or platform.machine()}"


def collect(**fields: Any) -> dict[str, Any]:
    """Provenance block: caller's fields (config, seed, ...) plus environment facts."""
    return {
        **fields,
        "versions": package_versions(),
        "git_revision": git_revision(),
        "host": platform.node(),
        "platform": platform.platform(),
        "device_name": device_description(fields.get("device")),
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
