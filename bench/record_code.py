"""The record's own code as a benchmark baseline: its functions, imported from the script where it lies.

The record's train_gpt.py is read from $PGOLF_RECORD_SCRIPT, else from .gpu/record77_train_gpt.py
(an ignored folder that carries it to a GPU machine: bench/gpu_check.sh), else from
../shared/reference/record77_train_gpt.py beside the repository; it is never committed. Where it
is absent, load() returns None and the benches skip its column with a note. Its GPT is given the very weights of pgolf's model (the state dict keys
are the same: pgolf loads the record's artifacts strictly), so both sides compute the same model.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import warnings
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np
import torch

from pgolf.data.shards import write_shard
from pgolf.model import GPT
from pgolf.tokenizer import ByteTables

REPO = Path(__file__).resolve().parents[1]
CANDIDATES = [Path(p) for p in [os.environ.get("PGOLF_RECORD_SCRIPT")] if p] + [
    REPO / ".gpu" / "record77_train_gpt.py", REPO.parent / "shared" / "reference" / "record77_train_gpt.py"]
SCRIPT = next((p for p in CANDIDATES if p.is_file()), CANDIDATES[-1])
MISSING_NOTE = f"the record's code column is skipped: {SCRIPT} is not there"


def cpu_name() -> str:
    """The CPU's model name (Linux), for the benches' machine line."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return "unknown CPU"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown CPU")


def load() -> ModuleType | None:
    """The record's script as a module (its main() does not run), or None where it is absent."""
    if not SCRIPT.is_file():
        return None
    spec = importlib.util.spec_from_file_location("record77_train_gpt", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def model(record: ModuleType, ours: GPT) -> torch.nn.Module:
    """The record's GPT with pgolf's model's shape and weights."""
    c = ours.config
    theirs = record.GPT(vocab_size=c.vocab_size, num_layers=c.num_layers, model_dim=c.model_dim,
                        num_heads=c.num_heads, num_kv_heads=c.num_kv_heads, mlp_mult=c.mlp_mult,
                        tie_embeddings=c.tie_embeddings, tied_embed_init_std=c.tied_embed_init_std,
                        logit_softcap=c.logit_softcap, rope_base=c.rope_base, qk_gain_init=c.qk_gain_init)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    theirs = theirs.to(ours.tok_emb.weight.device)
    if theirs.tok_emb.weight.device.type == "cuda":
        cast_like_record(record, theirs)
    return theirs


def cast_like_record(record: ModuleType, model: torch.nn.Module) -> torch.nn.Module:
    """The record's main() on CUDA: everything bf16, then its CastedLinear weights, the rotary
    frequencies and the low-dimensional parameters back to float32 (its own lines, its own classes)."""
    model.bfloat16()
    for module in model.modules():
        if isinstance(module, record.CastedLinear):
            module.float()
        if isinstance(module, record.Rotary):
            module.inv_freq.data = module.inv_freq.data.float()
    record.restore_low_dim_params_to_fp32(model)
    return model


class TTTEval:
    """The record's eval_val_ttt_lora on given tokens (written once as a shard it reads), on one rank."""

    def __init__(self, record: ModuleType, ours: GPT, tokens: np.ndarray, tables: ByteTables, seq_len: int,
                 chunk: int, batch: int, rank: int = 8, lr: float = 0.01) -> None:
        self.record, self.model = record, model(record, ours)
        self.folder = tempfile.TemporaryDirectory()
        write_shard(Path(self.folder.name) / "val_000000.bin", tokens)
        self.args = SimpleNamespace(val_files=str(Path(self.folder.name) / "val_*.bin"), ttt_chunk_size=chunk,
                                    ttt_eval_seq_len=seq_len, ttt_batch_size=batch, ttt_lora_rank=rank,
                                    ttt_lora_lr=lr, beta1=0.9, beta2=0.95)
        self.tables = tables

    def __call__(self) -> tuple[float, float]:
        """(val_loss, val_bpb) as the record's function returns them (lr 0 and chunk = seq_len: the
        golden files' doc condition; lr 0: their sliding condition)."""
        t = self.tables
        with warnings.catch_warnings():  # its torch.autocast("cuda") is off on a CPU, and says so
            warnings.simplefilter("ignore", UserWarning)
            return self.record.eval_val_ttt_lora(self.args, self.model, 0, 1, t.base_bytes.device, t.base_bytes,
                                                 t.has_leading_space, t.is_boundary)


def flat_eval(record: ModuleType, model: torch.nn.Module, tokens: np.ndarray, tables: ByteTables, seq_len: int,
              val_batch_size: int = 524_288, grad_accum_steps: int = 8) -> tuple[float, float]:
    """The record's eval_val (its flat stream) on one rank, on tokens trimmed as its loader trims them."""
    usable = ((len(tokens) - 1) // seq_len) * seq_len
    stream = torch.as_tensor(tokens[: usable + 1].astype(np.int64))
    args = SimpleNamespace(val_batch_size=val_batch_size, train_seq_len=seq_len)
    t = tables
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return record.eval_val(args, model, 0, 1, t.base_bytes.device, grad_accum_steps, stream, t.base_bytes,
                               t.has_leading_space, t.is_boundary)
