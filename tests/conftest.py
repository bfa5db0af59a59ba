"""Shared fixtures. `tiny_data`: a real prepared dataset, built once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class TinyData:
    """A small dataset prepared from the default corpus (120 documents, vocabulary 512)."""

    root: Path
    train_glob: str
    val_glob: str
    tokenizer_path: str
    vocab_size: int
    manifest: dict

    def __getitem__(self, key: str):  # also usable as a dict: tiny_data["train_glob"]
        return getattr(self, key)


TINY_VOCAB = 512
TINY_DOCS = 120
TINY_VAL_DOCS = 24


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> TinyData:
    """~190K train tokens, ~25K val tokens, BOS before every document; about 5 s to build."""
    from pgolf.data.prepare import prepare_dataset

    root = tmp_path_factory.mktemp("tiny_data")
    manifest = prepare_dataset(
        root, source="default", vocab_size=TINY_VOCAB, val_docs=TINY_VAL_DOCS, seed=1337, max_docs=TINY_DOCS
    )
    return TinyData(
        root=root,
        train_glob=manifest["train_glob"],
        val_glob=manifest["val_glob"],
        tokenizer_path=manifest["tokenizer_path"],
        vocab_size=manifest["vocab_size"],
        manifest=manifest,
    )


@pytest.fixture(scope="module")
def one_torch_thread():
    """One CPU thread for in-process runs: the suite shares 2 busy cores, and a fixed thread
    count keeps float reduction order (and so the numbers) the same in every run."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole DAG on the micro config, run once from clean per session (every module that runs the
    DAG shares it). Read-only: tests that change anything copy it first (run_dir)."""
    from workflow_copy import copy_workflow, snakemake

    where = copy_workflow(tmp_path_factory.mktemp("dag"))
    out = snakemake(where)
    assert out.returncode == 0, out.stderr[-4000:]
    return where


@pytest.fixture()
def run_dir(finished_run: Path, tmp_path: Path) -> Path:
    """A private copy of the finished run (copy2 keeps mtimes, so Snakemake sees it as up to date)."""
    import shutil

    return Path(shutil.copytree(finished_run, tmp_path / "run", symlinks=True))
