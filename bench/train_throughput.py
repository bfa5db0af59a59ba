"""Training throughput: tokens/s and ms/step of pgolf's training step, with ratios against a baseline row.

    python bench/train_throughput.py [--steps 3] [--rounds 3] [--configs tiny,medium] [--peak-tflops 989]
                                     [--muon-shard] [--threads N]

Each configuration is timed several times in the same process, interleaved: pgolf's step (our
Muon, the fused soft-capped loss on CPU), the record's own step (its GPT, Muon and fused Adam,
imported from ../shared/reference/record77_train_gpt.py with pgolf's weights: the ratio baseline;
skipped with a note where the script is absent) and other rows (the plain loss: logits, soft cap and
cross-entropy as separate ops, the record's formulation; torch.optim.Muon in place of ours; on
CUDA also compile off vs on), so the ratio column compares like with like on the same, equally
busy, machine. `default` is the embedded default's training step (config/config.yaml). On CUDA an MFU
estimate is printed: (6 x params + 12 x layers x model_dim x seq_len) FLOPs per token (the
PaLM count, attention scored over the full square) over the card's peak bf16 dense TFLOPS.
`--muon-shard` also times the reference's sharded Muon (2 gloo ranks on CPU) against every
rank computing every update.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import record_code  # noqa: E402  (bench/record_code.py)

from pgolf.config import Hyperparameters, load_config  # noqa: E402
from pgolf.fused_loss import plain_softcap_cross_entropy  # noqa: E402
from pgolf.model import GPT, cast_like_reference, count_parameters  # noqa: E402
from pgolf.optim import Optimizers, build_optimizers  # noqa: E402

CONFIGS: dict[str, list[str]] = {
    "tiny": ["vocab_size=512", "num_layers=2", "model_dim=64", "num_heads=4", "num_kv_heads=2",
             "train_seq_len=128", "train_batch_tokens=4096"],
    "medium": ["vocab_size=1024", "num_layers=4", "model_dim=256", "num_heads=4", "num_kv_heads=2",
               "train_seq_len=512", "train_batch_tokens=8192"],
    "default": ["vocab_size=512", "num_layers=2", "model_dim=64", "num_heads=4", "num_kv_heads=2",
                "train_seq_len=32", "train_batch_tokens=4096"],
    # The record's model and one rank's micro-batch of the record's step (524,288 / 8 tokens).
    "record": ["train_batch_tokens=65536"],
}
# bf16 dense peak, TFLOPS (NVIDIA data sheets; SXM parts; the PCIe H100 is 756).
PEAK_TFLOPS = {"H200": 989.0, "H100 PCIe": 756.0, "H100": 989.0, "A100": 312.0}


@dataclass
class Row:
    machine: str
    config: str
    variant: str
    params: int
    tokens_per_step: int
    ms_per_step: float
    flops_per_token: float

    @property
    def tokens_per_s(self) -> float:
        return self.tokens_per_step / (self.ms_per_step / 1000.0)


def machine_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu {platform.processor() or platform.machine()} x{torch.get_num_threads()} threads"


def default_peak(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, value in PEAK_TFLOPS.items():
        if key in name:
            return value
    return None


def flops_per_token(hp: Hyperparameters, params: int) -> float:
    return 6.0 * params + 12.0 * hp.num_layers * hp.model_dim * hp.train_seq_len


def _torch_muon(opts: Optimizers, hp: Hyperparameters) -> Optimizers:
    """The same split with torch.optim.Muon (original lr adjustment, no weight decay) in place of ours."""
    params = opts.muon.param_groups[0]["params"]
    theirs = torch.optim.Muon(params, lr=hp.matrix_lr, momentum=hp.muon_momentum, nesterov=True, weight_decay=0.0,
                              ns_steps=hp.muon_backend_steps, adjust_lr_fn="original")
    for group in theirs.param_groups:
        group["base_lr"] = hp.matrix_lr
    return Optimizers(all=[theirs if o is opts.muon else o for o in opts.all], muon=theirs)


def record_optimizers(record, model: torch.nn.Module, hp: Hyperparameters) -> Optimizers:
    """The record's optimisers on its own model, as its main() builds them: its Muon on the blocks'
    matrices, fused Adam on the embedding and on the scalars and control tensors."""
    named = list(model.blocks.named_parameters())
    control = record.CONTROL_TENSOR_NAME_PATTERNS
    matrices = [p for n, p in named if p.ndim == 2 and not any(c in n for c in control)]
    scalars = [p for n, p in named if p.ndim < 2 or any(c in n for c in control)] + [model.skip_weights]
    fused = dict(betas=(hp.beta1, hp.beta2), eps=hp.adam_eps, fused=True)
    muon = record.Muon(matrices, lr=hp.matrix_lr, momentum=hp.muon_momentum, backend_steps=hp.muon_backend_steps)
    adams = [torch.optim.Adam([model.tok_emb.weight], lr=hp.tied_embed_lr, **fused),
             torch.optim.Adam(scalars, lr=hp.scalar_lr, **fused)]
    return Optimizers(all=[adams[0], muon, adams[1]], muon=muon)


def make_stepper(hp: Hyperparameters, device: torch.device, variant: str, record=None):
    """A closure doing one full training step (forward, backward, optimiser) of a fresh model;
    variant `record`: the record's own GPT and optimisers (bench/record_code.py), the same weights."""
    torch.manual_seed(0)
    model = GPT(hp.model_config()).to(device)
    if device.type == "cuda":
        cast_like_reference(model)
    if variant == "record":
        model = record_code.model(record, model)
        opts = record_optimizers(record, model, hp)
    else:
        opts = build_optimizers(model, hp)
    if variant == "torch.optim.Muon":
        opts = _torch_muon(opts, hp)
    compiled = variant == "compile"
    run = torch.compile(model, dynamic=False, fullgraph=True) if compiled else model
    if variant == "plain loss":
        def run(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            h = model.hidden(x)
            return plain_softcap_cross_entropy(h.reshape(-1, h.size(-1)), model.tok_emb.weight, y.reshape(-1),
                                               model.logit_softcap).mean()
    if compiled:
        opts.muon.orthogonalize = torch.compile(opts.muon.orthogonalize)
    seqs = hp.train_batch_tokens // hp.train_seq_len
    x = torch.randint(0, hp.vocab_size, (seqs, hp.train_seq_len), device=device)
    y = torch.randint(0, hp.vocab_size, (seqs, hp.train_seq_len), device=device)

    def step() -> None:
        if device.type == "cuda":
            with torch.autocast("cuda", torch.bfloat16):
                loss = run(x, y)
        else:
            loss = run(x, y)
        loss.backward()
        opts.step()
        opts.zero_grad()

    for _ in range(3 if compiled else 1):  # warm-up (compilation, allocator)
        step()
    return step, count_parameters(model)


def time_config(name: str, hp: Hyperparameters, device: torch.device, variants: list[str], steps: int,
                rounds: int, record=None) -> list[Row]:
    """Median step time per variant; variants alternate round by round so a busy machine hurts all alike."""
    steppers = {v: make_stepper(hp, device, v, record) for v in variants}
    samples: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(rounds):
        for v, (step, _params) in steppers.items():
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
            for _ in range(steps):
                step()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            samples[v].append(1000.0 * (time.perf_counter() - t0) / steps)
    rows = []
    for v, (_step, params) in steppers.items():
        ms = sorted(samples[v])[len(samples[v]) // 2]
        rows.append(Row(machine_name(device), name, v, params, hp.train_batch_tokens, ms,
                        flops_per_token(hp, params)))
    return rows


def print_table(rows: list[Row], baseline_of: dict[str, str], peak: float | None) -> None:
    head = ["machine", "config", "params", "variant", "tokens/step", "ms/step", "tokens/s", "ratio"]
    if peak:
        head.append(f"MFU@{peak:.0f}TF")
    lines = [head]
    for r in rows:
        base = next(b for b in rows if b.config == r.config and b.variant == baseline_of[r.config])
        cells = [r.machine, r.config, f"{r.params:,}", r.variant, f"{r.tokens_per_step:,}", f"{r.ms_per_step:.1f}",
                 f"{r.tokens_per_s:,.0f}", f"{r.tokens_per_s / base.tokens_per_s:.2f}x"]
        if peak:
            cells.append(f"{100 * r.flops_per_token * r.tokens_per_s / (peak * 1e12):.1f}%")
        lines.append(cells)
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    for i, row in enumerate(lines):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


# ---- sharded Muon (the reference's split across ranks) vs every rank computing every update ----

def _shard_worker(rank: int, world: int, init_file: str, shapes: list[tuple[int, int]], steps: int,
                  out: str) -> None:
    import torch.distributed as dist

    from pgolf.optim import Muon

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    results = {}
    weights = {}
    for shard in (False, True):
        torch.manual_seed(0)
        params = [torch.nn.Parameter(torch.randn(*s) * 0.02) for s in shapes]
        opt = Muon(params, lr=0.04, momentum=0.95, shard=shard)
        times = []
        for i in range(steps + 1):
            torch.manual_seed(100 + i)
            for p in params:
                p.grad = torch.randn_like(p)
            dist.barrier()
            t0 = time.perf_counter()
            opt.step()
            dist.barrier()
            if i:  # the first step allocates buffers
                times.append(time.perf_counter() - t0)
        results[shard] = 1000.0 * sorted(times)[len(times) // 2]
        weights[shard] = torch.cat([p.detach().flatten() for p in params])
    if rank == 0:
        same = bool(torch.equal(weights[False], weights[True]))
        Path(out).write_text(f"{results[False]} {results[True]} {same}")
    dist.destroy_process_group()


def bench_muon_shard(hp: Hyperparameters, steps: int) -> None:
    import torch.multiprocessing as mp

    model = GPT(hp.model_config())
    from pgolf.optim import split_parameters

    shapes = [tuple(p.shape) for p in split_parameters(model)[0]]
    with tempfile.TemporaryDirectory() as tmp:
        init_file, out = os.path.join(tmp, "init"), os.path.join(tmp, "out")
        mp.spawn(_shard_worker, args=(2, init_file, shapes, steps, out), nprocs=2, join=True)
        full, shard, same = Path(out).read_text().split()
    full_ms, shard_ms = float(full), float(shard)
    print(f"\nMuon step, {len(shapes)} matrices of the model above, 2 gloo ranks x 1 thread (median of {steps}):")
    print("| variant | ms/step | ratio |\n|---|---|---|")
    print(f"| every rank computes every update | {full_ms:.1f} | 1.00x |")
    print(f"| sharded + all-reduce (reference) | {shard_ms:.1f} | {full_ms / shard_ms:.2f}x |")
    print(f"identical weights after {steps + 1} steps: {same}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median is reported")
    parser.add_argument("--configs", default="tiny,medium", help=f"comma list of {', '.join(CONFIGS)}")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--peak-tflops", type=float, default=None, help="card's peak (default: by device name)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--muon-shard", action="store_true", help="also time sharded Muon over 2 gloo ranks")
    parser.add_argument("--shard-config", default="medium")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    peak = args.peak_tflops or default_peak(device)
    rows: list[Row] = []
    baseline_of: dict[str, str] = {}
    record = record_code.load()
    if record is None:
        print(f"note: {record_code.MISSING_NOTE}")
    for name in args.configs.split(","):
        hp = load_config(None, CONFIGS[name])
        variants = ["pgolf", "torch.optim.Muon"] + (["compile"] if device.type == "cuda" else ["plain loss"])
        baseline_of[name] = "pgolf" if device.type == "cuda" else "plain loss"
        if record is not None:
            variants.append("record")
            baseline_of[name] = "record"
        rows += time_config(name, hp, device, variants, args.steps, args.rounds, record)
        print(f"# {name}: " + ", ".join(f"{r.variant} {r.ms_per_step:.1f} ms" for r in rows[-len(variants):]),
              file=sys.stderr)
    base = "'pgolf' row of the same config (eager, our Muon)" if device.type == "cuda" else \
        "'plain loss' row of the same config (our Muon, unfused loss)"
    if record is not None:
        base = "'record' row of the same config (the record's own GPT, Muon and Adam, imported)"
    print(f"torch {torch.__version__}, {platform.node()}, {os.cpu_count()} CPUs; ratio = tokens/s over the {base}")
    print_table(rows, baseline_of, peak)
    if args.muon_shard:
        bench_muon_shard(load_config(None, CONFIGS[args.shard_config]), max(args.steps, 5))
    return 0


if __name__ == "__main__":
    sys.exit(main())
