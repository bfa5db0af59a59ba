"""torch.profiler tables of one training step: pgolf's and the record's, same weights, same batch (bench/gpu_check.sh).

    python bench/gpu_profile.py [--device cuda] [--smoke] [--steps 2] [--no-compile] [--out profile.txt]

A step is the record's: 8 micro-batches of 65,536 tokens (forward, backward), then every optimiser.
pgolf: its GPT cast like the record, torch.compile'd, its Muon's orthogonalisation compiled, its
optimisers. The record (bench/record_code.py, its script imported): its GPT with pgolf's initial weights,
cast as its main() casts it, torch.compile'd with its own arguments, its Muon with
zeropower_via_newtonschulz5 compiled (as its main() rebinds it) and fused Adam. After warm-up steps
(compilation), each side's step time from CUDA events (median of --timed steps), then the
profiler's table of --steps steps, sorted by device time: where pgolf's step spends time the record's
does not. --smoke: a 2x64 model, 8 micro-batches of 256 tokens, one step each, on the CPU, not compiled.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import record_code  # noqa: E402  (bench/record_code.py)
from train_throughput import record_optimizers  # noqa: E402

from pgolf.config import load_config  # noqa: E402
from pgolf.model import GPT, cast_like_reference  # noqa: E402
from pgolf.optim import build_optimizers  # noqa: E402
from pgolf.runtime import autocast, reference_kernels, sync  # noqa: E402

SMOKE = ["num_layers=2", "model_dim=64", "num_heads=4", "num_kv_heads=2", "train_seq_len=128",
         "train_batch_tokens=2048"]


def stepper(side: str, hp, device: torch.device, compiled: bool, record):
    torch.manual_seed(0)
    model = GPT(hp.model_config()).to(device)
    if device.type == "cuda":
        cast_like_reference(model)
    if side == "record":
        model = record_code.model(record, model)  # cast like the record's main() on CUDA
        opts = record_optimizers(record, model, hp)
        if compiled:
            record.zeropower_via_newtonschulz5 = torch.compile(record.zeropower_via_newtonschulz5)
    else:
        opts = build_optimizers(model, hp)
        if compiled:
            opts.muon.orthogonalize = torch.compile(opts.muon.orthogonalize)
    run = torch.compile(model, dynamic=False, fullgraph=True) if compiled else model
    micro = hp.train_batch_tokens // hp.grad_accum_base // hp.train_seq_len
    g = torch.Generator().manual_seed(1)
    batches = [(torch.randint(0, hp.vocab_size, (micro, hp.train_seq_len), generator=g).to(device),
                torch.randint(0, hp.vocab_size, (micro, hp.train_seq_len), generator=g).to(device))
               for _ in range(hp.grad_accum_base)]
    bf16 = device.type == "cuda"

    def step() -> None:
        for x, y in batches:
            with autocast(bf16, device.type):
                loss = run(x, y)
            (loss / len(batches)).backward()
        opts.step()
        opts.zero_grad()

    return step


def time_steps(step, device: torch.device, n: int) -> float:
    times = []
    for _ in range(n):
        sync(device)
        t0 = time.perf_counter()
        step()
        sync(device)
        times.append(1000.0 * (time.perf_counter() - t0))
    return sorted(times)[len(times) // 2]


def profile(step, device: torch.device, steps: int, rows: int) -> str:
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with torch_profile(activities=activities) as prof:
        for _ in range(steps):
            step()
        sync(device)
    key = "cuda_time_total" if device.type == "cuda" else "cpu_time_total"
    return prof.key_averages().table(sort_by=key, row_limit=rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--timed", type=int, default=5)
    parser.add_argument("--steps", type=int, default=2, help="steps under the profiler")
    parser.add_argument("--rows", type=int, default=30)
    parser.add_argument("--sides", default="pgolf,record")
    parser.add_argument("--out", default=None, help="also write the tables here")
    args = parser.parse_args()
    device = torch.device(args.device)
    hp = load_config(None, SMOKE if args.smoke else [])
    if args.smoke:
        args.warmup, args.timed, args.steps = 1, 1, 1
    compiled = device.type == "cuda" and not args.no_compile and not args.smoke
    record = record_code.load()
    text = []
    with reference_kernels(device.type == "cuda", bf16=device.type == "cuda"):
        for side in args.sides.split(","):
            if side == "record" and record is None:
                text.append(f"record: {record_code.MISSING_NOTE}")
                continue
            step = stepper(side, hp, device, compiled, record)
            t0 = time.perf_counter()
            for _ in range(args.warmup):
                step()
            sync(device)
            warm_s = time.perf_counter() - t0
            ms = time_steps(step, device, args.timed)
            head = (f"## {side}: {ms:.1f} ms/step (median of {args.timed}; {hp.train_batch_tokens:,} tokens, "
                    f"{hp.grad_accum_base} micro-batches; compiled {compiled}; warm-up {warm_s:.0f} s)")
            table = profile(step, device, args.steps, args.rows)
            text.append(head + "\n\n```\n" + table + "\n```\n")
            print(text[-1], flush=True)
            if args.out:
                Path(args.out).write_text("\n".join(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
