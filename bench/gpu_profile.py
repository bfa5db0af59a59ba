"""torch.profiler tables of one training step: pgolf's and the record's, same weights, same batch (bench/gpu_check.sh).

    python bench/gpu_profile.py [--device cuda] [--smoke] [--steps 2] [--no-compile] [--out profile.txt]

A step is the record's: 8 micro-batches of 65,536 tokens (forward, backward), then every optimiser.
pgolf: its GPT cast like the record, torch.compile'd, its Muon's orthogonalisation compiled, its
optimisers. The record (bench/record_code.py, its script imported): its GPT with pgolf's initial weights,
cast as its main() casts it, torch.compile'd with its own arguments, its Muon with
zeropower_via_newtonschulz5 compiled (as its main() rebinds it) and fused Adam. After warm-up steps
(compilation), each side's step time (host clock around a synchronised step, median of --timed
steps), then the profiler's table of --steps steps sorted by self device time, and last both sides'
self time per op and step side by side, the ops that differ most first, with the summed device
time against the wall time (the rest is host overhead): where pgolf's step spends time the
record's does not. --smoke: a 2x64 model, 8 micro-batches of 256 tokens, one step each, on the CPU, not compiled.
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


def profile(step, device: torch.device, steps: int, rows: int) -> tuple[str, dict[str, float]]:
    """The profiler's table of `steps` steps, and self time per step by op name (device time on CUDA), ms."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    cuda = device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with torch_profile(activities=activities) as prof:
        for _ in range(steps):
            step()
        sync(device)
    events = prof.key_averages()
    attr = "self_device_time_total" if cuda else "self_cpu_time_total"
    per_step = {e.key: getattr(e, attr) / 1000.0 / steps for e in events if getattr(e, attr) > 0}
    return events.table(sort_by="self_" + ("cuda" if cuda else "cpu") + "_time_total", row_limit=rows), per_step


def comparison(ms: dict[str, float], ops: dict[str, dict[str, float]], rows: int) -> str:
    """Both sides' self time per step by op, the ops where they differ most first, and each side's
    summed self time (device busy time on CUDA) against its wall time per step: the rest is the host."""
    sides = list(ops)
    lines = [f"## Side by side: self time per step by op (ms; {', '.join(sides)})", "",
             "| | " + " | ".join(sides) + " |", "|---|" + "---|" * len(sides),
             "| wall time per step | " + " | ".join(f"{ms[s]:.1f}" for s in sides) + " |",
             "| summed self time | " + " | ".join(f"{sum(ops[s].values()):.1f}" for s in sides) + " |", "",
             "| op | " + " | ".join(sides) + " | difference |", "|---|" + "---|" * (len(sides) + 1)]
    names = set().union(*(ops[s] for s in sides))
    spread = {n: max(ops[s].get(n, 0.0) for s in sides) - min(ops[s].get(n, 0.0) for s in sides) for n in names}
    for name in sorted(names, key=lambda n: -spread[n])[:rows]:
        label = name if len(name) <= 70 else name[:67] + "..."
        lines.append(f"| `{label}` | " + " | ".join(f"{ops[s].get(name, 0.0):.2f}" for s in sides)
                     + f" | {spread[name]:.2f} |")
    return "\n".join(lines) + "\n"


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
    text, ms_of, ops_of = [], {}, {}
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
            table, ops_of[side] = profile(step, device, args.steps, args.rows)
            ms_of[side] = ms
            text.append(head + "\n\n```\n" + table + "\n```\n")
            print(text[-1], flush=True)
            if args.out:
                Path(args.out).write_text("\n".join(text), encoding="utf-8")
    if len(ops_of) > 1:
        text.append(comparison(ms_of, ops_of, args.rows))
        print(text[-1], flush=True)
        if args.out:
            Path(args.out).write_text("\n".join(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
