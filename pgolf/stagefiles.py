"""One small file per stage of the ablation DAG, holding the config its outputs depend on.

Snakemake reruns a job whose `params` changed only while it still has the metadata of the job
that made its outputs; once an interrupted or failed job has lost them (or they were put back by
pgolf.keep), a changed setting went unseen, and a report stating the new settings was built over
tables from the old models. Each stage's rules take its file as an input instead: the file is
rewritten (atomically) only when its content changes, so a changed setting makes it newer than
every output built before, and Snakemake reruns that stage and everything after it, whether or
not the outputs in between still exist. Resources (threads, memory, run time) are left out: they
change where a job runs, not what it computes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pgolf import atomic

# stage -> the top-level config keys its outputs depend on (each stage includes the stages before it)
STAGES: dict[str, tuple[str, ...]] = {
    "data": ("data",),
    "train": ("data", "train"),
    "eval": ("data", "train", "eval"),
    "report": ("data", "train", "eval", "seeds", "claim", "report", "published"),
}
RESOURCE_KEYS = frozenset({"threads", "mem_mb", "runtime"})


def stage_settings(config: dict[str, Any], stage: str) -> dict[str, Any]:
    """The part of `config` that `stage`'s outputs depend on."""
    return {key: _without_resources(config.get(key)) for key in STAGES[stage]}


def _without_resources(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in RESOURCE_KEYS}
    return value


def stage_path(folder: str | os.PathLike[str], stage: str) -> Path:
    return Path(folder) / "settings" / f"{stage}.json"


def write_stage_files(folder: str | os.PathLike[str], config: dict[str, Any]) -> dict[str, Path]:
    """Write `<folder>/settings/<stage>.json` for every stage whose content changed; stage -> path.

    The file replaced stays as `<stage>.json.previous` until the run ends (put_back, forget): a run
    that does not finish leaves the settings it started from, so going back to them reruns nothing.
    A file written for the first time is dated to the Unix epoch: outputs built before these files
    existed (an older checkout's) stay up to date, and Snakemake's own params check still covers them."""
    paths = {}
    for stage in STAGES:
        path = stage_path(folder, stage)
        text = atomic.json_text(stage_settings(config, stage))
        try:
            before: str | None = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            before = None
        if before != text:
            previous = _previous(path)
            if before is not None and not previous.exists():  # the first change of this run keeps the original
                os.link(path, previous)
            atomic.write_text(path, text)
            if before is None:
                os.utime(path, (0, 0))
        paths[stage] = path
    return paths


def put_back(folder: str | os.PathLike[str]) -> list[Path]:
    """A run that did not finish: each stage file it changed gets its earlier content and time stamp back."""
    restored = []
    for stage in STAGES:
        path = stage_path(folder, stage)
        previous = _previous(path)
        if previous.exists():
            os.replace(previous, path)
            restored.append(path)
    return restored


def forget(folder: str | os.PathLike[str]) -> None:
    """A run that finished: the settings it ran with are the ones its outputs hold."""
    for stage in STAGES:
        _previous(stage_path(folder, stage)).unlink(missing_ok=True)


def _previous(path: Path) -> Path:
    return path.with_name(path.name + ".previous")
